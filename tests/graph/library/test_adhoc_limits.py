"""Ad hoc Cypher may only do what the engine can stop at its timeout (issue 18, finding 7).

FalkorDB checks its timeout (and acts on its memory cap) between records. Work done inside one
expression is not interrupted: a nested ``reduce`` ran 14.8 s past a 5 s timeout, a single
``reduce`` that grows a string is quadratic, and ``CALL algo.betweenness`` ran 13.7 s past it.
So the guard refuses what only an expression or a procedure could do: procedures other than the
few research needs, ``reduce()``, and list iterations nested in one another. The same work
written with ``UNWIND`` and aggregation runs record by record and is cut off at the timeout.
"""

from __future__ import annotations

import time

import pytest

from actorgraph.graph.errors import ReadOnlyViolation, ValidationError
from actorgraph.graph.library.guard import run_guarded
from actorgraph.graph.store import GraphStore
from actorgraph.graph.store.falkor import FalkorStore

TIMEOUT_MS = 1000


def _run(store: FalkorStore, cypher: str, params: dict | None = None):
    return run_guarded(store, cypher, params, timeout_ms=TIMEOUT_MS, row_cap=100)


@pytest.mark.parametrize(
    "cypher",
    [
        "CALL algo.betweenness({}) YIELD node, score RETURN count(node) AS n",
        "CALL algo.pageRank('Campaign', 'USES') YIELD node, score RETURN count(node) AS n",
        "CALL algo.WCC({}) YIELD node, componentId RETURN count(node) AS n",
        "CALL algo.labelPropagation({}) YIELD node RETURN count(node) AS n",
        "MATCH (a:Campaign) CALL algo.BFS(a, 5, 'USES') YIELD nodes RETURN count(*) AS n",
        "call ALGO.betweenness({}) yield node return count(node) as n",
        "CALL db.meta.stats() YIELD labels RETURN labels",
    ],
)
def test_procedures_research_does_not_need_are_refused(store: FalkorStore, cypher: str) -> None:
    with pytest.raises((ValidationError, ReadOnlyViolation), match="not allowed"):
        _run(store, cypher)


@pytest.mark.parametrize(
    "cypher",
    [
        "CALL db.labels() YIELD label RETURN label",
        "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType",
        "CALL db.propertyKeys() YIELD propertyKey RETURN propertyKey",
        "CALL db.indexes() YIELD label RETURN label",
    ],
)
def test_the_procedures_research_needs_still_run(store: GraphStore, cypher: str) -> None:
    if store.backend == "neo4j" and "db.indexes" in cypher:
        pytest.skip("db.indexes() is FalkorDB's; Neo4j 5 lists indexes with SHOW INDEXES")
    store.query("CREATE (:Campaign {id: 'c1', name: 'x'})-[:USES]->(:Malware {id: 'm1'})")
    rows, _ = _run(store, cypher)
    assert rows


# Each engine's full-text query (FalkorDB db.idx.*, Neo4j db.index.*): the index it needs, the
# procedure and its arguments for Malware names, and how to drop the index (FalkorDB's goes with
# the test's graph).
FULLTEXT = {
    "falkordb": (
        "CALL db.idx.fulltext.createNodeIndex('Malware', 'name')",
        "db.idx.fulltext.queryNodes",
        "('Malware', 'Mimikatz')",
        None,
    ),
    "neo4j": (
        "CREATE FULLTEXT INDEX malware_name_text IF NOT EXISTS FOR (m:Malware) ON EACH [m.name]",
        "db.index.fulltext.queryNodes",
        "('malware_name_text', 'Mimikatz')",
        "DROP INDEX malware_name_text IF EXISTS",
    ),
}


def test_each_backend_allows_its_own_index_queries_only(store: GraphStore) -> None:
    # Neo4j's own full-text query was refused as a write (the allow-list had FalkorDB's only),
    # and FalkorDB's db.idx.* reached Neo4j, which does not know it.
    create, procedure, args, drop = FULLTEXT[store.backend]
    (other, other_args) = next(
        (p, a) for backend, (_, p, a, _) in FULLTEXT.items() if backend != store.backend
    )
    store.query(create)
    try:
        if store.backend == "neo4j":
            store.query("CALL db.awaitIndex('malware_name_text', 60)")
        store.query("CREATE (:Malware {id: 'm1', name: 'Mimikatz'}), (:Malware {id: 'm2'})")
        rows, _ = _run(store, f"CALL {procedure}{args} YIELD node RETURN node.id AS id")
        assert rows == [{"id": "m1"}]
        with pytest.raises(
            ValidationError,
            match=rf"^CALL {other} is not allowed in ad hoc Cypher: it is another engine's "
            rf"procedure; ad hoc Cypher on {store.backend} may call only db\.labels",
        ):
            _run(store, f"CALL {other}{other_args} YIELD node RETURN node.id AS id")
    finally:
        if drop is not None:
            store.query(drop)


NESTED_REDUCE = (
    "RETURN reduce(s = 0, x IN range(1, 20000) | "
    "s + reduce(t = 0, y IN range(1, 20000) | t + y)) AS v"
)


@pytest.mark.parametrize(
    "cypher, says",
    [
        (NESTED_REDUCE, "reduce"),
        ("RETURN size(reduce(s = 'x', i IN range(1, 30) | s + s)) AS n", "reduce"),
        ("RETURN size(reduce(s = '', i IN range(1, 1000) | s + 'aaaa')) AS n", "reduce"),
        ("RETURN REDUCE/**/(s = 0, x IN [1, 2] | s + x) AS n", "reduce"),
        (
            "RETURN size([x IN range(1, 20000) | size([y IN range(1, 20000) | y])]) AS n",
            "nested",
        ),
        ("RETURN [x IN range(1, 3) WHERE any(y IN range(1, 3) WHERE y = x)] AS v", "nested"),
        ("RETURN all(`x` IN [1] WHERE none(`y` IN [2] WHERE `y` = `x`)) AS v", "nested"),
        ("MATCH (a) RETURN [x IN [1] | [(a)-->(b) | b.id]] AS v", "nested"),
    ],
    ids=[
        "nested-reduce",
        "string-doubling",
        "quadratic-string",
        "reduce-behind-a-comment",
        "nested-comprehension",
        "quantifier-in-comprehension",
        "quoted-names",
        "pattern-comprehension-inside",
    ],
)
def test_work_the_engine_cannot_interrupt_is_refused_before_it_runs(
    store: FalkorStore, cypher: str, says: str
) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ValidationError, match=says) as info:
        _run(store, cypher)
    elapsed = time.perf_counter() - t0
    assert "UNWIND" in str(info.value)  # the message says how to write it instead
    assert elapsed < 3 * TIMEOUT_MS / 1000, f"{elapsed:.1f} s"


@pytest.mark.parametrize(
    "cypher",
    [
        "RETURN [x IN range(1, 10) | x * 2] AS v",
        "RETURN [x IN range(1, 10) WHERE x > 5] AS v, any(y IN [1, 2] WHERE y > 1) AS w",
        "MATCH (a:Campaign) RETURN [(a)-->(b) | b.id] AS v",
        "RETURN 'reduce(s = 0, x IN [1] | [y IN [x] | y])' AS text // reduce([x IN [1] | x])",
        "UNWIND range(1, 10) AS x UNWIND range(1, 10) AS y RETURN sum(x * y) AS v",
        "MATCH p = (a)-[*1..2]->(b) RETURN [n IN nodes(p) | n.id] AS ids",
    ],
)
def test_single_level_iterations_and_unwind_still_run(store: FalkorStore, cypher: str) -> None:
    store.query("CREATE (:Campaign {id: 'c1'})-[:USES]->(:Malware {id: 'm1'})")
    rows, _ = _run(store, cypher)
    assert rows


def test_the_same_work_written_with_unwind_is_cut_off_near_its_timeout(
    store: FalkorStore,
) -> None:
    from actorgraph.graph.errors import QueryTimeout

    t0 = time.perf_counter()
    with pytest.raises(QueryTimeout):
        _run(
            store,
            "UNWIND range(1, 1000000) AS x UNWIND range(1, 1000000) AS y RETURN sum(x + y) AS v",
        )
    elapsed = time.perf_counter() - t0
    print(f"record-level product cut off after {elapsed:.2f} s (timeout {TIMEOUT_MS} ms)")
    assert elapsed < 3 * TIMEOUT_MS / 1000
