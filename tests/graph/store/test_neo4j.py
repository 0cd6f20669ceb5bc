"""The store contract on a real Neo4j 5 server (``neo4j_store``; skipped, saying why, without one).

The same promises as tests/graph/store/test_store.py makes for FalkorDB, plus what Neo4j does its
own way: the server refuses writes in READ access mode, enforces the transaction timeout, and
holds every constraint and index of ``cypher/schema.cypher`` after ``ensure_schema``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from actorgraph.graph.errors import (
    IngestError,
    QueryError,
    QueryTimeout,
    ReadOnlyViolation,
    StoreUnavailable,
    ValidationError,
)
from actorgraph.graph.ingest import ingest_paths
from actorgraph.graph.library.guard import run_guarded
from actorgraph.graph.schema import neo4j_statements
from actorgraph.graph.store import StoreConfig, open_store
from actorgraph.graph.store.neo4j import CLEAR, Neo4jStore, schema_names
from actorgraph.graph.tlp import TLP
from tests.helpers.backends import neo4j_env
from tests.helpers.cli import ag
from tests.helpers.paths import APT28_BUNDLE, FIXTURES

pytestmark = pytest.mark.neo4j

REFUSED = [
    "not_json.json",
    "not_a_bundle.json",
    "malformed_missing_pattern.json",
    "bad_pattern.json",
]


def test_query_returns_plain_rows(neo4j_store: Neo4jStore) -> None:
    neo4j_store.query(
        "CREATE (:ThreatActor {id: $id, name: $name, aliases: $al})",
        {"id": "intrusion-set--1", "name": "APT28", "al": ["Fancy Bear", "Forest Blizzard"]},
    )
    rows = neo4j_store.query("MATCH (a:ThreatActor) RETURN a, a.name AS name", read_only=True)
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


def test_paths_relationships_and_temporal_values_are_plain(neo4j_store: Neo4jStore) -> None:
    neo4j_store.query(
        "CREATE (:Campaign {id:'c'})-[:ATTRIBUTED_TO {confidence: 80}]->(:ThreatActor {id:'a'})"
    )
    row = neo4j_store.query(
        "MATCH p=(c:Campaign)-[r]->(a) RETURN p, r, date('2024-05-01') AS day", read_only=True
    )[0]
    assert row["r"] == {"_type": "ATTRIBUTED_TO", "confidence": 80}
    assert [n["id"] for n in row["p"]["nodes"]] == ["c", "a"]
    assert row["day"] == "2024-05-01"


def test_parameters_round_trip_hostile_strings(neo4j_store: Neo4jStore) -> None:
    nasty = "q\"uo'te \\back\nnl ünï 😀 `tick` $dollar }) DETACH DELETE (n"
    neo4j_store.query("CREATE (:Indicator {id: $v})", {"v": nasty})
    assert neo4j_store.query("MATCH (i:Indicator) RETURN i.id AS v") == [{"v": nasty}]


def test_the_server_itself_refuses_a_write_in_read_mode(neo4j_store: Neo4jStore) -> None:
    """No guard in front here: the READ access mode of the transaction is what refuses it."""
    neo4j_store.query("CREATE (:Malware {id: 'm1'})")
    with pytest.raises(ReadOnlyViolation, match="read access mode"):
        neo4j_store.query("MATCH (m) DETACH DELETE m", read_only=True)
    with pytest.raises(ReadOnlyViolation, match="read access mode"):
        neo4j_store.query("MERGE (:Malware {id: 'm2'})", read_only=True)
    assert neo4j_store.query("MATCH (m:Malware) RETURN m.id AS id") == [{"id": "m1"}]


def test_a_timed_read_is_refused_in_read_mode_too(neo4j_store: Neo4jStore) -> None:
    with pytest.raises(ReadOnlyViolation, match="read access mode"):
        neo4j_store.query("MERGE (:Malware {id: 'm3'})", read_only=True, timeout_ms=2000)
    assert neo4j_store.query("MATCH (m:Malware {id: 'm3'}) RETURN m") == []


def test_a_timed_read_that_fails_is_not_run_again(neo4j_store: Neo4jStore) -> None:
    """The driver retries a transaction function on transient errors for 30 s: a read that ran
    out of the server's transaction memory ran six times in 35 s against a 5 s limit."""
    import time

    filler = "x" * 2000
    started = time.perf_counter()
    with pytest.raises(QueryError, match="ran out of transaction memory"):
        neo4j_store.query(
            "UNWIND range(1, 1000000) AS a RETURN size(collect(toString(a) + $f)) AS s",
            {"f": filler},
            read_only=True,
            timeout_ms=5000,
        )
    assert time.perf_counter() - started < 10


def test_load_csv_cannot_read_the_servers_files_even_on_the_write_path(
    neo4j_store: Neo4jStore,
) -> None:
    """The read-only path refuses LOAD CSV before the server; ``--write`` Cypher (an operator's)
    reached the server, which read any file it could (FalkorDB reads none)."""
    with pytest.raises(QueryError, match="allow_csv_import_from_file_urls"):
        neo4j_store.query("LOAD CSV FROM 'file:///etc/hostname' AS l RETURN l AS line")


def test_the_server_enforces_the_transaction_timeout(neo4j_store: Neo4jStore) -> None:
    with pytest.raises(QueryTimeout, match="timed out"):
        neo4j_store.query(
            "UNWIND range(1, 100000) AS x UNWIND range(1, 1000) AS y "
            "WITH x, y WHERE (x + y) % 7 = 0 RETURN count(x)",
            read_only=True,
            timeout_ms=50,
        )


def test_ad_hoc_cypher_is_capped_and_refused_as_on_falkordb(neo4j_store: Neo4jStore) -> None:
    neo4j_store.query("UNWIND range(1, 50) AS i CREATE (:Malware {id: toString(i)})")
    rows, more = run_guarded(
        neo4j_store, "MATCH (m:Malware) RETURN m.id AS id ORDER BY id", timeout_ms=5000, row_cap=5
    )
    assert rows == [{"id": i} for i in ("1", "10", "11", "12", "13")] and more
    with pytest.raises(ValidationError, match="must end with RETURN"):
        run_guarded(neo4j_store, "MATCH (m:Malware)", timeout_ms=5000, row_cap=5)
    with pytest.raises(ReadOnlyViolation):
        run_guarded(neo4j_store, "MATCH (m) SET m.x = 1 RETURN m", timeout_ms=5000, row_cap=5)


def test_syntax_error_is_query_error(neo4j_store: Neo4jStore) -> None:
    with pytest.raises(QueryError, match="query failed"):
        neo4j_store.query("MATCH (n RETURN n")


def test_syntax_errors_are_one_line_as_on_falkordb(neo4j_store: Neo4jStore) -> None:
    # Neo4j's message went on with the query's line, quoted, and a caret under the column.
    with pytest.raises(QueryError) as info:
        neo4j_store.query("MATCH (n RETURN n", read_only=True, timeout_ms=5000)
    assert str(info.value).startswith("query failed: Invalid input 'RETURN': expected ")
    assert str(info.value).endswith("(line 1, column 10 (offset: 9))")
    with pytest.raises(QueryTimeout) as timeout:
        neo4j_store.query(
            "UNWIND range(1, 100000) AS x UNWIND range(1, 1000) AS y "
            "WITH x, y WHERE (x + y) % 7 = 0 RETURN count(x)",
            read_only=True,
            timeout_ms=50,
        )
    for error in (info.value, timeout.value):
        assert "\n" not in str(error) and str(error) == str(error).strip()


def test_unbounded_range_is_refused_before_the_server(neo4j_store: Neo4jStore) -> None:
    with pytest.raises(QueryError, match="refused"):
        neo4j_store.query("UNWIND range(1, 1000000000) AS x RETURN count(x)", read_only=True)


def test_write_batches_counts_and_unique_id(neo4j_store: Neo4jStore) -> None:
    rows = [{"id": f"m{i}", "name": f"mal{i}"} for i in range(2500)]
    merge = "UNWIND $rows AS row MERGE (m:Malware {id: row.id}) SET m.name = row.name"
    assert neo4j_store.write_batches(merge, rows, batch_size=1000) == 2500
    neo4j_store.write_batches(merge, rows)  # idempotent
    neo4j_store.query("MATCH (m:Malware {id: 'm1'}) MERGE (m)-[:USES]->(:Technique {id: 'T1059'})")
    assert neo4j_store.counts() == {
        "nodes": {"Malware": 2500, "Technique": 1},
        "relationships": {"USES": 1},
    }
    with pytest.raises(QueryError, match="unique"):
        neo4j_store.query("CREATE (:Malware {id: 'm1'})")


def test_a_failing_write_leaves_nothing_behind(neo4j_store: Neo4jStore) -> None:
    """One query is one transaction: the second CREATE fails, the first is rolled back."""
    with pytest.raises(QueryError, match="unique"):
        neo4j_store.query("CREATE (:Tool {id: 't1'}) WITH 1 AS one CREATE (:Tool {id: 't1'})")
    assert neo4j_store.counts() == {"nodes": {}, "relationships": {}}


def test_write_atomic_is_one_transaction_all_or_nothing(neo4j_store: Neo4jStore) -> None:
    """Several statements in one transaction: a failing last one rolls back the first."""
    malware = "UNWIND $rows AS row MERGE (:Malware {id: row.id, tlp_level: $level})"
    tools = "UNWIND $rows AS row CREATE (:Tool {id: row.id})"
    good = [{"id": "m1"}, {"id": "m2"}]
    with pytest.raises(QueryError, match="unique"):
        neo4j_store.write_atomic([(malware, good), (tools, [{"id": "t"}, {"id": "t"}])], level=1)
    assert neo4j_store.counts() == {"nodes": {}, "relationships": {}}
    assert neo4j_store.write_atomic([(malware, good), (tools, [{"id": "t"}])], level=1) == 2
    assert neo4j_store.counts()["nodes"] == {"Malware": 2, "Tool": 1}


def test_clear_empties_a_graph_larger_than_one_delete_transaction(
    neo4j_store: Neo4jStore,
) -> None:
    assert "IN TRANSACTIONS OF 10000 ROWS" in CLEAR
    neo4j_store.query(
        "UNWIND range(1, 25000) AS i CREATE (:Indicator {id: 'n' + toString(i)})"
        "-[:INDICATES]->(:Campaign {id: 'c' + toString(i)})"
    )
    assert neo4j_store.health()["nodes"] == 50000
    neo4j_store.clear()
    assert neo4j_store.counts() == {"nodes": {}, "relationships": {}}


def test_ensure_schema_creates_every_constraint_and_index(neo4j_store: Neo4jStore) -> None:
    neo4j_store.ensure_schema()  # again: idempotent
    have = neo4j_store.schema_objects()
    wanted = schema_names(neo4j_statements())
    assert len(wanted) == len(neo4j_statements())  # every DDL statement is named
    for kind, name in wanted:
        if kind == "CONSTRAINT":
            assert have["constraints"].get(name) == "UNIQUENESS", name
        else:
            assert have["indexes"].get(name) == "ONLINE", name
    assert sum(kind == "CONSTRAINT" for kind, _ in wanted) == 10


def test_health_names_the_server(neo4j_store: Neo4jStore) -> None:
    health = neo4j_store.health()
    assert health["backend"] == "neo4j" and health["reachable"] is True
    assert health["version"].startswith("5.") and health["edition"] == "community"


@pytest.mark.parametrize("name", REFUSED)
def test_refused_bundle_writes_nothing(neo4j_store: Neo4jStore, name: str) -> None:
    path = FIXTURES / "stix" / name
    with pytest.raises(IngestError) as info:
        ingest_paths(neo4j_store, [path], max_tlp=TLP.RED)
    assert str(path) in str(info.value)
    assert neo4j_store.counts() == {"nodes": {}, "relationships": {}}


def test_wrong_credentials_are_one_clear_error(neo4j_store: Neo4jStore) -> None:
    # A user name of its own: failed logins lock that user for a few seconds, not `neo4j`.
    with pytest.raises(StoreUnavailable, match="refused the credentials") as info:
        open_store(
            StoreConfig(
                neo4j_uri=neo4j_store.uri,
                neo4j_user="actorgraph-test-nobody",
                neo4j_password="wrong-password",
            )
        )
    assert neo4j_store.uri in str(info.value)


# -- the CLI on Neo4j: every command uses it when the NEO4J_* variables are set ------------------


def _ag(config: StoreConfig | None, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI on ``config``'s Neo4j, or (``None``) on a Neo4j address where nothing listens."""
    if config is not None:
        env = neo4j_env(config)
    else:
        env = {"NEO4J_URI": "bolt://127.0.0.1:1", "NEO4J_PASSWORD": "x"}
    return ag(home, *args, check=False, env=env)


def test_cli_ingest_stats_and_store_status_use_neo4j(
    neo4j_store: Neo4jStore, neo4j_settings: StoreConfig, tmp_path: Path
) -> None:
    config = neo4j_settings
    ingest = _ag(config, tmp_path, "ingest", str(APT28_BUNDLE), "--json")
    assert ingest.returncode == 0, ingest.stderr
    assert not (tmp_path / "falkordb").exists()  # no embedded server was started
    stats = json.loads(_ag(config, tmp_path, "stats", "--json").stdout)
    # Beside the counts, `stats` names the field data versions read (warninglists, galaxy...).
    assert set(stats.pop("data")) >= {"warninglists", "galaxy", "countries"}
    assert stats == neo4j_store.counts() and stats["nodes"]["ThreatActor"] == 1
    status = _ag(config, tmp_path, "store", "status", "--json")
    info = json.loads(status.stdout)
    assert status.returncode == 0 and info["backend"] == "neo4j" and info["running"] is True
    assert info["schema"]["constraints"] >= 10
    refused = _ag(config, tmp_path, "cypher", "MATCH (n) DETACH DELETE n")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    syntax = _ag(config, tmp_path, "cypher", "MATCH (n RETURN n")
    assert syntax.returncode == 2 and syntax.stderr.count("\n") == 1, syntax.stderr
    assert syntax.stderr.startswith("actorgraph: error: query failed: Invalid input 'RETURN'")
    assert neo4j_store.counts() == stats


def test_cli_on_a_neo4j_that_is_down_says_so_in_one_line(tmp_path: Path) -> None:
    """Runs without a server: nothing listens on port 1."""
    stats = _ag(None, tmp_path, "stats")
    assert stats.returncode == 2
    assert stats.stderr.count("\n") == 1 and "bolt://127.0.0.1:1" in stats.stderr
    assert "Traceback" not in stats.stderr
    status = _ag(None, tmp_path, "store", "status", "--json")
    assert status.returncode == 3
    assert json.loads(status.stdout)["running"] is False
