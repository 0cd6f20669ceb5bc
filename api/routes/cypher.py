"""Ad hoc read-only Cypher, for analysts whose key is cleared for everything (TLP red).

Arbitrary Cypher cannot be TLP-filtered reliably (a query can read any property of any
node), so it is refused to keys cleared below red. Writes are refused twice: by a keyword
scan (``graph.library.guard``) and by the engine's read-only path. A timeout and a row cap bound
what one query may cost.
"""

from __future__ import annotations

from fastapi import APIRouter

from actorgraph.api.deps import CypherKey, StateDep, StoreDep
from actorgraph.api.encode import json_safe
from actorgraph.api.models import CypherRequest, Rows
from actorgraph.api.routes import AUTH_ERRORS, PROBLEM
from actorgraph.graph.library.guard import run_guarded

router = APIRouter(prefix="/v1/cypher", tags=["cypher"], responses=AUTH_ERRORS)


@router.post("", response_model=Rows, responses={400: PROBLEM, 422: PROBLEM, 504: PROBLEM})
def run_cypher(body: CypherRequest, key: CypherKey, store: StoreDep, state: StateDep) -> Rows:
    """Run one read-only Cypher statement with parameters; at most the row cap is returned.

    The statement must end with ``RETURN`` (columns come back by name; give expressions an
    alias with ``AS``). It runs inside ``CALL { ... } RETURN * LIMIT cap + 1``, so the engine
    stops at the cap instead of building the whole result first."""
    cap = state.settings.cypher_row_cap
    rows, truncated = run_guarded(
        store, body.query, body.params, timeout_ms=state.settings.cypher_timeout_ms, row_cap=cap
    )
    columns = list(rows[0]) if rows else []
    return Rows(
        columns=columns,
        rows=json_safe(rows),
        count=len(rows),
        truncated=truncated,
    )
