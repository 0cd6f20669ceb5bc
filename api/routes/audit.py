"""The audit log (role ``admin``), as far as the key's clearance reaches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from actorgraph.api.auditing import AuditDep
from actorgraph.api.deps import AdminKey, StoreDep
from actorgraph.api.routes import AUTH_ERRORS
from actorgraph.graph.audit import AuditAction
from actorgraph.graph.reconcile import reconcile

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=AUTH_ERRORS)


class AuditEvent(BaseModel):
    """One audited action: who, what, when, from where, and its result (``pending`` while an
    intent has no outcome); ``tlp`` is the marking of what it reveals."""

    event: str
    at: str
    who: str
    action: str
    target: str | None
    origin: str | None
    result: str
    finished: str | None
    detail: dict[str, Any] | None
    outcome: dict[str, Any] | None
    tlp: str


class AuditEvents(BaseModel):
    """Audit events, newest first."""

    data: list[AuditEvent]
    count: int


@router.get("", response_model=AuditEvents)
def get_audit(
    key: AdminKey,
    store: StoreDep,
    log: AuditDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    action: Annotated[AuditAction | None, Query()] = None,
) -> AuditEvents:
    """The newest audit events marked at or below the key's clearance: an event about what the
    key may not see (a red campaign's decision, a red cluster's name) is left out, and so is one
    logged before events were marked, which reads as red. Decisions, namings and merges a
    crashed process left half-logged are settled from the graph first (older than five minutes,
    so that none still in flight is)."""
    reconcile(store, log)
    events = log.events(limit=limit, action=action, max_tlp=key.tlp_level)
    return AuditEvents(data=[AuditEvent(**e) for e in events], count=len(events))
