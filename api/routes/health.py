"""Liveness, readiness and Prometheus metrics (no key needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from actorgraph.api.deps import StateDep
from actorgraph.api.models import Health
from actorgraph.graph.errors import ActorgraphError

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up and answering."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(state: StateDep) -> JSONResponse:
    """Ready to serve: the store answers and the attribution model is loaded (with the
    clearances its per-clearance models serve)."""
    checks: dict[str, dict[str, Any]] = {}
    ok = True
    try:
        health = state.store.health()
        checks["store"] = {"ok": True, **{k: health.get(k) for k in ("backend", "ping_ms")}}
    except ActorgraphError as exc:
        ok = False
        checks["store"] = {"ok": False, "error": str(exc)}
    model = state.model.get()
    if model is None:
        ok = False
        checks["model"] = {"ok": False, "error": state.model.reason}
    else:
        checks["model"] = {"ok": True, "version": getattr(model, "version", None)}
        # The clearances a model serves (one model per clearance): which levels hold data of
        # their own is not said, only which keys get an answer.
        served = getattr(model, "clearances", None)
        if served is not None:
            checks["model"]["clearances"] = served
        if state.model.reload_error:  # a newer version exists but could not be loaded
            checks["model"]["reload_error"] = state.model.reload_error
    body = Health(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(state: StateDep) -> PlainTextResponse:
    """Request counts and latencies, attribution counts and store latency (Prometheus text)."""
    return PlainTextResponse(
        state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
