"""Attribution of new activity to known actors (role ``analyst``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from actorgraph.api.activity_input import activity_of
from actorgraph.api.deps import AnalystKey, StateDep
from actorgraph.api.models import ActivityBody, Attribution, Persisted
from actorgraph.api.problems import Problem
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.attribution import with_skipped

router = APIRouter(prefix="/v1/attributions", tags=["attribution"], responses=AUTH_ERRORS)


@router.post("", response_model=Attribution, responses={413: PROBLEM, 422: PROBLEM, 503: PROBLEM})
def attribute(
    body: Annotated[
        ActivityBody,
        Body(description="a STIX 2.1 bundle, a MISP event (wrapped or bare), or simple lists"),
    ],
    key: AnalystKey,
    state: StateDep,
) -> Attribution:
    """Rank known actors for the activity, with calibrated scores, a country roll-up, an
    "unknown actor" score and the evidence paths, all within the key's TLP clearance: the
    model answering was trained only on data the key may see. ``persist: true`` stores the
    activity, its new indicators and its ``PREDICTED_ACTOR`` hypotheses, marked with the key's
    clearance, dated by the input's objects (the time of the request when they carry no
    date)."""
    attributor = state.model.for_clearance(key.tlp_level)
    if attributor is None:
        raise Problem(503, state.model.reason_for(key.tlp_level), slug="no-model")
    activity = activity_of(body)
    result = with_skipped(
        attributor.attribute(activity, max_tlp=key.tlp_level, top_k=body.top_k), activity.skipped
    )
    persisted = None
    if body.persist:
        campaign = attributor.persist(activity, result, max_tlp=key.tlp_level, seen=activity.seen)
        persisted = Persisted(campaign_id=campaign)
    best = result.candidates[0].score if result.candidates else None
    top = "candidate" if best is not None and best >= result.unknown else "unknown"
    state.metrics.attributions.inc(top, "yes" if body.persist else "no")
    return Attribution.of(result, persisted)
