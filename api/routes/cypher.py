"""Ad hoc read-only Cypher, for analysts whose key is cleared for everything (TLP red).

Arbitrary Cypher cannot be TLP-filtered reliably (a query can read any property of any
node), so it is refused to keys cleared below red. Writes are refused twice: by a keyword
scan (``graph.library.guard``) and by the engine's read-only path. A timeout and a row cap bound
what one query may cost, and the store's ad hoc slots how many run at once: the rest wait a
second, then get 503 with ``Retry-After``, so the API's other reads keep engine threads.
"""

from __future__ import annotations

import math

from fastapi import APIRouter

from actorgraph.api.deps import CypherKey, StateDep, StoreDep
from actorgraph.api.encode import json_safe
from actorgraph.api.models import CypherRequest, Rows
from actorgraph.api.problems import Problem
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.errors import StoreBusy
from actorgraph.graph.library.guard import run_guarded

router = APIRouter(prefix="/v1/cypher", tags=["cypher"], responses=AUTH_ERRORS)

SLOT_WAIT_S = 1.0
"""How long a request waits for an ad hoc slot before its 503."""


@router.post(
    "", response_model=Rows, responses={400: PROBLEM, 422: PROBLEM, 503: PROBLEM, 504: PROBLEM}
)
def run_cypher(body: CypherRequest, key: CypherKey, store: StoreDep, state: StateDep) -> Rows:
    """Run one read-only Cypher statement with parameters; at most the row cap is returned.

    The statement must end with ``RETURN`` (columns come back by name; give expressions an
    alias with ``AS``). It runs inside ``CALL { ... } RETURN * LIMIT cap + 1``, so the engine
    stops at the cap instead of building the whole result first. While every ad hoc slot is
    taken the answer is 503 with ``Retry-After``."""
    cap = state.settings.cypher_row_cap
    timeout_ms = state.settings.cypher_timeout_ms
    try:
        rows, truncated = run_guarded(
            store,
            body.query,
            body.params,
            timeout_ms=timeout_ms,
            row_cap=cap,
            slot_wait_s=SLOT_WAIT_S,
        )
    except StoreBusy as exc:
        # A slot frees up when a running query ends, at the latest at its timeout.
        retry = max(1, math.ceil(timeout_ms / 1000))
        raise Problem(503, str(exc), slug="busy", headers={"Retry-After": str(retry)}) from exc
    columns = list(rows[0]) if rows else []
    return Rows(
        columns=columns,
        rows=json_safe(rows),
        count=len(rows),
        truncated=truncated,
    )
