"""Campaigns: attribution claims, model hypotheses, what they used and targeted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from actorgraph.api import reads
from actorgraph.api.deps import ReaderKey, StateDep, StoreDep
from actorgraph.api.models import CampaignProfile
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.errors import NotFound

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"], responses=AUTH_ERRORS)


@router.get("/{campaign_id}", response_model=CampaignProfile, responses={404: PROBLEM})
def get_campaign(
    campaign_id: Annotated[str, Path(max_length=300)],
    key: ReaderKey,
    store: StoreDep,
    state: StateDep,
) -> CampaignProfile:
    """A campaign with its attributions beside the model's hypotheses."""
    profile = reads.campaign_profile(
        store, campaign_id, max_tlp=key.tlp_level, timeout_ms=state.settings.cypher_timeout_ms
    )
    if profile is None:
        raise NotFound(f"no campaign {campaign_id!r}")
    return CampaignProfile(**profile)
