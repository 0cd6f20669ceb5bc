"""The store layer against the real embedded FalkorDB."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from actorgraph.graph.errors import QueryError, QueryTimeout, ReadOnlyViolation, ValidationError
from actorgraph.graph.ingest.pending import PENDING_LABEL
from actorgraph.graph.schema import label
from actorgraph.graph.store import embedded
from actorgraph.graph.store.falkor import FalkorStore
from actorgraph.graph.tlp import TLP
from tests.helpers.backends import indexed
from tests.helpers.cli import run_python


def test_query_returns_plain_rows(store):
    store.query(
        "CREATE (:ThreatActor {id: $id, name: $name, aliases: $al})",
        {"id": "intrusion-set--1", "name": "APT28", "al": ["Fancy Bear", "Forest Blizzard"]},
    )
    rows = store.query("MATCH (a:ThreatActor) RETURN a, a.name AS name")
    assert rows == [
        {
            "a": {
                "_labels": ["ThreatActor"],
                "id": "intrusion-set--1",
                "name": "APT28",
                "aliases": ["Fancy Bear", "Forest Blizzard"],
            },
            "name": "APT28",
        }
    ]


def test_paths_and_relationships_are_dicts(store):
    store.query(
        "CREATE (:Campaign {id:'c'})-[:ATTRIBUTED_TO {confidence: 80}]->(:ThreatActor {id:'a'})"
    )
    row = store.query("MATCH p=(c:Campaign)-[r]->(a) RETURN p, r")[0]
    assert row["r"] == {"_type": "ATTRIBUTED_TO", "confidence": 80}
    assert [n["id"] for n in row["p"]["nodes"]] == ["c", "a"]


def test_parameters_round_trip_hostile_strings(store):
    nasty = "q\"uo'te \\back\nnl ünï 😀 `tick` $dollar }) DETACH DELETE (n"
    store.query("CREATE (:Indicator {id: $v})", {"v": nasty})
    assert store.query("MATCH (i:Indicator) RETURN i.id AS v") == [{"v": nasty}]


def test_read_only_refuses_writes_and_keeps_data(store):
    store.query("CREATE (:Malware {id: 'm1'})")
    with pytest.raises(ReadOnlyViolation):
        store.query("MATCH (m) DETACH DELETE m", read_only=True)
    assert store.query("MATCH (m:Malware) RETURN count(m) AS c") == [{"c": 1}]


def test_read_timeout(store):
    with pytest.raises(QueryTimeout):
        store.query(
            "UNWIND range(1, 100000) AS x UNWIND range(1, 1000) AS y "
            "WITH x, y WHERE (x + y) % 7 = 0 RETURN count(x)",
            read_only=True,
            timeout_ms=20,
        )


def test_syntax_error_is_query_error(store):
    with pytest.raises(QueryError, match="query failed"):
        store.query("MATCH (n RETURN n")


def test_write_batches_and_unique_id(store):
    rows = [{"id": f"m{i}", "name": f"mal{i}"} for i in range(2500)]
    sent = store.write_batches(
        "UNWIND $rows AS row MERGE (m:Malware {id: row.id}) SET m.name = row.name",
        rows,
        batch_size=1000,
    )
    assert sent == 2500
    store.write_batches("UNWIND $rows AS row MERGE (m:Malware {id: row.id})", rows)  # idempotent
    assert store.counts()["nodes"] == {"Malware": 2500}
    with pytest.raises(QueryError, match="unique"):
        store.query("CREATE (:Malware {id: 'm1'})")


def test_write_atomic_is_one_query_all_or_nothing(store):
    """FalkorDB: the statements chained into one query; Neo4j: the statements in one
    transaction. Either way a failing last one leaves nothing."""
    malware = "UNWIND $rows AS row MERGE (:Malware {id: row.id, tlp_level: $level})"
    tools = "UNWIND $rows AS row CREATE (:Tool {id: row.id})"
    good = [{"id": "m1"}, {"id": "m2"}]
    with pytest.raises(QueryError, match="unique"):
        store.write_atomic([(malware, good), (tools, [{"id": "t"}, {"id": "t"}])], level=1)
    assert store.counts() == {"nodes": {}, "relationships": {}}
    sent = store.write_atomic([(malware, good), (tools, [{"id": "t"}])], level=1)
    assert sent == {"falkordb": 1, "neo4j": 2}[store.backend]  # queries sent
    assert store.counts()["nodes"] == {"Malware": 2, "Tool": 1}


def test_schema_is_idempotent(store):
    store.ensure_schema()
    store.ensure_schema()
    assert ("Indicator", "value") in indexed(store)


def test_pending_references_are_indexed_by_their_key(store):
    """Ingest merges and deletes each pending reference by ``pending_id`` (an index lookup)."""
    assert (PENDING_LABEL, "pending_id") in indexed(store)


def test_label_whitelist_and_tlp():
    assert label("Campaign") == "`Campaign`"
    with pytest.raises(ValidationError, match="unknown label"):
        label("Campaign`) DETACH DELETE (x")
    assert [
        TLP.parse(x) for x in ("TLP:CLEAR", "white", "green", "amber", "amber+strict", "red")
    ] == [0, 0, 1, 2, 3, 4]
    with pytest.raises(ValidationError):
        TLP.parse("purple")


def test_embedded_lifecycle_attach_persist_and_lock(tmp_path: Path):
    home = tmp_path / "h"
    sock, started = embedded.start(home, auto=False)
    assert started and embedded.running(home)
    again, started_again = embedded.start(home, auto=True)  # a second start attaches
    assert again == sock and not started_again
    s = FalkorStore(sock, graph="g")
    s.query("CREATE (:Country {id: 'country:RU', code: 'RU'})")
    s.close()
    assert embedded.stop(home)
    assert not embedded.running(home)
    s2 = FalkorStore.embedded(home, graph="g")  # auto-start reloads the append-only file
    assert s2.query("MATCH (c:Country) RETURN c.code AS code") == [{"code": "RU"}]
    s2.close()  # last client of an auto-started server stops it
    assert not embedded.running(home)


def test_two_processes_share_one_server(tmp_path: Path):
    home = tmp_path / "h2"
    code = (
        "import sys; from actorgraph.graph.store.falkor import FalkorStore; "
        "from actorgraph.graph.store import embedded;"
        "s = FalkorStore.embedded(sys.argv[1], graph='g');"
        "s.query('CREATE (:Sector {id: $i})', {'i': sys.argv[2]});"
        "print(embedded.status(sys.argv[1])['pid']); s.close()"
    )
    embedded.start(home, auto=False)
    procs = [run_python("-c", code, str(home), f"s{i}", check=True) for i in range(3)]
    pids = {p.stdout.strip() for p in procs}
    assert len(pids) == 1
    s = FalkorStore.embedded(home, graph="g")
    assert s.query("MATCH (x:Sector) RETURN count(x) AS c") == [{"c": 3}]
    s.close()
    embedded.stop(home)


def test_neo4j_backend_is_selected_and_fails_cleanly_without_a_server():
    """No Neo4j runs here: selecting it must give a clear StoreUnavailable, not a traceback."""
    from actorgraph.graph.errors import StoreUnavailable
    from actorgraph.graph.store import StoreConfig, open_store

    with pytest.raises(StoreUnavailable, match="Neo4j"):
        open_store(StoreConfig(neo4j_uri="bolt://127.0.0.1:1", neo4j_password="x"))


def test_a_killed_embedded_server_is_restarted_from_its_log(tmp_path: Path):
    """SIGKILL of the server (an OOM kill, say): the next query restarts it and data survives."""
    import os
    import signal

    home = tmp_path / "killed"
    s = FalkorStore.embedded(home, graph="g")
    s.ensure_schema()
    s.query("UNWIND range(1, 500) AS i CREATE (:Indicator {id: 'ipv4:10.0.0.' + toString(i)})")
    # appendfsync always: what was acknowledged is on disk, no grace period needed
    pid = embedded.status(home)["pid"]
    os.kill(pid, signal.SIGKILL)
    assert s.query("MATCH (i:Indicator) RETURN count(i) AS c") == [{"c": 500}]
    assert embedded.status(home)["pid"] != pid
    s.close()
    embedded.stop(home)


def test_restart_after_a_large_ingest_is_fast(tmp_path: Path):
    """The append-only log is compacted to a snapshot on stop, so a restart loads, not replays."""
    import time

    home = tmp_path / "big"
    s = FalkorStore.embedded(home, graph="g")
    s.ensure_schema()
    rows = [{"id": f"sha256:{i:064x}", "m": f"m{i % 50}"} for i in range(20000)]
    s.query(
        "CALL { UNWIND $r AS row MERGE (:Indicator {id: row.id}) } "
        "CALL { UNWIND $r AS row MERGE (:Malware {id: row.m}) } "
        "CALL { UNWIND $r AS row MATCH (i:Indicator {id: row.id}) MATCH (m:Malware {id: row.m}) "
        "MERGE (i)-[:INDICATES]->(m) } RETURN 1 AS ok",
        {"r": rows},
    )
    s.close()  # last client: compacts and stops the auto-started server
    t0 = time.perf_counter()
    s2 = FalkorStore.embedded(home, graph="g")
    assert s2.query("MATCH ()-[r:INDICATES]->() RETURN count(r) AS c") == [{"c": 20000}]
    assert time.perf_counter() - t0 < 10  # replaying the raw log took minutes before compaction
    s2.close()


def test_reading_a_graph_never_written_is_empty(server):
    fresh = server.with_graph("never-written")
    assert fresh.query("MATCH (n) RETURN n", read_only=True) == []
    fresh.close()


def test_a_busy_server_is_waited_for_never_doubled(tmp_path: Path):
    """A live server that is slow to answer (stopped here with SIGSTOP for 2.5 s; on a loaded
    CI machine a long write or a starved process does the same) is waited for. Starting a
    second server on the same data directory would split the clients between two servers and
    lose the writes of one of them: this happened once in CI as a half-present bundle."""
    import os
    import signal
    import threading

    home = tmp_path / "busy"
    embedded.start(home, auto=False)
    pid = embedded.status(home)["pid"]
    with FalkorStore(embedded.ServerPaths(home.resolve()).socket, graph="g") as s:
        s.query("CREATE (:Sector {id: 'before'})")
    os.kill(pid, signal.SIGSTOP)
    wake = threading.Timer(2.5, os.kill, (pid, signal.SIGCONT))
    wake.start()
    try:
        _, started = embedded.start(home, auto=True, wait_s=30)
    finally:
        wake.join()
        os.kill(pid, signal.SIGCONT)
    assert not started
    assert embedded.status(home)["pid"] == pid
    with FalkorStore.embedded(home, graph="g") as s:
        s.query("CREATE (:Sector {id: 'after'})")
        assert s.query("MATCH (x:Sector) RETURN x.id AS id ORDER BY id") == [
            {"id": "after"},
            {"id": "before"},
        ]
    embedded.stop(home)
    assert not embedded.running(home)
    titles = []
    for p in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):  # exited meanwhile
            titles.append(Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace"))
    assert not [t for t in titles if "redis-server" in t and str(home.resolve()) in t]


def test_a_stuck_server_is_reported_not_replaced(tmp_path: Path):
    """A live server that never answers within ``wait_s``: a clear StoreUnavailable naming
    it, and the server is left alone (its data is not opened by a second one)."""
    import os
    import signal

    from actorgraph.graph.errors import StoreUnavailable

    home = tmp_path / "stuck"
    embedded.start(home, auto=False)
    pid = embedded.status(home)["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(StoreUnavailable, match=str(pid)):
            embedded.start(home, auto=True, wait_s=1.5)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert embedded.status(home)["pid"] == pid
    embedded.stop(home)


def test_a_timed_read_the_server_died_during_is_not_sent_again(tmp_path: Path):
    """A research query that runs the server out of memory would kill the restarted server
    too: the store restarts it and says so, without sending the query again."""
    import os
    import signal
    import threading
    import time

    from actorgraph.graph.errors import QueryError

    home = tmp_path / "died"
    s = FalkorStore.embedded(home, graph="g")
    s.ensure_schema()
    s.query("UNWIND range(1, 400) AS i CREATE (:Indicator {id: toString(i)})")
    pid = embedded.status(home)["pid"]
    slow = "MATCH (a), (b), (c) RETURN count(*) AS n"  # 64 million rows: seconds
    threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
    started = time.perf_counter()
    with pytest.raises(QueryError, match="stopped while this query ran"):
        s.query(slow, read_only=True, timeout_ms=20_000)
    assert time.perf_counter() - started < 5  # not run again on the new server
    assert embedded.status(home)["pid"] not in (None, pid)
    assert s.query("MATCH (i:Indicator) RETURN count(i) AS c", read_only=True, timeout_ms=5000) == [
        {"c": 400}
    ]
    s.close()
    embedded.stop(home)
