"""Indicator pivots: what an indicator touches and the paths from it to actors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from actorgraph.api import reads
from actorgraph.api.deps import ReaderKey, StateDep, StoreDep
from actorgraph.api.models import IndicatorPivot
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.errors import NotFound, ValidationError
from actorgraph.graph.formats.indicators import KINDS, indicator_id, normalize_indicator

# Kinds whose values are spelled alike, so a value alone cannot tell them apart.
_SAME_SPELLING = {"sha256": ("x509",), "sha1": ("x509",), "md5": ("x509",)}

router = APIRouter(prefix="/v1/indicators", tags=["indicators"], responses=AUTH_ERRORS)


@router.get("/{value:path}", response_model=IndicatorPivot, responses={404: PROBLEM, 422: PROBLEM})
def pivot(
    value: Annotated[
        str,
        Path(min_length=1, max_length=2048, description="defanged values are accepted (hxxp, [.])"),
    ],
    key: ReaderKey,
    store: StoreDep,
    state: StateDep,
    kind: Annotated[
        str | None, Query(description=f"one of {', '.join(KINDS)}; guessed when absent")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> IndicatorPivot:
    """Pivot on one indicator (IP, domain, URL, hash, e-mail...). URLs must be percent-encoded."""
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"unknown indicator kind {kind!r}; known kinds: {', '.join(KINDS)}")
    norm_kind, norm_value = normalize_indicator(value, kind)
    # A bare hex string could be a file hash or a certificate fingerprint: try both.
    kinds = [norm_kind, *(_SAME_SPELLING.get(norm_kind, ()) if kind is None else ())]
    for candidate in kinds:
        candidate_value = (
            norm_value if candidate == norm_kind else normalize_indicator(value, candidate)[1]
        )
        pivot_ = reads.indicator_pivot(
            store,
            indicator_id(candidate, candidate_value),
            max_tlp=key.tlp_level,
            limit=limit,
            timeout_ms=state.settings.cypher_timeout_ms,
        )
        if pivot_ is not None:
            return IndicatorPivot(query=value, kind=candidate, value=candidate_value, **pivot_)
    raise NotFound(
        f"no indicator {' or '.join(f'{k}:{norm_value}' for k in kinds)} (from {value!r})"
    )
