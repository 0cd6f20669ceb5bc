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

import math
import re
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
        elements exhaust the server's memory), ``LOAD CSV`` fetches URLs even on FalkorDB's
        read-only path, and FalkorDB's parse time doubles with each level of nested brackets
        before its timeout starts (``lexer.MAX_NESTING``). All three are refused here, on every
        backend and every path (a hang is one whether the query reads or writes), before the
        engine sees them.

        Parameter values the graph cannot hold are refused too (``check_values``): integers
        outside 64 bits, NUL characters, lone surrogates, NaN and infinities, lists and maps
        nested deeper than ``MAX_PARAM_DEPTH``, and names or map keys a client cannot send.

        Raises:
            QueryError: a ``range()`` that is, or may be, longer than ``lexer.MAX_RANGE``;
                brackets nested deeper than ``lexer.MAX_NESTING``.
            ReadOnlyViolation: ``LOAD CSV`` on a read-only query.
            ValidationError: a parameter value the graph cannot hold.
        """
        try:
            lexer.check_nesting(cypher)
            lexer.check_bounded(cypher, params)
        except ValidationError as exc:
            raise QueryError(f"query refused: {exc}", cypher) from exc
        if read_only and lexer.has_load_csv(cypher):
            raise ReadOnlyViolation("LOAD CSV is not allowed on a read-only path", cypher)
        if params:
            check_values(params)

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
# What a string must not hold; one search, since most strings hold neither.
_NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")
_FLOAT_PROBLEM = "is {!r}: the graph store cannot hold NaN or infinite numbers"
_SHOWN = 40  # characters of a bad string quoted in the error, around the bad one

MAX_PARAM_DEPTH = 32
"""How deep lists and maps may nest in one parameter value (``[[1]]`` is 2 deep).

Both clients write a parameter by recursion: falkordb-py's text writer gave up with Python's
"maximum recursion depth exceeded" at about 400 levels of lists, and the server answered "Max
nesting depth exceeded" to maps 900 deep; both came back as a bare "query failed". What
actorgraph sends itself nests at most 4 deep (``$rows`` -> row -> properties -> a list), and a
research parameter has no use for more than a few levels, so the bound sits far below every
recursion limit on either backend."""


def check_values(params: dict[str, Any]) -> None:
    """Refuse parameter values the graph cannot hold, anywhere in lists and maps.

    - Integers outside 64 bits: FalkorDB reads parameters from text and clamps such a number to
      the nearest 64-bit value without a word (2**63 arrives as 9223372036854775807), so a
      query would silently match or store another value; the Neo4j driver raises a bare
      ``OverflowError``.
    - Strings holding a NUL character: FalkorDB's client writes parameters into the query
      text, which the server reads only up to the first NUL, and then reports a syntax error
      in internal text nobody wrote.
    - Strings holding a surrogate code point (half of a UTF-16 pair, which lax decoders leave
      behind): UTF-8 cannot encode it, so neither client can send it.
    - NaN and infinities: FalkorDB's client writes them as ``nan`` and ``inf``, which the
      server cannot read.
    - Lists and maps nested deeper than ``MAX_PARAM_DEPTH``: both clients recurse into them.
    - Parameter names and map keys that are not strings, are empty, or hold a backtick, a NUL
      or a lone surrogate: FalkorDB's client writes them backtick-quoted into the query text
      and has no escape for a backtick (it raises ``ValueError``), and the Neo4j driver
      raises ``TypeError`` on a key that is not a string.

    Neo4j could hold NUL characters, NaN, backticks in keys and deep nesting; they are refused
    on both backends so that an input gets the same answer on either, and data can move
    between them. The walk is a loop, not recursion, so no input is too deep to be refused.

    Raises:
        ValidationError: naming the parameter, where in it the value is (``$rows[3].name``,
            and the ``id`` of the map holding it, if any), the value and why; for nesting, how
            deep the value nests and the bound.
    """
    for name, value in params.items():
        if (why := _key_problem(name)) is not None:
            raise ValidationError(f"parameter name {name!r} {why}")
        found = _unholdable(value)
        if found is None:
            continue
        bad, reason = found
        if reason is _TOO_DEEP:
            # Walked once each, a list or map reached along two paths may count the shorter.
            depth = _depth(value)
            shown = depth if depth > MAX_PARAM_DEPTH else f"more than {MAX_PARAM_DEPTH}"
            raise ValidationError(
                f"parameter ${name} nests lists and maps {shown} deep; at most "
                f"{MAX_PARAM_DEPTH} levels are allowed (the graph store's clients write a "
                "parameter by recursion)"
            )
        raise ValidationError(f"parameter ${name}{_where(value, bad)} {reason}")


_TOO_DEEP = "nested too deep"  # compared by identity: _unholdable's sign for the depth bound


def _unholdable(value: Any) -> tuple[Any, str] | None:
    """The first value in ``value`` the graph cannot hold, and why; or None.

    A map whose key is refused is the value returned. ``_TOO_DEEP`` as the reason: lists and
    maps nest deeper than ``MAX_PARAM_DEPTH``.
    """
    # Level by level, a loop rather than recursion (parameters may nest deeply): the depth of
    # every value is its level's, with no depth kept per value.
    level, depth = [value], 0
    while level:
        below: list[Any] = []
        nests = False  # whether this level holds a list or map, even an empty one
        for item in level:
            kind = type(item)
            # Most values are plain ASCII strings and small numbers: those tests first, inline
            # (a write batch holds tens of thousands of values).
            if kind is str and item.isascii() and "\x00" not in item:
                continue
            if isinstance(item, str):
                reason = _string_problem(item)
            elif isinstance(item, float):
                reason = None if math.isfinite(item) else _FLOAT_PROBLEM.format(item)
            elif item is None:
                continue
            elif isinstance(item, int):  # bool and IntEnum too; compared, never looked up
                reason = None if _INT64_MIN <= item <= _INT64_MAX else _int_problem(int(item))
            elif isinstance(item, dict):
                for key in item:
                    if (why := _key_problem(key)) is not None:
                        return item, f"has the map key {key!r}, which {why}"
                below.extend(item.values())
                nests = True
                continue
            elif isinstance(item, (list, tuple)):
                below.extend(item)
                nests = True
                continue
            else:
                continue
            if reason is not None:
                return item, reason
        depth += nests
        if depth > MAX_PARAM_DEPTH:
            return value, _TOO_DEEP
        level = below
    return None


def _key_problem(key: Any) -> str | None:
    """Why a parameter name or map key cannot be sent, or None."""
    if not isinstance(key, str):
        return f"is of type {type(key).__name__}, not a string (the Neo4j driver takes no other)"
    if not key:
        return "is empty (FalkorDB's client cannot send an empty name)"
    if "`" in key:
        return (
            "holds a backtick (FalkorDB's client writes names backtick-quoted into the query "
            "and cannot escape one)"
        )
    return _string_problem(key)


def _depth(value: Any) -> int:
    """How deep lists and maps nest in ``value``: a loop, so any depth can be measured, that
    walks each list and map once, so a list that holds itself ends the walk too."""
    level, depth, seen = [value], 0, set()
    while level:
        below: list[Any] = []
        nests = False
        for item in level:
            if isinstance(item, (dict, list, tuple)):
                nests = True
                if id(item) not in seen:
                    seen.add(id(item))
                    below.extend(item.values() if isinstance(item, dict) else item)
        depth += nests
        level = below
    return depth


def _string_problem(text: str) -> str | None:
    bad = _NUL_OR_SURROGATE.search(text)
    if bad is None:
        return None
    start = max(0, bad.start() - _SHOWN // 2)
    shown = f"{text[start : start + _SHOWN]!r}" + ("..." if len(text) > start + _SHOWN else "")
    if bad.group() == "\x00":
        return (
            f"holds a NUL character at index {bad.start()} ({shown}): the graph store cannot "
            "hold NUL characters"
        )
    return (
        f"holds a lone surrogate U+{ord(bad.group()):04X} at index {bad.start()} ({shown}), "
        "which UTF-8 cannot encode"
    )


def _int_problem(value: int) -> str:
    return (
        f"holds {value}, outside the 64-bit integer range the graph can hold "
        f"({_INT64_MIN} to {_INT64_MAX})"
    )


def _where(value: Any, bad: Any) -> str:
    """Where ``bad`` (the very object) lies in ``value``, as it reads after the parameter's
    name: ``[3].props.name (of id 'report--1')``, naming the nearest map around it with an id.

    Looked for only once a value is refused, so the walk that finds it keeps no paths.
    """
    # (item, path to it, id of the nearest map around it), depth first.
    stack: list[tuple[Any, str, Any]] = [(value, "", None)]
    while stack:
        item, path, owner = stack.pop()
        if item is bad:
            return path + (f" (of id {owner!r})" if owner is not None else "")
        if isinstance(item, dict):
            own = item.get("id")
            owner = own if isinstance(own, str) and own is not bad else owner
            stack.extend((v, path + _step(k), owner) for k, v in item.items())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{path}[{i}]", owner) for i, v in enumerate(item))
    return ""


def _step(key: Any) -> str:
    return f".{key}" if isinstance(key, str) and key.isidentifier() else f"[{key!r}]"


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
