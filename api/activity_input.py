"""An attribution request's activity as the model reads it (with when it was seen,
``Activity.seen``).

The body is a STIX bundle, a MISP event or the simple lists (``api.models.activity_format``
tells them apart); each is read by the parser ``actorgraph attribute`` reads files with
(``actorgraph.gnn.activity``), so the API and the CLI attribute the same input alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actorgraph.api.models import MispEvent, SimpleActivity, StixBundle

if TYPE_CHECKING:
    from actorgraph.gnn.activity import Activity

__all__ = ["activity_of"]

_OPTIONS = {"top_k", "persist"}


def activity_of(body: StixBundle | MispEvent | SimpleActivity) -> Activity:
    """The activity of a request body (its ``seen`` None when the input gives no date: the
    simple lists never do).

    Raises:
        IngestError / StixIngestError / InvalidIndicator / ValidationError: as the readers.
    """
    from actorgraph.gnn.activity import activity_from_misp, activity_from_simple, activity_from_stix

    if isinstance(body, StixBundle):
        # The validated objects as they are: model_dump would copy every object once more.
        extra = {k: v for k, v in (body.model_extra or {}).items() if v is not None}
        bundle = {**extra, "type": body.type, "id": body.id, "objects": body.objects}
        activity = activity_from_stix(bundle)
    elif isinstance(body, MispEvent):
        activity = activity_from_misp(body.event(), name="misp")
    else:
        activity = activity_from_simple(body.model_dump(exclude=_OPTIONS, exclude_none=True))
    return activity
