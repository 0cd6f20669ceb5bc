"""``actorgraph decide CAMPAIGN_ID --accept|--reject|--attribute ACTOR_ID --reason TEXT``.

The command line's twin of ``POST /v1/campaigns/{id}/decisions``: the decider is
``cli:<user>``, cleared for ``--max-tlp`` (default ``clear``, as ``attribute``), and the
decision is audited in ``<home>/audit.sqlite``.
"""

from __future__ import annotations

import argparse

from actorgraph.commands.deciding import add_decision_options, audit_log, cli_decider


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "decide",
        help="accept or reject a model attribution, or attribute a campaign to an actor",
    )
    p.add_argument("campaign_id", metavar="CAMPAIGN_ID", help="the campaign decided on")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--accept",
        nargs="?",
        const="",
        metavar="ACTOR_ID",
        help="accept the model's hypothesis (its top-ranked actor unless ACTOR_ID is given)",
    )
    what.add_argument(
        "--reject",
        nargs="?",
        const="",
        metavar="ACTOR_ID",
        help="reject the model's hypothesis (its top-ranked actor unless ACTOR_ID is given)",
    )
    what.add_argument("--attribute", metavar="ACTOR_ID", help="attribute the campaign to ACTOR_ID")
    add_decision_options(
        p, reason="why (kept with the decision)", marking="and the decision's marking"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.graph.decisions import decide

    for kind in ("accept", "reject", "attribute"):
        actor = getattr(args, kind)
        if actor is not None:
            break
    decision = decide(
        ctx.store(),
        audit_log(ctx),
        cli_decider(args),
        campaign_id=args.campaign_id,
        decision=kind,
        actor_id=actor or None,
        reason=args.reason,
        confidence=args.confidence,
    )
    out = decision.to_dict()
    if args.json:
        ctx.out(out)
        return 0
    scales = out["confidence_scales"]
    hypothesis = (
        f"model {decision.model_version} ranked it {decision.model_rank} "
        f"(score {decision.model_score:.3f})"
        if decision.model_rank is not None and decision.model_score is not None
        else "the model did not propose it"
    )
    ctx.out(
        f"{decision.id}: {decision.decision} {decision.actor_id} for {decision.campaign_id}\n"
        f"  confidence {scales['stix']} (Admiralty {scales['admiralty']}; "
        f"ICD 203 {scales['icd203']}); {hypothesis}; marked TLP:{decision.tlp.upper()}"
    )
    return 0
