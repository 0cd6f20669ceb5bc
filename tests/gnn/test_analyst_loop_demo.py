"""The analyst loop on the demo world (issue 19's done-when), at its real size and seed.

The demo world holds back two real ATT&CK actors from training (``unseen_actor`` in its labels):
their held-out activity is what the model cannot know, so it ranks their true actor wrongly. By
a fixed rule the test takes the first such actor whose first activity and a later one are both
ranked wrongly, stores the first activity (``persist``), and records one analyst decision that
attributes it to the true actor. After retraining, the later activity ranks its true actor first.

Two controls: retraining with the activity stored but undecided leaves the later activity's rank
as it was, and the other held-back actor, whose first activity is stored but not decided, is not
learnt (its true actor stays below first place on each of its activities).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from actorgraph.commands.demo import DEMO_SEED
from actorgraph.gnn import artefacts
from actorgraph.gnn.activity import load_activity
from actorgraph.gnn.attribute import Attributor
from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.audit import AuditLog
from actorgraph.graph.decisions import Decider, decide
from actorgraph.graph.tlp import TLP
from actorgraph.world import held_back_activities
from tests.helpers.demo_world import load_demo_world

CONFIG = TrainConfig(seed=DEMO_SEED)  # what `actorgraph demo` trains


def _trained(store, models: Path) -> Attributor:
    version = artefacts.save(train(export_graph(store, max_tlp=TLP.RED), CONFIG), models)
    return Attributor.load(models, store, version=version, max_tlp=TLP.RED)


def _rank(attributor: Attributor, world: Path, rel: str, actor: str) -> tuple[float, float]:
    """The true actor's rank (inf when not among all candidates) and score."""
    result = attributor.attribute(load_activity(world / rel), max_tlp=TLP.RED, top_k=1000)
    found = [(c.rank, c.score) for c in result.candidates if c.actor_id == actor]
    return found[0] if found else (math.inf, 0.0)


@pytest.mark.slow  # the demo world and three trainings: about a minute on 2 loaded cores
def test_one_decision_on_the_demo_world_teaches_the_model_a_held_back_actor(store, tmp_path):
    world, models = tmp_path / "world", tmp_path / "models"
    load_demo_world(store, world)
    before = _trained(store, models)
    held_back = held_back_activities(world)
    assert len(held_back) >= 2, "the demo world holds back fewer than two actors"
    ranks = {
        rel: _rank(before, world, rel, actor) for actor, rels in held_back.items() for rel in rels
    }
    # The rule: the first held-back actor with a wrongly ranked first activity and a wrongly
    # ranked later one; that later one is "the next similar activity".
    actor, first, following = next(
        (a, rels[0], later)
        for a, rels in held_back.items()
        if ranks[rels[0]][0] > 1
        for later in rels[1:]
        if ranks[later][0] > 1
    )
    controls = [rel for a, rels in held_back.items() if a != actor for rel in rels]

    stored = {}
    for a, rels in held_back.items():  # every held-back actor's first activity, stored alike
        activity = load_activity(world / rels[0])
        result = before.attribute(activity, max_tlp=TLP.RED, top_k=5)
        stored[a] = before.persist(activity, result, max_tlp=TLP.RED)
    undecided = _trained(store, models)
    assert _rank(undecided, world, following, actor)[0] == ranks[following][0]

    decision = decide(
        store,
        AuditLog(tmp_path / "audit.sqlite"),
        Decider(decided_by="analyst-test", key_id=None, max_tlp=TLP.RED, origin="test"),
        campaign_id=stored[actor],
        decision="attribute",
        actor_id=actor,
        reason="the analyst recognised the actor's tooling",
        confidence=70,
    )
    assert decision.model_rank != 1  # the model had not ranked the true actor first
    after = _trained(store, models)
    rank_after, score_after = _rank(after, world, following, actor)
    control_after = {rel: _rank(after, world, rel, _owner(held_back, rel)) for rel in controls}
    print(
        f"\ndecided {first} -> {actor}; next similar activity {following}: rank "
        f"{ranks[following][0]} (score {ranks[following][1]:.4f}) -> {rank_after} "
        f"(score {score_after:.4f}); controls (true actor's rank before -> after): "
        + ", ".join(f"{rel} {ranks[rel][0]} -> {control_after[rel][0]}" for rel in controls)
    )
    assert rank_after == 1
    assert all(rank > 1 for rank, _ in control_after.values())


def _owner(held_back: dict[str, list[str]], rel: str) -> str:
    return next(a for a, rels in held_back.items() if rel in rels)
