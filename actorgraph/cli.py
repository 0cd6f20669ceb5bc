"""The ``actorgraph`` command: reads settings once, wires the store, dispatches sub-commands.

Sub-commands live in ``actorgraph/commands/*.py``; each module's ``register(subparsers)`` adds
its parser and sets ``handler=run``. User errors (``ActorgraphError``) print one line to stderr and
exit 2; no tracebacks for them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import signal
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from actorgraph import __version__
from actorgraph.api.encode import json_safe
from actorgraph.commands.audit import record_command
from actorgraph.graph.enrich.warninglists import use_cache_dir
from actorgraph.graph.errors import ActorgraphError
from actorgraph.graph.store import GraphStore, open_store
from actorgraph.settings import Settings


class Context:
    """What a command needs: settings, a lazily opened store, output helpers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: GraphStore | None = None

    def store(self) -> GraphStore:
        if self._store is None:
            self._store = open_store(self.settings.store_config())
            self._store.ensure_schema()
        return self._store

    def out(self, obj: Any) -> None:
        if isinstance(obj, str):
            print(obj)
        else:
            # Strict JSON (RFC 8259): NaN and infinities print as null, as in the API.
            print(json.dumps(json_safe(obj), indent=2, sort_keys=False, allow_nan=False))

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actorgraph",
        description="Graph-based threat-actor attribution: ingest, query, train, attribute, serve.",
    )
    parser.add_argument("--version", action="version", version=f"actorgraph {__version__}")
    parser.add_argument(
        "--home", type=Path, help="data directory (default: $ACTORGRAPH_HOME or ./.actorgraph)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from actorgraph import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"actorgraph.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 1
    try:
        settings = Settings(**({"home": args.home} if args.home else {}))
    except PydanticValidationError as exc:  # bad environment or .env
        print(f"actorgraph: invalid settings: {exc}", file=sys.stderr)
        return 2
    ctx = Context(settings)
    use_cache_dir(settings.cache_dir())  # the warninglists index, built once per data version
    previous = _stop_cleanly_on_sigterm()
    try:
        code = int(args.handler(args, ctx) or 0)
    except KeyboardInterrupt:
        record_command(settings.home, args, "interrupted")
        print("actorgraph: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    # OSError: an output the user named cannot be written (a full disk, a folder).
    except (ActorgraphError, OSError) as exc:
        record_command(settings.home, args, f"error: {exc}")
        print(f"actorgraph: error: {exc}", file=sys.stderr)
        return 2
    finally:
        ctx.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    record_command(settings.home, args, "ok" if code == 0 else f"exit {code}")
    return code


def _stop_cleanly_on_sigterm() -> Any:
    """Make SIGTERM (``timeout``, ``kill``, a service manager) end the command through its
    cleanup, as Ctrl-C does, so that an embedded store it started is stopped, not left running.
    Returns the handler it replaced (None when it could not install one: not the main thread,
    or a handler other than the default is set, such as a server's)."""
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return None
        return signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread
        return None


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
