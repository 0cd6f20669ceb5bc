"""``actorgraph takedown ACTOR|--campaign ID [--since DATE] [--out DIR]``: abuse-report packages.

Packages go to registrars and hosters, third parties: they use clear data unless ``--max-tlp``
says otherwise, every item states its TLP, and ``--out`` refuses a level above TLP:AMBER (the
summary may still be read on the analyst's own screen at any level).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.tlp import TLP


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "takedown",
        help=(
            "an actor's live-looking domains and IPs per registrar and hoster"
            " (CSV + JSON per recipient)"
        ),
    )
    p.add_argument("actor", nargs="?", help="an actor id, name, alias or ATT&CK id")
    p.add_argument("--campaign", help="one campaign's STIX id instead of an actor")
    p.add_argument("--since", help="only what was last seen on or after this date (YYYY-MM-DD)")
    p.add_argument(
        "--max-tlp",
        default="clear",
        help="use only data marked up to this TLP level (default clear); --out writes at most"
        " amber, since the files go to third parties",
    )
    p.add_argument(
        "--hub-actors",
        type=int,
        default=3,
        help="tied to this many actors or more = shared infrastructure, left out (default 3)",
    )
    p.add_argument("--out", type=Path, help="write the package files into this directory")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.graph.reports.takedown import build_takedown, write_takedown

    if bool(args.actor) == bool(args.campaign):
        raise ValidationError("give an ACTOR or --campaign ID (exactly one)")
    package = build_takedown(
        ctx.store(),
        actor=args.actor,
        campaign=args.campaign,
        since=args.since,
        max_tlp=TLP.parse(args.max_tlp),
        hub_actors=args.hub_actors,
    )
    summary = package.summary()
    if args.out:
        files = write_takedown(package, args.out, max_tlp=package.max_tlp)
        summary["files"] = [str(p) for p in files]
    if args.json:
        ctx.out(summary)
        return 0
    who = (summary["actor"] or {}).get("name") or args.campaign
    lines = [
        f"Takedown package for {who} (TLP:{summary['tlp'].upper()}, data up to"
        f" TLP:{summary['max_tlp'].upper()}): {summary['domains']} domains,"
        f" {summary['addresses']} addresses"
    ]
    for title, groups in (
        ("registrars", package.by_registrar()),
        ("hosting", package.by_hosting()),
    ):
        for name, records in groups.items():
            lines.append(f"  {title.removesuffix('s')} {name}: {len(records)}")
            lines.extend(
                f"    {r.value}  TLP:{r.tlp.upper()}  last seen {(r.last_seen or '?')[:10]}"
                f"  confidence {r.confidence}"
                for r in records[:5]
            )
    reasons = ", ".join(f"{k} {v}" for k, v in summary["excluded_by_reason"].items())
    lines.append(f"  excluded: {summary['excluded']} ({reasons or 'none'})")
    if args.out:
        lines.append(f"  wrote {len(summary['files'])} files to {args.out}")
    ctx.out("\n".join(lines))
    return 0
