"""Attribution engine: graph export, model, training, inference, evidence, baselines, evaluation.

Import submodules directly (``from actorgraph.gnn.attribute import Attributor``); nothing here
imports torch_geometric, which is slow to import and only needed for
``GraphSnapshot.to_hetero_data``.
"""

__all__ = [
    "activity",
    "artefacts",
    "attribute",
    "baselines",
    "config",
    "dataset",
    "evaluate",
    "evidence",
    "features",
    "hubs",
    "model",
    "nearest",
    "optim",
    "pretrain",
    "propagation",
    "sampling",
    "scoring",
    "train",
    "trained",
]
