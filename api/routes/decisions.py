"""Analyst decisions on a campaign's attribution: ``analyst`` decides, ``reader`` reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from actorgraph.api.auditing import AuditDep, DeciderDep
from actorgraph.api.deps import ReaderKey, StoreDep
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.decisions import MAX_REASON, Decision, decide, decision_history

router = APIRouter(prefix="/v1/campaigns", tags=["decisions"], responses=AUTH_ERRORS)

CampaignId = Annotated[str, Path(max_length=300)]


class DecisionIn(BaseModel):
    """An analyst's decision: accept or reject the model's hypothesis (its top-ranked actor
    unless ``actor_id`` names another), or attribute the campaign to ``actor_id``."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "reject", "attribute"]
    actor_id: str | None = Field(None, max_length=300)
    reason: str = Field(min_length=1, max_length=MAX_REASON)
    confidence: int | None = Field(None, ge=0, le=100, description="STIX 0-100")


class ConfidenceScales(BaseModel):
    """The confidence on the STIX, Admiralty credibility and ICD 203 estimative scales."""

    stix: int | None
    admiralty: str
    icd203: str | None


# The fields of the graph's Decision record (one definition), and what an answer adds to them.
@dataclass(frozen=True, kw_only=True)
class DecisionPublic(Decision):
    """A recorded decision, with the hypothesis (model version, score, rank) it concerned."""

    actor_name: str | None = None
    confidence_scales: ConfidenceScales

    @classmethod
    def of(cls, row: dict[str, Any]) -> DecisionPublic:
        """The answer for a decision's plain data (``Decision.to_dict()``, a history row)."""
        return cls(**{**row, "confidence_scales": ConfidenceScales(**row["confidence_scales"])})


class DecisionsPublic(BaseModel):
    """A campaign's decisions, newest first: the first about an actor is the one in force."""

    data: list[DecisionPublic]
    count: int


@router.post(
    "/{campaign_id}/decisions",
    status_code=201,
    response_model=DecisionPublic,
    responses={404: PROBLEM, 422: PROBLEM},
)
def post_decision(
    campaign_id: CampaignId,
    body: DecisionIn,
    decider: DeciderDep,
    store: StoreDep,
    log: AuditDep,
) -> DecisionPublic:
    """Record a decision, marked with the key's clearance. ``accept`` and ``attribute`` make
    the campaign ``ATTRIBUTED_TO`` the actor with the decision's provenance (training learns
    from it); ``reject`` is kept as negative evidence. Nothing is deleted: a reversal is a new
    decision. A campaign or actor above the key's clearance is answered like a missing one."""
    decision = decide(
        store,
        log,
        decider,
        campaign_id=campaign_id,
        decision=body.decision,
        actor_id=body.actor_id,
        reason=body.reason,
        confidence=body.confidence,
    )
    return DecisionPublic.of(decision.to_dict())


@router.get("/{campaign_id}/decisions", response_model=DecisionsPublic, responses={404: PROBLEM})
def get_decisions(
    campaign_id: CampaignId,
    key: ReaderKey,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DecisionsPublic:
    """The campaign's decisions visible to the key, newest first."""
    rows = decision_history(store, campaign_id, max_tlp=key.tlp_level, limit=limit)
    return DecisionsPublic(data=[DecisionPublic.of(r) for r in rows], count=len(rows))
