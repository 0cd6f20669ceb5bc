"""Threat actors: search by name or alias, and profiles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from actorgraph.api import reads
from actorgraph.api.deps import ReaderKey, StateDep, StoreDep
from actorgraph.api.models import ActorProfile, ActorPublic, ActorsPublic
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.errors import NotFound

router = APIRouter(prefix="/v1/actors", tags=["actors"], responses=AUTH_ERRORS)


@router.get("", response_model=ActorsPublic, responses={422: PROBLEM})
def search_actors(
    key: ReaderKey,
    store: StoreDep,
    state: StateDep,
    q: Annotated[str | None, Query(max_length=200, description="name, alias or ATT&CK id")] = None,
    country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166 alpha-2")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ActorsPublic:
    """Actors whose name or alias contains ``q``, optionally from one country, by name."""
    rows, total = reads.search_actors(
        store,
        q=q,
        country=country,
        max_tlp=key.tlp_level,
        limit=limit,
        offset=offset,
        timeout_ms=state.settings.cypher_timeout_ms,
    )
    data = [ActorPublic.model_validate(row) for row in rows]
    return ActorsPublic(data=data, count=total, limit=limit, offset=offset)


@router.get("/{actor_id}", response_model=ActorProfile, responses={404: PROBLEM})
def get_actor(
    actor_id: Annotated[str, Path(max_length=300)], key: ReaderKey, store: StoreDep, state: StateDep
) -> ActorProfile:
    """An actor's profile: aliases, country, campaigns, malware, tools, rarest techniques,
    infrastructure, recent indicators and sources."""
    profile = reads.actor_profile(
        store, actor_id, max_tlp=key.tlp_level, timeout_ms=state.settings.cypher_timeout_ms
    )
    if profile is None:
        raise NotFound(f"no actor {actor_id!r}")
    return ActorProfile(**profile)
