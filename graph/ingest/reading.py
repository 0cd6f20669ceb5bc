"""Read the input files of one ingest, several at a time in worker processes.

Reading (JSON parsing, whole-bundle validation, STIX pattern parsing, normalisation, warninglist
flags) is most of an ingest's client CPU, and it needs the store only to look up references
outside the file. So with several files, worker processes read ahead while the caller writes:
files come back in their order, and at most ``workers`` of them are read ahead, so memory holds
one bundle per worker beside the one being written.

A file read ahead was read before the files given before it were written. Its reading is used
only when the store could not have answered its look-ups differently once they were
(``FileRead.stale``); otherwise the caller reads it again (graph/ingest/pipeline.py).

Workers are forked: they inherit what the reader looks references up in (``source``: the store,
or the bulk load's image of the graph) and the warninglists index the caller loaded. A store's
client must survive the fork: redis-py (the embedded FalkorDB) opens its own connections in a
forked child; the Neo4j driver makes no such promise (``fork_safe``).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actorgraph.graph.errors import IngestError
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.ingest.pending import stix_ids_of
from actorgraph.graph.store import GraphStore


@dataclass
class FileRead:
    """One file, read: its batch and format, or the error that refused it.

    Attributes:
        path: the file.
        batch: what it holds (None when refused).
        kind: ``stix`` or ``misp``.
        error: the refusal (None when read).
        asked: the STIX ids the reader looked up in the store.
        by_name: whether the reader looked up actors or ATT&CK objects by name (MISP).
        ahead: read in a worker, before the files given before it were written.
        part: what a bulk reader prepared from the batch instead (graph/ingest/part.py).
    """

    path: Path
    batch: IngestBatch | None = None
    kind: str = ""
    error: IngestError | None = None
    asked: set[str] = field(default_factory=set)
    by_name: bool = False
    ahead: bool = False
    part: Any = None

    def stale(self, brought: set[str], *, earlier: bool) -> bool:
        """Whether the store may now answer this file's look-ups differently.

        Args:
            brought: the STIX ids (of objects and relationships) the files written since this
                one was read brought.
            earlier: whether any file was written since this one was read.
        """
        if not self.ahead:
            return False
        return self.error is not None or bool(self.asked & brought) or (self.by_name and earlier)


ReadFile = Callable[[Any, Path], FileRead]


def brought_ids(batch: IngestBatch, node_ids: set[str] | None = None) -> set[str]:
    """The STIX ids a batch brings: of its nodes' objects (``node_ids`` when the caller has
    them: ``stix_ids_of(batch)``), and of its relationships and sightings (a reference may
    name one)."""
    return (stix_ids_of(batch) if node_ids is None else node_ids) | {
        sid
        for group in batch.edges.values()
        for props in group.values()
        if isinstance(sid := props.get("stix_id"), str)
    }


def default_workers(files: int) -> int:
    """One worker per core, no more than there are files."""
    return max(1, min(os.cpu_count() or 1, files))


def fork_safe(store: GraphStore) -> bool:
    """Whether a forked worker may use ``store`` (the embedded FalkorDB's client may)."""
    return getattr(store, "backend", "") == "falkordb"


def read_files(
    source: Any, files: list[Path], *, read: ReadFile, workers: int
) -> Iterator[FileRead]:
    """Read ``files`` in order with ``read``, up to ``workers`` of them ahead in workers.

    Args:
        source: what the reader looks references up in, passed to ``read`` (a fork-safe
            store, or the bulk load's image).
        files: the input files.
        read: reads one file, given ``source`` and the path.
        workers: processes reading ahead; 1 reads each file here, when it is asked for.

    Yields:
        One ``FileRead`` per file, in order. A worker's refusal comes back as ``error`` with
        ``ahead`` set, for the caller to read that file again (and raise the refusal itself).
    """
    if workers <= 1 or len(files) <= 1:
        for path in files:
            yield read(source, path)
        return
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_adopt,
        initargs=(source, read),
    )
    try:
        todo = iter(files)
        running: deque[tuple[Path, Future[FileRead] | None]] = deque()
        for path in todo:
            running.append((path, _submit(pool, path)))
            if len(running) == workers:
                break
        while running:
            path, future = running.popleft()
            try:
                found = future.result() if future is not None else read(source, path)
            except Exception:
                # A worker that died (out of memory) or could not send its result back: the
                # file is read here instead, which raises what reading it raises.
                found = read(source, path)
            following = next(todo, None)
            if following is not None:  # keep the workers busy while the caller writes
                running.append((following, _submit(pool, following)))
            yield found
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _submit(pool: ProcessPoolExecutor, path: Path) -> Future[FileRead] | None:
    """The file's read in a worker; None when the pool is broken (a worker was killed), and the
    caller reads the file itself."""
    try:
        return pool.submit(_read_ahead, path)
    except BrokenProcessPool:
        return None


# What a forked worker reads with: set once in each worker by ``_adopt``.
_WORKER: dict[str, Any] = {}


def _adopt(source: Any, read: ReadFile) -> None:
    _WORKER.update(source=source, read=read)


def _read_ahead(path: Path) -> FileRead:
    # A bundle read is millions of small objects with few cycles: the cyclic collector would
    # walk them again and again while they are built, for nothing.
    gc.disable()
    try:
        found: FileRead = _WORKER["read"](_WORKER["source"], path)
    finally:
        gc.enable()
    found.ahead = True
    if found.error is not None:
        # The caller reads a refused file again: exceptions with structured fields need not
        # survive the trip between processes.
        found.error = IngestError("refused in a worker", source=str(path))
        found.batch = found.part = None
    return found
