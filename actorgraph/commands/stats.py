"""``actorgraph stats``: counts per label and relationship type."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="counts per label and relationship type")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    counts = ctx.store().counts()
    if args.json:
        ctx.out(counts)
        return 0
    ctx.out(format_counts(counts))
    return 0


def format_counts(counts: dict[str, dict[str, int]]) -> str:
    lines = []
    for section in ("nodes", "relationships"):
        items = counts.get(section, {})
        lines.append(f"{section} ({sum(items.values())}):")
        width = max((len(k) for k in items), default=0)
        lines.extend(f"  {k:<{width}}  {v:>9,}" for k, v in items.items())
    return "\n".join(lines)
