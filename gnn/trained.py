"""A trained model with everything inference needs, shared by training, artefacts and scoring.

Its own module so that inference (``gnn.scoring``, ``gnn.attribute``, ``gnn.artefacts``)
imports nothing from the trainer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from torch import Tensor

from actorgraph.gnn.config import TrainConfig
from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.features import EntitySpace
from actorgraph.gnn.model import AttributionModel


@dataclass
class Trained:
    """A trained model with everything inference needs (no store required to score).

    Attributes:
        model: the calibrated scorer, built from its ``ModelConfig``.
        snapshot: the graph it was trained on.
        space: the entity space (indices of the features and embeddings).
        profile: (actors x entities) binary actor profiles.
        idf: rarity weight of each entity.
        entity_emb: (E, d) encoder embeddings in entity-space order, or None without encoder.
        actor_emb: (A, d) encoder embeddings of the actors, or None without encoder.
        config: the training configuration.
        metrics: training and validation metrics.
        losses: training loss per epoch (empty for a loaded artefact).
        evidence: (E, A) the evidence encoder's final state of every entity (``gnn.propagation``),
            or None without it.
    """

    model: AttributionModel
    snapshot: GraphSnapshot
    space: EntitySpace
    profile: sp.csr_matrix
    idf: np.ndarray
    entity_emb: Tensor | None
    actor_emb: Tensor | None
    config: TrainConfig
    metrics: dict[str, Any]
    losses: list[float]
    evidence: sp.csr_matrix | None = None
