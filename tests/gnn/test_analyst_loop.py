"""The analyst loop (issue 19): a wrong ranking, one analyst decision, retraining, a right one.

The decision is an ``ATTRIBUTED_TO`` edge with analyst provenance, and training reads every
``ATTRIBUTED_TO`` edge as a label: the decided campaign becomes a labelled example with no
change to training.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from actorgraph.gnn import artefacts
from actorgraph.gnn.activity import activity_from_simple
from actorgraph.gnn.attribute import Attributor
from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.evaluate import analyst_campaigns, leave_one_campaign_out
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.audit import AuditLog
from actorgraph.graph.decisions import Decider, Decision, decide
from actorgraph.graph.tlp import TLP
from tests.helpers.attribution_world import attribution_world
from tests.helpers.graphs import FixtureGraph, node, write_graph

CONFIG = TrainConfig(seed=3, epochs=40, episodes=4, dim=16)
TRUTH = "intrusion-set--Z"


def _world(store) -> None:
    # A new malware family and its C2 domain, known to the graph but tied to no actor yet.
    world = attribution_world()
    extra = [
        node("Malware", "malware--novaq", name="NovaQ", aliases=["NovaQ"]),
        node("Indicator", "domain:nova-c2.example", kind="domain", value="nova-c2.example"),
        node("Indicator", "domain:nova-update.example", kind="domain", value="nova-update.example"),
    ]
    write_graph(store, FixtureGraph([*world.nodes, *extra], world.rels))


def _nova(indicator: str, n: int):
    """Activity of the new malware family with one C2 name."""
    return activity_from_simple(
        {"malware": ["NovaQ"], "indicators": [indicator], "name": f"nova {n}"}
    )


def _rank(attributor: Attributor, activity, actor: str) -> int:
    result = attributor.attribute(activity, max_tlp=TLP.RED, top_k=4)
    return next(c.rank for c in result.candidates if c.actor_id == actor)


def _trained(store, models: Path) -> Attributor:
    artefacts.save(train(export_graph(store, max_tlp=TLP.RED), CONFIG), models)
    return Attributor.load(models, store, max_tlp=TLP.RED)


def test_one_decision_and_retraining_rank_the_next_similar_activity_right(store, tmp_path):
    _world(store)
    models = tmp_path / "models"
    before = _trained(store, models)
    first, following = _nova("nova-c2.example", 1), _nova("nova-update.example", 2)
    rank_first_before = _rank(before, first, TRUTH)
    rank_next_before = _rank(before, following, TRUTH)
    assert rank_first_before > 1 and rank_next_before > 1

    result = before.attribute(first, max_tlp=TLP.RED, top_k=4)
    campaign = before.persist(first, result, max_tlp=TLP.RED)
    # The control: retraining with the activity stored but undecided changes nothing.
    assert _rank(_trained(store, models), following, TRUTH) == rank_next_before
    decision = _decide(store, tmp_path, campaign, "attribute", TRUTH)
    assert decision.model_rank == rank_first_before  # the hypothesis it overrode
    assert decision.model_version == before.version
    assert export_graph(store, max_tlp=TLP.RED).labels()[campaign] == TRUTH

    after = _trained(store, models)
    assert after.version != before.version
    rank_next_after = _rank(after, following, TRUTH)
    print(
        f"rank of the true actor: first {rank_first_before}, next {rank_next_before} -> "
        f"{rank_next_after} after one decision and retraining"
    )
    assert rank_next_after == 1


def _decide(store, tmp_path: Path, campaign: str, decision: str, actor: str) -> Decision:
    return decide(
        store,
        AuditLog(tmp_path / "audit.sqlite"),
        Decider(decided_by="analyst-test", key_id=None, max_tlp=TLP.RED, origin="test"),
        campaign_id=campaign,
        decision=decision,
        actor_id=actor,
        reason="analyst review",
        confidence=70,
    )


def _score(attributor: Attributor, activity, actor: str) -> float:
    result = attributor.attribute(activity, max_tlp=TLP.RED, top_k=10, evidence=False)
    return next(c.score for c in result.candidates if c.actor_id == actor)


def test_a_rejected_actor_is_a_hard_negative_in_training(store, tmp_path):
    _world(store)
    models = tmp_path / "models"
    before = _trained(store, models)
    first, following = _nova("nova-c2.example", 1), _nova("nova-update.example", 2)
    result = before.attribute(first, max_tlp=TLP.RED, top_k=4)
    wrong = result.candidates[0].actor_id
    assert wrong != TRUTH
    campaign = before.persist(first, result, max_tlp=TLP.RED)
    _decide(store, tmp_path, campaign, "reject", wrong)
    _decide(store, tmp_path, campaign, "attribute", TRUTH)
    snap = export_graph(store, max_tlp=TLP.RED)
    assert snap.rejections == [(campaign, wrong)]
    scores = {}
    for weight in (0.0, 1.0):
        trained = train(snap, replace(CONFIG, rejection_weight=weight))
        version = artefacts.save(trained, models)
        scores[weight] = _score(
            Attributor.load(models, store, version=version, max_tlp=TLP.RED), following, wrong
        )
    print(f"rejected actor's score on similar activity: {scores[0.0]:.4f} -> {scores[1.0]:.4f}")
    assert scores[1.0] < scores[0.0]


def test_the_newest_decision_on_a_pair_wins(store, tmp_path):
    _world(store)
    before = _trained(store, tmp_path / "models")
    first = activity_from_simple({"malware": ["NovaQ"], "name": "nova 1"})
    campaign = before.persist(first, before.attribute(first, max_tlp=TLP.RED), max_tlp=TLP.RED)
    _decide(store, tmp_path, campaign, "reject", TRUTH)
    assert export_graph(store, max_tlp=TLP.RED).rejections == [(campaign, TRUTH)]
    _decide(store, tmp_path, campaign, "accept", TRUTH)
    assert export_graph(store, max_tlp=TLP.RED).rejections == []


def test_analyst_decided_activity_is_evaluated_apart(store, tmp_path):
    _world(store)
    before = _trained(store, tmp_path / "models")
    first = activity_from_simple({"malware": ["NovaQ"], "name": "nova 1"})
    campaign = before.persist(first, before.attribute(first, max_tlp=TLP.RED), max_tlp=TLP.RED)
    snap = export_graph(store, max_tlp=TLP.RED)
    assert analyst_campaigns(snap) == []  # a stored hypothesis is no decision
    _decide(store, tmp_path, campaign, "attribute", TRUTH)
    snap = export_graph(store, max_tlp=TLP.RED)
    assert analyst_campaigns(snap) == [campaign]
    result = leave_one_campaign_out(snap, CONFIG, campaigns=[campaign], split="analyst-loco")
    assert result["split"] == "analyst-loco"
    assert result["metrics"]["model"]["n"] == 1
