"""Dependencies of the routes as ``Annotated`` aliases: the store, the caller's key, roles.

:func:`authenticate` is the one definition of API authentication. ``AuthenticateFirst``
(api/bodylimit.py) calls it on the headers of every ``/v1/`` request before any body is read
and leaves the key it found in the request scope under ``KEY_SCOPE``; :func:`get_current_key`
takes it from there (and calls :func:`authenticate` itself for an app without the middleware).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from actorgraph.api.keys import ApiKey, KeyStore
from actorgraph.api.problems import Problem
from actorgraph.api.state import AppState
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP

_bearer = HTTPBearer(auto_error=False, description="an API key from `actorgraph keys create`")


# Dependencies that only read attributes are ``async def``: FastAPI runs a plain ``def``
# dependency in the thread pool, one thread hand-off each per request. The key check stays
# ``def``: it reads SQLite, which must not block the event loop.
async def get_state(request: Request) -> AppState:
    """The app's state object."""
    return request.app.state.actorgraph


StateDep = Annotated[AppState, Depends(get_state)]


async def get_store(state: StateDep) -> GraphStore:
    """The graph store (instrumented for metrics)."""
    return state.store


StoreDep = Annotated[GraphStore, Depends(get_store)]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="actorgraph"'}

KEY_SCOPE = "actorgraph.key"
"""The ASGI scope entry where ``AuthenticateFirst`` leaves the key it checked."""


def authenticate(keys: KeyStore, scheme: str | None, token: str | None) -> ApiKey:
    """The live key of an ``Authorization: <scheme> <token>`` header (reads SQLite).

    Raises:
        Problem: 401 unless the scheme is Bearer and the token a live key (not missing,
            malformed, unknown or revoked).
    """
    if not scheme or not token or scheme.lower() != "bearer":
        raise Problem(
            401,
            "an API key is required: Authorization: Bearer <key>",
            slug="unauthenticated",
            headers=_CHALLENGE,
        )
    key = keys.authenticate(token)
    if key is None:
        raise Problem(
            401,
            "the API key is not valid (unknown or revoked)",
            slug="unauthenticated",
            headers=_CHALLENGE,
        )
    return key


def get_current_key(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    """The caller's live API key, after the rate limit.

    Raises:
        Problem: 401 without a valid key (missing, malformed, unknown or revoked), 429 over
            the key's rate limit.
    """
    key = request.scope.get(KEY_SCOPE)
    if not isinstance(key, ApiKey):
        scheme, token = (
            (credentials.scheme, credentials.credentials) if credentials else (None, None)
        )
        key = authenticate(state.keys, scheme, token)
    wait = state.limiter.acquire(key.id)
    if wait > 0:
        state.metrics.rate_limited.inc()
        raise Problem(
            429,
            f"rate limit of {int(state.limiter.capacity)} requests per minute "
            f"exceeded for key {key.id}",
            slug="rate-limited",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    return key


CurrentKey = Annotated[ApiKey, Depends(get_current_key)]


def require_role(role: str):
    """A dependency that lets only keys of ``role`` or a more privileged role through (else 403)."""

    async def check(key: CurrentKey) -> ApiKey:
        if not key.has_role(role):
            raise Problem(
                403,
                f"this needs the {role!r} role; key {key.id} has {key.role!r}",
                slug="forbidden",
            )
        return key

    return check


ReaderKey = Annotated[ApiKey, Depends(require_role("reader"))]
AnalystKey = Annotated[ApiKey, Depends(require_role("analyst"))]
IngestKey = Annotated[ApiKey, Depends(require_role("ingest"))]
AdminKey = Annotated[ApiKey, Depends(require_role("admin"))]


async def require_full_clearance(key: AnalystKey) -> ApiKey:
    """Ad hoc Cypher cannot be TLP-filtered reliably, so only keys cleared for red may run it."""
    if key.tlp_level < TLP.RED:
        raise Problem(
            403,
            f"ad hoc Cypher needs TLP clearance 'red'; key {key.id} is cleared for {key.tlp!r}",
            slug="clearance",
        )
    return key


CypherKey = Annotated[ApiKey, Depends(require_full_clearance)]
