"""Analyst decisions and the audit log on the real embedded store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from actorgraph.graph import decisions
from actorgraph.graph.audit import AuditLog
from actorgraph.graph.confidence import describe
from actorgraph.graph.decisions import Decider, decide, decision_history
from actorgraph.graph.errors import NotFound, ValidationError
from actorgraph.graph.reconcile import reconcile
from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import FixtureGraph, node, rel, write_graph

A, B, HIDDEN = "intrusion-set--a", "intrusion-set--b", "intrusion-set--hidden"
PREDICTED, CLAIMED = "campaign--predicted", "campaign--claimed"


@pytest.fixture
def world(store):
    write_graph(
        store,
        FixtureGraph(
            [
                node("ThreatActor", A, name="A"),
                node("ThreatActor", B, name="B"),
                node("ThreatActor", HIDDEN, name="H", tlp_level=4, tlp="red"),
                node("Campaign", PREDICTED, name="stored activity"),
                node("Campaign", CLAIMED, name="reported op"),
                node("Campaign", "campaign--red", name="red op", tlp_level=4, tlp="red"),
            ],
            [
                rel(PREDICTED, "PREDICTED_ACTOR", A, score=0.6, rank=1, model_version="v1"),
                rel(PREDICTED, "PREDICTED_ACTOR", B, score=0.3, rank=2, model_version="v1"),
                rel(CLAIMED, "ATTRIBUTED_TO", A, sources=["report"], confidence=70),
            ],
        ),
    )
    return store


def _decide(store, log, max_tlp=TLP.CLEAR, **fields):
    base = {
        "campaign_id": PREDICTED,
        "actor_id": None,
        "reason": "checked the C2",
        "confidence": 75,
    }
    decider = Decider(decided_by="analyst-1", key_id="k1", max_tlp=max_tlp, origin="test")
    return decide(store, log, decider, **{**base, **fields})


def _attributed(store, campaign=PREDICTED):
    return store.query(
        "MATCH (:Campaign {id: $c})-[t:ATTRIBUTED_TO]->(a) RETURN a.id AS actor, "
        "t.decided_by AS by, t.model_version AS v, t.model_score AS score, t.reason AS reason, "
        "t.confidence AS confidence, t.tlp AS tlp",
        {"c": campaign},
    )


def test_confidence_reads_on_the_admiralty_and_icd203_scales():
    assert describe(85) == {
        "stix": 85,
        "admiralty": "1 - Confirmed by other sources",
        "icd203": "Very Likely / Highly Probable",
    }
    assert describe(50)["admiralty"] == "3 - Possibly True"
    assert describe(5)["icd203"] == "Almost No Chance / Remote"
    assert describe(None)["admiralty"] == "6 - Truth cannot be judged"
    with pytest.raises(ValidationError, match="got 101"):
        describe(101)


def test_accept_becomes_an_attribution_with_analyst_provenance(world, tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite")
    d = _decide(world, log, decision="accept")
    assert (d.actor_id, d.model_version, d.model_score, d.model_rank) == (A, "v1", 0.6, 1)
    [edge] = _attributed(world)
    assert edge == {
        "actor": A,
        "by": "analyst-1",
        "v": "v1",
        "score": 0.6,
        "reason": "checked the C2",
        "confidence": 75,
        "tlp": "clear",
    }
    [event] = log.events()
    assert (event["action"], event["target"], event["result"]) == ("decision", PREDICTED, "ok")
    assert event["event"] == d.id


def test_a_reversal_is_a_new_decision_and_the_newest_wins(world, tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite")
    _decide(world, log, decision="accept", created="2026-01-01T00:00:00.000001Z")
    _decide(world, log, decision="reject", actor_id=A, created="2026-01-02T00:00:00.000001Z")
    assert _attributed(world) == []  # the rejection withdrew the accepted attribution
    _decide(world, log, decision="attribute", actor_id=B, created="2026-01-03T00:00:00.000001Z")
    assert [e["actor"] for e in _attributed(world)] == [B]
    history = decision_history(world, PREDICTED, max_tlp=TLP.CLEAR)
    assert [(h["decision"], h["actor_id"]) for h in history] == [
        ("attribute", B),
        ("reject", A),
        ("accept", A),
    ]
    assert history[0]["model_rank"] == 2 and history[0]["confidence_scales"]["stix"] == 75
    assert world.query("MATCH (d:Decision) RETURN count(d) AS n")[0]["n"] == 3


def test_hidden_campaigns_and_actors_answer_like_missing_ones(world, tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite")
    for campaign, actor, what in [
        ("campaign--red", A, "no campaign 'campaign--red'"),
        ("campaign--nope", A, "no campaign 'campaign--nope'"),
        (PREDICTED, HIDDEN, f"no threat actor '{HIDDEN}'"),
        (PREDICTED, "intrusion-set--nope", "no threat actor 'intrusion-set--nope'"),
    ]:
        with pytest.raises(NotFound, match=what):
            _decide(world, log, campaign_id=campaign, decision="attribute", actor_id=actor)
    # Cleared for red, the same key's decision goes through and is marked red.
    d = _decide(world, log, decision="attribute", actor_id=HIDDEN, max_tlp=TLP.RED)
    assert d.tlp == "red"
    assert decision_history(world, PREDICTED, max_tlp=TLP.CLEAR) == []
    assert [e["result"].split(":")[0] for e in log.events()] == ["ok", *["refused"] * 4]


def _verdicts(store, campaign=PREDICTED, max_tlp=TLP.CLEAR):
    """The analyst verdicts a reader of ``max_tlp`` sees: (actor, reason, confidence, tlp)."""
    rows = store.query(
        "MATCH (:Campaign {id: $c})-[t:ATTRIBUTED_TO {source: 'analyst'}]->(a) "
        "WHERE coalesce(t.tlp_level, 0) <= $max_tlp AND coalesce(a.tlp_level, 0) <= $max_tlp "
        "RETURN a.id AS actor, t.reason AS reason, t.confidence AS confidence, t.tlp AS tlp "
        "ORDER BY tlp, actor",
        {"c": campaign, "max_tlp": int(max_tlp)},
    )
    return [(r["actor"], r["reason"], r["confidence"], r["tlp"]) for r in rows]


def test_a_decision_never_changes_a_verdict_of_another_marking(world, tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite")
    red = {"decision": "attribute", "reason": "red source", "confidence": 90, "max_tlp": TLP.RED}
    _decide(world, log, actor_id=A, **red)
    # A clear analyst's verdict does not overwrite (nor declassify) the red one...
    _decide(world, log, decision="attribute", actor_id=A, reason="clear look", confidence=10)
    assert _verdicts(world, max_tlp=TLP.RED) == [
        (A, "clear look", 10, "clear"),
        (A, "red source", 90, "red"),
    ]
    # ...and a red decision leaves the clear readers' verdict as it was: a reattribution to a
    # red actor, then a rejection of the clear verdict's actor.
    _decide(world, log, actor_id=HIDDEN, **red)
    _decide(world, log, **{**red, "decision": "reject"}, actor_id=A)
    assert _verdicts(world) == [(A, "clear look", 10, "clear")]
    assert _verdicts(world, max_tlp=TLP.RED) == [
        (A, "clear look", 10, "clear"),
        (HIDDEN, "red source", 90, "red"),
    ]
    # The clear analyst still replaces their own verdict.
    _decide(world, log, decision="attribute", actor_id=B, reason="clear look", confidence=10)
    assert _verdicts(world) == [(B, "clear look", 10, "clear")]


def test_refusals(world, tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite")
    with pytest.raises(ValidationError, match="attributed by a source"):
        _decide(world, log, campaign_id=CLAIMED, decision="attribute", actor_id=B)
    with pytest.raises(ValidationError, match="did not propose"):
        _decide(world, log, decision="accept", actor_id=HIDDEN, max_tlp=TLP.RED)
    with pytest.raises(ValidationError, match="reason"):
        _decide(world, log, decision="accept", reason="  ")
    with pytest.raises(ValidationError, match="confidence"):
        _decide(world, log, decision="accept", confidence=140)
    assert world.query("MATCH (d:Decision) RETURN count(d) AS n")[0]["n"] == 0


def test_the_audit_log_is_append_only_and_survives_reopening(tmp_path):
    path = tmp_path / "audit.sqlite"
    AuditLog(path).record(who="cli:me", action="key.create", target="k1", origin="cli", result="ok")
    reopened = AuditLog(path)
    [event] = reopened.events()
    assert (event["who"], event["action"], event["result"]) == ("cli:me", "key.create", "ok")
    with sqlite3.connect(path) as db, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE records SET result = 'forged'")
    with sqlite3.connect(path) as db, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM records")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


class Crash(BaseException):
    """A process dying: no ``except Exception`` handler runs, so no outcome is written."""


@pytest.mark.parametrize("crash_after_graph_write", [False, True])
def test_a_crash_mid_decision_leaves_graph_and_log_consistent(
    world, tmp_path: Path, monkeypatch, crash_after_graph_write: bool
):
    path = tmp_path / "audit.sqlite"

    def crash(*args, **kwargs):
        raise Crash

    if crash_after_graph_write:
        monkeypatch.setattr(AuditLog, "outcome", crash)
    else:
        monkeypatch.setattr(decisions, "apply_decision", crash)
    with pytest.raises(Crash):
        _decide(world, AuditLog(path), decision="accept")
    monkeypatch.undo()

    restarted = AuditLog(path)
    [event] = restarted.events()
    assert event["result"] == "pending"
    in_graph = world.query("MATCH (d:Decision) RETURN d.id AS id")
    # The graph change is atomic: all of it or none, never an attribution without its record.
    assert len(_attributed(world)) == len(in_graph) == int(crash_after_graph_write)
    assert reconcile(world, restarted, older_than_s=60) == 0  # may still be in flight
    assert reconcile(world, restarted, older_than_s=0) == 1
    [event] = restarted.events()
    expected = "ok (reconciled)" if crash_after_graph_write else "not applied (reconciled)"
    assert event["result"] == expected
    assert [r["id"] for r in in_graph] == ([event["event"]] if crash_after_graph_write else [])
    assert reconcile(world, restarted, older_than_s=0) == 0  # settled once
