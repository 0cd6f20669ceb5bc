"""actorgraph.graph.library.guard: the checks researcher-written Cypher passes before the engine."""

from __future__ import annotations

import pytest

from actorgraph.graph.errors import QueryError, ReadOnlyViolation, ValidationError
from actorgraph.graph.library.guard import (
    MAX_QUERY_CHARS,
    check_bounded,
    check_read_only,
    run_guarded,
)
from actorgraph.graph.library.queries import lint_query, load_library
from actorgraph.graph.store.base import MAX_PARAM_DEPTH
from actorgraph.graph.store.falkor import FalkorStore, with_row_cap
from actorgraph.graph.store.neo4j import Neo4jStore
from tests.helpers.values import nested

LIBRARY = load_library()


@pytest.mark.parametrize(
    "q",
    [
        "LOAD CSV FROM 'https://example.org/x.csv' AS row RETURN row",
        "MATCH (n) SET n.x = 1 RETURN n",
        "CALL db.idx.fulltext.createNodeIndex('ThreatActor', 'name')",
        "MATCH (n) RETURN n; MATCH (m) DETACH DELETE m",
        "CALL { CREATE (:X) } RETURN 1",
    ],
)
def test_writes_files_and_procedures_are_refused(q):
    with pytest.raises(ReadOnlyViolation):
        check_read_only(q)


@pytest.mark.parametrize(
    "q, params",
    [
        ("UNWIND range(1, 1000000000) AS x RETURN count(x)", {}),
        ("UNWIND range(1, 1e9) AS x RETURN count(x)", {}),
        ("UNWIND range(1, toInteger($n)) AS x RETURN count(x)", {"n": "1000000000"}),
        ("UNWIND range(1, $n) AS x RETURN count(x)", {"n": 10**9}),
        ("UNWIND range(1, 1000 * 1000 * 1000) AS x RETURN count(x)", {}),
        ("UNWIND range(1, size(range(1, 99999999))) AS x RETURN x", {}),
    ],
)
def test_ranges_that_could_exhaust_memory_are_refused(q, params):
    with pytest.raises(ValidationError):
        check_bounded(q, params)


def test_ordinary_queries_pass_and_run_capped(store):
    store.query(
        "UNWIND range(1, 50) AS i "
        "CREATE (:Malware {id: toString(i), name: 'CREATE ' + toString(i)})"
    )
    q = "MATCH (m:Malware) WHERE m.name STARTS WITH 'CREATE' RETURN m.id AS id ORDER BY id"
    check_read_only(q)  # the word inside a string literal is not a clause
    rows, truncated = run_guarded(store, q, timeout_ms=2000, row_cap=10)
    assert len(rows) == 10 and truncated
    rows, truncated = run_guarded(
        store, "UNWIND range(0, size([1,2,3]) - 1) AS i RETURN i", timeout_ms=2000, row_cap=10
    )
    assert [r["i"] for r in rows] == [0, 1, 2] and not truncated


def test_a_string_whose_closing_quote_is_escaped_is_unterminated():
    # 'abc\' is still open: wrapping it would let the string run into the wrapper's text.
    with pytest.raises(ValidationError, match="unterminated"):
        with_row_cap("RETURN 'abc\\' AS x", None, 10)
    capped, params = with_row_cap("RETURN 'abc\\\\' AS x", {"a": 1}, 10)
    assert "RETURN 'abc\\\\' AS x" in capped and params == {"a": 1, "actorgraph_row_cap": 10}


def test_unnamed_columns_are_capped_and_a_query_without_return_is_refused(store):
    # Neo4j refuses unnamed columns inside a CALL {} wrapper; its store caps without one.
    rows, truncated = run_guarded(
        store, "UNWIND range(1, 5) AS i RETURN i + 1", timeout_ms=2000, row_cap=3
    )
    assert rows == [{"i + 1": 2}, {"i + 1": 3}, {"i + 1": 4}] and truncated
    for q in ("CALL db.labels()", "MATCH (n) CALL { WITH n RETURN n AS m }"):
        with pytest.raises(ValidationError, match="RETURN"):
            run_guarded(store, q, timeout_ms=2000, row_cap=3)


@pytest.mark.parametrize(
    "q",
    [
        "MATCH (a) WITH a/**/SET a.x = 1 RETURN a LIMIT 1",
        "MATCH (a) RETURN a.`x\\` SET a.y = 1 //` LIMIT 1",
        "USE other MATCH (a) RETURN a LIMIT 1",
        "CALL db.idx.fulltext.createNodeIndex('ThreatActor', 'name') RETURN 1 LIMIT 1",
        "LOAD\nCSV FROM $u AS row RETURN row LIMIT 1",
    ],
)
def test_the_guard_and_the_query_library_refuse_the_same_writes(q):
    with pytest.raises(ReadOnlyViolation):
        check_read_only(q)
    bad = LIBRARY["actor_profile"].model_copy(update={"query": q})
    assert any("write clause" in p for p in lint_query(bad)), lint_query(bad)


@pytest.mark.parametrize(
    "q",
    [
        "MATCH (a) WHERE a.name = 'CREATE' RETURN a.set AS s, $merge AS m LIMIT 1",
        "MATCH (a) RETURN a.`SET` AS `DELETE` LIMIT 1",
    ],
)
def test_the_guard_and_the_query_library_allow_the_same_reads(q):
    check_read_only(q)
    ok = LIBRARY["actor_profile"].model_copy(update={"query": q})
    assert not any("write clause" in p for p in lint_query(ok)), lint_query(ok)


@pytest.mark.parametrize("backend", [FalkorStore, Neo4jStore])
@pytest.mark.parametrize(
    ("q", "error"),
    [
        ("UNWIND range(1, 1000000000) AS x RETURN count(x)", QueryError),
        ("LOAD CSV FROM $uri AS row RETURN row", ReadOnlyViolation),
    ],
)
def test_every_backend_refuses_before_its_engine(backend, q, error):
    # A store with no connection at all: reaching the engine would fail with AttributeError.
    unconnected = object.__new__(backend)
    with pytest.raises(error, match=r"query refused|LOAD CSV is not allowed"):
        unconnected.query(q, {"uri": "https://example.org/x.csv"}, read_only=True)


def test_a_query_longer_than_the_bound_is_refused_before_the_engine(store):
    longest = "RETURN 1 AS one //".ljust(MAX_QUERY_CHARS, "x")
    assert run_guarded(store, longest, timeout_ms=2000, row_cap=10) == ([{"one": 1}], False)
    with pytest.raises(ValidationError, match=r"^the query is 20,001 characters long; .* 20,000"):
        run_guarded(store, longest + "x", timeout_ms=2000, row_cap=10)


@pytest.mark.parametrize("kind", ["list", "map"])
def test_parameters_too_deep_for_any_walk_are_refused_naming_the_depth(store, kind):
    # Maps 100,000 deep ran the guard's own name check out of Python's recursion limit.
    with pytest.raises(
        ValidationError, match=f"nests lists and maps 100000 deep; at most {MAX_PARAM_DEPTH}"
    ):
        run_guarded(
            store, "RETURN $p AS v", {"p": nested(100_000, kind)}, timeout_ms=2000, row_cap=10
        )


def test_a_map_key_with_a_backtick_is_refused_by_name(store):
    with pytest.raises(ValidationError, match=r"^parameter \$p has the map key 'a`b', which"):
        run_guarded(store, "RETURN $p AS v", {"p": {"a`b": 1}}, timeout_ms=2000, row_cap=10)
