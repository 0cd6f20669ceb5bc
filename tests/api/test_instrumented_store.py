"""The API's ``InstrumentedStore`` forwards every store call to the store it wraps, on each backend.

``write_atomic`` matters most: the base class's default chains the statements into one query,
which is right for FalkorDB, while Neo4j runs them in one transaction of its own. A wrapper that
fell back to the default would quietly send Neo4j the chained query instead.
"""

from __future__ import annotations

import pytest

from actorgraph.api.metrics import InstrumentedStore, Metrics
from actorgraph.graph.errors import QueryError
from actorgraph.graph.store import GraphStore

MALWARE = "UNWIND $rows AS row MERGE (:Malware {id: row.id, tlp_level: $level})"
TOOLS = "UNWIND $rows AS row CREATE (:Tool {id: row.id})"


def test_write_atomic_is_the_wrapped_stores_own_and_is_timed(store: GraphStore) -> None:
    wrapped = InstrumentedStore(store, Metrics())
    statements = [(MALWARE, [{"id": "m1"}, {"id": "m2"}]), (TOOLS, [{"id": "t"}])]
    # What the wrapped store answers: FalkorDB one chained query, Neo4j one statement each.
    expected = {"falkordb": 1, "neo4j": 2}[store.backend]
    assert wrapped.write_atomic(statements, level=1) == expected
    assert store.counts()["nodes"] == {"Malware": 2, "Tool": 1}
    assert wrapped.metrics.store_latency.count("atomic") == 1


def test_write_atomic_through_the_wrapper_is_still_all_or_nothing(store: GraphStore) -> None:
    wrapped = InstrumentedStore(store, Metrics())
    duplicate = [(MALWARE, [{"id": "m1"}]), (TOOLS, [{"id": "t"}, {"id": "t"}])]
    with pytest.raises(QueryError, match="unique"):
        wrapped.write_atomic(duplicate, level=1)
    assert store.counts() == {"nodes": {}, "relationships": {}}
    assert wrapped.metrics.store_latency.count("atomic") == 1


def test_query_passes_the_row_cap_through(store: GraphStore) -> None:
    wrapped = InstrumentedStore(store, Metrics())
    rows = wrapped.query("UNWIND range(1, 10) AS x RETURN x", read_only=True, max_rows=2)
    assert rows == [{"x": 1}, {"x": 2}]
    assert wrapped.metrics.store_latency.count("read") == 1
