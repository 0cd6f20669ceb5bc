"""What the embedded store bounds and protects (issue 18, findings 7 and 12).

- The engine is loaded with a per-query memory cap and more threads than ad hoc Cypher may use.
- A query past the memory cap ends with a clear error and the server survives.
- Ad hoc Cypher has its own budget of engine slots, shared by every process on the server.
- Integers outside 64 bits are refused, never clamped.
- The store's files (the whole graph, red included) are readable by their owner only.

Memory-hungry queries only ever go to a server started here under an address-space limit, so a
regression cannot take the whole machine's memory.
"""

from __future__ import annotations

import os
import resource
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import redis

from actorgraph.graph.errors import QueryError, StoreBusy, ValidationError
from actorgraph.graph.store import GraphStore, embedded
from actorgraph.graph.store.falkor import FalkorStore
from tests.helpers.cli import run_python

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def _config(socket_path: Path) -> dict[str, object]:
    client = redis.Redis(unix_socket_path=str(socket_path))
    try:
        pairs = client.execute_command("GRAPH.CONFIG", "GET", "*")
    finally:
        client.close()
    return {name.decode(): value for name, value in pairs}


# -- engine limits ---------------------------------------------------------------------------


def test_the_engine_runs_with_a_query_memory_cap_and_threads_to_spare(
    server: FalkorStore,
) -> None:
    config = _config(server.socket_path)
    # Unlimited (0), one string-doubling query can take the server to gigabytes.
    assert 0 < int(config["QUERY_MEM_CAPACITY"]) <= 4 << 30, config
    # With two threads (the machine's cores), two ad hoc queries can block every API read.
    threads = int(config["THREAD_COUNT"])
    assert threads >= 4, config
    assert 1 <= server.adhoc_slots <= threads // 2


START_SERVER = (
    "import sys; from pathlib import Path; from actorgraph.graph.store import embedded; "
    "embedded.start(Path(sys.argv[1]))"
)


@contextmanager
def _limited_server(home: Path, limit_bytes: int) -> Iterator[FalkorStore]:
    """The embedded server of ``home`` under an address-space limit (inherited by exec)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    run_python("-c", START_SERVER, str(home), check=True, timeout=60, preexec_fn=limit)
    store = FalkorStore(embedded.ServerPaths(home.resolve()).socket, graph="limits")
    try:
        yield store
    finally:
        store.close()
        embedded.stop(home)


@pytest.mark.slow
def test_a_query_past_the_memory_cap_ends_with_a_clear_error_and_the_server_survives(
    tmp_path: Path,
) -> None:
    """3 GB of strings against the 2 GiB cap, under an 8 GiB address-space limit.

    FalkorDB 4.16 acts on its cap between records: this query (one aggregation) ran to its end
    before the error came back, so the cap turns such a query into an error, while the time
    it may take is bounded by the timeout (tests/graph/library/test_adhoc_limits.py).
    """
    home = tmp_path / "mem"
    with _limited_server(home, 8 << 30) as store:
        store.query("CREATE (:Country {id: 'country:RU'})")
        t0 = time.perf_counter()
        with pytest.raises(QueryError, match="more memory than the engine allows") as info:
            store.query(
                "UNWIND range(1, 600000) AS x RETURN size(collect($pad + toString(x))) AS n",
                {"pad": "x" * 5000},
                read_only=True,
                timeout_ms=60_000,
            )
        elapsed = time.perf_counter() - t0
        print(f"query past the memory cap refused after {elapsed:.2f} s: {info.value}")
        assert embedded.running(home)
        assert store.query("MATCH (n) RETURN count(n) AS c", read_only=True) == [{"c": 1}]


# -- the ad hoc budget -----------------------------------------------------------------------


def test_adhoc_queries_beyond_the_budget_wait_briefly_then_are_refused(
    server: FalkorStore,
) -> None:
    slots = server.adhoc_slots
    other = server.with_graph("limits-other")  # another connection to the same server
    try:
        with ExitStack() as held:
            for _ in range(slots):
                held.enter_context(server.adhoc_slot(wait_s=1.0))
            t0 = time.perf_counter()
            with pytest.raises(StoreBusy, match="ad hoc"), other.adhoc_slot(wait_s=0.3):
                pass
            waited = time.perf_counter() - t0
            assert 0.25 < waited < 2.0, waited
        # Released: a slot is free again at once.
        with other.adhoc_slot(wait_s=0.0):
            pass
    finally:
        other.close()


def test_a_freed_slot_goes_to_a_waiting_query(server: FalkorStore) -> None:
    slots = server.adhoc_slots
    got: list[float] = []
    with ExitStack() as held:
        for _ in range(slots):
            held.enter_context(server.adhoc_slot(wait_s=1.0))

        def waiter() -> None:
            t0 = time.perf_counter()
            with server.adhoc_slot(wait_s=5.0):
                got.append(time.perf_counter() - t0)

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.3)
        assert not got
    thread.join(timeout=10)
    assert got and got[0] < 2.0, got


# -- integers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [INT64_MAX + 1, INT64_MIN - 1, 10**30, [1, 2**70], {"a": {"b": 2**64}}],
    ids=["max+1", "min-1", "1e30", "in-a-list", "in-a-map"],
)
def test_integer_parameters_outside_64_bits_are_refused(store: GraphStore, value: object) -> None:
    # FalkorDB clamped these to the nearest 64-bit value and answered as if nothing happened.
    with pytest.raises(ValidationError, match="64-bit"):
        store.query("RETURN $x AS v", {"x": value}, read_only=True)


def test_integer_parameters_at_the_64_bit_bounds_pass(store: GraphStore) -> None:
    rows = store.query("RETURN $hi AS hi, $lo AS lo", {"hi": INT64_MAX, "lo": INT64_MIN})
    assert rows == [{"hi": INT64_MAX, "lo": INT64_MIN}]


@pytest.mark.parametrize(
    "literal", ["9223372036854775808", "99999999999999999999", "0x1" + "0" * 16]
)
def test_integer_literals_outside_64_bits_are_refused(store: GraphStore, literal: str) -> None:
    # FalkorDB says "overflow", Neo4j "integer is too large".
    with pytest.raises(QueryError, match=r"(?i)overflow|64-bit|too large"):
        store.query(f"RETURN {literal} AS v", read_only=True)


# -- row cap ---------------------------------------------------------------------------------


def test_max_rows_stops_the_engine_at_the_cap(store: GraphStore) -> None:
    # A million million rows: only an engine that stops at the cap answers before the timeout.
    rows = store.query(
        "UNWIND range(1, 1000000) AS x UNWIND range(1, 1000000) AS y RETURN x, y",
        read_only=True,
        timeout_ms=20_000,
        max_rows=3,
    )
    assert rows == [{"x": 1, "y": 1}, {"x": 1, "y": 2}, {"x": 1, "y": 3}]


def test_max_rows_keeps_unnamed_columns_order_and_short_results(store: GraphStore) -> None:
    rows = store.query(
        "UNWIND [3, 1, 2] AS x RETURN x * 10, x ORDER BY x DESC", read_only=True, max_rows=10
    )
    assert rows == [{"x * 10": 30, "x": 3}, {"x * 10": 20, "x": 2}, {"x * 10": 10, "x": 1}]
    assert store.query("UNWIND [1, 2] AS x RETURN x", max_rows=0, read_only=True) == []


# -- file modes ------------------------------------------------------------------------------


def _loose(home: Path) -> list[str]:
    """Everything under ``home`` that its group or others may read, write or enter."""
    found = []
    for path in [home, *home.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_IMODE(mode) & 0o077:
            found.append(f"{path.relative_to(home.parent)} {stat.filemode(mode)}")
    return found


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_the_store_files_are_private_to_their_owner(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with _umask(0o022):  # the usual umask: files 0644, directories 0755
        socket_path, _ = embedded.start(home)
        store = FalkorStore(socket_path, graph="private")
        try:
            store.query("CREATE (:Campaign {id: 'campaign--red', tlp_level: 4})")
            assert embedded.compact(socket_path)  # writes the snapshot (RDB preamble) too
        finally:
            store.close()
        try:
            files = sorted(p.name for p in (home / "data").rglob("*") if p.is_file())
            assert any(name.endswith(".aof") for name in files), files
            assert _loose(home) == []
        finally:
            embedded.stop(home)
        assert _loose(home) == []


def test_an_existing_store_with_loose_modes_is_tightened_at_start(tmp_path: Path) -> None:
    home = tmp_path / "old"
    (home / "data" / "appendonlydir").mkdir(parents=True)
    for path in (home, home / "data", home / "data" / "appendonlydir"):
        path.chmod(0o755)
    for name in ("falkordb.log", "server.lock", "data/dump.rdb"):
        (home / name).write_text("")
        (home / name).chmod(0o644)
    try:
        embedded.start(home)
        assert _loose(home) == []
    finally:
        embedded.stop(home)
