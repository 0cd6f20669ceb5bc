"""Naming and merging a cluster: one atomic graph write each, and their audit entries
reconciled after a crash, on the real embedded store."""

from __future__ import annotations

import pytest

from actorgraph.graph.audit import AuditLog
from actorgraph.graph.decisions import Decider
from actorgraph.graph.errors import QueryError, ValidationError
from actorgraph.graph.provisional import merge_provisional, name_cluster
from actorgraph.graph.reconcile import reconcile
from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import FixtureGraph, node, rel, write_graph

KNOWN = "intrusion-set--known"
CAMPAIGNS = ["campaign--u1", "campaign--u2", "campaign--u3"]


class Crash(BaseException):
    """A process dying: no ``except Exception`` handler runs, so no outcome is written."""


@pytest.fixture
def world(store):
    nodes = [node("ThreatActor", KNOWN, name="Known")]
    nodes += [node("Campaign", cid, name=cid) for cid in CAMPAIGNS]
    rels = [rel(CAMPAIGNS[0], "PREDICTED_ACTOR", KNOWN, score=0.2, rank=1, model_version="v1")]
    write_graph(store, FixtureGraph(nodes, rels))
    return store


def _name(store, log, name="UNC-2026-001"):
    return name_cluster(
        store,
        log,
        Decider(decided_by="analyst-1", key_id="k1", max_tlp=TLP.CLEAR, origin="test"),
        campaign_ids=CAMPAIGNS,
        name=name,
        reason="same loader and C2 network",
        confidence=60,
    )


def _merge(store, log, actor_id, max_tlp=TLP.CLEAR):
    return merge_provisional(
        store,
        log,
        Decider(decided_by="analyst-2", key_id="k2", max_tlp=max_tlp, origin="test"),
        actor_id=actor_id,
        into=KNOWN,
        reason="the loader is Known's",
    )


def _state(store) -> dict:
    """What naming and merging write: provisional actors, decisions, analyst attributions."""
    actors = store.query(
        "MATCH (a:ThreatActor) WHERE a.provisional = true "
        "RETURN a.id AS id, a.merged_into AS into, a.merge_event AS event"
    )
    decided = store.query("MATCH (d:Decision) RETURN d.id AS id, d.actor_id AS actor ORDER BY id")
    attributed = store.query(
        "MATCH (c:Campaign)-[t:ATTRIBUTED_TO {source: 'analyst'}]->(a) "
        "RETURN c.id AS campaign, a.id AS actor ORDER BY campaign"
    )
    return {"actors": actors, "decisions": decided, "attributed": attributed}


def _writes(store, monkeypatch, crash_on: int | None = None) -> list[str]:
    """Count the store's write queries; with ``crash_on``, die just before that one (1-based)."""
    sent: list[str] = []
    query = store.query

    def counting(cypher, params=None, *, read_only=False, **kwargs):
        if not read_only:
            sent.append(cypher)
            if crash_on is not None and len(sent) == crash_on:
                raise Crash
        return query(cypher, params, read_only=read_only, **kwargs)

    monkeypatch.setattr(store, "query", counting)
    return sent


def _crash(store, monkeypatch, crash: str) -> None:
    """Let the process die ``"before the write"`` or ``"after the write"`` (before the audit
    outcomes). Any second write query dies too: naming and merging must have none."""
    if crash == "before the write":
        _writes(store, monkeypatch, crash_on=1)
    else:
        _writes(store, monkeypatch, crash_on=2)
        monkeypatch.setattr(AuditLog, "outcomes", lambda *a, **k: (_ for _ in ()).throw(Crash))


def _settled(log: AuditLog, store) -> list[dict]:
    assert reconcile(store, log, older_than_s=60) == 0  # may still be in flight
    events = log.events()
    assert {e["result"] for e in events} == {"pending"}
    assert reconcile(store, log, older_than_s=0) == len(events)
    assert reconcile(store, log, older_than_s=0) == 0  # settled once
    return log.events()


def test_naming_writes_the_actor_and_every_decision_in_one_query(world, tmp_path, monkeypatch):
    sent = _writes(world, monkeypatch)
    actor, decisions = _name(world, AuditLog(tmp_path / "audit.sqlite"))
    assert len(sent) == 1
    state = _state(world)
    assert [a["id"] for a in state["actors"]] == [actor["id"]]
    assert sorted(d["id"] for d in state["decisions"]) == sorted(d.id for d in decisions)
    assert state["attributed"] == [{"campaign": c, "actor": actor["id"]} for c in CAMPAIGNS]
    events = AuditLog(tmp_path / "audit.sqlite").events()
    assert sorted(e["action"] for e in events) == ["cluster.name"] + ["decision"] * 3
    assert {e["result"] for e in events} == {"ok"}


@pytest.mark.parametrize("crash", ["before the write", "after the write"])
def test_a_crash_mid_name_leaves_graph_and_log_consistent(world, tmp_path, monkeypatch, crash):
    path = tmp_path / "audit.sqlite"
    _crash(world, monkeypatch, crash)
    with pytest.raises(Crash):
        _name(world, AuditLog(path))
    monkeypatch.undo()

    state = _state(world)
    applied = crash == "after the write"
    # All of it or none of it: never an actor holding some of the campaigns.
    assert len(state["actors"]) == int(applied)
    assert len(state["decisions"]) == len(state["attributed"]) == 3 * int(applied)
    events = _settled(AuditLog(path), world)
    assert sorted(e["action"] for e in events) == ["cluster.name"] + ["decision"] * 3
    expected = "ok (reconciled)" if applied else "not applied (reconciled)"
    assert {e["result"] for e in events} == {expected}
    if applied:
        [named] = [e for e in events if e["action"] == "cluster.name"]
        assert named["event"] == state["actors"][0]["id"]
        assert {e["event"] for e in events if e["action"] == "decision"} == {
            d["id"] for d in state["decisions"]
        }
    # After the restart the analyst can simply name it again.
    if not applied:
        _name(world, AuditLog(path))
        assert len(_state(world)["attributed"]) == 3


@pytest.mark.parametrize("crash", ["before the write", "after the write"])
def test_a_crash_mid_merge_leaves_graph_and_log_consistent(world, tmp_path, monkeypatch, crash):
    actor, _ = _name(world, AuditLog(tmp_path / "named.sqlite"))
    path = tmp_path / "audit.sqlite"
    _crash(world, monkeypatch, crash)
    with pytest.raises(Crash):
        _merge(world, AuditLog(path), actor["id"])
    monkeypatch.undo()

    state = _state(world)
    applied = crash == "after the write"
    owner = KNOWN if applied else actor["id"]
    assert state["attributed"] == [{"campaign": c, "actor": owner} for c in CAMPAIGNS]
    [provisional] = state["actors"]
    assert provisional["into"] == (KNOWN if applied else None)
    assert len(state["decisions"]) == 3 + 3 * int(applied)
    events = _settled(AuditLog(path), world)
    assert sorted(e["action"] for e in events) == ["cluster.merge"] + ["decision"] * 3
    expected = "ok (reconciled)" if applied else "not applied (reconciled)"
    assert {e["result"] for e in events} == {expected}
    [merged] = [e for e in events if e["action"] == "cluster.merge"]
    assert (merged["event"] == provisional["event"]) is applied


def test_a_failure_inside_the_write_leaves_nothing(world, tmp_path, monkeypatch):
    write_atomic = world.write_atomic

    def failing(statements, **params):
        # A last statement that fails when it runs, after every statement of the unit before it.
        boom = ("UNWIND $rows AS row CREATE (:Boom {v: 1 / row.zero})", [{"zero": 0}])
        return write_atomic([*statements, boom], **params)

    monkeypatch.setattr(world, "write_atomic", failing)
    with pytest.raises(QueryError):
        _name(world, AuditLog(tmp_path / "audit.sqlite"))
    monkeypatch.undo()
    assert _state(world) == {"actors": [], "decisions": [], "attributed": []}
    events = AuditLog(tmp_path / "audit.sqlite").events()
    assert len(events) == 4 and all(e["result"].startswith("error: ") for e in events)


def test_a_cluster_is_merged_at_its_own_marking(world, tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite")
    actor, _ = _name(world, log)
    before = _state(world)
    # From above its marking, a merge would mark the clear node with a red decision.
    with pytest.raises(ValidationError, match="named at TLP:CLEAR: merge it with a key of that"):
        _merge(world, log, actor["id"], max_tlp=TLP.RED)
    assert _state(world) == before
    _merge(world, log, actor["id"])
    assert _state(world)["actors"][0]["into"] == KNOWN
