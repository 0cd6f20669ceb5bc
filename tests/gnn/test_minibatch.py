"""Mini-batch episodes on large graphs (``TrainConfig.batch_campaigns``): below the bound the
model is the full-batch one bit for bit; above it an episode draws a bounded sample."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.train import Trainer, train
from tests.gnn.test_ablation import TINY, _snapshot


def test_below_the_bound_training_is_the_full_batch_bit_for_bit() -> None:
    snap = _snapshot()  # 12 labelled campaigns: about 5 campaign queries an episode
    bounded = train(snap, replace(TINY, batch_campaigns=6), HubList())
    full = train(snap, replace(TINY, batch_campaigns=None), HubList())
    assert bounded.losses == full.losses
    state, other = bounded.model.state_dict(), full.model.state_dict()
    assert state.keys() == other.keys()
    assert all(torch.equal(state[k], other[k]) for k in state)


def test_above_the_bound_an_episode_draws_about_the_bound() -> None:
    snap = _snapshot()
    full = Trainer(snap, replace(TINY, batch_campaigns=None), HubList())
    bounded = Trainer(snap, replace(TINY, batch_campaigns=2), HubList())
    n_train = len(full.labelled) - len(full.val_camps)
    assert full.query_prob == TINY.campaign_query_prob
    assert bounded.query_prob == 2 / n_train
    sizes = {}
    for name, trainer in (("full", full), ("bounded", bounded)):
        sizes[name] = np.mean([len(trainer.episode().target) for _ in range(40)])
    # Actor views are the same in both; campaign views fall from ~5 to ~2 queries x 3 views.
    assert sizes["full"] - sizes["bounded"] > 1.5 * TINY.views
    # The validation episode is never sampled: every validation campaign is in it.
    assert len(full.episode(validation=True).target) == len(bounded.episode(validation=True).target)
