"""actorgraph: graph-based threat-actor attribution.

The one import namespace. Subpackages, top layer first: ``cli`` and ``commands`` (the command
line), ``api`` (HTTP), ``settings``, then the library: ``gnn`` (attribution), ``world`` (demo
data), ``graph`` (store, formats, ingest, query library, reports) and ``cypher`` (Cypher as data).
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
