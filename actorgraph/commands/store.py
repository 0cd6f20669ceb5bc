"""``actorgraph store start|stop|status``: the embedded server's lifecycle."""

from __future__ import annotations

import argparse

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.store import embedded


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="start, stop or inspect the embedded FalkorDB server")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    if ctx.settings.neo4j_uri:
        raise ValidationError(
            "NEO4J_URI is set: the store is Neo4j, which actorgraph does not start or stop"
        )
    home = ctx.settings.home
    if args.action == "start":
        socket, started = embedded.start(home, auto=False)
        ctx.out(f"{'started' if started else 'already running'}: {socket}")
        return 0
    if args.action == "stop":
        ctx.out("stopped" if embedded.stop(home) else "not running")
        return 0
    info = embedded.status(home)
    if info["running"]:
        from actorgraph.graph.store.falkor import FalkorStore

        store = FalkorStore(embedded.ServerPaths(home.resolve()).socket, graph=ctx.settings.graph)
        info.update(
            {
                k: v
                for k, v in store.health().items()
                if k in ("nodes", "relationships", "ping_ms", "graph")
            }
        )
        store.close()
    if args.json:
        ctx.out(info)
    else:
        for key in (
            "running",
            "pid",
            "socket",
            "home",
            "data_bytes",
            "graph",
            "nodes",
            "relationships",
        ):
            if key in info:
                ctx.out(f"{key:>14}: {info[key]}")
    return 0 if info["running"] else 3
