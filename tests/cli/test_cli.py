"""The CLI contract of issue 2, through a real subprocess and the real embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import ag


def test_cypher_write_then_read_json(home: Path):
    ag(
        home,
        "cypher",
        "CREATE (:ThreatActor {id: $id, name: $name})",
        "--param",
        "id=intrusion-set--x",
        "--param",
        "name=APT 28 'quoted'",
        "--write",
    )
    out = ag(home, "cypher", "MATCH (a:ThreatActor) RETURN a.id AS id, a.name AS name", "--json")
    assert json.loads(out.stdout) == [{"id": "intrusion-set--x", "name": "APT 28 'quoted'"}]


def test_cypher_is_read_only_by_default(home: Path):
    proc = ag(home, "cypher", "CREATE (:ThreatActor {id: 'x'})", check=False)
    assert proc.returncode != 0
    assert "read-only" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads(ag(home, "cypher", "MATCH (n) RETURN count(n) AS c", "--json").stdout) == [
        {"c": 0}
    ]


def test_bad_param_and_syntax_errors_are_clean(home: Path):
    for args in (["cypher", "RETURN 1", "--param", "no-equals"], ["cypher", "MATCH (n RETURN n"]):
        proc = ag(home, *args, check=False)
        assert proc.returncode == 2 and proc.stderr.startswith("actorgraph: error:")
        assert "Traceback" not in proc.stderr


def test_stats_json_and_store_lifecycle(home: Path):
    ag(home, "store", "start")
    ag(
        home,
        "cypher",
        "UNWIND range(1, 3) AS i "
        "CREATE (:Malware {id: toString(i)})-[:USES]->(:Technique {id: 't' + toString(i)})",
        "--write",
    )
    stats = json.loads(ag(home, "stats", "--json").stdout)
    assert stats.pop("data")["warninglists"].startswith("misp-warninglists@")
    assert stats == {"nodes": {"Malware": 3, "Technique": 3}, "relationships": {"USES": 3}}
    status = json.loads(ag(home, "store", "status", "--json").stdout)
    assert (
        status["running"]
        and status["nodes"] == 6
        and status["relationships"] == 3
        and status["pid"] > 0
    )
    # An operator's own write carries no arrival time; `migrate` gives one, once.
    migrated = json.loads(ag(home, "store", "migrate", "--json").stdout)
    assert migrated == {"stamped": {"nodes": 6, "relationships": 3}}
    assert "on 0 nodes and 0 relationships" in ag(home, "store", "migrate").stdout
    assert "stopped" in ag(home, "store", "stop").stdout
    assert ag(home, "store", "status", check=False).returncode == 3


def test_sigterm_ends_a_command_as_ctrl_c_does_and_the_handler_is_restored():
    """SIGTERM (``timeout``, ``kill``) must run the command's cleanup, which stops an embedded
    store it started; Python's default handler kills the process without any."""
    import os
    import signal

    from actorgraph.cli import _stop_cleanly_on_sigterm

    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        replaced = _stop_cleanly_on_sigterm()
        assert replaced is signal.SIG_DFL
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0.1)  # let the handler run
        # Another handler (a server's) is left alone.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        assert _stop_cleanly_on_sigterm() is None
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_audit_limit_is_bounded(home: Path):
    for bad in ("0", "-1", "100000000000000000000"):
        proc = ag(home, "audit", "--limit", bad, check=False)
        assert proc.returncode == 2 and "must be 1 to 10,000" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
