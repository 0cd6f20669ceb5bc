"""An attribution request's activity as the model reads it, and when that activity was seen.

The body is a STIX bundle, a MISP event or the simple lists (``api.models.activity_format``
tells them apart). A MISP event is turned into a STIX bundle by
``actorgraph.graph.formats.misp.convert_misp_event`` (misp-stix); the attributes it refuses
are listed in the activity's ``skipped``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from actorgraph.api.models import MispEvent, SimpleActivity, StixBundle
from actorgraph.graph.formats.provenance import iso

if TYPE_CHECKING:
    from actorgraph.gnn.activity import Activity

__all__ = ["Seen", "activity_of", "seen"]

Seen = tuple[str, str] | None  # (first seen, last seen)

_OPTIONS = {"top_k", "persist"}
# When the activity ran: its campaign's first and last seen when the input has a dated campaign
# (MISP events are read as one), else the span of its observations. Not the dates of
# infrastructure (its life, not the activity's), reports (when it was written up), markings or
# identities.
_OBSERVED = {"indicator", "observed-data", "sighting"}
_CAMPAIGN_DATES: tuple[str, ...] = ("first_seen", "last_seen")
_OBSERVED_DATES: tuple[str, ...] = (
    *_CAMPAIGN_DATES,
    "first_observed",
    "last_observed",
    "valid_from",
    "created",
)


def activity_of(body: StixBundle | MispEvent | SimpleActivity) -> tuple[Activity, Seen]:
    """The activity of a request body, and when it was first and last seen (None when the input
    gives no date: the simple lists never do).

    Raises:
        IngestError / StixIngestError / InvalidIndicator / ValidationError: as the readers.
    """
    from actorgraph.gnn.activity import activity_from_simple, activity_from_stix

    if isinstance(body, StixBundle):
        # The validated objects as they are: model_dump would copy every object once more.
        extra = {k: v for k, v in (body.model_extra or {}).items() if v is not None}
        bundle = {**extra, "type": body.type, "id": body.id, "objects": body.objects}
        return activity_from_stix(bundle), seen(body.objects)
    if isinstance(body, MispEvent):
        return _misp(body.event())
    return activity_from_simple(body.model_dump(exclude=_OPTIONS, exclude_none=True)), None


def _misp(event: dict[str, Any]) -> tuple[Activity, Seen]:
    from actorgraph.gnn.activity import activity_from_stix
    from actorgraph.graph.formats.misp import convert_misp_event

    bundle, refused = convert_misp_event(event)
    activity = activity_from_stix(bundle, name="misp")
    activity.skipped[:0] = refused  # pymisp's refusals, listed like the STIX reader's
    return activity, seen(bundle.get("objects") or [])


def seen(objects: Iterable[dict[str, Any]]) -> Seen:
    """When the activity was first and last seen, as canonical ISO-8601 times, from its STIX
    objects or ingest rows (a row without ``type`` is a campaign); None when nothing is dated."""
    objects = list(objects)
    campaigns = [
        o
        for o in objects
        if o.get("type", "campaign") == "campaign" and (o.get("first_seen") or o.get("last_seen"))
    ]
    dated = [(o, _CAMPAIGN_DATES) for o in campaigns] or [
        (o, _OBSERVED_DATES) for o in objects if o.get("type") in _OBSERVED
    ]
    times = [t for obj, keys in dated for t in (iso(obj.get(k)) for k in keys) if t]
    return (min(times), max(times)) if times else None
