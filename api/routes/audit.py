"""The audit log (role ``admin``)."""

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
    intent has no outcome)."""

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
    """The newest audit events. Decisions, namings and merges a crashed process left
    half-logged are settled from the graph first (older than five minutes, so that none still
    in flight is)."""
    reconcile(store, log)
    events = log.events(limit=limit, action=action)
    return AuditEvents(data=[AuditEvent(**e) for e in events], count=len(events))
