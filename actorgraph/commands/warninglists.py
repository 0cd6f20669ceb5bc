"""``actorgraph warninglists check VALUE...``: which MISP warninglists hold each value."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "warninglists",
        help="check values against MISP's warninglists (public resolvers, CDNs, top sites, ...)",
    )
    actions = p.add_subparsers(dest="warninglists_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="say which warninglists hold each value",
        description=(
            "Values may be defanged (8.8.8[.]8, hxxp://...): each is normalised as ingest "
            "normalises indicators, then looked up in every list that applies to its kind. "
            "`match` is `value` when the value itself is listed, `part` when only its parent "
            "domain, its mailbox domain or a pattern is."
        ),
    )
    check.add_argument("values", nargs="+", metavar="VALUE", help="indicator values")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.graph.enrich.warninglists import data_version, shared_index

    parsed = [parse_value(raw) for raw in args.values]
    index = shared_index() if any("kind" in p for p in parsed) else None
    results = [
        {**p, "lists": lists(index, p["kind"], p["value"])} if index and "kind" in p else p
        for p in parsed
    ]
    source = index.version if index else data_version()
    if args.json:
        ctx.out({"source": source, "values": results})
    else:
        ctx.out(format_results(results, source))
    return 2 if any(r.get("error") for r in results) else 0


def parse_value(raw: str) -> dict[str, Any]:
    """A value as ingest normalises it (kind, value), or why it is not an indicator."""
    from actorgraph.graph.errors import InvalidIndicator
    from actorgraph.graph.formats.indicators import normalize_indicator

    try:
        kind, value = normalize_indicator(raw)
    except InvalidIndicator as exc:
        return {"input": raw, "error": exc.reason}
    return {"input": raw, "kind": kind, "value": value}


def lists(index: Any, kind: str, value: str) -> list[dict[str, str]]:
    """The lists holding one value; ``match`` says whether the value itself is listed."""
    return [
        {"name": m.list.name, "id": m.list.slug, "match": "value" if m.whole_value else "part"}
        for m in index.lookup(kind, value)
    ]


def format_results(results: list[dict[str, Any]], source: str) -> str:
    lines = []
    for r in results:
        if r.get("error"):
            lines.append(f"{r['input']}: not an indicator ({r['error']})")
            continue
        head = f"{r['value']} ({r['kind']})"
        if not r["lists"]:
            lines.append(f"{head}: on no warninglist")
            continue
        lines.append(f"{head}: on {len(r['lists'])} warninglist(s)")
        lines.extend(f"  {item['name']}  [{item['match']}]" for item in r["lists"])
    lines.append(f"({source})")
    return "\n".join(lines)
