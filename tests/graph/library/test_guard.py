"""graph.guard: the checks every researcher-written Cypher passes before the engine sees it."""

from __future__ import annotations

import pytest

from actorgraph.graph.errors import ReadOnlyViolation, ValidationError
from actorgraph.graph.library.guard import check_bounded, check_read_only, run_guarded


@pytest.mark.parametrize("q", [
    "LOAD CSV FROM 'https://example.org/x.csv' AS row RETURN row",
    "MATCH (n) SET n.x = 1 RETURN n",
    "CALL db.idx.fulltext.createNodeIndex('ThreatActor', 'name')",
    "MATCH (n) RETURN n; MATCH (m) DETACH DELETE m",
    "CALL { CREATE (:X) } RETURN 1",
])
def test_writes_files_and_procedures_are_refused(q):
    with pytest.raises(ReadOnlyViolation):
        check_read_only(q)


@pytest.mark.parametrize("q, params", [
    ("UNWIND range(1, 1000000000) AS x RETURN count(x)", {}),
    ("UNWIND range(1, 1e9) AS x RETURN count(x)", {}),
    ("UNWIND range(1, toInteger($n)) AS x RETURN count(x)", {"n": "1000000000"}),
    ("UNWIND range(1, $n) AS x RETURN count(x)", {"n": 10**9}),
    ("UNWIND range(1, 1000 * 1000 * 1000) AS x RETURN count(x)", {}),
    ("UNWIND range(1, size(range(1, 99999999))) AS x RETURN x", {}),
])
def test_ranges_that_could_exhaust_memory_are_refused(q, params):
    with pytest.raises(ValidationError):
        check_bounded(q, params)


def test_ordinary_queries_pass_and_run_capped(store):
    store.query("UNWIND range(1, 50) AS i CREATE (:Malware {id: toString(i), name: 'CREATE ' + toString(i)})")
    q = "MATCH (m:Malware) WHERE m.name STARTS WITH 'CREATE' RETURN m.id AS id ORDER BY id"
    check_read_only(q)  # the word inside a string literal is not a clause
    rows, truncated = run_guarded(store, q, timeout_ms=2000, row_cap=10)
    assert len(rows) == 10 and truncated
    rows, truncated = run_guarded(store, "UNWIND range(0, size([1,2,3]) - 1) AS i RETURN i",
                                  timeout_ms=2000, row_cap=10)
    assert [r["i"] for r in rows] == [0, 1, 2] and not truncated
