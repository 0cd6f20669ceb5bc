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
from api.readonly import (
    ROW_CAP_PARAM,
    check_bounded,
    check_param_names,
    check_read_only,
    with_row_cap,
)
from api.routes import AUTH_ERRORS, PROBLEM
from graph.errors import QueryError, QueryTimeout, ValidationError

router = APIRouter(prefix="/v1/cypher", tags=["cypher"], responses=AUTH_ERRORS)


@router.post("", response_model=Rows, responses={400: PROBLEM, 422: PROBLEM, 504: PROBLEM})
def run_cypher(body: CypherRequest, key: CypherKey, store: StoreDep, state: StateDep) -> Rows:
    """Run one read-only Cypher statement with parameters; at most the row cap is returned.

    The statement must end with ``RETURN`` (columns come back by name; give expressions an
    alias with ``AS``). It runs inside ``CALL { ... } RETURN * LIMIT cap + 1``, so the engine
    stops at the cap instead of building the whole result first."""
    check_param_names(body.params)
    if ROW_CAP_PARAM in body.params:
        raise ValidationError(f"parameter name {ROW_CAP_PARAM!r} is reserved")
    check_read_only(body.query)
    check_bounded(body.query, body.params)
    cap = state.settings.cypher_row_cap
    try:
        rows = store.query(
            with_row_cap(body.query),
            {**body.params, ROW_CAP_PARAM: cap + 1},
            read_only=True,
            timeout_ms=state.settings.cypher_timeout_ms,
        )
    except QueryError as exc:
        if "RETURN *" in str(exc) and not isinstance(exc, QueryTimeout):
            raise ValidationError(
                "the query must end with RETURN (ad hoc Cypher returns rows)"
            ) from exc
        raise
    columns = list(rows[0]) if rows else []
    return Rows(
        columns=columns,
        rows=json_safe(rows[:cap]),
        count=min(len(rows), cap),
        truncated=len(rows) > cap,
    )
