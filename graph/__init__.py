"""The graph layer: store, schema, formats, ingestion, the research library and reports.

Subpackages by job, imports pointing down only (``docs/ARCHITECTURE.md``):
``reports``, ``ingest`` -> ``formats``, ``library``, ``store`` -> ``errors``, ``schema``.
"""

from actorgraph.graph.errors import ActorgraphError
from actorgraph.graph.store import GraphStore, StoreConfig, open_store

__all__ = ["ActorgraphError", "GraphStore", "StoreConfig", "open_store"]
