"""Issue 17: the clearance levels of one export train faster (entity values computed once,
levels side by side in worker processes) without any level's model changing or learning from
what its clearance may not see."""

from __future__ import annotations

import torch

from actorgraph.gnn.clearances import train_per_clearance
from actorgraph.gnn.dataset import ENTITY_TYPES, export_levels
from actorgraph.gnn.entity_cache import EntityCache
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.lexical import entity_ngrams
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import write_graph
from tests.helpers.remexi_world import RED_INDICATOR, remexi_world

CONFIG = TrainConfig(seed=3, epochs=20, episodes=2, dim=16)


def _same_model(a, b) -> bool:
    state, other = a.model.state_dict(), b.model.state_dict()
    return (
        state.keys() == other.keys()
        and all(torch.equal(state[k], other[k]) for k in state)
        and a.losses == b.losses
        and a.space.ids == b.space.ids
        and (a.profile != b.profile).nnz == 0
    )


def test_levels_trained_side_by_side_are_the_models_trained_one_by_one(store):
    write_graph(store, remexi_world())
    alone = train_per_clearance(store, CONFIG, jobs=1)
    together = train_per_clearance(store, CONFIG, jobs=2)
    assert sorted(alone) == sorted(together) == [TLP.CLEAR, TLP.RED]
    for level in alone:
        assert _same_model(alone[level], together[level])
        # The model comes back with the level's own snapshot, not a copy of another level's.
        assert together[level].snapshot.max_tlp == level
        assert together[level].snapshot.fingerprint() == alone[level].snapshot.fingerprint()
    assert RED_INDICATOR not in together[TLP.CLEAR].space.ids
    assert RED_INDICATOR in together[TLP.RED].space.ids


def test_a_shared_cache_leaves_each_level_its_own_model(store):
    write_graph(store, remexi_world())
    levels = export_levels(store)
    low, high = levels[TLP.CLEAR], levels[TLP.RED]
    cache = EntityCache(HubList())
    cache.warm(high)  # every red entity computed first, as before workers start
    for snap in (low, high):
        assert _same_model(train(snap, CONFIG, HubList()), train(snap, CONFIG, cache=cache))


def test_a_worker_receives_only_its_levels_entities(store):
    write_graph(store, remexi_world())
    levels = export_levels(store)
    low, high = levels[TLP.CLEAR], levels[TLP.RED]
    cache = EntityCache(HubList())
    cache.warm(high)
    assert RED_INDICATOR in cache.hubs.memo
    sent = cache.for_snapshot(low)
    entities = {nid for t in ENTITY_TYPES for nid in low.nodes.get(t, [])}
    assert set(sent.hubs.memo) == entities and RED_INDICATOR not in sent.hubs.memo
    ids = sorted(entities)
    assert (sent.ngrams(low, ids) != entity_ngrams(low, ids)).nnz == 0


def test_an_entity_whose_properties_differ_is_computed_again(store):
    write_graph(store, remexi_world())
    snap = export_levels(store)[TLP.RED]
    cache = EntityCache(HubList(sinkhole_domains=["secret-red.example"]))
    assert cache.hubs.reason(RED_INDICATOR, snap.props[RED_INDICATOR]) == "sinkhole"
    before = cache.ngrams(snap, [RED_INDICATOR])
    # The same id with another value (as another clearance's row of the id could carry).
    snap.props[RED_INDICATOR] = dict(snap.props[RED_INDICATOR], value="benign.example")
    assert cache.hubs.reason(RED_INDICATOR, snap.props[RED_INDICATOR]) is None
    after = cache.ngrams(snap, [RED_INDICATOR])
    assert (after != entity_ngrams(snap, [RED_INDICATOR])).nnz == 0
    assert (after != before).nnz > 0
