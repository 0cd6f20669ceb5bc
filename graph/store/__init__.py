"""The store layer: one interface (``GraphStore``) over the embedded FalkorDB and Neo4j 5."""

from actorgraph.graph.store.base import (
    DEFAULT_BATCH,
    GraphStore,
    Row,
    StoreConfig,
    chunks,
    open_store,
)
from actorgraph.graph.store.embedded import ClientTimeouts

__all__ = [
    "DEFAULT_BATCH",
    "ClientTimeouts",
    "GraphStore",
    "Row",
    "StoreConfig",
    "chunks",
    "open_store",
]
