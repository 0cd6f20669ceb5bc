"""What a list iteration does for each element must be bounded by that element.

FalkorDB evaluates a comprehension's filter and projection once per element, inside one
expression that neither its timeout nor its memory cap interrupts: ``RETURN size([x IN
range(1,1000000) | range(1,100)])`` ran 2.6 s past a 100 ms timeout and reached 1.86 GB, and
``[x IN range(1,1000000) | range(1,1000000)]`` 24 GB. So the guard refuses a body that builds a
list (``range()``, an aggregate) or reads a value from outside the iteration as a whole (a
variable, a list parameter), unless the iteration walks one graph element's own list
(``lexer.find_uninterruptible``). The queries here are small enough to be harmless if a
regression let them through: the engine would cut them off at the timeout, not crash.
"""

from __future__ import annotations

import time

import pytest

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.lexer import find_uninterruptible
from actorgraph.graph.library.guard import check_interruptible, run_guarded
from actorgraph.graph.library.queries import load_library
from actorgraph.graph.store import GraphStore

TIMEOUT_MS = 1000


def _run(store: GraphStore, cypher: str, params: dict | None = None) -> list[dict]:
    rows, _ = run_guarded(store, cypher, params, timeout_ms=TIMEOUT_MS, row_cap=100)
    return rows


@pytest.fixture
def graph(store: GraphStore) -> GraphStore:
    store.query(
        "CREATE (c:Campaign {id: 'c1', name: 'C', aliases: ['Alpha', 'Beta']})"
        "-[:USES]->(:Malware {id: 'm1', name: 'M'}), (c)-[:USES]->(:Tool {id: 't1', name: 'T'})"
    )
    return store


@pytest.mark.parametrize(
    ("cypher", "params", "says"),
    [
        ("RETURN size([x IN range(1, 2000) | range(1, 2000)]) AS n", {}, r"range\(\)"),
        ("RETURN size([x IN range(1, 2000) | size(range(1, x))]) AS n", {}, r"range\(\)"),
        ("RETURN any(x IN range(1, 2000) WHERE x IN range(1, 2000)) AS b", {}, r"range\(\)"),
        ("WITH range(1, 2000) AS l RETURN size([x IN l | l]) AS n", {}, "'l'"),
        ("WITH range(1, 2000) AS l RETURN size([x IN l WHERE x IN l]) AS n", {}, "'l'"),
        ("WITH range(1, 2000) AS l RETURN size([x IN l | l + [x]]) AS n", {}, "'l'"),
        ("WITH range(1, 2000) AS l RETURN size([x IN l WHERE x = l + 1]) AS n", {}, "'l'"),
        ("WITH range(1, 2000) AS L RETURN size([l IN L | L]) AS n", {}, "'L'"),
        (
            "WITH range(1, 2000) AS `a list` RETURN size([x IN `a list` | `a list`]) AS n",
            {},
            "'`a list`'",
        ),
        (
            "MATCH (c:Campaign) WITH c, range(1, 2000) AS l "
            "RETURN [(c)-[:USES]->(m) | {name: m.name, all: l}] AS v",
            {},
            "'l'",
        ),
        ("RETURN size([x IN range(1, 2000) | $ids]) AS n", {"ids": list(range(2000))}, r"'\$ids'"),
    ],
    ids=[
        "range-in-projection",
        "range-with-a-computed-bound",
        "range-in-a-quantifier",
        "outer-list-projected",
        "outer-list-walked",
        "outer-list-concatenated",
        "outer-list-in-arithmetic-before-a-comparison",
        "names-are-case-sensitive",
        "quoted-names",
        "outer-list-in-a-pattern-comprehension-map",
        "list-parameter",
    ],
)
def test_per_element_lists_are_refused_before_the_engine(
    graph: GraphStore, cypher: str, params: dict, says: str
) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ValidationError, match=says) as info:
        _run(graph, cypher, params)
    assert "list iteration" in str(info.value) and "UNWIND" in str(info.value)
    assert time.perf_counter() - t0 < TIMEOUT_MS / 1000


@pytest.mark.parametrize(
    ("cypher", "says"),
    [
        # Not sent to the engine even to show it: an aggregate in a comprehension's projection
        # stopped FalkorDB 4.16.3 ("Unhandled value type" in the result formatter).
        ("RETURN [x IN [1, 2] | sum(x)] AS v", r"sum\(\)"),
        ("RETURN [x IN range(1, 3) | collect(x)] AS v", r"collect\(\)"),
        ("MATCH (a) RETURN [(a)-->(b) WHERE count(b) > 1 | b.id] AS v", r"count\(\)"),
    ],
)
def test_aggregates_in_an_iteration_are_refused(cypher: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        check_interruptible(cypher)


@pytest.mark.parametrize(
    ("cypher", "params", "expected"),
    [
        (
            "MATCH p = (c:Campaign)-[:USES]->(m:Malware) "
            "RETURN [n IN nodes(p) WHERE coalesce(n.tlp_level, 0) <= $max_tlp | n.id] AS v",
            {"max_tlp": 1},
            ["c1", "m1"],
        ),
        (
            "MATCH p = (c:Campaign)-[:USES]->(m:Malware) "
            "RETURN [n IN nodes(p) WHERE n <> c | labels(n)] AS v",
            {},
            [["Malware"]],
        ),
        ("MATCH (c:Campaign) RETURN [(c)-[:USES]->(m:Malware) | m.name] AS v", {}, ["M"]),
        (
            "MATCH (c:Campaign) RETURN [(c)-[r:USES]->(m:Tool) "
            "WHERE coalesce(r.tlp_level, 0) <= $max_tlp | {name: m.name, type: type(r)}] AS v",
            {"max_tlp": 1},
            [{"name": "T", "type": "USES"}],
        ),
        (
            "MATCH (c:Campaign) RETURN [x IN coalesce(c.aliases, []) | toLower(x)] AS v",
            {},
            ["alpha", "beta"],
        ),
        (
            "MATCH (c:Campaign) "
            "RETURN any(x IN c.aliases WHERE toLower(x) CONTAINS toLower($text)) AS v",
            {"text": "ALP"},
            True,
        ),
        (
            "MATCH (c:Campaign)-[:USES]->(m) WITH c, collect(m) AS ms, 'M' AS wanted "
            "RETURN [x IN ms WHERE x <> c AND x.name = wanted | x.id] AS v",
            {},
            ["m1"],
        ),
        ("RETURN [x IN range(1, 10) WHERE x > 8 | [x, x * x]] AS v", {}, [[9, 81], [10, 100]]),
        ("RETURN [x IN $ids WHERE x > $least] AS v", {"ids": [1, 2, 3], "least": 1}, [2, 3]),
    ],
    ids=[
        "path-nodes-filtered-by-a-parameter",
        "path-nodes-compared-with-an-outer-node",
        "pattern-comprehension",
        "pattern-comprehension-with-filter-and-map",
        "property-list",
        "quantifier-over-a-property",
        "collected-list-compared-with-outer-values",
        "list-literal-of-the-element",
        "list-parameter-walked",
    ],
)
def test_per_element_work_bounded_by_the_element_runs(
    graph: GraphStore, cypher: str, params: dict, expected: object
) -> None:
    assert _run(graph, cypher, params) == [{"v": expected}]


def test_the_query_library_keeps_within_the_per_element_rule() -> None:
    # Library queries run through run_query, not this guard; some nest iterations or use
    # reduce(), which ad hoc Cypher may not. None may break the per-element rule, which would
    # mean the rule refuses what this project itself writes.
    for name, q in load_library().items():
        params = {p.name: "x" if p.type == "string" else 1 for p in q.parameters}
        found = find_uninterruptible(q.query, {**params, "max_tlp": 1})
        assert found is None or found.kind in ("nested", "reduce"), (name, found)


@pytest.mark.parametrize(
    "cypher",
    [
        # Eight doublings of ten characters ran a Neo4j server out of heap (it exited) and
        # FalkorDB to 19 GB, whatever the timeout: not sent to the engine, even to time it.
        "WITH 'abcdefghij' AS s " + "WITH s+s+s+s+s+s+s+s+s+s AS s " * 8 + "RETURN size(s) AS n",
        "WITH [1, 2] AS l " + "WITH l + [0] + l AS l " * 30 + "RETURN size(l) AS n",
        "WITH 'a' AS s WITH s + '-' + s AS s RETURN s AS n",
    ],
    ids=["string-doubled", "list-doubled", "string-doubled-around-a-literal"],
)
def test_a_value_added_to_itself_is_refused(cypher: str) -> None:
    with pytest.raises(ValidationError, match="added to itself"):
        check_interruptible(cypher)


@pytest.mark.parametrize(
    "cypher",
    [
        "MATCH (a:ThreatActor) RETURN a.name + ' (' + a.name + ')' AS n",
        "WITH 1 AS a, 2 AS b RETURN a + b AS c",
        "MATCH (n) RETURN count(n) + count(n) AS c",
        "MATCH (a) WITH a, a.aliases AS al RETURN al + [a.name] AS names",
    ],
)
def test_sums_of_distinct_values_and_properties_pass(graph: GraphStore, cypher: str) -> None:
    check_interruptible(cypher)
    assert isinstance(_run(graph, cypher, {}), list)
