"""One attribution model per TLP clearance: train each level that has data of its own.

A model learns from everything in its training graph, so a key may only be answered by a model
trained on what it may see. ``train_per_clearance`` exports the graph at every level
(``gnn.dataset.export_levels``) and trains one model per distinct visible graph; a level whose
graph is the same as the level below shares that level's model (``gnn.artefacts`` records which
model serves which level).
"""

from __future__ import annotations

from collections.abc import Callable

from actorgraph.gnn.config import TrainConfig
from actorgraph.gnn.dataset import export_levels
from actorgraph.gnn.train import train
from actorgraph.gnn.trained import Trained
from actorgraph.graph.errors import ModelError
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP


def train_per_clearance(
    store: GraphStore, config: TrainConfig, log: Callable[[str], None] | None = None
) -> dict[TLP, Trained]:
    """Train one model per clearance whose visible graph differs from the level below.

    Args:
        store: an open graph store.
        config: the training configuration (the same for every level).
        log: optional ``callable(str)`` for progress lines.

    Returns:
        Level -> the model trained at it (``trained.snapshot.max_tlp`` is that level). A level
        sharing the graph of the level below, or without a threat actor, has no entry; so has a
        lowest level with too little to learn from (its keys get no model).

    Raises:
        ModelError: nothing to learn from at any level, or a level fails to train although a
            level below it trained (it holds more data, so that is not expected).
    """
    models: dict[TLP, Trained] = {}
    for level, snap in export_levels(store).items():
        if snap.max_tlp != level:
            _say(log, f"clearance {level.label}: same graph as {snap.max_tlp.label}, no new model")
            continue
        _say(log, f"clearance {level.label}: training on {snap.num_nodes('actor')} actors")
        try:
            models[level] = train(snap, config, log=log)
        except ModelError as exc:
            if models or level == TLP.RED:
                raise
            _say(log, f"clearance {level.label}: no model ({exc})")
    if not models:
        raise ModelError("nothing to learn from at any TLP clearance")
    return models


def _say(log: Callable[[str], None] | None, line: str) -> None:
    if log is not None:
        log(line)
