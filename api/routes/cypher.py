"""Ad hoc read-only Cypher, for analysts whose key is cleared for everything (TLP red).

Arbitrary Cypher cannot be TLP-filtered reliably (a query can read any property of any
node), so it is refused to keys cleared below red. Writes are refused twice: by a keyword
scan (``api.readonly``) and by the engine's read-only path. A timeout and a row cap bound
what one query may cost.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CypherKey, StateDep, StoreDep
from api.encode import json_safe
from api.models import CypherRequest, Rows
from api.readonly import check_bounded, check_param_names, check_read_only
from api.routes import AUTH_ERRORS, PROBLEM

router = APIRouter(prefix="/v1/cypher", tags=["cypher"], responses=AUTH_ERRORS)


@router.post("", response_model=Rows, responses={400: PROBLEM, 422: PROBLEM, 504: PROBLEM})
def run_cypher(body: CypherRequest, key: CypherKey, store: StoreDep, state: StateDep) -> Rows:
    """Run one read-only Cypher statement with parameters; at most the row cap is returned."""
    check_param_names(body.params)
    check_read_only(body.query)
    check_bounded(body.query, body.params)
    rows = store.query(
        body.query, body.params, read_only=True, timeout_ms=state.settings.cypher_timeout_ms
    )
    cap = state.settings.cypher_row_cap
    columns = list(rows[0]) if rows else []
    return Rows(
        columns=columns,
        rows=json_safe(rows[:cap]),
        count=min(len(rows), cap),
        truncated=len(rows) > cap,
    )
