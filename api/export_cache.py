"""STIX exports kept per clearance, selection and graph state, so a repeat costs nothing.

A whole-graph export reads and serialises everything a key may see: about 2 s of CPU on the
demo world, for any reader. The serialised answer is kept under (graph, clearance, selection,
graph state) and served while the graph is unchanged.

The graph state is the store server's own write counter, so writes from any process (another
worker, ``actorgraph ingest`` on the same store) count. On FalkorDB that is Redis's
``rdb_changes_since_last_save`` (every query that changes data adds one; reads add nothing),
with the server's ``run_id`` and ``rdb_last_save_time`` because a restart or a save resets the
counter. A backend without such a counter (Neo4j) is not cached. The state is read before the
export is computed, so a write during the computation files the result under the old state,
where no later request looks. ``MAX_AGE_S`` bounds what a counter reset could ever hide (a
save, a write and a second save within one second).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from actorgraph.graph.errors import StoreError
from actorgraph.graph.store import GraphStore

__all__ = ["ExportCache", "exports", "graph_state"]

MAX_BYTES = 256 * 1024 * 1024  # the demo world's five clearances take about 60 MB
MAX_AGE_S = 600.0


State = tuple[Any, ...]
Key = tuple[State, Hashable]


def graph_state(store: GraphStore) -> State | None:
    """A value that changes whenever the store's graph may have changed; None when unknown.

    Its first member names the graph (server run and graph name), the rest its state.
    """
    # FalkorStore's extras (InstrumentedStore forwards them); other backends have none.
    command = getattr(store, "execute_command", None)
    if getattr(store, "backend", None) != "falkordb" or command is None:
        return None
    try:
        info = command("INFO", "server", "persistence")
    except StoreError:
        return None
    fields = ("rdb_last_save_time", "rdb_changes_since_last_save")
    if not isinstance(info, dict) or any(f not in info for f in ("run_id", *fields)):
        return None
    return ((info["run_id"], getattr(store, "graph_name", None)), *(info[f] for f in fields))


class ExportCache:
    """Serialised exports by key, least recently used first out, at most ``max_bytes``."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_age_s: float = MAX_AGE_S) -> None:
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self._entries: OrderedDict[Key, tuple[float, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._computing: dict[Key, threading.Lock] = {}

    def get(self, store: GraphStore, selection: Hashable, compute: Callable[[], bytes]) -> bytes:
        """The export of ``selection`` in the graph's current state, computed once per state.

        Concurrent requests for the same export wait for one computation. Errors of
        ``compute`` propagate and are not kept.
        """
        state = graph_state(store)
        if state is None:
            return compute()
        key: Key = (state, selection)
        with self._lock:
            flight = self._computing.setdefault(key, threading.Lock())
        with flight:
            hit = self._lookup(key)
            if hit is None:
                hit = compute()
                self._keep(key, hit)
        with self._lock:
            self._computing.pop(key, None)
        return hit

    def clear(self) -> None:
        """Forget every export."""
        with self._lock:
            self._entries.clear()
            self._size = 0

    def _lookup(self, key: Key) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[0] > self.max_age_s:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def _keep(self, key: Key, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        state = key[0]
        with self._lock:
            # Entries of an older state of the same graph are never asked for again.
            for old in [k for k in self._entries if k[0][0] == state[0] and k[0] != state]:
                self._drop(old)
            self._entries[key] = (time.monotonic(), value)
            self._size += len(value)
            while self._size > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: Key) -> None:
        _, value = self._entries.pop(key)
        self._size -= len(value)


exports = ExportCache()
"""The process's export cache (keys carry the graph, so apps on different graphs share it)."""
