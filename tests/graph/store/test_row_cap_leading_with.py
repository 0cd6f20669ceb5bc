"""A read capped to a number of rows may begin with WITH.

FalkorDB caps a read inside ``CALL { ... } RETURN * LIMIT n`` (``with_row_cap``), where a leading
``WITH`` imports variables from outside: ``WITH 1 AS x RETURN x`` failed with FalkorDB's "WITH
imports in CALL {} must consist of only simple references to outside variables". Each WITH that
opens the query or a UNION branch now gets one ``UNWIND`` row before it, which changes nothing
the query returns.
"""

from __future__ import annotations

import pytest

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.store import GraphStore
from actorgraph.graph.store.falkor import with_row_cap


@pytest.fixture
def graph(store: GraphStore) -> GraphStore:
    store.query(
        "CREATE (:Campaign {id: 'c1'})-[:USES]->(:Malware {id: 'm1', name: 'M'}), "
        "(:Campaign {id: 'c2'})"
    )
    return store


@pytest.mark.parametrize(
    ("cypher", "rows"),
    [
        ("WITH 1 AS x RETURN x", [{"x": 1}]),
        ("with 1 AS x, 2 AS y RETURN y, x", [{"x": 1, "y": 2}]),
        (
            "WITH $id AS wanted MATCH (m:Malware) WHERE m.id = wanted RETURN m.name AS name",
            [{"name": "M"}],
        ),
        (
            "// the campaigns, by id\n/* then the rest */ WITH 'c' AS prefix "
            "MATCH (c:Campaign) WHERE c.id STARTS WITH prefix RETURN c.id AS id ORDER BY id",
            [{"id": "c1"}, {"id": "c2"}],
        ),
        ("WITH DISTINCT 1 AS x RETURN x", [{"x": 1}]),
        ("WITH 1 AS x RETURN x UNION WITH 2 AS x RETURN x", [{"x": 1}, {"x": 2}]),
        ("RETURN 1 AS x UNION ALL // again\n WITH 1 AS x RETURN x", [{"x": 1}, {"x": 1}]),
        (
            "MATCH (c:Campaign) CALL { WITH c MATCH (c)-[:USES]->(m) RETURN count(m) AS n } "
            "RETURN c.id AS id, n ORDER BY id",
            [{"id": "c1", "n": 1}, {"id": "c2", "n": 0}],
        ),
    ],
    ids=[
        "with",
        "lower-case",
        "with-match-return",
        "after-comments",
        "distinct",
        "union-branches",
        "union-all-after-a-comment",
        "subquery-import-untouched",
    ],
)
def test_a_capped_read_may_begin_with_with(graph: GraphStore, cypher: str, rows: list) -> None:
    capped = graph.query(cypher, {"id": "m1"}, read_only=True, max_rows=10)
    assert sorted(capped, key=repr) == sorted(rows, key=repr)


def test_the_cap_still_stops_a_query_that_begins_with_with(graph: GraphStore) -> None:
    rows = graph.query(
        "WITH range(1, 100) AS xs UNWIND xs AS x RETURN x", read_only=True, max_rows=3
    )
    assert len(rows) == 3 and set(rows[0]) == {"x"}


def test_only_the_query_and_its_union_branches_are_changed() -> None:
    cypher = "/* WITH */ WITH 'UNION WITH' AS s CALL { WITH s RETURN s AS t } RETURN t"
    capped, _ = with_row_cap(cypher, None, 10)
    assert capped.count("UNWIND") == 1
    assert "/* WITH */ UNWIND [0] AS actorgraph_row_cap_anchor WITH 'UNION WITH'" in capped
    assert "CALL { WITH s RETURN s AS t }" in capped


def test_a_query_may_not_begin_with_with_star() -> None:
    # With the UNWIND before it, `WITH *` would keep the extra variable, and RETURN * show it.
    with pytest.raises(ValidationError, match=r"WITH \*"):
        with_row_cap("WITH /* all */ *, 1 AS x RETURN *", None, 10)


@pytest.mark.parametrize(
    ("cypher", "columns"),
    [
        ("WITH 1 AS a RETURN 2 AS z, a, 'AS b' AS b", ["z", "a", "b"]),
        ("WITH 1 AS a RETURN count(*) AS total, a", ["total", "a"]),
        ("UNWIND [1, 2] AS n RETURN count(n) AS `the count`, 1 AS a", ["the count", "a"]),
        ("RETURN 1 AS y, 2 AS x UNION RETURN 3 AS y, 4 AS x", ["y", "x"]),
    ],
)
def test_capped_columns_come_back_in_the_querys_order(store, cypher: str, columns: list) -> None:
    """The cap's `RETURN *` gives FalkorDB's columns in name order; the query's order is
    restored, as Neo4j keeps it."""
    rows = store.query(cypher, read_only=True, max_rows=10)
    assert rows and all(list(row) == columns for row in rows)
