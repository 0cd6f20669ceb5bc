"""``actorgraph brief ACTOR [--format md|html|json] [--out FILE]``: a one-page actor briefing."""

from __future__ import annotations

import argparse
from pathlib import Path

from actorgraph.graph.tlp import TLP


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("brief", help="a one-page briefing on an actor for non-specialist readers")
    p.add_argument("actor", help="an actor id, name, alias (any vendor's) or ATT&CK id")
    p.add_argument(
        "--format", choices=("md", "html", "json"), default="md", help="output format (default md)"
    )
    p.add_argument(
        "--max-tlp", default="red", help="use only data marked up to this TLP level (default red)"
    )
    p.add_argument("--out", type=Path, help="write the briefing here (default: standard output)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.graph.reports.briefing import build_briefing, render_html, render_markdown

    brief = build_briefing(ctx.store(), args.actor, max_tlp=TLP.parse(args.max_tlp))
    if args.format == "json":
        import json

        text = json.dumps(brief.to_dict(), indent=2, ensure_ascii=False, default=str)
    else:
        text = render_html(brief) if args.format == "html" else render_markdown(brief)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        ctx.out(f"wrote the briefing on {brief.name} to {args.out}")
    else:
        ctx.out(text)
    return 0
