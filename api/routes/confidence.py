"""The confidence scales an analyst's 0-100 confidence reads on (any authenticated role).

Served so that clients (the console's Decide form) name the bands from ``graph/confidence.py``,
the one definition, instead of keeping a copy.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from actorgraph.api.deps import ReaderKey
from actorgraph.api.routes import AUTH_ERRORS
from actorgraph.graph.confidence import ADMIRALTY, ADMIRALTY_UNJUDGED, ICD203

router = APIRouter(prefix="/v1/confidence-scales", tags=["decisions"], responses=AUTH_ERRORS)


class ConfidenceBand(BaseModel):
    low: int = Field(description="the lowest STIX confidence of the band")
    high: int = Field(description="the highest STIX confidence of the band")
    name: str


class ConfidenceScalesPublic(BaseModel):
    """Each scale's bands over the STIX 0-100 confidence, highest band first (STIX 2.1,
    Appendix A)."""

    admiralty: list[ConfidenceBand] = Field(description="Admiralty credibility (A.4)")
    admiralty_unjudged: str = Field(description="the Admiralty grade of a missing confidence")
    icd203: list[ConfidenceBand] = Field(description="ICD 203 estimative language (A.5)")


def _bands(scale: tuple[tuple[int, str], ...]) -> list[ConfidenceBand]:
    highs = [100, *(low - 1 for low, _ in scale[:-1])]
    pairs = zip(scale, highs, strict=True)
    return [ConfidenceBand(low=low, high=high, name=name) for (low, name), high in pairs]


@router.get("", response_model=ConfidenceScalesPublic)
def confidence_scales(key: ReaderKey) -> ConfidenceScalesPublic:
    """The Admiralty and ICD 203 bands of the STIX 0-100 confidence scale."""
    return ConfidenceScalesPublic(
        admiralty=_bands(ADMIRALTY), admiralty_unjudged=ADMIRALTY_UNJUDGED, icd203=_bands(ICD203)
    )
