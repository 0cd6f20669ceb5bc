"""One-page actor briefings (``GET /v1/actors/{id}/briefing``) as JSON, Markdown or HTML."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, PlainTextResponse

from actorgraph.api.deps import ReaderKey, StoreDep
from actorgraph.api.encode import json_safe
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.reports.briefing import build_briefing, render_html, render_markdown

router = APIRouter(prefix="/v1/actors", tags=["actors"], responses=AUTH_ERRORS)


@router.get(
    "/{actor_id}/briefing",
    responses={
        200: {"content": {"application/json": {}, "text/markdown": {}, "text/html": {}}},
        404: PROBLEM,
        422: PROBLEM,
    },
)
def briefing(
    actor_id: Annotated[
        str, Path(max_length=300, description="actor id, name, alias or ATT&CK id")
    ],
    key: ReaderKey,
    store: StoreDep,
    format: Annotated[str, Query(pattern="^(json|md|html)$")] = "json",
) -> Any:
    """A briefing for a non-specialist reader: who the actor is (aliases across vendors), assessed
    origin and how sure, recent campaigns and targets, signature malware and techniques by rarity,
    infrastructure habits, newest indicators worth blocking, and current model hypotheses. Only
    what the key is cleared for is used."""
    brief = build_briefing(store, actor_id, max_tlp=key.tlp_level)
    if format == "md":
        return PlainTextResponse(render_markdown(brief), media_type="text/markdown; charset=utf-8")
    if format == "html":
        return HTMLResponse(render_html(brief))
    return json_safe(brief.to_dict())
