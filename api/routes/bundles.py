"""Ingestion of STIX 2.1 bundles and MISP events through the API (role ``ingest``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from actorgraph.api.auditing import AuditDep, origin, who
from actorgraph.api.deps import IngestKey, StateDep, StoreDep
from actorgraph.api.keys import ApiKey
from actorgraph.api.models import IngestReport
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.audit import AuditLog
from actorgraph.graph.errors import IngestError, StixIngestError
from actorgraph.graph.ingest import ingest_object

router = APIRouter(prefix="/v1/bundles", tags=["ingest"], responses=AUTH_ERRORS)


@router.post("", response_model=IngestReport, responses={413: PROBLEM, 422: PROBLEM})
def ingest_bundle(
    key: IngestKey,
    store: StoreDep,
    state: StateDep,
    log: AuditDep,
    request: Request,
    bundle: Annotated[
        dict[str, Any] | list[dict[str, Any]],
        Body(description="a STIX 2.1 bundle or MISP event JSON"),
    ],
    source: Annotated[
        str | None, Query(max_length=200, description="provenance name (default: api:<key name>)")
    ] = None,
    fmt: Annotated[str, Query(pattern="^(auto|stix|misp)$")] = "auto",
) -> dict[str, Any]:
    """Validate the whole input, then write it; a refused input writes nothing (422 names the
    offending object and why). The key writes at its clearance: input marked above it is
    refused, and objects held above it are neither changed nor linked to, answered as if
    absent (docs/SECURITY.md, finding 2)."""
    try:
        _check_envelope(bundle)
        report = ingest_object(
            store,
            bundle,
            source or f"api:{key.name}",
            max_tlp=key.tlp_level,
            fmt=fmt,
            enrich=True,  # the same graph as `actorgraph ingest`
        )
    except IngestError as exc:
        state.metrics.ingested.inc("refused")
        _audit(log, key, request, bundle, f"refused: {exc}", source)
        raise
    state.metrics.ingested.inc("ok")
    out = report.to_dict()
    _audit(log, key, request, bundle, "ok", source)
    return out


def _audit(
    log: AuditLog,
    key: ApiKey,
    request: Request,
    bundle: dict[str, Any] | list[dict[str, Any]],
    result: str,
    source: str | None,
) -> None:
    target = bundle.get("id") if isinstance(bundle, dict) else None
    detail = {"source": source or f"api:{key.name}"}
    log.record(
        who=who(key),
        action="ingest",
        target=str(target)[:300] if target is not None else None,
        origin=origin(request),
        result=result,
        detail=detail,
        tlp=key.tlp_level,
    )


def _check_envelope(bundle: dict[str, Any] | list[dict[str, Any]]) -> None:
    # A STIX 2.1 bundle needs its own id (the reader is lenient about the envelope).
    if isinstance(bundle, dict) and bundle.get("type") == "bundle":
        bundle_id = bundle.get("id")
        if not isinstance(bundle_id, str) or not bundle_id.startswith("bundle--"):
            raise StixIngestError(str(bundle_id), "a STIX 2.1 bundle needs an id 'bundle--<uuid>'")
        if not isinstance(bundle.get("objects", []), list):
            raise StixIngestError(bundle_id, "'objects' must be a list")
