"""STIX 2.1 export of a selection (``GET /v1/export``), capped at the caller's clearance."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from actorgraph.api.deps import AnalystKey, ReaderKey, StoreDep
from actorgraph.api.export_cache import exports
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.attribution import AttributionResult
from actorgraph.graph.reports.attribution_stix import attribution_to_stix
from actorgraph.graph.reports.export import export_bundle
from actorgraph.graph.tlp import TLP

router = APIRouter(prefix="/v1/export", tags=["share"], responses=AUTH_ERRORS)

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"


@router.get(
    "",
    responses={
        200: {"content": {STIX_MEDIA_TYPE: {}}, "description": "a STIX 2.1 bundle"},
        404: PROBLEM,
        422: PROBLEM,
    },
)
def export(
    key: ReaderKey,
    store: StoreDep,
    actor: Annotated[
        str | None,
        Query(
            max_length=300, description="actor id, name, alias or ATT&CK id; omit for everything"
        ),
    ] = None,
    since: Annotated[
        str | None,
        Query(max_length=40, description="campaigns and indicators active on or after (ISO date)"),
    ] = None,
    until: Annotated[
        str | None,
        Query(max_length=40, description="campaigns and indicators active on or before (ISO date)"),
    ] = None,
    max_tlp: Annotated[
        int | None,
        Query(ge=0, le=4, description="TLP ceiling 0..4; never above the key's clearance"),
    ] = None,
) -> Response:
    """A STIX 2.1 bundle of an actor (campaigns, malware, techniques, indicators and their
    infrastructure) or of the whole graph, narrowed to a time window. Original STIX ids and TLP
    markings are kept; nothing above the key's clearance (or a lower ``max_tlp``) is included.
    The answer is kept until the graph changes (api/export_cache.py): a repeat is the same
    bundle, id and timestamps included."""
    ceiling = key.tlp_level if max_tlp is None else min(max_tlp, key.tlp_level)

    def compute() -> bytes:
        bundle = export_bundle(store, actor=actor, since=since, until=until, max_tlp=ceiling)
        return json.dumps(bundle, ensure_ascii=False).encode("utf-8")

    # Keyed by the ceiling, never the key: keys of one clearance share what they may all see.
    body = exports.get(store, ("export", ceiling, actor, since, until), compute)
    return Response(body, media_type=STIX_MEDIA_TYPE)


@router.post(
    "/attribution",
    responses={
        200: {"content": {STIX_MEDIA_TYPE: {}}, "description": "a STIX 2.1 bundle"},
        422: PROBLEM,
    },
)
def export_attribution(
    key: AnalystKey,
    result: Annotated[AttributionResult, Body(description="one result of POST /v1/attributions")],
    activity: Annotated[
        dict[str, Any] | None, Body(description="the STIX bundle that was attributed")
    ] = None,
    top_k: Annotated[int, Query(ge=1, le=20)] = 3,
) -> Response:
    """An attribution result as STIX 2.1 for OpenCTI, MISP and partners: the activity as a campaign,
    each hypothesis as an ``attributed-to`` relationship (``confidence`` = calibrated probability in
    percent, model version and rank as ``x_actorgraph_*``), the evidence as a ``note``. Every
    object is marked at least the key's clearance, or the clearance the result states it was
    computed for (``model.clearance``) when that is stricter; an activity object keeps its own TLP
    marking when that is stricter still."""
    stated = TLP.parse(result.model.clearance) if result.model.clearance else TLP.CLEAR
    level = max(TLP.parse(key.tlp_level), stated)
    bundle = attribution_to_stix(result, activity, max_tlp=level, top_k=top_k)
    return Response(json.dumps(bundle, ensure_ascii=False), media_type=STIX_MEDIA_TYPE)
