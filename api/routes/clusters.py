"""Clusters of unattributed activity (``reader``), and naming or merging them (``analyst``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from actorgraph.api.auditing import AuditDep, DeciderDep
from actorgraph.api.deps import ReaderKey, StoreDep
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.api.routes.decisions import DecisionPublic
from actorgraph.graph.clusters import ClusterConfig, find_clusters
from actorgraph.graph.decisions import MAX_REASON
from actorgraph.graph.provisional import MAX_CAMPAIGNS, merge_provisional, name_cluster

router = APIRouter(prefix="/v1/clusters", tags=["clusters"], responses=AUTH_ERRORS)


class ClusterPublic(BaseModel):
    """A proposed cluster: its campaigns, the evidence they share, the nearest known actors."""

    size: int
    first_seen: str | None
    last_seen: str | None
    campaigns: list[dict[str, Any]]
    shared: list[dict[str, Any]]
    nearest_actors: list[dict[str, Any]]


class ClustersPublic(BaseModel):
    """The clusters, largest first, and how many unexplained campaigns were considered."""

    data: list[ClusterPublic]
    count: int
    considered: int


class ClusterNameIn(BaseModel):
    """Name a cluster: a provisional actor its campaigns are attributed to."""

    model_config = ConfigDict(extra="forbid")

    campaigns: list[Annotated[str, Field(max_length=300)]] = Field(
        min_length=1, max_length=MAX_CAMPAIGNS
    )
    name: str = Field(min_length=1, max_length=200, description="such as UNC-2026-001")
    reason: str = Field(min_length=1, max_length=MAX_REASON)
    confidence: int | None = Field(None, ge=0, le=100, description="STIX 0-100")


class ProvisionalActorPublic(BaseModel):
    """A provisional actor with its provenance."""

    id: str
    name: str
    provisional: bool
    created: str
    created_by: str
    key_id: str | None
    reason: str
    tlp: str


class ClusterNamedPublic(BaseModel):
    """The provisional actor and the decisions that attribute the campaigns to it."""

    actor: ProvisionalActorPublic
    decisions: list[DecisionPublic]


class MergeIn(BaseModel):
    """Merge a provisional actor into a known one."""

    model_config = ConfigDict(extra="forbid")

    into: str = Field(min_length=1, max_length=300)
    reason: str = Field(min_length=1, max_length=MAX_REASON)
    confidence: int | None = Field(None, ge=0, le=100, description="STIX 0-100")


class MergedPublic(BaseModel):
    """The decisions that re-attributed the provisional actor's campaigns."""

    merged_into: str
    decisions: list[DecisionPublic]


@router.get("", response_model=ClustersPublic, responses={422: PROBLEM})
def get_clusters(
    key: ReaderKey,
    store: StoreDep,
    threshold: Annotated[float, Query(ge=0, le=1)] = 0.5,
    min_size: Annotated[int, Query(ge=1, le=1000)] = 2,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0,
) -> ClustersPublic:
    """Unattributed campaigns whose best model hypothesis scores below ``threshold``, grouped
    by shared rare evidence (Louvain communities). Built only from what the key may see."""
    config = ClusterConfig(threshold=threshold, min_size=min_size, seed=seed)
    clusters, considered = find_clusters(store, max_tlp=key.tlp_level, config=config)
    return ClustersPublic(
        data=[ClusterPublic(**c.to_dict()) for c in clusters],
        count=len(clusters),
        considered=considered,
    )


@router.post(
    "",
    status_code=201,
    response_model=ClusterNamedPublic,
    responses={404: PROBLEM, 422: PROBLEM},
)
def post_cluster_name(
    body: ClusterNameIn, decider: DeciderDep, store: StoreDep, log: AuditDep
) -> ClusterNamedPublic:
    """Create a provisional actor (``provisional: true``, with the key, time and reason) and
    attribute each campaign to it as an analyst decision, marked with the key's clearance."""
    actor, decisions = name_cluster(
        store,
        log,
        decider,
        campaign_ids=body.campaigns,
        name=body.name,
        reason=body.reason,
        confidence=body.confidence,
    )
    return ClusterNamedPublic(
        actor=ProvisionalActorPublic(**actor),
        decisions=[DecisionPublic.of(d.to_dict()) for d in decisions],
    )


@router.post(
    "/{actor_id}/merge",
    status_code=201,
    response_model=MergedPublic,
    responses={404: PROBLEM, 422: PROBLEM},
)
def post_merge(
    actor_id: Annotated[str, Path(max_length=300)],
    body: MergeIn,
    decider: DeciderDep,
    store: StoreDep,
    log: AuditDep,
) -> MergedPublic:
    """Re-attribute a provisional actor's campaigns to ``into`` through new decisions and mark
    it ``merged_into``; the provisional actor and its decisions stay."""
    decisions = merge_provisional(
        store,
        log,
        decider,
        actor_id=actor_id,
        into=body.into,
        reason=body.reason,
        confidence=body.confidence,
    )
    return MergedPublic(
        merged_into=body.into, decisions=[DecisionPublic.of(d.to_dict()) for d in decisions]
    )
