"""Deeply nested brackets are refused before the engine: FalkorDB's parse time doubles with each
level, and its query timeout starts only after parsing (``RETURN ((((...1...))))`` 24 deep took
24 s with a 5 s timeout; 5,000 deep held an engine thread until the server was restarted).

Only depths up to the bound are sent to a server here: one far deeper would hold it for good.
"""

from __future__ import annotations

import time

import pytest

from actorgraph.graph.errors import QueryError, ValidationError
from actorgraph.graph.lexer import MAX_NESTING, nesting_depth
from actorgraph.graph.library.guard import run_guarded
from actorgraph.graph.library.queries import load_library
from actorgraph.graph.store import GraphStore
from actorgraph.graph.store.falkor import FalkorStore
from actorgraph.graph.store.neo4j import Neo4jStore

CLOSING = {"(": ")", "[": "]", "{a: ": "}"}
KINDS = ["(", "[", "{a: ", "mixed"]
KIND_IDS = ["parens", "lists", "maps", "mixed"]


def nested(depth: int, kind: str = "(") -> str:
    """``RETURN`` of a value inside ``depth`` brackets of one kind (maps: ``{a: {a: 1}}``), or
    of the three kinds in turn (``([{a: (1)}])``)."""
    opens = [kind if kind != "mixed" else list(CLOSING)[i % 3] for i in range(depth)]
    closes = [CLOSING[bracket] for bracket in reversed(opens)]
    return f"RETURN {''.join(opens)}1{''.join(closes)} AS x"


def _run(store: GraphStore, cypher: str) -> list[dict]:
    rows, _ = run_guarded(store, cypher, timeout_ms=5000, row_cap=10)
    return rows


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_nesting_past_the_bound_is_refused_before_the_engine(store: GraphStore, kind: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ValidationError, match=f"nested {MAX_NESTING + 1} deep; at most"):
        _run(store, nested(MAX_NESTING + 1, kind))
    assert time.perf_counter() - t0 < 0.5


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_nesting_at_the_bound_runs_quickly(store: GraphStore, kind: str) -> None:
    t0 = time.perf_counter()
    rows = _run(store, nested(MAX_NESTING, kind))
    assert len(rows) == 1
    assert time.perf_counter() - t0 < 1.0


def test_brackets_in_strings_names_and_comments_do_not_count(store: GraphStore) -> None:
    deep = "(" * 30 + "[" * 30 + "{" * 30
    cypher = f"RETURN '{deep}' AS s, \"{deep}\" AS d, 1 AS `{deep}` // {deep}\n/* {deep} */"
    assert nesting_depth(cypher) == 0
    rows = _run(store, cypher)
    assert rows[0]["s"] == deep


@pytest.mark.parametrize(
    ("cypher", "depth"),
    [
        ("RETURN ((1)) AS x", 2),
        ("RETURN [({a: 1})] AS x", 3),
        ("RETURN (((1) + (2))) AS x", 3),
        ("RETURN ((((1 AS x", 4),  # never closed: still parsed that deep
        ("RETURN 1 AS x ))) ((((1))))", 4),  # a stray close does not hide what follows
        ("RETURN '(((' + ')))' AS x", 0),
    ],
)
def test_nesting_depth(cypher: str, depth: int) -> None:
    assert nesting_depth(cypher) == depth


@pytest.mark.parametrize("read_only", [True, False], ids=["read", "write"])
def test_the_store_refuses_too_on_every_path(store: GraphStore, read_only: bool) -> None:
    with pytest.raises(QueryError, match=f"query refused: brackets nested {MAX_NESTING + 1}"):
        store.query(nested(MAX_NESTING + 1), read_only=read_only, timeout_ms=1000)


@pytest.mark.parametrize("backend", [FalkorStore, Neo4jStore])
def test_every_backend_refuses_before_its_engine(backend: type[GraphStore]) -> None:
    # A store with no connection at all: reaching the engine would fail with AttributeError.
    unconnected = object.__new__(backend)
    with pytest.raises(QueryError, match="query refused: brackets nested 5000 deep"):
        unconnected.query(nested(5000), read_only=True)


def test_the_query_library_nests_within_the_bound() -> None:
    deepest = max(load_library().values(), key=lambda q: nesting_depth(q.query))
    assert nesting_depth(deepest.query) <= MAX_NESTING, deepest.name
