"""Bulk load: a whole ingest written into an empty embedded graph through ``GRAPH.BULK``.

``GRAPH.BULK`` is FalkorDB's bulk-insert command, the one ``falkordb-bulk-loader`` sends after
reading CSV files: it creates a new graph from packed node and relationship records, with no
``MERGE`` and no query text to parse, several times faster than the batched writer. The
records are packed here directly, in the loader's binary format, from the rows the readers
produce: the loader's CSV route would read every value back from text (a string ``"42"`` in a
list becomes the number 42, surrounding spaces are cut, an empty string becomes no property).

Only a graph that holds nothing can be built this way (the command creates the graph), so the
inputs are read and validated exactly as by ``ingest_paths`` (STIX bundles; references resolve
among the inputs read before, as if each had been written), merged in memory by the writer's
rules (graph/ingest/image.py), and sent at once; sightings and pending references then go
through the writer's own statements, input by input, and the pending references of the unit
are completed as after any ingest. The graph is the one the batched path writes
(tests/graph/ingest/test_bulk.py compares them).

Memory: the image of the whole graph, in the client, until it is sent (about 1 GB per 100k
demo-world indicators); the readers' limit of one bundle at a time does not hold here.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from actorgraph.graph.enrich.warninglists import flag_indicators, shared_index
from actorgraph.graph.errors import IngestError, ValidationError
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.formats.sightings import RECORDS
from actorgraph.graph.formats.stix_validate import iter_inputs, load_json
from actorgraph.graph.ingest.image import GraphImage
from actorgraph.graph.ingest.pending import stix_ids_of
from actorgraph.graph.ingest.pipeline import complete_unit, detect_format, files_refused
from actorgraph.graph.ingest.reading import FileRead, brought_ids, default_workers, read_files
from actorgraph.graph.ingest.writer import (
    DEFAULT_BATCH_SIZE,
    IngestReport,
    pending_groups,
    report_of,
    sighting_groups,
)
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP

# Value types of the GRAPH.BULK record format (falkordb_bulk_loader.entity_file.Type).
_NULL, _BOOL, _DOUBLE, _STRING, _LONG, _ARRAY = 0, 1, 2, 3, 4, 5
# The most bytes of records one GRAPH.BULK command carries (the loader's default is 64 MB).
MAX_COMMAND_BYTES = 32 * 1024 * 1024

COUNT_NODES = "MATCH (n) RETURN count(n) AS n"


class BulkRefused(IngestError):
    """The bulk load cannot run here (not an empty embedded graph, or input it does not read)."""


def bulk_ingest(
    store: GraphStore,
    paths: Iterable[str | Path],
    *,
    attack: bool = False,
    enrich: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
) -> list[IngestReport]:
    """Build an empty embedded graph from STIX files (and ATT&CK) in one bulk load.

    Args:
        store: the embedded FalkorDB store; its graph must hold no node.
        paths: STIX bundle files or directories.
        attack: load ATT&CK Enterprise first, as ``ingest_attack`` would.
        enrich: also write the offline enrichment of the indicators (see ``ingest_paths``).
        batch_size: rows per query for the sightings and pending references.
        workers: processes reading files ahead (see ``ingest_paths``); None: one per core.

    Returns:
        One report per input (ATT&CK first), as ``ingest_paths`` returns them.

    Raises:
        BulkRefused: the store is not FalkorDB, its graph holds nodes, or an input is a MISP
            event. Nothing is written.
        IngestError: an input was refused (nothing is written); ``errors`` lists the refusals.
    """
    if getattr(store, "backend", "") != "falkordb":
        raise BulkRefused("--bulk is for the embedded store (FalkorDB); ingest without it")
    if store.query(COUNT_NODES, read_only=True)[0]["n"]:
        raise BulkRefused(
            "the graph is not empty: a bulk load builds a new graph; ingest without --bulk, "
            "or into an empty graph"
        )
    image = GraphImage()
    reports: list[IngestReport] = []
    later: list[tuple[IngestBatch, IngestReport]] = []  # what the writer still sends, per input
    for batch, fmt in _inputs(paths, image, attack=attack, workers=workers):
        started = time.perf_counter()
        enrich_this = enrich and fmt != "attack"  # ingest_attack does not enrich
        enriched = image.add(batch, enrich=enrich_this)
        report = report_of(batch, fmt=fmt, enriched=enriched)
        report.seconds = time.perf_counter() - started
        reports.append(report)
        later.append((_leftover(batch), report))
    started = time.perf_counter()
    store.clear()  # GRAPH.BULK creates the graph: the empty one (its indexes) goes first
    commands = send(store, image)
    store.ensure_schema()
    if reports:  # the load's own time and commands go to the first input's report
        reports[0].queries += commands
        reports[0].seconds += time.perf_counter() - started
    del image
    for leftover, report in later:
        groups = sighting_groups(leftover) + pending_groups(leftover)
        for cypher, rows in groups:
            store.write_batches(cypher, rows, batch_size=batch_size, max_tlp=int(TLP.RED))
            report.queries += -(-len(rows) // batch_size)
    complete_unit(store, reports, [stix_ids_of(b) for b, _ in later], max_tlp=TLP.RED)
    return reports


def _inputs(
    paths: Iterable[str | Path], image: GraphImage, *, attack: bool, workers: int | None
) -> Iterator[tuple[IngestBatch, str]]:
    """ATT&CK, then each file read and validated as ``ingest_paths`` reads it, resolving
    references in the image of what came before (the caller adds each batch to the image
    before asking for the next). Files are read ahead in worker processes as by
    ``ingest_paths`` (graph/ingest/reading.py); one whose look-ups an earlier file could answer
    is read again here. All files are read before anything is sent, so a refused file refuses
    the load."""
    if attack:
        from actorgraph.graph.formats.attack import read_attack

        yield read_attack(), "attack"
    files = list(iter_inputs(paths))
    workers = default_workers(len(files)) if workers is None else workers
    if workers > 1:
        shared_index()  # loaded once here; the forked workers inherit it
    errors: list[IngestError] = []
    brought: set[str] = set()
    for found in read_files(image, files, read=read_bulk, workers=workers):
        if found.stale(brought, earlier=False):
            found = read_bulk(image, found.path)
        if found.error is not None or found.batch is None:
            errors.append(found.error or IngestError("not read", source=str(found.path)))
            continue
        yield found.batch, "stix"
        brought |= brought_ids(found.batch)
    if errors:
        raise files_refused(errors, [])


def read_bulk(image: GraphImage, path: Path) -> FileRead:
    """Read one STIX file, resolving references in ``image``; a refusal is returned."""
    from actorgraph.graph.formats.stix_reader import read_stix

    asked: set[str] = set()

    def resolve(ids: set[str]) -> dict[str, list[tuple[str, str]]]:
        asked.update(ids)
        return image.resolve(ids)

    try:
        data = load_json(path)
        if detect_format(data) != "stix":
            raise BulkRefused(
                "--bulk reads STIX bundles; ingest MISP events without it, after the load",
                source=str(path),
            )
        batch = read_stix(data, source=path.name, resolve_ids=resolve, origin=str(path))
    except IngestError as exc:
        return FileRead(path, error=exc)
    flag_indicators(batch.nodes.get("Indicator", {}))
    return FileRead(path, batch, "stix", asked=asked)


def _leftover(batch: IngestBatch) -> IngestBatch:
    """What of a batch the image does not hold: its sightings, pending references and ids."""
    out = IngestBatch(source=batch.source, pending=batch.pending)
    for label, by_id in batch.nodes.items():
        out.nodes[label] = {
            node_id: {k: props[k] for k in ("stix_ids", RECORDS) if k in props}
            for node_id, props in by_id.items()
        }
    return out


# ---------------------------------------------------------------------- GRAPH.BULK records
def send(store: GraphStore, image: GraphImage) -> int:
    """Send the image as GRAPH.BULK commands into a graph that does not exist yet; returns how
    many commands. Nodes are numbered in the order they are sent, which the relationships'
    records name."""
    number: dict[tuple[str, str], int] = {}
    node_tokens: list[tuple[bytes, int]] = []
    for (label, keys), members in _grouped(image.nodes.items()):
        records = []
        for key, props in members:
            number[key] = len(number)
            records.append(_props(props, keys))
        node_tokens.extend(_tokens(label, keys, records))
    edge_tokens: list[tuple[bytes, int]] = []
    for (rel, keys), members in _grouped(
        ((e[2], (e[0], e[1], e[3], e[4])), p) for e, p in image.edges.items()
    ):
        records = [
            struct.pack("=QQ", number[(src, a)], number[(dst, b)]) + _props(props, keys)
            for (_, (src, a, dst, b)), props in members
        ]
        edge_tokens.extend(_tokens(rel, keys, records))
    commands, first = 0, True
    for nodes, edges in _commands(node_tokens, edge_tokens):
        args: list[Any] = ["BEGIN"] if first else []
        args += [sum(n for _, n in nodes), sum(n for _, n in edges), len(nodes), len(edges)]
        args += [t for t, _ in nodes] + [t for t, _ in edges]
        store.execute_command("GRAPH.BULK", store.graph_name, *args)  # type: ignore[attr-defined]
        commands, first = commands + 1, False
    return commands


def _grouped(items: Iterable[tuple[Any, dict[str, Any]]]) -> list[tuple[Any, list[Any]]]:
    """Elements by (label or type, property names): one record header per group."""
    groups: dict[tuple[str, tuple[str, ...]], list[Any]] = {}
    for key, props in items:
        groups.setdefault((key[0], tuple(sorted(props))), []).append((key, props))
    return list(groups.items())


def _tokens(name: str, keys: tuple[str, ...], records: list[bytes]) -> Iterator[tuple[bytes, int]]:
    """Header + records, cut so that no token passes the command size."""
    header = _cstr(name) + struct.pack("=I", len(keys)) + b"".join(_cstr(k) for k in keys)
    part: list[bytes] = []
    size = len(header)
    for record in records:
        if part and size + len(record) > MAX_COMMAND_BYTES // 2:
            yield header + b"".join(part), len(part)
            part, size = [], len(header)
        part.append(record)
        size += len(record)
    if part:
        yield header + b"".join(part), len(part)


def _commands(
    nodes: list[tuple[bytes, int]], edges: list[tuple[bytes, int]]
) -> Iterator[tuple[list[tuple[bytes, int]], list[tuple[bytes, int]]]]:
    """Tokens packed into commands of at most ``MAX_COMMAND_BYTES``: every node before any
    relationship (a relationship names nodes already sent)."""
    for tokens, is_node in ((nodes, True), (edges, False)):
        batch: list[tuple[bytes, int]] = []
        size = 0
        for token in tokens:
            if batch and size + len(token[0]) > MAX_COMMAND_BYTES:
                yield (batch, []) if is_node else ([], batch)
                batch, size = [], 0
            batch.append(token)
            size += len(token[0])
        if batch:
            yield (batch, []) if is_node else ([], batch)


def _props(props: dict[str, Any], keys: tuple[str, ...]) -> bytes:
    return b"".join(_value(props[k]) for k in keys)


def _value(value: Any) -> bytes:
    if value is None:
        return struct.pack("=B", _NULL)
    if isinstance(value, bool):
        return struct.pack("=B?", _BOOL, value)
    if isinstance(value, int):
        return struct.pack("=Bq", _LONG, value)
    if isinstance(value, float):
        return struct.pack("=Bd", _DOUBLE, value)
    if isinstance(value, str):
        return struct.pack("=B", _STRING) + _cstr(value)
    if isinstance(value, list | tuple):
        return struct.pack("=Bq", _ARRAY, len(value)) + b"".join(_value(v) for v in value)
    raise ValidationError(f"a graph property cannot hold {type(value).__name__} ({value!r})")


def _cstr(text: str) -> bytes:
    return text.encode() + b"\0"
