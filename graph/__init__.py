"""Graph layer: the store interface, schema, threat-intel formats and ingestion."""

from graph.errors import ActorgraphError
from graph.store import GraphStore, StoreConfig, open_store

__all__ = ["ActorgraphError", "GraphStore", "StoreConfig", "open_store"]
