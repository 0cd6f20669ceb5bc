"""The audit log as a route dependency, how a request names its caller and origin, and the
decider of an analyst's request."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from actorgraph.api.deps import AnalystKey, StateDep
from actorgraph.api.keys import ApiKey
from actorgraph.graph.audit import AuditLog, audit_path
from actorgraph.graph.decisions import Decider


@lru_cache(maxsize=8)
def _open(path: Path) -> AuditLog:
    return AuditLog(path)


async def get_audit_log(state: StateDep) -> AuditLog:
    """The audit log of the server's data directory (opened once per process)."""
    return _open(audit_path(state.settings.home))


AuditDep = Annotated[AuditLog, Depends(get_audit_log)]


def who(key: ApiKey) -> str:
    """The audit log's name for an API caller: the key's name and id."""
    return f"key:{key.id} ({key.name})"


def origin(request: Request) -> str:
    """Where a request came from: the client address as the server saw it."""
    return request.client.host if request.client else "unknown"


async def get_decider(key: AnalystKey, request: Request) -> Decider:
    """The decider of an analyst's request: the key's name, id and clearance, and where the
    request came from (only ``analyst`` keys and above get this far)."""
    return Decider(
        decided_by=key.name,
        key_id=key.id,
        max_tlp=key.tlp_level,
        origin=origin(request),
        who=who(key),
    )


DeciderDep = Annotated[Decider, Depends(get_decider)]
