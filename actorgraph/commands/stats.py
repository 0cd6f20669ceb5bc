"""``actorgraph stats``: counts per label and relationship type, and the field data's versions."""

from __future__ import annotations

import argparse

from actorgraph.graph.errors import ActorgraphError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="counts per label and relationship type")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    counts = ctx.store().counts()
    data = data_versions()
    if args.json:
        ctx.out({**counts, "data": data})
        return 0
    ctx.out(format_counts(counts) + "\n" + format_data(data))
    return 0


def data_versions() -> dict[str, str | None]:
    """The field data ingest and attribution read: the provenance each one writes (None when
    its package is missing). Cheap: versions only, no data loaded."""
    from actorgraph.graph.enrich import warninglists
    from actorgraph.graph.formats import countries, galaxy, misp

    out: dict[str, str | None] = {}
    for name, version in (
        ("warninglists", warninglists.data_version),
        ("galaxy", galaxy.data_version),
        ("countries", countries.country_data_version),
        ("misp-events", misp.converter_version),
    ):
        try:
            out[name] = version()
        except ActorgraphError:
            out[name] = None
    return out


def format_data(data: dict[str, str | None]) -> str:
    width = max(len(k) for k in data)
    lines = ["field data:"]
    lines.extend(f"  {k:<{width}}  {v or 'not installed'}" for k, v in data.items())
    return "\n".join(lines)


def format_counts(counts: dict[str, dict[str, int]]) -> str:
    lines = []
    for section in ("nodes", "relationships"):
        items = counts.get(section, {})
        lines.append(f"{section} ({sum(items.values())}):")
        width = max((len(k) for k in items), default=0)
        lines.extend(f"  {k:<{width}}  {v:>9,}" for k, v in items.items())
    return "\n".join(lines)
