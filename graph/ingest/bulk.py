"""Bulk load: a whole ingest built in memory and written into an empty graph at once.

On FalkorDB it goes through ``GRAPH.BULK``, the bulk-insert command ``falkordb-bulk-loader``
sends after reading CSV files: it creates a new graph from packed node and relationship records
(graph/ingest/records.py), with no ``MERGE`` and no query text to parse, several times faster
than the batched writer. On Neo4j each element is created, not merged, 10,000 rows a
transaction (graph/ingest/bulk_neo4j.py).

Only a graph that holds nothing can be built this way (``GRAPH.BULK`` creates the graph), so the
inputs are read and validated exactly as by ``ingest_paths`` (STIX bundles; references resolve
among the inputs read before, as if each had been written), merged in memory by the writer's
rules (graph/ingest/image.py), and sent (``GRAPH.BULK`` commands of at most 32 MB); sightings
and pending references then go through the writer's own statements, input by input, and the pending
references of the unit are completed as after any ingest. The graph is the one the batched path
writes (tests/graph/ingest/test_bulk.py compares them).

Work: the reader workers also apply each input to empty elements and pack their records
(graph/ingest/part.py), so the ingest process only joins inputs (an element several inputs
state is merged there) and numbers the nodes. Memory: the image holds the packed records of the
whole graph until they are sent (a few hundred bytes per element), and the cyclic garbage
collector is paused while it is built (millions of small objects without cycles, walked again
and again for nothing).
"""

from __future__ import annotations

import functools
import gc
import time
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from actorgraph.graph import arrival
from actorgraph.graph.enrich.warninglists import flag_indicators, shared_index
from actorgraph.graph.errors import IngestError
from actorgraph.graph.formats.stix_validate import iter_inputs, load_json
from actorgraph.graph.ingest.bulk_neo4j import create_all
from actorgraph.graph.ingest.image import GraphImage
from actorgraph.graph.ingest.part import BundlePart, bundle_part
from actorgraph.graph.ingest.pending import PENDING_MERGE
from actorgraph.graph.ingest.pipeline import complete_unit, detect_format, files_refused
from actorgraph.graph.ingest.reading import FileRead, default_workers, read_files
from actorgraph.graph.ingest.records import commands
from actorgraph.graph.ingest.writer import DEFAULT_BATCH_SIZE, IngestReport
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP

COUNT_NODES = "MATCH (n) RETURN count(n) AS n"


class BulkRefused(IngestError):
    """The bulk load cannot run here (not an empty graph, or input it does not read)."""


def bulk_ingest(
    store: GraphStore,
    paths: Iterable[str | Path],
    *,
    attack: bool = False,
    enrich: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
) -> list[IngestReport]:
    """Build an empty graph from STIX files (and ATT&CK) in one bulk load.

    On FalkorDB the records go as ``GRAPH.BULK`` commands; on Neo4j as ``CREATE`` statements,
    10,000 rows a transaction (graph/ingest/bulk_neo4j.py).

    Args:
        store: a FalkorDB or Neo4j store; its graph must hold no node.
        paths: STIX bundle files or directories.
        attack: load ATT&CK Enterprise first, as ``ingest_attack`` would.
        enrich: also write the offline enrichment of the indicators (see ``ingest_paths``).
        batch_size: rows per query for the sightings and pending references.
        workers: processes reading files ahead (see ``ingest_paths``); None: one per core.

    Returns:
        One report per input (ATT&CK first), as ``ingest_paths`` returns them.

    Raises:
        BulkRefused: the store is neither FalkorDB nor Neo4j, its graph holds nodes, or an
            input is a MISP event. Nothing is written.
        IngestError: an input was refused (nothing is written); ``errors`` lists the refusals.
    """
    backend = getattr(store, "backend", "")
    if backend not in ("falkordb", "neo4j"):
        raise BulkRefused(f"--bulk writes to FalkorDB or Neo4j, not to {backend!r}")
    if store.query(COUNT_NODES, read_only=True)[0]["n"]:
        raise BulkRefused(
            "the graph is not empty: a bulk load builds a new graph; ingest without --bulk, "
            "or into an empty graph"
        )
    image = GraphImage(added=arrival.now())  # every element's arrival time: the load's
    reports: list[IngestReport] = []
    later: list[tuple[BundlePart, IngestReport]] = []  # what the writer still sends, per input
    with _collector_paused():
        for part in _inputs(paths, image, attack=attack, enrich=enrich, workers=workers):
            started = time.perf_counter()
            image.add(part)
            part.report.seconds = time.perf_counter() - started
            reports.append(part.report)
            later.append((_leftover(part), part.report))
        started = time.perf_counter()
        if backend == "neo4j":
            store.ensure_schema()  # the relationships find their ends through the id indexes
            sent = create_all(store, image)
            del image
        else:
            store.clear()  # GRAPH.BULK creates the graph: the empty one (its indexes) goes first
            sent = send(store, image)
            del image
            store.ensure_schema()
    if reports:  # the load's own time and commands go to the first input's report
        reports[0].queries += sent
        reports[0].seconds += time.perf_counter() - started
    for leftover, report in later:
        for cypher, rows in leftover.writes:
            store.write_batches(cypher, rows, batch_size=batch_size, max_tlp=int(TLP.RED))
            report.queries += -(-len(rows) // batch_size)
    # The graph was empty, so the only pending references it holds are the ones just written:
    # the ids worth looking up are their ends, not every STIX id of the load (1.4 M at 1M
    # indicators, sent as one parameter). The same references are completed.
    ends = _pending_ends(later)
    complete_unit(store, reports, [p.stix_ids & ends for p, _ in later], max_tlp=TLP.RED)
    return reports


@contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _inputs(
    paths: Iterable[str | Path],
    image: GraphImage,
    *,
    attack: bool,
    enrich: bool,
    workers: int | None,
) -> Iterator[BundlePart]:
    """ATT&CK, then each file read and validated as ``ingest_paths`` reads it, resolving
    references in the image of what came before (the caller adds each part to the image
    before asking for the next). Files are read ahead in worker processes as by
    ``ingest_paths`` (graph/ingest/reading.py); one whose look-ups an earlier file could answer
    is read again here. All files are read before anything is sent, so a refused file refuses
    the load."""
    if attack:
        from actorgraph.graph.formats.attack import read_attack

        yield bundle_part(read_attack(), fmt="attack", enrich=False)  # as ingest_attack
    files = list(iter_inputs(paths))
    workers = default_workers(len(files)) if workers is None else workers
    if workers > 1:
        shared_index()  # loaded once here; the forked workers inherit it
    read = functools.partial(read_bulk, enrich=enrich)
    errors: list[IngestError] = []
    brought: set[str] = set()
    for found in read_files(image, files, read=read, workers=workers):
        if found.stale(brought, earlier=False):
            found = read(image, found.path)
        if found.error is not None or found.part is None:
            errors.append(found.error or IngestError("not read", source=str(found.path)))
            continue
        yield found.part
        brought |= found.part.brought
    if errors:
        raise files_refused(errors, [])


def read_bulk(image: GraphImage, path: Path, *, enrich: bool) -> FileRead:
    """Read one STIX file, resolving references in ``image``, and prepare it for the image
    (``bundle_part``); a refusal is returned."""
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
    del data
    flag_indicators(batch.nodes.get("Indicator", {}))
    part = bundle_part(batch, fmt="stix", enrich=enrich)
    return FileRead(path, kind="stix", asked=asked, part=part)


def _pending_ends(later: list[tuple[BundlePart, IngestReport]]) -> set[str]:
    """The STIX ids at either end of the pending references the inputs keep."""
    return {
        row[end]
        for part, _ in later
        for cypher, rows in part.writes
        if cypher == PENDING_MERGE
        for row in rows
        for end in ("src_ref", "dst_ref")
    }


def _leftover(part: BundlePart) -> BundlePart:
    """What of a part the image does not hold: the statements still due, and its ids."""
    return BundlePart(report=part.report, stix_ids=part.stix_ids, brought=set(), writes=part.writes)


# ---------------------------------------------------------------------- GRAPH.BULK commands
def send(store: GraphStore, image: GraphImage) -> int:
    """Send the image as GRAPH.BULK commands into a graph that does not exist yet; returns how
    many commands. Each command's records are packed when it is due."""
    number: list[int] = []  # node -> its number in the order sent (the edges' records name it)
    sent = 0
    made = commands(image.node_tokens(number), image.edge_tokens(number))
    # closing: a command the server refuses stops the thread now, not when the traceback goes.
    with closing(_made_ahead(made)) as ahead:
        for nodes, edges in ahead:
            args: list[Any] = [] if sent else ["BEGIN"]
            args += [sum(n for _, n in nodes), sum(n for _, n in edges), len(nodes), len(edges)]
            args += [t for t, _ in nodes] + [t for t, _ in edges]
            store.execute_command("GRAPH.BULK", store.graph_name, *args)  # type: ignore[attr-defined]
            sent += 1
    return sent


_T = TypeVar("_T")
_DONE: Any = object()  # what ``next`` returns after the last item


def _made_ahead(items: Iterator[_T]) -> Generator[_T, None, None]:
    """``items``, each next one made in a thread while the caller uses the one before: the next
    ``GRAPH.BULK`` command is packed while the server works on the one just sent (the caller
    waits on its socket then, which lets the thread run). One is made in advance, no more; an
    error in making one is raised to the caller; a caller that stops early waits for the one
    being made, and no thread is left."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-commands") as maker:
        ahead = maker.submit(next, items, _DONE)
        while (item := ahead.result()) is not _DONE:
            ahead = maker.submit(next, items, _DONE)
            yield item
