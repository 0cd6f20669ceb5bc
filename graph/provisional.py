"""Provisional actors: an analyst names a cluster of unattributed campaigns, and later merges it
into a known actor.

Naming creates a ``ThreatActor`` marked ``provisional: true`` with its provenance (who, key,
when, why) and attributes each campaign to it through an analyst ``attribute`` decision, so every
attribution has a ``Decision`` record, a history and an audit entry. Merging re-attributes the
provisional actor's campaigns to the known actor through new decisions and marks the provisional
node ``merged_into``; nothing is deleted. Splitting a cluster is re-attributing some of its
campaigns one by one with ``decide``.

Naming (the actor and every decision) and merging (every decision and the mark) are each one
atomic graph write, so a crash leaves all of it or none. Their audit intents (the naming or
merging event and one per decision) are appended together before the write and their outcomes
after it; :func:`graph.reconcile.reconcile` settles intents a crash left pending from the graph.

The actor is marked with the namer's clearance, like its decisions; a campaign or actor above the
caller's clearance is reported exactly like a missing one.
"""

from __future__ import annotations

import uuid
from typing import Any

from actorgraph.graph import arrival
from actorgraph.graph.audit import AuditLog, now_stamp
from actorgraph.graph.confidence import check_confidence
from actorgraph.graph.decisions import (
    ANALYST_SOURCE,
    CAMPAIGN,
    Decider,
    Decision,
    check_reason,
    decision_statements,
    prepare_decision,
)
from actorgraph.graph.errors import ActorgraphError, NotFound, ValidationError
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, visible, visible_all

__all__ = ["MAX_CAMPAIGNS", "merge_provisional", "merges_exist", "name_cluster", "names_exist"]

MAX_NAME = 200
MAX_CAMPAIGNS = 500

NAME_TAKEN = f"""
MATCH (a:ThreatActor)
WHERE {visible("a")}
  AND (a.name_lc = $name_lc OR $name_lc IN coalesce(a.aliases_lc, []))
RETURN a.id AS id
LIMIT 1
"""

CREATE_PROVISIONAL = """
UNWIND $rows AS row
CREATE (a:ThreatActor {id: row.id})
SET a.name = row.name, a.name_lc = row.name_lc, a.aliases = [], a.aliases_lc = [],
    a.provisional = true, a.created = row.created, a.created_by = row.created_by,
    a.key_id = row.key_id, a.reason = row.reason, a.sources = ['analyst'],
    a.tlp = row.tlp, a.tlp_level = row.tlp_level, a.added = $added
"""

ACTOR = f"""
MATCH (a:ThreatActor {{id: $actor}})
WHERE {visible("a")}
RETURN a.id AS id, a.name AS name, coalesce(a.provisional, false) AS provisional,
       a.merged_into AS merged_into, coalesce(a.tlp_level, 0) AS level
"""

# The campaigns an analyst attributed to the provisional actor, as far as the caller sees.
ANALYST_CAMPAIGNS = f"""
MATCH (c:Campaign)-[t:ATTRIBUTED_TO]->(:ThreatActor {{id: $actor}})
WHERE t.source = '{ANALYST_SOURCE}' AND {visible_all("c", "t")}
RETURN c.id AS id
ORDER BY id
"""

# The merge's event id stays on the node, so that the audit log can tell a merge applied.
MARK_MERGED = """
UNWIND $rows AS row
MATCH (a:ThreatActor {id: row.actor})
SET a.merged_into = row.into, a.merged_by = row.merged_by, a.merged_at = row.merged_at,
    a.merge_reason = row.reason, a.merge_event = row.event
"""

NAMED = """
MATCH (a:ThreatActor)
WHERE a.id IN $ids AND a.provisional = true
RETURN a.id AS id
"""

MERGED = """
MATCH (a:ThreatActor)
WHERE a.merge_event IN $ids
RETURN a.merge_event AS id
"""


def _write_audited(
    store: GraphStore,
    log: AuditLog,
    intents: list[dict[str, Any]],
    statements: list[tuple[str, list[dict[str, Any]]]],
    level: TLP,
) -> None:
    """Append the intents, write the statements as one atomic unit, append the outcomes."""
    events = [i["event"] for i in intents]
    log.intents(intents)
    try:
        store.write_atomic(statements, max_tlp=int(level), added=arrival.AT_WRITE)
    except Exception as exc:
        log.outcomes(events, f"error: {exc}")
        raise
    log.outcomes(events, "ok")


def name_cluster(
    store: GraphStore,
    log: AuditLog,
    decider: Decider,
    *,
    campaign_ids: list[str],
    name: str,
    reason: str,
    confidence: int | None = None,
) -> tuple[dict[str, Any], list[Decision]]:
    """Create a provisional actor named ``name`` and attribute the campaigns to it.

    Args:
        store: the graph.
        log: the audit log (one ``cluster.name`` event, then one ``decision`` per campaign).
        decider: who names it; its ``max_tlp`` is what it may see, and the marking of what it
            writes.
        campaign_ids: the cluster's campaigns (each unattributed, or attributed by an analyst).
        name: the intrusion set's name, such as ``UNC-2026-001``; no visible actor may have it.
        reason: why these campaigns belong together.
        confidence: STIX 0-100 confidence of each attribution, or None.

    Returns:
        The provisional actor (plain data) and the decisions that attribute the campaigns.

    Raises:
        NotFound: a campaign does not exist or is above the decider's clearance.
        ValidationError: a bad name, reason or campaign list, a name already taken, or a
            campaign a source attributed.
    """
    level = TLP.parse(decider.max_tlp)
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationError(f"name must be 1 to {MAX_NAME} characters (got {len(name)})")
    reason = check_reason(reason)
    confidence = check_confidence(confidence)
    if not campaign_ids or len(campaign_ids) > MAX_CAMPAIGNS:
        raise ValidationError(f"name 1 to {MAX_CAMPAIGNS} campaigns (got {len(campaign_ids)})")
    if len(set(campaign_ids)) != len(campaign_ids):
        raise ValidationError("a campaign is listed twice")
    params: dict[str, Any] = {"max_tlp": int(level), "name_lc": name.lower()}
    if store.query(NAME_TAKEN, params, read_only=True):
        raise ValidationError(f"an actor named {name!r} exists; choose another name")
    # Every campaign is checked before anything is written, so a bad one changes nothing.
    for cid in campaign_ids:
        found = store.query(CAMPAIGN, {**params, "campaign": cid}, read_only=True)
        if not found:
            raise NotFound(f"no campaign {cid!r}")
        if found[0]["claims"]:
            raise ValidationError(
                f"campaign {cid!r} is attributed by a source; only unattributed campaigns "
                "can be named as a cluster"
            )
    who, origin = decider.audit_name, decider.origin
    actor_id = f"intrusion-set--{uuid.uuid4()}"
    created = now_stamp()
    actor: dict[str, Any] = {
        "id": actor_id,
        "name": name,
        "provisional": True,
        "created": created,
        "created_by": decider.decided_by,
        "key_id": decider.key_id,
        "reason": reason,
        "tlp": level.label,
    }
    # The actor is new, so no model hypothesis about it exists for a decision to confirm.
    decisions = [
        Decision(
            id=f"decision--{uuid.uuid4()}",
            campaign_id=cid,
            decision="attribute",
            actor_id=actor_id,
            reason=reason,
            confidence=confidence,
            decided_by=decider.decided_by,
            key_id=decider.key_id,
            created=created,
            model_version=None,
            model_score=None,
            model_rank=None,
            tlp=level.label,
        )
        for cid in campaign_ids
    ]
    intent = {
        "event": actor_id,
        "who": who,
        "action": "cluster.name",
        "target": actor_id,
        "origin": origin,
        "tlp": level,
        "detail": {
            "name": name,
            "campaigns": campaign_ids,
            "decisions": [d.id for d in decisions],
            "tlp": level.label,
        },
    }
    row = {**actor, "name_lc": name.lower(), "tlp_level": int(level)}
    _write_audited(
        store,
        log,
        [intent, *(d.audit_intent(who=who, origin=origin) for d in decisions)],
        [(CREATE_PROVISIONAL, [row]), *decision_statements(decisions)],
        level,
    )
    return actor, decisions


def merge_provisional(
    store: GraphStore,
    log: AuditLog,
    decider: Decider,
    *,
    actor_id: str,
    into: str,
    reason: str,
    confidence: int | None = None,
) -> list[Decision]:
    """Re-attribute a provisional actor's campaigns to ``into`` and mark it ``merged_into``.

    Only the campaigns the caller sees are re-attributed (one ``attribute`` decision each); the
    provisional node and every earlier decision stay.

    Returns:
        The new decisions.

    Raises:
        NotFound: either actor does not exist or is above the decider's clearance.
        ValidationError: ``actor_id`` is not provisional, is already merged or is marked below
            the decider's clearance (a merge is made at the provisional actor's own marking),
            ``into`` is the same actor or a merged one, or a bad reason.
    """
    level = TLP.parse(decider.max_tlp)
    reason = check_reason(reason)
    params: dict[str, Any] = {"max_tlp": int(level)}
    source = store.query(ACTOR, {**params, "actor": actor_id}, read_only=True)
    if not source:
        raise NotFound(f"no threat actor {actor_id!r}")
    if not source[0]["provisional"]:
        raise ValidationError(f"{actor_id!r} is not a provisional actor; only those are merged")
    if source[0]["merged_into"]:
        raise ValidationError(f"{actor_id!r} is already merged into {source[0]['merged_into']!r}")
    if source[0]["level"] != level:
        # The merge marks the provisional node, which every reader of its marking sees: made
        # from above that marking, it would tell them of a decision (and a target) they may not
        # see. From above, its campaigns are re-attributed one by one with `decide`.
        named = TLP(source[0]["level"]).label
        raise ValidationError(
            f"{actor_id!r} was named at TLP:{named.upper()}: merge it with a key of that "
            f"clearance, or attribute its campaigns at {level.label} with decide"
        )
    target = store.query(ACTOR, {**params, "actor": into}, read_only=True)
    if not target:
        raise NotFound(f"no threat actor {into!r}")
    if into == actor_id or target[0]["merged_into"]:
        raise ValidationError(f"cannot merge {actor_id!r} into {into!r}")
    campaigns = [
        r["id"]
        for r in store.query(ANALYST_CAMPAIGNS, {**params, "actor": actor_id}, read_only=True)
    ]
    who, origin = decider.audit_name, decider.origin
    event = f"merge--{uuid.uuid4()}"
    try:
        # Every decision is checked before anything is written, so a bad one changes nothing.
        decisions = [
            prepare_decision(
                store,
                decider,
                campaign_id=cid,
                decision="attribute",
                actor_id=into,
                reason=reason,
                confidence=confidence,
            )
            for cid in campaigns
        ]
    except ActorgraphError as exc:
        log.record(
            who=who,
            action="cluster.merge",
            target=actor_id,
            origin=origin,
            result=f"refused: {exc}",
            detail={"into": into, "campaigns": campaigns},
            tlp=level,
        )
        raise
    intent = {
        "event": event,
        "who": who,
        "action": "cluster.merge",
        "target": actor_id,
        "origin": origin,
        "tlp": level,
        "detail": {
            "into": into,
            "campaigns": campaigns,
            "decisions": [d.id for d in decisions],
            "tlp": level.label,
        },
    }
    row = {
        "actor": actor_id,
        "into": into,
        "merged_by": decider.decided_by,
        "merged_at": now_stamp(),
        "reason": reason,
        "event": event,
    }
    statements = decision_statements(decisions) if decisions else []
    _write_audited(
        store,
        log,
        [intent, *(d.audit_intent(who=who, origin=origin) for d in decisions)],
        [*statements, (MARK_MERGED, [row])],
        level,
    )
    return decisions


def names_exist(store: GraphStore, ids: list[str]) -> set[str]:
    """Which of these namings (provisional actor ids) are in the graph."""
    if not ids:
        return set()
    return {r["id"] for r in store.query(NAMED, {"ids": ids}, read_only=True)}


def merges_exist(store: GraphStore, ids: list[str]) -> set[str]:
    """Which of these merge events are in the graph."""
    if not ids:
        return set()
    return {r["id"] for r in store.query(MERGED, {"ids": ids}, read_only=True)}
