"""The guards on ad hoc Cypher (`actorgraph cypher`, `POST /v1/cypher`): read-only, bounded, capped.

The first of two guards is a keyword scan that refuses anything but reads, anything the
engine could not stop at its timeout (see ``check_interruptible``), queries longer than
``MAX_QUERY_CHARS``, and constants that the rows would repeat past ``MAX_RESULT_BYTES`` (see
``check_result_size``).

The second guard is the engine: ad hoc Cypher always runs through
``store.query(..., read_only=True)`` (FalkorDB ``GRAPH.RO_QUERY``, a Neo4j read transaction),
which refuses writes whatever the text looks like. The scan exists so that obvious writes,
procedure calls, file access and other graphs are refused with a clear message before they
reach the engine, and so that a backend whose read-only path is weaker stays safe.

The scan reads the text through the one Cypher lexer (``actorgraph.graph.lexer``), which also
decides what counts as a write: ``WHERE n.name = 'CREATE'`` is allowed while ``CREATE (n)`` is
not. The ``range()`` bound check runs here and again in every store, in front of its engine.

Every ad hoc query also holds one of the store's ad hoc slots while it runs
(``GraphStore.adhoc_slot``): the engine has more threads than slots, so however long ad hoc
queries run, the API's own reads keep a thread.
"""

from __future__ import annotations

import re
from typing import Any

from actorgraph.graph.errors import QueryError, QueryTimeout, ReadOnlyViolation, ValidationError
from actorgraph.graph.lexer import (
    ADHOC_PROCEDURE_NAMES,
    ADHOC_PROCEDURES,
    ANY_ADHOC_PROCEDURE,
    READ_PROCEDURES,
    Uninterruptible,
    called_procedures,
    check_bounded,
    check_nesting,
    find_uninterruptible,
    find_write,
    most_rows,
    row_weight,
    strip_literals,
)
from actorgraph.graph.store import GraphStore
from actorgraph.graph.store.base import check_values

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

MAX_QUERY_CHARS = 20_000
"""The longest ad hoc query, in characters, on every path (``POST /v1/cypher``'s request model,
``actorgraph cypher``). ``lexer.MAX_NESTING`` is measured against it: a query this long made
only of groups nested to the bound still parses within the default 5 s timeout, and parsing
runs before the timeout starts."""

MAX_RESULT_BYTES = 256 * 2**20
"""What the constants of an ad hoc query may add up to over the row cap
(``check_result_size``): a quarter of a 1 GiB worker, an eighth of the engine's memory cap."""


def check_read_only(cypher: str) -> None:
    """Refuse Cypher that could write, administer, call procedures or reach outside the graph.

    Raises:
        ReadOnlyViolation: naming the first offending keyword or procedure.
        ValidationError: a ``CYPHER`` prefix (inline parameters or engine options), which
            reads no less than the query after it but is no place for values.
    """
    if ";" in strip_literals(cypher):
        raise ReadOnlyViolation("only one statement is allowed (found ';')", cypher)
    write = find_write(cypher)
    if write is None:
        return
    if write.kind == "prefix":
        raise ValidationError(
            "a query may not begin with CYPHER (inline parameters or engine options): pass "
            "values as parameters"
        )
    if write.kind == "namespace":
        message = f"{write.name!r} commands and functions are not allowed in read-only Cypher"
    elif write.kind == "keyword":
        message = f"{write.name!r} is not allowed: ad hoc Cypher is read-only"
    else:
        message = f"CALL {write.name} is not allowed: {_allowed(None)}"
    raise ReadOnlyViolation(message, cypher)


def _allowed(backend: str | None) -> str:
    """The procedures ad hoc Cypher may call on ``backend`` (on each backend, for None)."""
    if backend in ADHOC_PROCEDURE_NAMES:
        return (
            f"ad hoc Cypher on {backend} may call only {', '.join(ADHOC_PROCEDURE_NAMES[backend])}"
        )
    each = "; ".join(f"on {b}, {', '.join(names)}" for b, names in ADHOC_PROCEDURE_NAMES.items())
    return f"ad hoc Cypher may call only these procedures: {each}"


_REWRITE = (
    "the engine cannot stop it at the timeout; write the iteration with UNWIND and aggregate "
    "(sum, collect, ...), which the timeout cuts off"
)


def check_interruptible(
    cypher: str, params: dict[str, object] | None = None, backend: str | None = None
) -> None:
    """Refuse what the engine could not stop at its timeout: it checks between records only,
    and starts the clock after parsing.

    So brackets nested deeper than ``lexer.MAX_NESTING`` (parsing 24 levels took 24 s past a 5 s
    timeout), procedures other than the backend's ``ADHOC_PROCEDURES`` (``algo.betweenness``
    ran 13.7 s past; another engine's index query would fail there as unknown),
    ``reduce()`` (one that doubles a string went on for minutes and gigabytes), list
    iterations nested in one another (a nested ``reduce`` ran 14.8 s past) and iterations whose
    per-element work is not bounded by the element (``lexer.find_uninterruptible``:
    ``[x IN range(1, 1000000) | range(1, 1000000)]`` reached 24 GB) are refused.

    Args:
        cypher: the query text.
        params: its parameters (a list or map one is a value from outside an iteration).
        backend: the store's ``backend``, whose procedures are allowed; None (or a backend
            with no list of its own) allows those of any backend.

    Raises:
        ValidationError: naming the procedure or construct, and what to write instead.
    """
    check_nesting(cypher)
    allowed = ADHOC_PROCEDURES.get(backend or "", ANY_ADHOC_PROCEDURE)
    for name in called_procedures(cypher):
        # Procedures that are not reads at all are check_read_only's to refuse (403).
        if name.lower() in READ_PROCEDURES and name.lower() not in allowed:
            why = (
                "it is another engine's procedure"
                if name.lower() in ANY_ADHOC_PROCEDURE
                else "the engine cannot stop a procedure at the timeout"
            )
            raise ValidationError(
                f"CALL {name} is not allowed in ad hoc Cypher: {why}; {_allowed(backend)}"
            )
    found = find_uninterruptible(cypher, params)
    if found is not None:
        raise ValidationError(f"{_refusal(found)}: {_REWRITE}")


def _refusal(found: Uninterruptible) -> str:
    """What is refused, and why, for each kind of work the timeout cannot stop."""
    where = f"({found.text.strip()!r}...) is not allowed in ad hoc Cypher"
    if found.kind == "reduce":
        return "reduce() is not allowed in ad hoc Cypher"
    if found.kind == "nested":
        return f"a list iteration nested in another {where}"
    if found.kind == "builds":
        return f"{found.name}() in the filter or projection of a list iteration {where}"
    if found.kind == "doubles":
        return (
            f"{found.name!r} added to itself {where} (a string or list that doubles at each "
            "step outgrows any memory limit within one record; for a number write 2 * x)"
        )
    return (
        f"{found.name!r} in the filter or projection of a list iteration {where} (a value from "
        "outside the iteration is read there only through a property or compared with the "
        "element, unless the iteration walks nodes(), relationships(), labels(), keys() or a "
        "property: anything else may copy or walk it again for every element)"
    )


def check_length(cypher: str) -> None:
    """Refuse a query longer than ``MAX_QUERY_CHARS``.

    Raises:
        ValidationError: saying how long the query is, and the bound.
    """
    if len(cypher) > MAX_QUERY_CHARS:
        raise ValidationError(
            f"the query is {len(cypher):,} characters long; ad hoc Cypher may be at most "
            f"{MAX_QUERY_CHARS:,} (pass values as parameters)"
        )


def check_param_names(params: dict[str, object]) -> None:
    """Refuse parameter names (and nested map keys) that are not plain identifiers.

    Values travel as parameters, but some clients write names into the query header;
    plain identifiers keep that channel closed. A loop, not recursion: any depth is walked
    (``check_values`` refuses deep values, with its own message, before this runs).

    Raises:
        ValidationError: a name is not an identifier.
    """
    stack: list[tuple[object, str]] = [(params, "parameter")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            for name, item in value.items():
                if not isinstance(name, str) or not _NAME.match(name):
                    raise ValidationError(f"{where} name {name!r} is not a plain identifier")
                stack.append((item, "parameter map key"))
        elif isinstance(value, list):
            stack.extend((item, where) for item in value)


def check_result_size(cypher: str, params: dict[str, object], row_cap: int) -> None:
    """Refuse a query whose constants, repeated on every row it may return, could outgrow
    ``MAX_RESULT_BYTES``.

    A constant is evaluated again for each row, and the engine's timeout and memory cap stop
    nothing once the rows are built: the engine sends them in one reply, which the client
    reads whole (a list literal of 2,000 numbers on 10,000 rows took falkordb-py 21 s and
    1.9 GB). Bounding one literal would not do (several fit side by side, and a parameter or a
    ``range()`` is as constant as a literal), so the bound is on the product of the rows (the
    row cap, or fewer where the text shows it: ``lexer.most_rows``) and everything constant in
    the query (``lexer.row_weight``). At the default cap of 10,000 rows that leaves about
    26 kB of constants a row: more than ``MAX_QUERY_CHARS`` of string literals, and about 250
    values in list literals, ``range()`` lists or parameters returned on each row.

    Raises:
        ValidationError: saying what the constants weigh, over how many rows, and the bound.
    """
    weight = row_weight(cypher, params)
    rows = min(row_cap + 1, most_rows(cypher) or row_cap + 1)
    if weight * rows > MAX_RESULT_BYTES:
        raise ValidationError(
            f"the query's constants (literals, range() lists, parameters) come to about "
            f"{weight:,} bytes a row, up to {weight * rows / 2**20:,.0f} MiB over {rows:,} "
            f"rows; at most {MAX_RESULT_BYTES // 2**20} MiB are allowed: "
            "return a large value once, in a query of its own, or UNWIND a list parameter "
            "rather than return it on every row"
        )


_RETURN = re.compile(r"(?<![.$\w])RETURN(?!\w)", re.IGNORECASE)
_NO_RETURN = "the query must end with RETURN (ad hoc Cypher returns rows)"


def check_returns(cypher: str) -> None:
    """Refuse a query with no ``RETURN`` at all, such as a standalone ``CALL db.labels()``.

    Ad hoc Cypher is capped to a number of rows, which FalkorDB does with a subquery that only
    a query ending in ``RETURN`` fits; refusing the same texts on Neo4j keeps one rule for both.
    A ``RETURN`` that is not the last clause is left to the engine (see ``run_guarded``).

    Raises:
        ValidationError: no ``RETURN`` outside strings, names and comments.
    """
    if not _RETURN.search(strip_literals(cypher)):
        raise ValidationError(_NO_RETURN)


def run_guarded(
    store: GraphStore,
    cypher: str,
    params: dict[str, Any] | None = None,
    *,
    timeout_ms: int,
    row_cap: int,
    slot_wait_s: float = 1.0,
) -> tuple[list[dict[str, Any]], bool]:
    """Run researcher-written Cypher read-only, bounded in time and rows.

    Every check of this module (and the store's ``check_values`` first, so that a value too
    deep to walk gets its own message), then ``store.query(read_only=True,
    max_rows=row_cap + 1)`` (the engine stops at the cap), inside one of the store's ad hoc
    slots.

    Args:
        store: the graph.
        cypher: the query text.
        params: its parameters.
        timeout_ms: the engine cuts the query off after this long.
        row_cap: at most this many rows come back.
        slot_wait_s: how long to wait for an ad hoc slot when all are taken.

    Returns:
        (at most ``row_cap`` rows, whether more rows existed).

    Raises:
        ReadOnlyViolation: the text writes, calls a procedure, or reaches outside the graph.
        ValidationError: a query longer than ``MAX_QUERY_CHARS``, bad parameter names or
            values, an unbounded ``range()``, work the engine could not stop at the timeout
            (deep nesting included), no final ``RETURN``, constants too large for the row cap.
        StoreBusy: every ad hoc slot stayed taken for ``slot_wait_s``.
        QueryTimeout: the engine cut the query off.
    """
    params = dict(params or {})
    check_length(cypher)
    check_values(params)
    check_param_names(params)
    check_read_only(cypher)
    check_interruptible(cypher, params, store.backend)
    check_bounded(cypher, params)
    check_returns(cypher)
    check_result_size(cypher, params, row_cap)
    try:
        with store.adhoc_slot(slot_wait_s):
            # One row past the cap tells whether there were more.
            rows = store.query(
                cypher, params, read_only=True, timeout_ms=timeout_ms, max_rows=row_cap + 1
            )
    except QueryError as exc:
        # Neo4j says a query that does not end in RETURN "cannot conclude with" its last clause
        # (FalkorDB's store raises ValidationError itself).
        if "cannot conclude with" in str(exc) and not isinstance(exc, QueryTimeout):
            raise ValidationError(_NO_RETURN) from exc
        raise
    return rows[:row_cap], len(rows) > row_cap
