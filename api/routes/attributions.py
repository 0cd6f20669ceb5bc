"""Attribution of new activity to known actors (role ``analyst``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from actorgraph.api.deps import AnalystKey, StateDep
from actorgraph.api.models import Attribution, Persisted, SimpleActivity, StixBundle
from actorgraph.api.problems import Problem
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.attribution import with_skipped

router = APIRouter(prefix="/v1/attributions", tags=["attribution"], responses=AUTH_ERRORS)

_OPTIONS = {"top_k", "persist"}


def _activity(body: StixBundle | SimpleActivity) -> Any:
    from actorgraph.gnn.activity import activity_from_simple, activity_from_stix

    if isinstance(body, StixBundle):
        # The validated objects as they are: model_dump would copy every object once more
        # (same dict: exclude_none only ever dropped top-level extras).
        extra = {k: v for k, v in (body.model_extra or {}).items() if v is not None}
        return activity_from_stix(
            {**extra, "type": body.type, "id": body.id, "objects": body.objects}
        )
    return activity_from_simple(body.model_dump(exclude=_OPTIONS, exclude_none=True))


@router.post("", response_model=Attribution, responses={413: PROBLEM, 422: PROBLEM, 503: PROBLEM})
def attribute(
    body: Annotated[
        StixBundle | SimpleActivity, Body(description="a STIX 2.1 bundle, or simple JSON lists")
    ],
    key: AnalystKey,
    state: StateDep,
) -> Attribution:
    """Rank known actors for the activity, with calibrated scores, a country roll-up, an
    "unknown actor" score and the evidence paths, all within the key's TLP clearance: the
    model answering was trained only on data the key may see. ``persist: true`` stores the
    activity and its ``PREDICTED_ACTOR`` hypotheses, marked with the key's clearance."""
    attributor = state.model.for_clearance(key.tlp_level)
    if attributor is None:
        raise Problem(503, state.model.reason_for(key.tlp_level), slug="no-model")
    activity = _activity(body)
    result = with_skipped(
        attributor.attribute(activity, max_tlp=key.tlp_level, top_k=body.top_k), activity.skipped
    )
    persisted = None
    if body.persist:
        campaign = attributor.persist(activity, result, max_tlp=key.tlp_level)
        persisted = Persisted(campaign_id=campaign)
    best = result.candidates[0].score if result.candidates else None
    top = "candidate" if best is not None and best >= result.unknown else "unknown"
    state.metrics.attributions.inc(top, "yes" if body.persist else "no")
    return Attribution.of(result, persisted)
