"""``actorgraph serve [--host 127.0.0.1] [--port 8000] [--workers N]``: the HTTP API under uvicorn.

With one worker the app runs in this process, under uvicorn, on the store this command opened.
With several, this process opens (and so starts) the embedded store, loads the model, and
forks the workers under gunicorn (``api.server``): they share the loaded model's memory instead
of loading a copy each. Each worker builds the app from the same settings (exported to
``ACTORGRAPH_*``), attaches to the store with a connection of its own and swaps in newer model
versions itself (``api.state.ModelHolder``). The workers share the per-key rate limit
(``keys.sqlite``) and sum their metrics through ``<home>/run/metrics-*/`` (removed when the
server stops), so neither depends on which worker a request reaches.
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


# gunicorn's master replaces a worker silent for this many seconds. A worker loads a newer
# model version in a thread while it serves, and loading a large one (parsing and indexing,
# which hold the GIL) can keep its heartbeat from running for minutes: with uvicorn's 5 s
# health check every worker of the million-indicator model was killed and replaced every
# 1-1.5 min (benchmarks/RESULTS.md, stop 16).
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
    # Each worker builds its app from the environment: hand it this process's settings there.
    for name, value in settings.model_dump(exclude_none=True).items():
        if name.startswith("neo4j_"):
            os.environ[name.upper()] = str(value)
        elif isinstance(value, list):
            import json

            os.environ[f"ACTORGRAPH_{name.upper()}"] = json.dumps(value)
        else:
            os.environ[f"ACTORGRAPH_{name.upper()}"] = str(value)
    # A request is a few small sparse products: BLAS/OpenMP thread pools in every worker would
    # only oversubscribe the cores that the workers and the store already share (torch is
    # pinned to one thread in the model loader for the same reason). Set before this process
    # loads the model, which imports numpy, and forks the workers; a user's own setting wins.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    # The workers sum their metrics through a directory of this run's own (api/metrics.py), so
    # a scrape that reaches any worker reports the whole server.
    import shutil
    import tempfile
    from functools import partial

    from actorgraph.api.main import app_from_env, preload_models
    from actorgraph.api.server import PerWorkerApp, Server

    shared = Path(tempfile.mkdtemp(prefix="metrics-", dir=_run_dir(settings.home)))
    os.environ["ACTORGRAPH_API_METRICS_DIR"] = str(shared)
    try:
        preloaded = None if args.no_model else preload_models(settings)
        Server(
            PerWorkerApp(partial(app_from_env, preloaded, load_model=not args.no_model)),
            host=args.host,
            port=args.port,
            workers=args.workers,
            timeout_s=WORKER_HEALTHCHECK_S,
            log_level=args.log_level,
        ).run()
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    return 0


def _run_dir(home: Path) -> Path:
    run = Path(home) / "run"
    run.mkdir(parents=True, exist_ok=True)
    return run
