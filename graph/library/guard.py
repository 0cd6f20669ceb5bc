"""The guards on ad hoc Cypher (`actorgraph cypher`, `POST /v1/cypher`): read-only, bounded, capped.

The first of two guards is a keyword scan that refuses anything but reads.

The second guard is the engine: ad hoc Cypher always runs through
``store.query(..., read_only=True)`` (FalkorDB ``GRAPH.RO_QUERY``, a Neo4j read transaction),
which refuses writes whatever the text looks like. The scan exists so that obvious writes,
procedure calls, file access and other graphs are refused with a clear message before they
reach the engine, and so that a backend whose read-only path is weaker stays safe.

The scan reads the text through the one Cypher lexer (``actorgraph.graph.lexer``), which also
decides what counts as a write: ``WHERE n.name = 'CREATE'`` is allowed while ``CREATE (n)`` is
not. The ``range()`` bound check runs here and again in every store, in front of its engine.
"""

from __future__ import annotations

import re
from typing import Any

from actorgraph.graph.errors import QueryError, QueryTimeout, ReadOnlyViolation, ValidationError
from actorgraph.graph.lexer import (
    READ_PROCEDURES,
    check_bounded,
    find_write,
    strip_literals,
    unterminated,
)
from actorgraph.graph.store import GraphStore

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def check_read_only(cypher: str) -> None:
    """Refuse Cypher that could write, administer, call procedures or reach outside the graph.

    Raises:
        ReadOnlyViolation: naming the first offending keyword or procedure.
    """
    if ";" in strip_literals(cypher):
        raise ReadOnlyViolation("only one statement is allowed (found ';')", cypher)
    write = find_write(cypher)
    if write is None:
        return
    if write.kind == "namespace":
        message = f"{write.name!r} commands and functions are not allowed in read-only Cypher"
    elif write.kind == "keyword":
        message = f"{write.name!r} is not allowed: ad hoc Cypher is read-only"
    else:
        message = (
            f"CALL {write.name} is not allowed: only read procedures "
            f"({', '.join(sorted(READ_PROCEDURES))}) may be called"
        )
    raise ReadOnlyViolation(message, cypher)


def check_param_names(params: dict[str, object], where: str = "parameter") -> None:
    """Refuse parameter names (and nested map keys) that are not plain identifiers.

    Values travel as parameters, but some clients write names into the query header;
    plain identifiers keep that channel closed.

    Raises:
        ValidationError: a name is not an identifier.
    """
    for name, value in params.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValidationError(f"{where} name {name!r} is not a plain identifier")
        _check_nested(value, where)


def _check_nested(value: object, where: str) -> None:
    if isinstance(value, dict):
        check_param_names(value, f"{where} map key")
    elif isinstance(value, list):
        for item in value:
            _check_nested(item, where)


ROW_CAP_PARAM = "actorgraph_row_cap"
_CAPPED = "CALL {{\n{query}\n}}\nRETURN * LIMIT ${param}"


def with_row_cap(cypher: str) -> str:
    """Wrap a read query so that the engine stops after ``$actorgraph_row_cap`` rows.

    Cutting rows after the store returned them all lets one query build millions of rows
    (and gigabytes) first. ``CALL { <query> } RETURN * LIMIT $cap`` makes the engine stop
    early. The columns come back under their own names (``RETURN *`` orders them by name).

    Raises:
        ValidationError: the text could close the wrapper early (unbalanced braces, an
            unterminated string, name or comment).
    """
    if (token := unterminated(cypher)) is not None:
        raise ValidationError(f"unterminated string, name or comment: {token[:40]!r}")
    depth = 0
    for ch in strip_literals(cypher):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            raise ValidationError("unbalanced '}' in the query")
    if depth:
        raise ValidationError("unbalanced '{' in the query")
    return _CAPPED.format(query=cypher, param=ROW_CAP_PARAM)


def run_guarded(
    store: GraphStore,
    cypher: str,
    params: dict[str, Any] | None = None,
    *,
    timeout_ms: int,
    row_cap: int,
) -> tuple[list[dict[str, Any]], bool]:
    """Run researcher-written Cypher read-only, bounded in time and rows.

    Every check of this module, then ``store.query(read_only=True)`` with the engine-side cap.

    Returns:
        (at most ``row_cap`` rows, whether more rows existed).

    Raises:
        ReadOnlyViolation: the text writes, calls a procedure, or reaches outside the graph.
        ValidationError: bad parameter names, an unbounded ``range()``, no final ``RETURN``.
        QueryTimeout: the engine cut the query off.
    """
    params = dict(params or {})
    check_param_names(params)
    if ROW_CAP_PARAM in params:
        raise ValidationError(f"parameter name {ROW_CAP_PARAM!r} is reserved")
    check_read_only(cypher)
    check_bounded(cypher, params)
    try:
        rows = store.query(
            with_row_cap(cypher),
            {**params, ROW_CAP_PARAM: row_cap + 1},
            read_only=True,
            timeout_ms=timeout_ms,
        )
    except QueryError as exc:
        if "RETURN *" in str(exc) and not isinstance(exc, QueryTimeout):
            raise ValidationError(
                "the query must end with RETURN (ad hoc Cypher returns rows)"
            ) from exc
        raise
    return rows[:row_cap], len(rows) > row_cap
