"""A server that stops answering: every wait on it is bounded and ends in a clear error.

The real FalkorDB server is stopped with SIGSTOP (it keeps its socket, accepts connections and
sends nothing, which is what a stuck server looks like to a client); start-up is tested against
a real process that listens on the socket and never replies (tests/helpers/fake_server.py).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from actorgraph.graph.errors import StoreUnavailable, StoreUnresponsive
from actorgraph.graph.store import ClientTimeouts, StoreConfig, embedded, open_store
from actorgraph.graph.store.falkor import FalkorStore
from tests.helpers import fake_server
from tests.helpers.cli import run_python
from tests.helpers.paths import ROOT

# Short enough for a test, long enough for a loaded 2-core machine to answer a live server.
SHORT = ClientTimeouts(ping_s=1.0, reply_s=1.5, bulk_s=2.5)


@contextmanager
def stopped(pid: int) -> Iterator[None]:
    """The process is stopped (SIGSTOP) inside the block and continued after it."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def _servers_of(home: Path) -> dict[int, str]:
    """Live processes that serve ``home``'s socket: pid -> command line."""
    needle = str(embedded.ServerPaths(home.resolve()).socket)
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # exited meanwhile
            continue
        if needle in cmdline:
            found[int(pid)] = cmdline
    return found


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A data directory whose servers (real or stand-in) are gone after the test, pass or fail."""
    home = tmp_path / "h"
    yield home
    for pid in _servers_of(home):
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGKILL)


def test_a_query_to_a_stopped_server_raises_store_unresponsive(home: Path):
    store = open_store(StoreConfig(home=home, graph="g", timeouts=SHORT))
    store.query("CREATE (:Sector {id: 'a'})")
    pid = embedded.status(home)["pid"]
    with stopped(pid), pytest.raises(StoreUnresponsive, match="no reply to a query") as err:
        store.query("MATCH (x:Sector) RETURN count(x) AS c", read_only=True)
    assert err.value.waited_s == SHORT.reply_s
    assert str(home.resolve() / "falkordb.log") in str(err.value)
    # Reported, not replaced: the same server answers again once it runs.
    assert embedded.status(home)["pid"] == pid
    assert store.query("MATCH (x:Sector) RETURN count(x) AS c") == [{"c": 1}]
    store.close()
    assert not embedded.running(home)


def test_writes_bulk_commands_and_health_checks_are_bounded_too(home: Path):
    embedded.start(home, auto=False)
    pid = embedded.status(home)["pid"]
    store = FalkorStore(embedded.ServerPaths(home.resolve()).socket, graph="g", timeouts=SHORT)
    with stopped(pid):
        with pytest.raises(StoreUnresponsive, match="no reply to a query") as write:
            store.query("CREATE (:Sector {id: 'a'})")
        with pytest.raises(StoreUnresponsive, match=r"GRAPH\.BULK") as bulk:
            store.execute_command("GRAPH.BULK", "g", "BEGIN", 0, 0, 0, 0)
        with pytest.raises(StoreUnresponsive, match="PING") as ping:
            store.health()
    assert (write.value.waited_s, bulk.value.waited_s, ping.value.waited_s) == (
        SHORT.reply_s,
        SHORT.bulk_s,
        SHORT.ping_s,
    )
    assert store.health()["reachable"]
    store.close()
    embedded.stop(home)


def test_a_bulk_command_may_outlast_the_query_reply_timeout(home: Path):
    """A GRAPH.BULK command waits up to ``bulk_s``: here its reply comes after the server was
    stopped for longer than ``reply_s``. No automatic AOF rewrite may start during it; the
    server's setting is back afterwards."""
    embedded.start(home, auto=False)
    pid = embedded.status(home)["pid"]
    timeouts = ClientTimeouts(reply_s=1.0, bulk_s=60.0)
    store = FalkorStore(embedded.ServerPaths(home.resolve()).socket, graph="g", timeouts=timeouts)
    os.kill(pid, signal.SIGSTOP)
    wake = threading.Timer(2 * timeouts.reply_s, os.kill, (pid, signal.SIGCONT))
    wake.start()
    try:
        reply = store.execute_command("GRAPH.BULK", "g", "BEGIN", 0, 0, 0, 0)
    finally:
        wake.join()
        os.kill(pid, signal.SIGCONT)
    assert "0 nodes created" in str(reply)
    assert store.execute_command("CONFIG", "GET", "auto-aof-rewrite-percentage") == [
        "auto-aof-rewrite-percentage",
        str(embedded.AOF_REWRITE_PERCENTAGE),
    ]
    store.close()
    embedded.stop(home)


def test_a_query_with_a_longer_engine_timeout_waits_longer_than_the_default():
    timeouts = ClientTimeouts(reply_s=300.0)
    assert timeouts.for_query(None) == 300.0
    assert timeouts.for_query(5_000) == 300.0
    assert timeouts.for_query(600_000) == 600.0 + embedded.ENGINE_GRACE_S


def test_a_silent_new_server_is_killed_and_started_again(tmp_path, monkeypatch, home):
    """The first server started never answers (FalkorDB has logged "Ready to accept
    connections" and then stayed silent); the second is the real one and is used."""
    real = embedded._binaries()
    silent = str(fake_server.executable(tmp_path, "silent"))
    launched: list[str] = []

    def binaries() -> tuple[str, str]:
        launched.append("silent" if not launched else "real")
        return (silent, real[1]) if len(launched) == 1 else real

    monkeypatch.setattr(embedded, "_binaries", binaries)
    socket_path, started = embedded.start(home, auto=False, wait_s=2.0)
    assert started and launched == ["silent", "real"]
    assert [c for c in _servers_of(home).values() if "fake-redis-server" in c] == []
    with FalkorStore(socket_path, graph="g") as store:
        assert store.query("RETURN 1 AS one") == [{"one": 1}]
    embedded.stop(home)
    assert _servers_of(home) == {}


def test_a_server_that_never_answers_gives_a_clear_error_after_bounded_tries(
    tmp_path, monkeypatch, home
):
    silent = str(fake_server.executable(tmp_path, "silent"))
    monkeypatch.setattr(embedded, "_binaries", lambda: (silent, "unused.so"))
    with pytest.raises(StoreUnavailable, match=r"did not answer within 1 s \(start 2 of 2,"):
        embedded.start(home, auto=False, wait_s=1.0, attempts=2)
    assert _servers_of(home) == {}  # each silent server was killed
    assert not embedded.running(home)


def test_a_server_whose_graph_engine_does_not_answer_is_not_ready(tmp_path, monkeypatch, home):
    """``PING`` is answered by redis itself; the start-up check also runs a graph query."""
    engine_silent = str(fake_server.executable(tmp_path, "engine-silent"))
    monkeypatch.setattr(embedded, "_binaries", lambda: (engine_silent, "unused.so"))
    with pytest.raises(StoreUnavailable, match=r"did not answer within 1 s \(start 1 of 1,"):
        embedded.start(home, auto=False, wait_s=1.0, attempts=1)
    assert _servers_of(home) == {}


def test_a_server_still_loading_its_data_is_waited_for(tmp_path, monkeypatch, home):
    """``LOADING`` replies (a large store being read from disk) are not silence: a server
    that answers LOADING for longer than ``wait_s`` is waited for, not killed."""
    loading = str(fake_server.executable(tmp_path, "loading"))
    monkeypatch.setattr(embedded, "_binaries", lambda: (loading, "unused.so"))
    assert fake_server.LOADING_S > 0.5
    _, started = embedded.start(home, auto=False, wait_s=0.5)
    assert started and embedded.running(home)
    embedded.stop(home)
    assert _servers_of(home) == {}


def test_a_server_loading_for_too_long_counts_as_silent(tmp_path, monkeypatch, home):
    loading = str(fake_server.executable(tmp_path, "loading"))
    monkeypatch.setattr(embedded, "_binaries", lambda: (loading, "unused.so"))
    with pytest.raises(StoreUnavailable, match=r"did not answer within 0.3 s \(start 1 of 1,"):
        embedded.start(home, auto=False, wait_s=0.3, load_wait_s=0.5, attempts=1)
    assert _servers_of(home) == {}


def test_the_test_run_stops_at_the_first_test_failed_by_a_stuck_server(tmp_path: Path):
    """tests/conftest.py: later tests would each wait a reply timeout on the same server."""
    (tmp_path / "test_two.py").write_text(
        "from actorgraph.graph.errors import StoreUnresponsive\n"
        "def test_stuck():\n"
        "    raise StoreUnresponsive('no reply to a query within 1 s', 1.0)\n"
        "def test_after():\n"
        "    pass\n"
    )
    # The suite's own ``tests`` package on the child's path, without the checkout's folders.
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "tests").symlink_to(ROOT / "tests")
    path = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(suite)]))
    out = run_python(
        "-m",
        "pytest",
        "-p",
        "tests.conftest",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(tmp_path),
        "-q",
        str(tmp_path / "test_two.py"),
        env={**os.environ, "PYTHONPATH": path},
    )
    assert out.returncode == pytest.ExitCode.INTERRUPTED, out.stdout + out.stderr
    assert "1 failed" in out.stdout and "passed" not in out.stdout
    assert "an embedded FalkorDB stopped answering" in out.stdout
