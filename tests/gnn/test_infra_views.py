"""Training views shown as new infrastructure would be (``TrainConfig.infra_views``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from actorgraph.gnn.config import TrainConfig
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.train import Trainer, train
from tests.gnn.test_ablation import TINY, _snapshot
from tests.gnn.test_propagation import _snapshot as _networks


def test_a_view_s_indicators_become_the_networks_they_sit_in() -> None:
    snap = _networks()
    trainer = Trainer(snap, TrainConfig(infra_views=1.0), HubList())
    pos = trainer.space.pos
    view = np.array(sorted([pos["ip-a0"], pos["ip-a1"], pos["t1"]]))
    assert trainer._infra_view(view).tolist() == [pos["net-a"]]
    # Nothing to stand on: the view is kept as it is.
    only_technique = np.array([pos["t1"]])
    assert trainer._infra_view(only_technique).tolist() == [pos["t1"]]


def test_without_infrastructure_the_model_is_the_one_trained_without_them() -> None:
    snap = _snapshot()  # indicators, but no infrastructure they sit on
    plain = train(snap, TINY, HubList())
    shown = train(snap, replace(TINY, infra_views=1.0), HubList())
    assert plain.losses == shown.losses
