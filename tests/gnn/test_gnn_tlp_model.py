"""Issue 18, finding 1 in the model layer: the graph export, the artefacts and the evidence
paths depend only on what the requester's clearance may see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from actorgraph.gnn import artefacts
from actorgraph.gnn.activity import activity_from_simple
from actorgraph.gnn.attribute import Attributor, Attributors
from actorgraph.gnn.clearances import train_per_clearance
from actorgraph.gnn.dataset import export_graph, export_levels
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.errors import ModelError
from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import FixtureGraph, node, rel, write_graph
from tests.helpers.remexi_world import (
    MAGIC_HOUND,
    RED_ACTOR,
    RED_CAMPAIGN,
    RED_INDICATOR,
    REMEXI,
    clear_part,
    remexi_world,
)

CONFIG = TrainConfig(seed=3, epochs=20, episodes=2, dim=16)
Z = "intrusion-set--Z"


def _edges(snap) -> set[tuple[str, str, str]]:
    _, edges = snap.to_rows()
    return {(e["src"], e["rel"], e["dst"]) for e in edges}


def test_the_export_holds_only_what_the_clearance_sees(store, server):
    write_graph(store, remexi_world())
    low, high = export_graph(store, max_tlp=TLP.CLEAR), export_graph(store, max_tlp=TLP.RED)
    assert low.max_tlp == TLP.CLEAR and high.max_tlp == TLP.RED
    assert RED_ACTOR not in low.props and RED_CAMPAIGN not in low.props
    assert RED_INDICATOR not in low.props
    assert (Z, "USES", REMEXI) not in _edges(low)  # a red relationship between clear nodes
    assert {RED_ACTOR, RED_CAMPAIGN, RED_INDICATOR} <= set(high.props)
    assert (Z, "USES", REMEXI) in _edges(high)
    assert (RED_CAMPAIGN, "ATTRIBUTED_TO", MAGIC_HOUND) in _edges(high)
    # Exactly the graph a store holding only the clear part gives.
    other = server.with_graph(f"{store.graph_name}-clear")
    try:
        other.ensure_schema()
        write_graph(other, clear_part(remexi_world()))
        assert export_graph(other, max_tlp=TLP.RED).fingerprint() == low.fingerprint()
    finally:
        other.clear()
        other.close()
    with pytest.raises(TypeError, match="max_tlp"):
        export_graph(store)  # no default: the clearance is required


def test_a_level_with_the_same_graph_as_the_level_below_shares_its_snapshot(store):
    write_graph(store, remexi_world())
    levels = export_levels(store)
    assert set(levels) == set(TLP)
    for level in (TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT):
        assert levels[level] is levels[TLP.CLEAR]
    assert levels[TLP.RED].max_tlp == TLP.RED
    assert levels[TLP.RED].fingerprint() != levels[TLP.CLEAR].fingerprint()


def test_a_level_without_a_visible_actor_has_no_snapshot(store):
    write_graph(
        store,
        FixtureGraph(
            [
                node("ThreatActor", "intrusion-set--a", name="A", tlp=TLP.AMBER),
                node("Malware", "malware--m", name="M"),
            ],
            [rel("intrusion-set--a", "USES", "malware--m")],
        ),
    )
    assert sorted(export_levels(store)) == [TLP.AMBER, TLP.AMBER_STRICT, TLP.RED]
    with pytest.raises(ModelError, match="no ThreatActor visible at TLP:CLEAR"):
        export_graph(store, max_tlp=TLP.CLEAR)


@pytest.fixture
def per_clearance(store, tmp_path: Path) -> tuple[Any, Path, str]:
    write_graph(store, remexi_world())
    models = train_per_clearance(store, CONFIG)
    assert sorted(models) == [TLP.CLEAR, TLP.RED]
    version = artefacts.save(list(models.values()), tmp_path / "models")
    return store, tmp_path / "models", version


def test_a_version_holds_one_model_per_clearance_and_serves_each_level(per_clearance):
    store, models, version = per_clearance
    meta = json.loads((models / version / "meta.json").read_text())
    assert meta["clearances"] == {
        "clear": "clear",
        "green": "clear",
        "amber": "clear",
        "amber+strict": "clear",
        "red": "red",
    }
    assert sorted(p.name for p in (models / version).iterdir() if p.is_dir()) == ["clear", "red"]
    assert [m["version"] for m in artefacts.list_versions(models)] == [version]
    assert artefacts.resolve_version(models) == models / version
    green = artefacts.load(models, max_tlp=TLP.GREEN)
    assert green.snapshot.max_tlp == TLP.CLEAR and RED_ACTOR not in green.snapshot.props
    assert artefacts.load(models, version, max_tlp=TLP.RED).snapshot.max_tlp == TLP.RED
    levels = artefacts.load_levels(models)
    assert levels[TLP.AMBER] is levels[TLP.CLEAR] and levels[TLP.RED] is not levels[TLP.CLEAR]
    served = Attributors.load(models, store)
    assert served.version == version and served.clearances == [level.label for level in TLP]
    assert served.for_clearance(TLP.GREEN) is served.for_clearance(TLP.CLEAR)
    with pytest.raises(TypeError, match="max_tlp"):
        artefacts.load(models)


def test_a_level_without_a_model_is_not_served(store, tmp_path: Path):
    write_graph(store, remexi_world())
    red_only = train(export_graph(store, max_tlp=TLP.RED), CONFIG)
    artefacts.save(red_only, tmp_path)
    with pytest.raises(ModelError, match="no model for clearance clear: it serves red only"):
        artefacts.load(tmp_path, max_tlp=TLP.CLEAR)
    served = Attributors.load(tmp_path, store)
    assert served.for_clearance(TLP.AMBER) is None and served.clearances == ["red"]


def test_a_model_refuses_a_requester_cleared_below_its_data(per_clearance):
    store, models, _ = per_clearance
    red = Attributor.load(models, store, max_tlp=TLP.RED)
    act = activity_from_simple({"malware": ["Remexi"]})
    with pytest.raises(ModelError, match="cannot answer for clearance clear"):
        red.attribute(act, max_tlp=TLP.CLEAR)
    with pytest.raises(ModelError, match="cannot answer for clearance amber"):
        red.persist(act, red.attribute(act, max_tlp=TLP.RED), max_tlp=TLP.AMBER)
    answer = Attributor.load(models, store, max_tlp=TLP.AMBER).attribute(act, max_tlp=TLP.AMBER)
    # The answer states the clearance it is for, so a STIX export of it is marked at least that.
    assert answer.model.clearance == "amber"
