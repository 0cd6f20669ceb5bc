"""Analyst decisions on a campaign's attribution: accept or reject a model hypothesis, or
attribute the campaign to another actor.

Each decision is a ``(:Decision)-[:DECIDES]->(:Campaign)`` record that is never changed or
deleted; the newest decision about a (campaign, actor) pair wins. Its effect is kept beside it:

- ``accept`` / ``attribute``: the campaign gets ``ATTRIBUTED_TO {source: 'analyst'}`` to the
  actor, carrying the decision's provenance (who, when, why, confidence, and the model version
  and score of the ``PREDICTED_ACTOR`` hypothesis it confirmed). Training reads every
  ``ATTRIBUTED_TO`` edge as a label, so an accepted attribution teaches the next model.
  An analyst attribution replaces an earlier analyst attribution of the campaign to another
  actor (one analyst verdict per campaign; the earlier one stays as its ``Decision``).
- ``reject``: the decision itself is the negative evidence; an analyst ``ATTRIBUTED_TO`` edge
  to that actor made by an earlier decision is withdrawn (the record of it stays).

``Decision`` nodes are not model input (``gnn.dataset`` reads only the entity labels it knows).
Every decision is marked with the decider's clearance, and a decider sees, and may decide on,
only a campaign and an actor within it: a hidden one is reported exactly like a missing one.

Analyst verdicts are kept per marking: a decision replaces or withdraws only the analyst
attributions of its own marking. One of a lower marking stays as it was, because its readers
must not see the effect of a decision above their clearance (a verdict that vanished or changed
would tell them one exists); one of a higher marking is, to the decider, absent. A reader
cleared for both markings sees both verdicts, each with its own decision and provenance.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any, Literal

from actorgraph.graph import arrival
from actorgraph.graph.audit import AuditLog, now_stamp
from actorgraph.graph.confidence import check_confidence, describe
from actorgraph.graph.errors import ActorgraphError, NotFound, ValidationError
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, visible, visible_all

__all__ = [
    "DECISIONS",
    "Decider",
    "Decision",
    "apply_decision",
    "check_reason",
    "decide",
    "decision_history",
    "decision_statements",
    "decisions_exist",
    "prepare_decision",
]

DecisionKind = Literal["accept", "reject", "attribute"]
DECISIONS: tuple[str, ...] = ("accept", "reject", "attribute")
MAX_REASON = 2000
ANALYST_SOURCE = "analyst"

# A campaign may be decided on when no visible attribution claim other than an analyst's own
# exists: one that `persist` wrote (it has only hypotheses), or any unattributed one.
CAMPAIGN = f"""
MATCH (c:Campaign {{id: $campaign}})
WHERE {visible("c")}
OPTIONAL MATCH (c)-[t:ATTRIBUTED_TO]->(x:ThreatActor)
WHERE coalesce(t.source, '') <> '{ANALYST_SOURCE}' AND {visible_all("t", "x")}
RETURN c.id AS id, count(t) AS claims
"""

ACTOR_HYPOTHESIS = f"""
MATCH (a:ThreatActor {{id: $actor}})
WHERE {visible("a")}
OPTIONAL MATCH (:Campaign {{id: $campaign}})-[p:PREDICTED_ACTOR]->(a)
WHERE {visible("p")}
RETURN a.id AS id, p.score AS score, p.rank AS rank, p.model_version AS model_version
ORDER BY p.rank
LIMIT 1
"""

TOP_HYPOTHESIS = f"""
MATCH (:Campaign {{id: $campaign}})-[p:PREDICTED_ACTOR]->(a:ThreatActor)
WHERE {visible_all("p", "a")}
RETURN a.id AS id
ORDER BY p.rank
LIMIT 1
"""

RECORD_DECISION = """
UNWIND $rows AS row
MATCH (c:Campaign {id: row.campaign})
CREATE (d:Decision {id: row.id})-[r:DECIDES]->(c)
SET d.decision = row.decision, d.campaign_id = row.campaign, d.actor_id = row.actor,
    d.reason = row.reason, d.confidence = row.confidence, d.decided_by = row.decided_by,
    d.key_id = row.key_id, d.created = row.created, d.model_version = row.model_version,
    d.model_score = row.model_score, d.model_rank = row.model_rank, d.sources = ['analyst'],
    d.tlp = row.tlp, d.tlp_level = row.tlp_level, d.added = $added,
    r.created = row.created, r.tlp = row.tlp, r.tlp_level = row.tlp_level, r.added = $added
"""

# A rejection withdraws the analyst attribution to that actor; an acceptance, the analyst
# attributions to every other actor. Only edges of the decision's own marking are touched.
WITHDRAW_ANALYST_ATTRIBUTIONS = f"""
UNWIND $rows AS row
MATCH (c:Campaign {{id: row.campaign}})-[t:ATTRIBUTED_TO]->(a:ThreatActor)
WHERE t.source = '{ANALYST_SOURCE}' AND (row.decision = 'reject') = (a.id = row.actor)
      AND coalesce(t.tlp_level, 0) = row.tlp_level
DELETE t
"""

ATTRIBUTE = f"""
UNWIND $rows AS row
MATCH (c:Campaign {{id: row.campaign}})
MATCH (a:ThreatActor {{id: row.actor}})
WHERE row.decision <> 'reject'
MERGE (c)-[t:ATTRIBUTED_TO {{source: '{ANALYST_SOURCE}', tlp_level: row.tlp_level}}]->(a)
SET t.added = $added, t.decision = row.id, t.decided_by = row.decided_by, t.reason = row.reason,
    t.confidence = row.confidence, t.created = row.created, t.model_version = row.model_version,
    t.model_score = row.model_score, t.sources = ['analyst'], t.tlp = row.tlp,
    t.tlp_level = row.tlp_level
"""

HISTORY = f"""
MATCH (d:Decision)-[r:DECIDES]->(c:Campaign {{id: $campaign}})
WHERE {visible_all("d", "r", "c")}
MATCH (a:ThreatActor {{id: d.actor_id}})
WHERE {visible("a")}
RETURN d.id AS id, d.campaign_id AS campaign_id, d.decision AS decision,
       d.actor_id AS actor_id, a.name AS actor_name, d.reason AS reason,
       d.confidence AS confidence, d.decided_by AS decided_by, d.key_id AS key_id,
       d.created AS created, d.model_version AS model_version, d.model_score AS model_score,
       d.model_rank AS model_rank, d.tlp AS tlp
ORDER BY created DESC, id DESC
LIMIT $limit
"""

EXISTING = """
MATCH (d:Decision)
WHERE d.id IN $ids
RETURN d.id AS id
"""


@dataclass(frozen=True)
class Decider:
    """Who decides, with what clearance, and from where: built once by the caller (the command
    line, or the API from the request's key) for every function that decides.

    Attributes:
        decided_by: who decides, as the decision records it (the API key's name, or
            ``cli:<user>``).
        key_id: the API key's id (None from the command line).
        max_tlp: the decider's clearance: what it may see, and the marking of what it writes.
        origin: where the request came from (a client address, ``cli``).
        who: the decider's name in the audit log (None: ``decided_by``).
    """

    decided_by: str
    key_id: str | None
    max_tlp: int
    origin: str
    who: str | None = None

    @property
    def audit_name(self) -> str:
        """The decider's name in the audit log."""
        return self.who or self.decided_by


@dataclass(frozen=True, kw_only=True)
class Decision:
    """One analyst decision, as recorded.

    Attributes:
        model_version, model_score, model_rank: the ``PREDICTED_ACTOR`` hypothesis of the
            actor the decision confirms or rejects (None when the model made none).
        tlp: the decider's clearance, which marks the decision and its effect.
    """

    id: str
    campaign_id: str
    decision: str
    actor_id: str
    reason: str
    confidence: int | None
    decided_by: str
    key_id: str | None
    created: str
    model_version: str | None
    model_score: float | None
    model_rank: int | None
    tlp: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data, with the confidence on the Admiralty and ICD 203 scales."""
        return {**asdict(self), "confidence_scales": describe(self.confidence)}

    def audit_intent(self, *, who: str, origin: str) -> dict[str, Any]:
        """The audit log's intent record of this decision (``AuditLog.intents``)."""
        return {
            "event": self.id,
            "who": who,
            "action": "decision",
            "target": self.campaign_id,
            "origin": origin,
            "tlp": self.tlp,
            "detail": {
                "decision": self.decision,
                "actor_id": self.actor_id,
                "confidence": self.confidence,
                "tlp": self.tlp,
            },
        }


def check_reason(reason: str) -> str:
    """The reason, stripped.

    Raises:
        ValidationError: empty, or longer than ``MAX_REASON`` characters.
    """
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValidationError(f"reason must be 1 to {MAX_REASON} characters (got {len(reason)})")
    return reason


def prepare_decision(
    store: GraphStore,
    decider: Decider,
    *,
    campaign_id: str,
    decision: str,
    actor_id: str | None,
    reason: str,
    confidence: int | None,
    created: str | None = None,
) -> Decision:
    """Check a decision against the graph and fill in what it confirms; writes nothing.

    Args:
        store: the graph.
        decider: who decides; its ``max_tlp`` is what it may see, and the decision's marking.
        campaign_id: the campaign decided on.
        decision: ``accept``, ``reject`` or ``attribute``.
        actor_id: the actor; for ``accept`` and ``reject`` it defaults to the model's
            top-ranked hypothesis.
        reason: why, in the analyst's words (required).
        confidence: STIX 0-100, or None.
        created: the decision time (default: now).

    Returns:
        The decision to apply with :func:`apply_decision`.

    Raises:
        NotFound: the campaign or the actor does not exist or is above the decider's
            clearance.
        ValidationError: a bad field, a campaign already attributed by a source other than an
            analyst, an ``accept`` of an actor the model did not propose, or no actor to
            default to.
    """
    level = TLP.parse(decider.max_tlp)
    if decision not in DECISIONS:
        raise ValidationError(f"decision (got {decision!r}) must be one of {', '.join(DECISIONS)}")
    reason = check_reason(reason)
    confidence = check_confidence(confidence)
    params: dict[str, Any] = {"campaign": campaign_id, "max_tlp": int(level)}
    found = store.query(CAMPAIGN, params, read_only=True)
    if not found:
        raise NotFound(f"no campaign {campaign_id!r}")
    if found[0]["claims"]:
        raise ValidationError(
            f"campaign {campaign_id!r} is attributed by a source; analysts decide on campaigns "
            "with model hypotheses or without attribution"
        )
    if actor_id is None:
        if decision == "attribute":
            raise ValidationError("attribute needs an actor_id")
        top = store.query(TOP_HYPOTHESIS, params, read_only=True)
        if not top:
            raise ValidationError(
                f"campaign {campaign_id!r} has no model hypothesis to {decision}; name the actor"
            )
        actor_id = str(top[0]["id"])
    rows = store.query(ACTOR_HYPOTHESIS, {**params, "actor": actor_id}, read_only=True)
    if not rows:
        raise NotFound(f"no threat actor {actor_id!r}")
    hypothesis = rows[0]
    if decision == "accept" and hypothesis["rank"] is None:
        raise ValidationError(
            f"the model did not propose {actor_id!r} for {campaign_id!r}: use attribute"
        )
    return Decision(
        id=f"decision--{uuid.uuid4()}",
        campaign_id=campaign_id,
        decision=decision,
        actor_id=actor_id,
        reason=reason,
        confidence=confidence,
        decided_by=decider.decided_by,
        key_id=decider.key_id,
        created=created or now_stamp(),
        model_version=hypothesis["model_version"],
        model_score=hypothesis["score"],
        model_rank=hypothesis["rank"],
        tlp=level.label,
    )


def decision_statements(decisions: list[Decision]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The ``store.write_atomic`` statements that record decisions and their effects, for a
    caller that writes them in one unit with its own (naming or merging a cluster).

    Every decision must be about a different campaign and carry the same marking: the unit runs
    under one ``max_tlp`` (the decisions' ``tlp``) and one ``added`` (``arrival.AT_WRITE``: the
    decision and the analyst attribution it writes, a new version of that relationship, are
    stamped with the write's time, graph/arrival.py)."""
    rows = [
        {
            **asdict(d),
            "campaign": d.campaign_id,
            "actor": d.actor_id,
            "tlp_level": int(TLP.parse(d.tlp)),
        }
        for d in decisions
    ]
    return [(RECORD_DECISION, rows), (WITHDRAW_ANALYST_ATTRIBUTIONS, rows), (ATTRIBUTE, rows)]


def apply_decision(store: GraphStore, decision: Decision) -> None:
    """Write the decision and its effect on the campaign's attribution as one atomic unit."""
    store.write_atomic(
        decision_statements([decision]),
        max_tlp=int(TLP.parse(decision.tlp)),
        added=arrival.AT_WRITE,
    )


def decision_history(
    store: GraphStore, campaign_id: str, *, max_tlp: int, limit: int = 100
) -> list[dict[str, Any]]:
    """The campaign's decisions visible at ``max_tlp``, newest first (the first one about an
    actor is the one in force).

    Raises:
        NotFound: the campaign does not exist or is above ``max_tlp``.
    """
    params = {"campaign": campaign_id, "max_tlp": int(TLP.parse(max_tlp))}
    if not store.query(CAMPAIGN, params, read_only=True):
        raise NotFound(f"no campaign {campaign_id!r}")
    rows = store.query(HISTORY, {**params, "limit": limit}, read_only=True)
    return [{**r, "confidence_scales": describe(r["confidence"])} for r in rows]


def decisions_exist(store: GraphStore, ids: list[str]) -> set[str]:
    """Which of these decision ids are in the graph (the audit log's reconciliation)."""
    if not ids:
        return set()
    return {r["id"] for r in store.query(EXISTING, {"ids": ids}, read_only=True)}


def decide(
    store: GraphStore,
    log: AuditLog,
    decider: Decider,
    *,
    campaign_id: str,
    decision: str,
    actor_id: str | None,
    reason: str,
    confidence: int | None,
    created: str | None = None,
) -> Decision:
    """Check, audit and apply one decision: the audit intent is appended before the graph
    changes and the outcome after (see ``graph.audit``); a refused decision is logged too.

    Args:
        store: the graph.
        log: the audit log.
        decider: who decides, cleared for what, and from where.
        campaign_id, decision, actor_id, reason, confidence, created: as
            :func:`prepare_decision`.

    Raises:
        NotFound, ValidationError: as :func:`prepare_decision`; the attempt is logged.
    """
    who, origin = decider.audit_name, decider.origin
    try:
        made = prepare_decision(
            store,
            decider,
            campaign_id=campaign_id,
            decision=decision,
            actor_id=actor_id,
            reason=reason,
            confidence=confidence,
            created=created,
        )
    except ActorgraphError as exc:
        log.record(
            who=who,
            action="decision",
            target=campaign_id,
            origin=origin,
            result=f"refused: {exc}",
            detail={"decision": decision, "actor_id": actor_id},
            tlp=decider.max_tlp,
        )
        raise
    log.intents([made.audit_intent(who=who, origin=origin)])
    try:
        apply_decision(store, made)
    except Exception as exc:
        log.outcome(made.id, f"error: {exc}")
        raise
    log.outcome(made.id, "ok")
    return made
