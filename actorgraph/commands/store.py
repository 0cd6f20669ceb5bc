"""``actorgraph store start|stop|status|migrate``: the store's lifecycle.

The embedded FalkorDB is started and stopped here. Neo4j (``NEO4J_URI`` set) runs on its own
(``make neo4j-up``, ``docker compose up -d``, a server or Aura): ``start`` applies and checks the
schema, ``status`` reports on the server, ``stop`` is refused. ``migrate``, on either, brings a
graph written by an older actorgraph up to date: it stamps the arrival time (``added``, which
TAXII serves as ``date_added``) on elements written before the stamp existed.
"""

from __future__ import annotations

import argparse

from actorgraph.graph.errors import StoreUnavailable, ValidationError
from actorgraph.graph.store import embedded, open_store
from actorgraph.graph.store.neo4j import Neo4jStore

_TEXT_KEYS = (
    "backend",
    "running",
    "pid",
    "socket",
    "uri",
    "version",
    "home",
    "data_bytes",
    "graph",
    "database",
    "nodes",
    "relationships",
    "error",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="start, stop or inspect the store (FalkorDB or Neo4j)")
    p.add_argument("action", choices=["start", "stop", "status", "migrate"])
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    if args.action == "migrate":
        return _migrate(args, ctx)
    if ctx.settings.neo4j_uri:
        return _run_neo4j(args, ctx)
    home = ctx.settings.home
    if args.action == "start":
        socket, started = embedded.start(home, auto=False)
        ctx.out(f"{'started' if started else 'already running'}: {socket}")
        return 0
    if args.action == "stop":
        ctx.out("stopped" if embedded.stop(home) else "not running")
        return 0
    info = {"backend": "falkordb", **embedded.status(home)}
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
    return _report(ctx, info, as_json=args.json)


def _migrate(args: argparse.Namespace, ctx) -> int:
    from actorgraph.graph.arrival import stamp_unstamped

    stamped = stamp_unstamped(ctx.store())
    if args.json:
        ctx.out({"stamped": stamped})
    else:
        ctx.out(
            f"stamped the arrival time on {stamped['nodes']} nodes and "
            f"{stamped['relationships']} relationships written before it existed"
        )
    return 0


def _run_neo4j(args: argparse.Namespace, ctx) -> int:
    uri = ctx.settings.neo4j_uri
    if args.action == "stop":
        raise ValidationError(
            f"NEO4J_URI is set ({uri}): actorgraph does not stop Neo4j "
            "(`make neo4j-down` stops the one `make neo4j-up` started)"
        )
    if args.action == "start":
        ctx.store()  # connects, then applies and checks the schema
        ctx.out(f"Neo4j at {uri}: reachable, schema in place")
        return 0
    try:
        store = open_store(ctx.settings.store_config())
    except StoreUnavailable as exc:
        return _report(
            ctx, {"backend": "neo4j", "running": False, "uri": uri, "error": str(exc)}, args.json
        )
    try:
        info = {"running": True, **store.health()}
        if isinstance(store, Neo4jStore):
            schema = store.schema_objects()
            info["schema"] = {kind: len(names) for kind, names in schema.items()}
    finally:
        store.close()
    return _report(ctx, info, as_json=args.json)


def _report(ctx, info: dict, as_json: bool) -> int:
    if as_json:
        ctx.out(info)
    else:
        for key in _TEXT_KEYS:
            if key in info:
                ctx.out(f"{key:>14}: {info[key]}")
    return 0 if info["running"] else 3
