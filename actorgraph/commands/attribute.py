"""``actorgraph attribute PATH... [--top-k K] [--json]``: rank known actors for new activity.

Each PATH is a STIX 2.1 bundle, a MISP event, the simple JSON ``{"indicators": [...],
"malware": [...], "tools": [...], "techniques": [...]}``, or a text list of indicators (one per
line, defanged or not; ``gnn.activity.activity_from_text``). With ``--json``: one JSON object
per input, one per line, in input order (``AttributionResult.to_json``;
``AttributionResult.from_json`` reads it back).

With ``--persist`` the activity is stored as a campaign with its hypotheses; its id (the one
``actorgraph decide`` takes) is printed, and in JSON is ``persisted.campaign_id`` as the API
answers it.

``--max-tlp`` (default ``clear``) is the clearance of the reader the answer is for: the model
trained on what that clearance may see answers, and evidence and counts are filtered the same
way, so an answer printed for a ``clear`` audience holds nothing learned from marked data.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actorgraph.gnn.activity import Activity
    from actorgraph.graph.attribution import AttributionResult

# Characters of a skipped value the table shows (a garbage line may be megabytes long).
SHOWN = 120


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "attribute",
        help="attribute new activity (STIX bundle, MISP event, simple JSON or indicator list)",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="activity files: a STIX 2.1 bundle, a MISP event, the simple JSON form, or a text "
        "list of indicators (one per line; # comments; defanged values are read)",
    )
    p.add_argument("--top-k", type=int, default=5, help="candidates to list (default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per input per line")
    p.add_argument("--model", default=None, help="model version (default: latest)")
    p.add_argument(
        "--max-tlp",
        default="clear",
        help="the clearance the answer is for (clear, green, amber, amber+strict, red; "
        "default clear): the model of that clearance answers, and evidence above it is left out",
    )
    p.add_argument(
        "--persist",
        action="store_true",
        help="store the activity and its PREDICTED_ACTOR hypotheses",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.gnn.attribute import Attributor
    from actorgraph.graph.attribution import with_skipped
    from actorgraph.graph.errors import ValidationError
    from actorgraph.graph.tlp import TLP

    if args.top_k < 1:
        raise ValidationError(f"--top-k must be at least 1 (got {args.top_k})")
    level = TLP.parse(args.max_tlp)
    activities = [_load(p) for p in args.paths]  # refuse bad input before any work
    attributor = Attributor.load(
        ctx.settings.home / "models", ctx.store(), version=args.model, max_tlp=level
    )
    for path, activity in zip(args.paths, activities, strict=True):
        result = attributor.attribute(activity, max_tlp=level, top_k=args.top_k, input_name=path)
        result = with_skipped(result, activity.skipped)
        campaign = None
        if args.persist:
            campaign = attributor.persist(activity, result, max_tlp=level, seen=activity.seen)
        if args.json:
            # ``persisted`` as the API answers it: the campaign that `decide` takes.
            persisted = {"persisted": {"campaign_id": campaign}} if campaign else {}
            print(json.dumps({**result.to_dict(), **persisted}), flush=True)
        else:
            ctx.out(format_result(result))
            if campaign:
                ctx.out(
                    f"  stored as {campaign}: decide with `actorgraph decide {campaign} "
                    f"--accept --reason TEXT --max-tlp {level.label}`"
                )
    return 0


def _load(path: str) -> Activity:
    """One input, whose error names its file when the message does not (one of several)."""
    from actorgraph.gnn.activity import load_activity
    from actorgraph.graph.errors import ActorgraphError, ValidationError

    try:
        return load_activity(path)
    except ActorgraphError as exc:
        if path in str(exc):
            raise
        raise ValidationError(f"{path}: {exc}") from exc


def format_result(res: AttributionResult) -> str:
    """A readable table: candidates, countries, unknown, evidence."""
    m = res.model
    lines = [
        f"== {res.input}  (model {m.version}; matched {m.matched}, unmatched {m.unmatched})",
        f"  {'rank':<5}{'score':>7}  {'actor':<28}{'country':<8}aliases",
    ]
    for c in res.candidates:
        aliases = ", ".join(a for a in c.aliases if a != c.name)[:40]
        lines.append(
            f"  {c.rank:<5}{c.score:>7.3f}  {c.name or c.actor_id:<28}"
            f"{c.country or '-':<8}{aliases}"
        )
    lines.append(f"  unknown actor: {res.unknown:.3f}")
    explained = [(c.name or c.actor_id, c.signals) for c in res.candidates[:3] if c.signals]
    if explained:
        lines.append("  what each kind of evidence added (log-odds):")
        for who, signals in explained:
            kinds = "  ".join(f"{k} {v:5.2f}" for k, v in asdict(signals).items())
            lines.append(f"    {who[:24]:<24} {kinds}")
    if res.countries:
        top = res.countries[:5]
        lines.append("  countries: " + ", ".join(f"{c.country} {c.score:.3f}" for c in top))
    names = {c.actor_id: c.name for c in res.candidates}
    if res.evidence:
        lines.append("  evidence:")
        for e in res.evidence:
            hub = f"  [hub: {e.hub}]" if e.hub else ""
            who = names.get(e.actor_id) or e.actor_id
            lines.append(
                f"    {who[:24]:<24} {e.kind:<22} {e.entity.name!s:<30} w={e.weight:.2f} "
                f"shared by {e.actors_sharing}{hub}"
            )
    if res.skipped:
        lines.append("  skipped (not attributed):")
        lines.extend(f"    {_shown(v.value)}: {v.reason}" for v in res.skipped)
    if res.flagged:
        lines.append("  on MISP warninglists (not in the graph; likely nobody's evidence):")
        lines.extend(f"    {v.value}: {'; '.join(v.warninglists)}" for v in res.flagged)
    if res.hubs_skipped:
        lines.append("  hubs not followed for evidence:")
        lines.extend(f"    {h.name}: {h.reason}" for h in res.hubs_skipped)
    return "\n".join(lines)


def _shown(value: str) -> str:
    if len(value) <= SHOWN:
        return repr(value)
    return f"{value[:SHOWN]!r}... ({len(value):,} characters)"
