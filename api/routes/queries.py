"""The researchers' query library (``cypher/queries``): list and run with validated parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from actorgraph.api.deps import ReaderKey, StateDep, StoreDep
from actorgraph.api.encode import json_safe
from actorgraph.api.models import (
    QueryParameterPublic,
    QueryRun,
    ResearchQueriesPublic,
    ResearchQueryPublic,
    Rows,
)
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.errors import NotFound
from actorgraph.graph.library.queries import ResearchQuery, load_library, run_query

router = APIRouter(prefix="/v1/queries", tags=["queries"], responses=AUTH_ERRORS)


def _public(q: ResearchQuery) -> ResearchQueryPublic:
    return ResearchQueryPublic(
        name=q.name,
        guid=str(q.guid),
        category=q.category,
        description=q.description,
        parameters=[
            QueryParameterPublic(
                name=p.name,
                type=p.type,
                description=p.description,
                example=p.example,
                default=p.default,
                required=p.required,
            )
            for p in q.parameters
        ],
        returns=list(q.returns),
        revision=q.revision,
        query=q.query,
    )


def _get(name: str) -> ResearchQuery:
    library = load_library()
    if name not in library:
        raise NotFound(f"no research query named {name!r}; GET /v1/queries lists them")
    return library[name]


@router.get("", response_model=ResearchQueriesPublic)
def list_queries(
    key: ReaderKey,
    category: Annotated[str | None, Query(max_length=100)] = None,
) -> ResearchQueriesPublic:
    """Every research query with its description and parameters, optionally one category."""
    data = [_public(q) for q in load_library().values() if category in (None, q.category)]
    return ResearchQueriesPublic(data=data, count=len(data))


@router.get("/{name}", response_model=ResearchQueryPublic, responses={404: PROBLEM})
def get_query(name: Annotated[str, Path(max_length=100)], key: ReaderKey) -> ResearchQueryPublic:
    """One research query."""
    return _public(_get(name))


@router.post("/{name}", response_model=Rows, responses={404: PROBLEM, 422: PROBLEM, 504: PROBLEM})
def run(
    name: Annotated[str, Path(max_length=100)],
    key: ReaderKey,
    store: StoreDep,
    state: StateDep,
    body: QueryRun | None = None,
) -> Rows:
    """Run a research query read-only; rows above the key's TLP clearance are never returned."""
    query = _get(name)
    cap = state.settings.cypher_row_cap
    rows = run_query(
        store,
        query,
        (body or QueryRun()).params,
        timeout_ms=state.settings.cypher_timeout_ms,
        row_cap=cap + 1,
        tlp_clearance=key.tlp_level,
    )
    return Rows(
        columns=list(query.returns),
        rows=json_safe(rows[:cap]),
        count=min(len(rows), cap),
        truncated=len(rows) > cap,
    )
