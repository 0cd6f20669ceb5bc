"""``actorgraph ingest PATH... | --attack``: load STIX 2.1 bundles, MISP events or ATT&CK.

Prints per-label and per-type counts of what each input held, and the account of its objects
(``in = landed + merged + pending + rejected``, each object not kept and each reference left
pending named with its reason; ``--json`` for machine output). A refused file (invalid JSON/STIX,
missing properties) is named on stderr with the offending object id and makes the exit code 2;
nothing of that file is written, the other files are. A reference to an object in none of the
files nor the store does not refuse its file: it is kept pending until a later input brings it.
"""

from __future__ import annotations

import argparse
from typing import Any

from actorgraph.graph.errors import IngestError, ValidationError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ingest",
        help="load STIX 2.1 bundles, MISP events (files, .json.gz, directories) or ATT&CK",
        description="Load threat intelligence into the graph. Every file is validated as a whole "
        "before anything of it is written; ingesting the same input twice changes nothing.",
    )
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="STIX bundle / MISP event files or directories"
    )
    p.add_argument(
        "--attack", action="store_true", help="load MITRE ATT&CK Enterprise (offline, v18.1)"
    )
    p.add_argument(
        "--format",
        dest="fmt",
        choices=("auto", "stix", "misp"),
        default="auto",
        help="input format (default: detect per file)",
    )
    p.add_argument(
        "--batch-size", type=int, default=5000, help="rows per write query (default 5000)"
    )
    p.add_argument(
        "--no-enrich",
        dest="enrich",
        action="store_false",
        help="do not add the offline enrichment of indicators (IP -> /24 or /48 network and AS "
        "organisation, domain -> registrable domain; on by default)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes reading files ahead of the writes (default: one per core, no more "
        "than there are files; 1: none)",
    )
    p.add_argument(
        "--bulk",
        action="store_true",
        help="build an empty graph in one bulk load (FalkorDB: GRAPH.BULK; Neo4j: CREATE in "
        "transactions of 10,000 rows): the same graph, faster than the batched writer; STIX "
        "bundles (and --attack) only; refused on a graph that holds anything",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Any) -> int:
    from actorgraph.graph.ingest import ingest_attack, ingest_paths
    from actorgraph.graph.tlp import TLP

    if not args.paths and not args.attack:
        raise ValidationError("give one or more PATHs to ingest, or --attack")
    if args.batch_size < 1:
        raise ValidationError(f"--batch-size must be at least 1 (got {args.batch_size})")
    if args.workers is not None and args.workers < 1:
        raise ValidationError(f"--workers must be at least 1 (got {args.workers})")
    store = ctx.store()
    reports = []
    if args.bulk:
        return _bulk(args, ctx, store)
    if args.attack:
        reports.append(ingest_attack(store, batch_size=args.batch_size))
    error: IngestError | None = None
    if args.paths:
        try:
            # The CLI is the operator, who holds every level: it writes as TLP.RED (still
            # never lowering a marking).
            reports.extend(
                ingest_paths(
                    store,
                    args.paths,
                    max_tlp=TLP.RED,
                    fmt=args.fmt,
                    batch_size=args.batch_size,
                    enrich=args.enrich,
                    workers=args.workers,
                )
            )
        except IngestError as exc:
            reports.extend(getattr(exc, "reports", []))
            error = exc
    if reports or args.json:
        ctx.out(_as_json(reports, error) if args.json else _as_text(reports))
    if error is not None:
        raise error  # the CLI prints it to stderr and exits 2
    return 0


def _bulk(args: argparse.Namespace, ctx: Any, store: Any) -> int:
    from actorgraph.graph.ingest.bulk import bulk_ingest

    reports = bulk_ingest(
        store,
        args.paths,
        attack=args.attack,
        enrich=args.enrich,
        batch_size=args.batch_size,
        workers=args.workers,
    )
    ctx.out(_as_json(reports, None) if args.json else _as_text(reports))
    return 0


def _as_json(reports: list[Any], error: IngestError | None) -> dict[str, Any]:
    totals: dict[str, dict[str, int]] = {"nodes": {}, "relationships": {}, "objects": {}}
    for report in reports:
        sections = (
            ("nodes", report.nodes),
            ("relationships", report.relationships),
            ("objects", report.objects),
        )
        for section, counts in sections:
            for key, n in counts.items():
                totals[section][key] = totals[section].get(key, 0) + n
    refused = [
        {"source": e.source, "object_id": getattr(e, "object_id", None), "reason": e.reason}
        for e in (getattr(error, "errors", None) or ([error] if error else []))
    ]
    return {
        "reports": [r.to_dict() for r in reports],
        "totals": totals,
        "rejected": sum(len(r.rejected) for r in reports),
        "refused": refused,
    }


def _as_text(reports: list[Any]) -> str:
    lines: list[str] = []
    for report in reports:
        lines.append(
            f"{report.source} ({report.format}, {report.seconds:.2f} s): {report.n_nodes:,} nodes, "
            f"{report.n_relationships:,} relationships, {len(report.rejected)} rejected"
        )
        for section, counts in (("nodes", report.nodes), ("relationships", report.relationships)):
            width = max((len(k) for k in counts), default=0)
            lines.append(f"  {section}:")
            lines.extend(f"    {k:<{width}}  {v:>7,}" for k, v in counts.items())
        if report.enriched:
            lines.append("  enrichment (nodes per kind, edges):")
            wide = max(len(k) for k in report.enriched)
            lines.extend(f"    {k:<{wide}}  {v:>7,}" for k, v in report.enriched.items())
        if report.rejected:
            lines.append("  rejected (not stored):")
            lines.extend(f"    {r.value!r} in {r.object_id}: {r.reason}" for r in report.rejected)
        lines.extend(_objects_text(report))
    return "\n".join(lines)


# Objects named per report in the text output; ``--json`` names every one.
_NAMED = 20


def _objects_text(report: Any) -> list[str]:
    """The account of the input's objects: in = landed + merged + pending + rejected, then the
    objects not kept and the references left pending, each with its reason."""
    o = report.objects
    if not o:
        return []
    lines = [
        f"  objects: {o['in']:,} in = {o['landed']:,} landed + {o['merged']:,} merged + "
        f"{o['pending']:,} pending + {o['rejected']:,} rejected"
        + (f"; completed {report.completed:,} pending from before" if report.completed else "")
    ]
    for title, entries, fmt in (
        ("objects not kept", report.objects_rejected, "{object_id}: {reason}"),
        ("objects kept with a note", report.objects_noted, "{object_id}: {reason}"),
        ("pending (waiting for)", report.pending, "{object_id} {rel} -> {missing}"),
    ):
        if entries:
            lines.append(f"  {title}:")
            lines.extend("    " + fmt.format(**e) for e in entries[:_NAMED])
            if len(entries) > _NAMED:
                lines.append(f"    ... {len(entries) - _NAMED:,} more (--json lists every one)")
    return lines
