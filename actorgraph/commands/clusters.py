"""``actorgraph clusters [--json]``: activity no known actor confidently explains, grouped by
shared infrastructure, tooling and timing (Louvain communities, ``graph/clusters.py``).

``actorgraph clusters name CAMPAIGN_ID... --name UNC-2026-001 --reason TEXT`` names a cluster as
a provisional actor, and ``actorgraph clusters merge ACTOR_ID --merge-into KNOWN_ID --reason TEXT``
merges it into a known actor later (``graph/provisional.py``); both decide as ``cli:<user>``,
cleared for ``--max-tlp``, and are audited in ``<home>/audit.sqlite``."""

from __future__ import annotations

import argparse

from actorgraph.commands.deciding import add_decision_options, audit_log, cli_decider
from actorgraph.graph.tlp import NAMES as TLP_NAMES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "clusters",
        help="group unattributed, unconfidently predicted campaigns into proposed clusters",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="campaigns whose best model hypothesis scores below this are unexplained "
        "(default 0.5)",
    )
    p.add_argument("--min-size", type=int, default=2, help="smallest cluster shown (default 2)")
    p.add_argument("--seed", type=int, default=0, help="community detection seed (default 0)")
    p.add_argument(
        "--max-tlp",
        default="clear",
        choices=TLP_NAMES,
        help="the reader's clearance: what the clusters may be built from (default: clear)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)
    actions = p.add_subparsers(dest="clusters_action", metavar="{name,merge}")
    name = actions.add_parser(
        "name", help="name a cluster: a provisional actor the campaigns are attributed to"
    )
    name.add_argument("campaign_ids", nargs="+", metavar="CAMPAIGN_ID", help="its campaigns")
    name.add_argument("--name", required=True, help="the intrusion set's name (UNC-2026-001)")
    _decision_options(name)
    name.set_defaults(handler=run_name)
    merge = actions.add_parser(
        "merge", help="merge a provisional actor into a known one (re-attributes its campaigns)"
    )
    merge.add_argument("actor_id", metavar="ACTOR_ID", help="the provisional actor")
    merge.add_argument(
        "--merge-into",
        "--into",
        dest="into",
        required=True,
        metavar="ACTOR_ID",
        help="the known actor its campaigns are re-attributed to",
    )
    _decision_options(merge)
    merge.set_defaults(handler=run_merge)


def _decision_options(p: argparse.ArgumentParser) -> None:
    add_decision_options(
        p,
        reason="why (kept with every decision)",
        marking="and the marking of what it writes",
        confidence="STIX confidence 0-100 of the attributions",
    )


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.graph.clusters import ClusterConfig, find_clusters
    from actorgraph.graph.errors import ValidationError
    from actorgraph.graph.tlp import TLP

    if args.min_size < 1:
        raise ValidationError(f"--min-size must be at least 1 (got {args.min_size})")
    config = ClusterConfig(threshold=args.threshold, min_size=args.min_size, seed=args.seed)
    clusters, considered = find_clusters(
        ctx.store(), max_tlp=TLP.parse(args.max_tlp), config=config
    )
    if args.json:
        ctx.out({"considered": considered, "clusters": [c.to_dict() for c in clusters]})
        return 0
    lines = [f"{considered} unexplained campaigns, {len(clusters)} clusters"]
    for i, c in enumerate(clusters, 1):
        span = f", first seen {c.first_seen} .. {c.last_seen}" if c.first_seen else ""
        lines.append(f"\ncluster {i}: {len(c.campaigns)} campaigns{span}")
        lines += [f"  {k['id']}  {k['name']}" for k in c.campaigns]
        shared = ", ".join(f"{s['name']} ({s['campaigns']})" for s in c.shared[:8])
        lines.append(f"  shared: {shared or 'nothing above the hubs'}")
        near = ", ".join(f"{a['name']} ({a['overlap']})" for a in c.nearest_actors)
        lines.append(f"  nearest known actors: {near or 'none'}")
    ctx.out("\n".join(lines))
    return 0


def run_name(args: argparse.Namespace, ctx) -> int:
    from actorgraph.graph.provisional import name_cluster

    actor, decisions = name_cluster(
        ctx.store(),
        audit_log(ctx),
        cli_decider(args),
        campaign_ids=args.campaign_ids,
        name=args.name,
        reason=args.reason,
        confidence=args.confidence,
    )
    if args.json:
        ctx.out({"actor": actor, "decisions": [d.to_dict() for d in decisions]})
        return 0
    lines = [f"{actor['id']}: provisional actor {actor['name']} (TLP:{actor['tlp'].upper()})"]
    lines += [f"  {d.id}: attribute {d.campaign_id}" for d in decisions]
    ctx.out("\n".join(lines))
    return 0


def run_merge(args: argparse.Namespace, ctx) -> int:
    from actorgraph.graph.provisional import merge_provisional

    decisions = merge_provisional(
        ctx.store(),
        audit_log(ctx),
        cli_decider(args),
        actor_id=args.actor_id,
        into=args.into,
        reason=args.reason,
        confidence=args.confidence,
    )
    if args.json:
        ctx.out({"merged_into": args.into, "decisions": [d.to_dict() for d in decisions]})
        return 0
    lines = [f"{args.actor_id} merged into {args.into}"]
    lines += [f"  {d.id}: attribute {d.campaign_id}" for d in decisions]
    ctx.out("\n".join(lines))
    return 0
