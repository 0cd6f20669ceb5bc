"""The bulk load's image written into an empty Neo4j database: created, not merged.

The image (graph/ingest/image.py) holds each node and relationship as the writer's statements
would leave them after every input, so nothing is left to merge: each node is one ``CREATE``
with its whole property map, each relationship one ``CREATE`` between its two ends, found by
their indexed ``id``. Rows go ``ROWS_PER_TRANSACTION`` to a transaction, the effect of
``CALL { ... } IN TRANSACTIONS OF n ROWS`` without sending the whole graph as one parameter.
Neo4j's own bulk tool (``neo4j-admin database import``) needs the database offline and reads
CSV, which gives values back from text (see graph/ingest/records.py).
"""

from __future__ import annotations

from typing import Any

from actorgraph.graph.ingest.image import GraphImage
from actorgraph.graph.schema import label as quote_label
from actorgraph.graph.schema import rel_type as quote_rel
from actorgraph.graph.store import GraphStore

ROWS_PER_TRANSACTION = 10_000

NODE_CREATE = "UNWIND $rows AS row CREATE (n:{label}) SET n = row"
EDGE_CREATE = """UNWIND $rows AS row
MATCH (a:{src} {{id: row.src}})
MATCH (b:{dst} {{id: row.dst}})
CREATE (a)-[r:{rel}]->(b)
SET r = row.props"""


def create_all(
    store: GraphStore, image: GraphImage, *, batch_size: int = ROWS_PER_TRANSACTION
) -> int:
    """Create every node, then every relationship, of ``image`` in ``store`` (empty, its schema
    applied: the relationships find their ends through the ``id`` indexes).

    Returns:
        The number of write queries sent.
    """
    sent = 0
    nodes: dict[str, list[dict[str, Any]]] = {}
    for label, props in image.nodes():
        rows = nodes.setdefault(label, [])
        rows.append(props)
        if len(rows) >= batch_size:
            sent += _send(store, NODE_CREATE.format(label=quote_label(label)), rows)
            rows.clear()
    for label, rows in nodes.items():
        sent += _send(store, NODE_CREATE.format(label=quote_label(label)), rows)
    edges: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for (src, a), rel, (dst, b), props in image.edges():
        rows = edges.setdefault((src, rel, dst), [])
        rows.append({"src": a, "dst": b, "props": props})
        if len(rows) >= batch_size:
            sent += _send(store, _edge_query(src, rel, dst), rows)
            rows.clear()
    for (src, rel, dst), rows in edges.items():
        sent += _send(store, _edge_query(src, rel, dst), rows)
    return sent


def _edge_query(src: str, rel: str, dst: str) -> str:
    return EDGE_CREATE.format(src=quote_label(src), dst=quote_label(dst), rel=quote_rel(rel))


def _send(store: GraphStore, cypher: str, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    store.query(cypher, {"rows": rows})
    return 1
