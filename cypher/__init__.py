"""Cypher as data: the schema and the researchers' query library (``queries/*.yml``)."""

from pathlib import Path

CYPHER_DIR = Path(__file__).resolve().parent
QUERIES_DIR = CYPHER_DIR / "queries"

__all__ = ["CYPHER_DIR", "QUERIES_DIR"]
