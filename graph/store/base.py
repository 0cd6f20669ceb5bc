"""The store interface every other module uses, and the one way to open a store.

Two implementations: ``FalkorStore`` (embedded default, graph/store/falkor.py) and ``Neo4jStore``
(graph/store/neo4j.py). Both take the same Cypher (the portable subset in
docs/falkordb-cypher.md) and return rows as plain Python: ``list[dict[str, Any]]`` whose values
are str/int/float/bool/None, lists, dicts, and for graph values:

- a node  -> ``{"_labels": [...], **properties}``
- a relationship -> ``{"_type": "USES", **properties}``
- a path  -> ``{"nodes": [node, ...], "relationships": [rel, ...]}``
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from actorgraph.graph import lexer
from actorgraph.graph.errors import QueryError, ReadOnlyViolation, StoreBusy, ValidationError
from actorgraph.graph.store.embedded import ClientTimeouts

Row = dict[str, Any]

DEFAULT_BATCH = 5000


class GraphStore(ABC):
    """A Cypher property graph: run queries, write in batches, manage the schema."""

    backend: str = "abstract"

    @abstractmethod
    def query(
        self,
        cypher: str,
        params: dict[str, Any] | None = None,
        *,
        read_only: bool = False,
        timeout_ms: int | None = None,
        max_rows: int | None = None,
    ) -> list[Row]:
        """Run one parameterised Cypher statement and return its rows.

        Args:
            cypher: one statement; values only through ``$params``.
            params: parameter values.
            read_only: run on the engine's read-only path; a write raises ``ReadOnlyViolation``.
            timeout_ms: cut a read off after this many milliseconds (``QueryTimeout``).
            max_rows: return at most this many rows, and have the engine stop producing rows
                there (not build them all and cut afterwards). Ask for one more than you show
                to learn whether the result was cut. The query must end with ``RETURN``:
                FalkorDB caps it in a subquery and raises ``ValidationError`` otherwise.

        Implementations call ``self._check_query`` before the engine sees the text.
        """

    def _check_query(self, cypher: str, params: dict[str, Any] | None, *, read_only: bool) -> None:
        """Refuse what no engine timeout stops; every backend runs this first in ``query``.

        ``range()`` builds its whole list before a timeout is checked again (a billion
        elements exhaust the server's memory), and ``LOAD CSV`` fetches URLs even on FalkorDB's
        read-only path. Both are refused here, on every backend, before the engine sees them.

        Integers outside 64 bits are refused too: FalkorDB reads parameters from text and would
        clamp one to the nearest 64-bit value without a word, and the Neo4j driver raises a bare
        ``OverflowError`` while packing it.

        Raises:
            QueryError: a ``range()`` that is, or may be, longer than ``lexer.MAX_RANGE``.
            ReadOnlyViolation: ``LOAD CSV`` on a read-only query.
            ValidationError: an integer parameter outside 64 bits.
        """
        try:
            lexer.check_bounded(cypher, params)
        except ValidationError as exc:
            raise QueryError(f"query refused: {exc}", cypher) from exc
        if read_only and lexer.has_load_csv(cypher):
            raise ReadOnlyViolation("LOAD CSV is not allowed on a read-only path", cypher)
        if params:
            check_integers(params)

    def write_batches(
        self, cypher: str, rows: Sequence[Row], *, batch_size: int = DEFAULT_BATCH, **params: Any
    ) -> int:
        """Run ``cypher`` (which reads ``UNWIND $rows AS row``) over ``rows`` in batches.

        Returns the number of rows sent. Each batch is one query, so one atomic unit.
        """
        sent = 0
        for chunk in chunks(rows, batch_size):
            self.query(cypher, {"rows": chunk, **params})
            sent += len(chunk)
        return sent

    def write_atomic(self, statements: Sequence[tuple[str, Sequence[Row]]], **params: Any) -> int:
        """Run write statements, each reading ``UNWIND $rows AS row``, as one all-or-nothing unit.

        Args:
            statements: ``(cypher, rows)`` pairs, run in order; each statement gets its rows as
                ``$rows``.
            **params: parameters shared by every statement.

        Returns:
            The number of queries sent. The default chains the statements as unit ``CALL {}``
            subqueries of one query, which FalkorDB runs as one atomic unit (1 query).
        """
        if not statements:
            return 0
        parts, chained = [], {}
        for i, (cypher, rows) in enumerate(statements):
            parts.append("CALL {\n" + cypher.replace("$rows", f"$rows{i}") + "\n}")
            chained[f"rows{i}"] = list(rows)
        self.query("\n".join(parts) + "\nRETURN 1 AS done", {**chained, **params})
        return 1

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create indexes and constraints (idempotent)."""

    @abstractmethod
    def health(self) -> dict[str, Any]:
        """Backend facts: reachable, latency, node and relationship counts."""

    @abstractmethod
    def clear(self) -> None:
        """Delete every node and relationship of this graph (tests, `demo --fresh`)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections (and stop an embedded server this process started)."""

    def counts(self) -> dict[str, dict[str, int]]:
        """Counts per label and per relationship type."""
        labels = self.query(
            "MATCH (n) UNWIND labels(n) AS l RETURN l AS k, count(*) AS c", read_only=True
        )
        rels = self.query("MATCH ()-[r]->() RETURN type(r) AS k, count(*) AS c", read_only=True)
        return {
            "nodes": {r["k"]: r["c"] for r in sorted(labels, key=lambda r: r["k"])},
            "relationships": {r["k"]: r["c"] for r in sorted(rels, key=lambda r: r["k"])},
        }

    @property
    def adhoc_slots(self) -> int:
        """How many ad hoc queries (``graph.library.guard``) may run at once on this store."""
        return 2

    def adhoc_slot(self, wait_s: float) -> AbstractContextManager[None]:
        """Hold one of the ``adhoc_slots`` for a ``with`` block, waiting up to ``wait_s``.

        Ad hoc Cypher may run until its timeout (or past it, for work the engine cannot
        interrupt); the slots keep it from taking every engine thread the other reads need.
        Here one process's slots; the embedded store shares its slots among every process on
        the server (``FalkorStore.adhoc_slot``).

        Raises:
            StoreBusy: every slot stayed taken for ``wait_s`` seconds.
        """
        with self._slot_lock:
            if self._slots is None:
                self._slots = threading.BoundedSemaphore(self.adhoc_slots)
        return _semaphore_slot(self._slots, self.adhoc_slots, wait_s)

    _slot_lock = threading.Lock()
    _slots: threading.BoundedSemaphore | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _semaphore_slot(slots: threading.BoundedSemaphore, size: int, wait_s: float) -> Iterator[None]:
    if not slots.acquire(timeout=max(0.0, wait_s)):
        raise StoreBusy(f"all {size} ad hoc query slots are taken; try again shortly")
    try:
        yield
    finally:
        slots.release()


@dataclass(frozen=True)
class StoreConfig:
    """How to open a store. Built from settings at the edges (CLI, API), never from env here."""

    home: Path = Path(".actorgraph")
    graph: str = "actorgraph"
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"
    # How long the embedded store's clients wait on its server (Neo4j's driver has its own).
    timeouts: ClientTimeouts = field(default_factory=ClientTimeouts)
    extra: dict[str, Any] = field(default_factory=dict)


def open_store(config: StoreConfig) -> GraphStore:
    """Open Neo4j when ``neo4j_uri`` is set, else the embedded FalkorDB under ``home``."""
    if config.neo4j_uri:
        from actorgraph.graph.store.neo4j import Neo4jStore

        return Neo4jStore(
            config.neo4j_uri,
            user=config.neo4j_user,
            password=config.neo4j_password,
            database=config.neo4j_database,
        )
    from actorgraph.graph.store.falkor import FalkorStore

    return FalkorStore.embedded(config.home, graph=config.graph, timeouts=config.timeouts)


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def check_integers(params: dict[str, Any]) -> None:
    """Refuse integers outside 64 bits anywhere in the parameters.

    FalkorDB reads parameters from text and clamps such a number to the nearest 64-bit value
    without a word (2**63 arrives as 9223372036854775807), so a query would silently match or
    store another value than the one sent; the Neo4j driver fails with ``OverflowError``.

    Raises:
        ValidationError: naming the parameter and the value.
    """
    for name, value in params.items():
        bad = _outside_int64(value)
        if bad is not None:
            raise ValidationError(
                f"parameter ${name} holds {bad}, outside the 64-bit integer range the graph "
                f"can hold ({_INT64_MIN} to {_INT64_MAX})"
            )


def _outside_int64(value: Any) -> int | None:
    """The first integer outside 64 bits in ``value`` (lists and maps included), or None."""
    stack = [value]  # a loop, not recursion: parameters may nest deeply
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is float or item is None:  # most values: the cheap test first
            continue
        if isinstance(item, int):  # bool and IntEnum too; compared, never looked up in a range
            if not _INT64_MIN <= item <= _INT64_MAX:
                return int(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return None


def chunks(rows: Sequence[Row] | Iterable[Row], size: int) -> Iterator[list[Row]]:
    """Yield lists of at most ``size`` rows."""
    buf: list[Row] = []
    for row in rows:
        buf.append(row)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf
