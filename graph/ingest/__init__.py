"""Ingestion: read any supported input through ``formats``, write it through the batched writer."""

from actorgraph.graph.ingest.pipeline import (
    detect_format,
    find_actors,
    ingest_attack,
    ingest_object,
    ingest_paths,
    read_any,
)
from actorgraph.graph.ingest.writer import IngestReport

__all__ = [
    "IngestReport",
    "detect_format",
    "find_actors",
    "ingest_attack",
    "ingest_object",
    "ingest_paths",
    "read_any",
]
