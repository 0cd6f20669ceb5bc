"""``actorgraph serve [--host 127.0.0.1] [--port 8000] [--workers N]``: the HTTP API under uvicorn.

With one worker the app runs in this process on the store this command opened. With several,
this process opens (and so starts) the embedded store first, then each uvicorn worker builds
the app from the same settings (exported to ``ACTORGRAPH_*``) and attaches to that server;
each worker loads the model (and swaps in newer versions, ``api.state.ModelHolder``). The
workers share the per-key rate limit (``keys.sqlite``) and sum their metrics through
``<home>/run/metrics-*/`` (removed when the server stops), so neither depends on which worker
a request reaches.
"""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from actorgraph.graph.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the HTTP API (FastAPI under uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    p.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    p.add_argument(
        "--no-model", action="store_true", help="serve without loading an attribution model"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    if args.workers < 1:
        raise ValidationError(f"--workers must be at least 1, got {args.workers}")
    if not 0 < args.port < 65536:
        raise ValidationError(f"--port must be 1..65535, got {args.port}")
    store = ctx.store()  # starts the embedded server (or reaches Neo4j) before any worker
    settings = ctx.settings
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler that
    # kills this process before the CLI closes the store, leaving an implicitly started
    # embedded server running. Turn it into a normal exit instead.
    with _sigterm_exits():
        return _serve(args, store, settings)


@contextmanager
def _sigterm_exits() -> Iterator[None]:
    def leave(signum: int, frame: object) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous or signal.SIG_DFL)


# uvicorn's supervisor restarts a worker that does not answer its ping within this many
# seconds. Loading a large model (unpickling and indexing, which hold the GIL) keeps a worker
# from answering for longer than uvicorn's 5 s default: with the million-indicator model every
# worker was killed and replaced every 1-1.5 min and the server never served (benchmarks/
# RESULTS.md, stop 16).
WORKER_HEALTHCHECK_S = 600


def _serve(args: argparse.Namespace, store: Any, settings: Any) -> int:
    import uvicorn

    if args.workers == 1:
        from actorgraph.api.main import create_app

        app = create_app(settings, store=store, load_model=not args.no_model)
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
        return 0
    # Workers are fresh processes: hand them this process's settings through the environment.
    for name, value in settings.model_dump(exclude_none=True).items():
        if name.startswith("neo4j_"):
            os.environ[name.upper()] = str(value)
        elif isinstance(value, list):
            import json

            os.environ[f"ACTORGRAPH_{name.upper()}"] = json.dumps(value)
        else:
            os.environ[f"ACTORGRAPH_{name.upper()}"] = str(value)
    if args.no_model:
        os.environ["ACTORGRAPH_SERVE_NO_MODEL"] = "1"
    # A request is a few small sparse products: BLAS/OpenMP thread pools in every worker would
    # only oversubscribe the cores that the workers and the store already share (torch is
    # pinned to one thread in the model loader for the same reason). Set before the workers
    # import numpy; a user's own setting wins.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    # The workers sum their metrics through a directory of this run's own (api/metrics.py), so
    # a scrape that reaches any worker reports the whole server.
    import shutil
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="metrics-", dir=_run_dir(settings.home)))
    os.environ["ACTORGRAPH_API_METRICS_DIR"] = str(shared)
    try:
        uvicorn.run(
            "actorgraph.api.main:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
            log_level=args.log_level,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    return 0


def _run_dir(home: Path) -> Path:
    run = Path(home) / "run"
    run.mkdir(parents=True, exist_ok=True)
    return run
