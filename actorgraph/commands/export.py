"""``actorgraph export [--actor A] [--since D] [--until D] [--max-tlp L] [--out FILE]``: STIX 2.1.

``--attribution RESULT.json [--activity BUNDLE.json]`` turns ``actorgraph attribute --json`` output
(one result per line) into STIX instead: the activity as a campaign, each hypothesis as an
``attributed-to`` relationship with its confidence, the evidence as a note. Every object is marked
at least at the clearance the results state they were computed for (``model.clearance``); a
result that states none, or a file that mixes clearances, is marked at the strictest, red being
the reading of an unstated one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.tlp import TLP


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a selection as a STIX 2.1 bundle (ids and markings kept)"
    )
    p.add_argument(
        "--actor", help="an actor id, name, alias or ATT&CK id (default: the whole graph)"
    )
    p.add_argument(
        "--since", help="campaigns and indicators active on or after this date (YYYY-MM-DD)"
    )
    p.add_argument(
        "--until", help="campaigns and indicators active on or before this date (YYYY-MM-DD)"
    )
    p.add_argument(
        "--max-tlp",
        default="red",
        help="TLP ceiling: clear, green, amber, amber+strict, red or 0..4 (default red)",
    )
    p.add_argument("--out", type=Path, help="write the bundle here (default: standard output)")
    p.add_argument(
        "--attribution",
        type=Path,
        metavar="RESULT.json",
        help="convert `actorgraph attribute --json` output (one result per line) instead",
    )
    p.add_argument(
        "--activity",
        type=Path,
        metavar="BUNDLE.json",
        help="with --attribution: the STIX bundle that was attributed (its objects are included)",
    )
    p.add_argument(
        "--top-k", type=int, default=3, help="with --attribution: hypotheses stated (default 3)"
    )
    p.set_defaults(handler=run)


def attribution_bundle(result_path: Path, activity_path: Path | None, top_k: int) -> dict:
    """The STIX bundle of every result in an ``attribute --json`` file (one JSON object a line).

    Raises:
        ValidationError: the file is missing or not attribution results.
    """
    from actorgraph.graph.attribution import AttributionResult
    from actorgraph.graph.reports.attribution_stix import attribution_to_stix

    try:
        lines = [ln for ln in result_path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        results = [json.loads(ln) for ln in lines]
        if len(results) == 1 and isinstance(results[0], list):
            results = results[0]
        activity = json.loads(activity_path.read_text(encoding="utf-8")) if activity_path else None
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(
            f"cannot read attribution results {str(result_path)!r}: {exc}"
        ) from exc
    if not results or not all(isinstance(r, dict) for r in results):
        raise ValidationError(f"{str(result_path)!r} holds no attribution results")
    typed = [AttributionResult.from_dict(r) for r in results]
    level = max(TLP.parse(r.model.clearance or TLP.RED) for r in typed)
    objects: dict[str, dict] = {}
    bundle_id = None
    for result in typed:
        bundle = attribution_to_stix(
            result, activity if len(typed) == 1 else None, max_tlp=level, top_k=top_k
        )
        bundle_id = bundle_id or bundle["id"]
        objects.update((o["id"], o) for o in bundle["objects"])
    return {"type": "bundle", "id": bundle_id, "objects": list(objects.values())}


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.graph.reports.export import export_bundle

    if args.attribution:
        bundle = attribution_bundle(args.attribution, args.activity, args.top_k)
    else:
        bundle = export_bundle(
            ctx.store(),
            actor=args.actor,
            since=args.since,
            until=args.until,
            max_tlp=TLP.parse(args.max_tlp),
        )
    text = json.dumps(bundle, indent=2, ensure_ascii=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
        counts: dict[str, int] = {}
        for obj in bundle["objects"]:
            counts[obj["type"]] = counts.get(obj["type"], 0) + 1
        summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
        ctx.out(f"wrote {len(bundle['objects'])} objects to {args.out}: {summary}")
    else:
        ctx.out(text)
    return 0
