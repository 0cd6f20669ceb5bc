"""Indicator pivots: what an indicator touches and the paths from it to actors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api import reads
from api.deps import ReaderKey, StateDep, StoreDep
from api.models import IndicatorPivot
from api.routes import AUTH_ERRORS, PROBLEM
from graph.errors import NotFound, ValidationError
from graph.indicators import KINDS, indicator_id, normalize_indicator

router = APIRouter(prefix="/v1/indicators", tags=["indicators"], responses=AUTH_ERRORS)


@router.get("/{value:path}", response_model=IndicatorPivot, responses={404: PROBLEM, 422: PROBLEM})
def pivot(
    value: Annotated[str, Path(min_length=1, max_length=2048, description="defanged values are accepted (hxxp, [.])")],
    key: ReaderKey,
    store: StoreDep,
    state: StateDep,
    kind: Annotated[str | None, Query(description=f"one of {', '.join(KINDS)}; guessed when absent")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> IndicatorPivot:
    """Pivot on one indicator (IP, domain, URL, hash, e-mail...). URLs must be percent-encoded."""
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"unknown indicator kind {kind!r}; known kinds: {', '.join(KINDS)}")
    norm_kind, norm_value = normalize_indicator(value, kind)
    pivot_ = reads.indicator_pivot(
        store, indicator_id(norm_kind, norm_value), max_tlp=key.tlp_level, limit=limit,
        timeout_ms=state.settings.cypher_timeout_ms,
    )
    if pivot_ is None:
        raise NotFound(f"no indicator {norm_kind}:{norm_value} (from {value!r})")
    return IndicatorPivot(query=value, kind=norm_kind, value=norm_value, **pivot_)
