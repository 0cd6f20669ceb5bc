"""Guards on ad hoc Cypher (CLI `actorgraph cypher`, API `POST /v1/cypher`): read-only, bounded, capped.

The first of two guards is a keyword scan that refuses anything but reads.

The second guard is the engine: ad hoc Cypher always runs through
``store.query(..., read_only=True)`` (FalkorDB ``GRAPH.RO_QUERY``, a Neo4j read transaction),
which refuses writes whatever the text looks like. The scan exists so that obvious writes,
procedure calls, file access and other graphs are refused with a clear message before they
reach the engine, and so that a backend whose read-only path is weaker stays safe.

The scan works on the text with string literals, backtick-quoted names and comments removed,
so ``WHERE n.name = 'CREATE'`` is allowed while ``CREATE (n)`` is not.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from actorgraph.graph.errors import QueryError, QueryTimeout, ReadOnlyViolation, ValidationError
from actorgraph.graph.store import GraphStore

# Clauses and commands that write, administer, or reach outside the graph.
WRITE_KEYWORDS = (
    "CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "DROP", "FOREACH", "LOAD",
    "USE", "ALTER", "GRANT", "DENY", "REVOKE", "SHOW", "START", "STOP", "TERMINATE",
    "RENAME", "CYPHER",
)  # fmt: skip

# Read-only procedures a researcher may CALL. Everything else (index and constraint
# creation, configuration, anything not listed) is refused.
READ_PROCEDURES = frozenset(
    name.lower()
    for name in (
        "db.labels",
        "db.relationshipTypes",
        "db.propertyKeys",
        "db.indexes",
        "db.constraints",
        "db.idx.fulltext.queryNodes",
        "db.idx.fulltext.queryRelationships",
        "db.idx.vector.queryNodes",
        "algo.SPpaths",
        "algo.SSpaths",
        "algo.BFS",
        "algo.pageRank",
        "algo.WCC",
        "algo.betweenness",
    )
)

# Namespaces that reach files, the network, the server or other databases.
_FORBIDDEN_NAMESPACES = re.compile(r"\b(graph|apoc|dbms|gds)\s*\.", re.IGNORECASE)
_STRINGS_AND_COMMENTS = re.compile(
    r"""'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|`[^`]*`?|//[^\n]*|/\*.*?(?:\*/|$)""",
    re.DOTALL,
)
_KEYWORD = re.compile(r"(?<![.$\w])(" + "|".join(WRITE_KEYWORDS) + r")(?!\w)", re.IGNORECASE)
_CALL = re.compile(r"(?<![.$\w])CALL\s*([A-Za-z_][\w.]*|\{|\()?", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_RANGE = re.compile(r"(?<![.\w])range\s*\(", re.IGNORECASE)
_INT = re.compile(r"^[-+]?\d+$")
_PARAM_REF = re.compile(r"^\$([A-Za-z_]\w*)$")
_BIG_NUMBER = re.compile(r"\d{7,}")

MAX_RANGE = 1_000_000
"""The longest list ``range()`` may build. FalkorDB builds the whole list before its query
timeout is checked again, so ``UNWIND range(1, 1e9)`` would hold the server (and gigabytes
of memory) far past any timeout."""


def strip_literals(cypher: str) -> str:
    """Replace string literals, quoted names and comments by a space."""
    if len(cypher) <= _CACHED_TEXT_MAX:
        return _strip_cached(cypher)
    return _STRINGS_AND_COMMENTS.sub(" ", cypher)


# Every query the store runs is scanned (falkor.FalkorStore.query); actorgraph's own queries
# repeat the same few texts, and scanning the evidence query was ~0.5 ms of each attribution.
# Bounded: at most 256 texts of 16 KB each are kept, whatever users send.
_CACHED_TEXT_MAX = 16_384


@functools.lru_cache(maxsize=256)
def _strip_cached(cypher: str) -> str:
    return _STRINGS_AND_COMMENTS.sub(" ", cypher)


def check_read_only(cypher: str) -> None:
    """Refuse Cypher that could write, administer, call procedures or reach outside the graph.

    Raises:
        ReadOnlyViolation: naming the first offending keyword or procedure.
    """
    code = strip_literals(cypher)
    if ";" in code:
        raise ReadOnlyViolation("only one statement is allowed (found ';')", cypher)
    namespace = _FORBIDDEN_NAMESPACES.search(code)
    if namespace:
        raise ReadOnlyViolation(
            f"{namespace.group(1)!r} commands and functions are not allowed in read-only Cypher",
            cypher,
        )
    keyword = _KEYWORD.search(code)
    if keyword:
        raise ReadOnlyViolation(
            f"{keyword.group(1).upper()!r} is not allowed: ad hoc Cypher is read-only", cypher
        )
    for call in _CALL.finditer(code):
        target = call.group(1)
        if target == "{":
            continue  # CALL { ... } subquery: its body is scanned like the rest
        if target is None or target == "(" or target.lower() not in READ_PROCEDURES:
            raise ReadOnlyViolation(
                f"CALL {target or ''} is not allowed: only read procedures "
                f"({', '.join(sorted(READ_PROCEDURES))}) may be called",
                cypher,
            )


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


def check_bounded(cypher: str, params: dict[str, object] | None = None) -> None:
    """Refuse ``range()`` calls that could build a list longer than ``MAX_RANGE``.

    Literal and parameter bounds are checked exactly; other expressions are allowed unless
    they multiply or contain a number of seven digits or more.

    Raises:
        ValidationError: a ``range()`` that is, or may be, too long.
    """
    code = strip_literals(cypher)
    params = params or {}
    for match in _RANGE.finditer(code):
        args = _call_args(code, match.end())
        values: list[int | None] = []
        for arg in args:
            values.append(_int_value(arg, params))
            if values[-1] is None and _unbounded(arg):
                raise ValidationError(f"range({', '.join(args)}) may be too long to build", cypher)
        if len(values) >= 2 and values[0] is not None and values[1] is not None:
            step = values[2] if len(values) > 2 and values[2] else 1
            if abs((values[1] - values[0]) // step) > MAX_RANGE:
                raise ValidationError(
                    f"range({', '.join(args)}) is longer than {MAX_RANGE:,} elements", cypher
                )


_SUSPECT = re.compile(r"[*^$]|\d[eE][+-]?\d|\bto(?:integer|float)\b|\brange\s*\(", re.IGNORECASE)


def _unbounded(arg: str) -> bool:
    """A bound we cannot evaluate that could still be huge: arithmetic that grows (``*``,
    ``^``), exponent literals (``1e9``), parameters converted at run time
    (``toInteger($n)``), nested ranges, or a literal of seven digits or more."""
    return bool(_SUSPECT.search(arg) or _BIG_NUMBER.search(arg))


def _call_args(code: str, start: int) -> list[str]:
    depth, args, current = 0, [], []
    for ch in code[start:]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    args.append("".join(current).strip())
    return args


def _int_value(arg: str, params: dict[str, object]) -> int | None:
    if _INT.match(arg):
        return int(arg)
    ref = _PARAM_REF.match(arg)
    if ref and isinstance(params.get(ref.group(1)), int):
        return int(params[ref.group(1)])  # type: ignore[arg-type]
    if ref and ref.group(1) in params:
        raise ValidationError(f"range() bound ${ref.group(1)} must be an integer")
    return None


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
    for match in _STRINGS_AND_COMMENTS.finditer(cypher):
        token = match.group(0)
        closed = {
            "'": len(token) >= 2 and token.endswith("'"),
            '"': len(token) >= 2 and token.endswith('"'),
            "`": len(token) >= 2 and token.endswith("`"),
            "/": token.startswith("//") or (len(token) >= 4 and token.endswith("*/")),
        }[token[0]]
        if not closed:
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
