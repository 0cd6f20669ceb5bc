"""A graph's content in comparable form: counts per label and type, and a sample of rows.

Two ways of writing the same input (worker processes or not, the bulk loader or the batched
writer) must leave the same graph; these snapshots are what the tests compare.
"""

from __future__ import annotations

from typing import Any

from actorgraph.graph.arrival import ADDED
from actorgraph.graph.store import GraphStore

# Every node and relationship of a label or type, with the ids that identify them; the graph
# of a small world is small enough to compare whole.
_NODES = "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props LIMIT $cap"
_RELS = """MATCH (a)-[r]->(b)
RETURN a.id AS src, type(r) AS type, b.id AS dst, properties(r) AS props
ORDER BY src, type, dst LIMIT $cap"""


def snapshot(store: GraphStore, *, cap: int = 1_000_000, unordered: bool = False) -> dict[str, Any]:
    """Counts per label and type, every node's and relationship's properties (by id).

    Args:
        store: the graph.
        cap: the most nodes and relationships read.
        unordered: compare list properties as sets (``sources`` lists the inputs in the order
            they were written, which a bulk load does not keep).
    """
    plain = _unordered if unordered else _written
    nodes = {
        (tuple(sorted(row["labels"])), _key(row["props"])): plain(row["props"])
        for row in store.query(_NODES, {"cap": cap}, read_only=True)
    }
    rels: dict[tuple[str, str, str], list[Any]] = {}
    for row in store.query(_RELS, {"cap": cap}, read_only=True):
        rels.setdefault((row["src"], row["type"], row["dst"]), []).append(plain(row["props"]))
    return {
        "counts": store.counts(),
        "nodes": nodes,
        "relationships": {
            key: sorted(repr(sorted(props.items())) for props in group)
            for key, group in rels.items()
        },
    }


def _key(props: dict[str, Any]) -> str:
    """A node's id (a pending reference's record has ``pending_id`` instead)."""
    return str(props.get("id") or props.get("pending_id"))


def _written(props: dict[str, Any]) -> dict[str, Any]:
    """The properties, less ``added`` (graph/arrival.py): when an element was written differs
    between two writes of the same input by design (tests/graph/ingest/test_arrival.py reads it)."""
    return {k: v for k, v in props.items() if k != ADDED}


def _unordered(props: dict[str, Any]) -> dict[str, Any]:
    return {
        k: sorted(map(repr, v)) if isinstance(v, list) else v for k, v in _written(props).items()
    }
