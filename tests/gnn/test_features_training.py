"""What training computes once instead of once per episode gives the same features, bit for bit:
the campaigns' context expansion taken per level (``camp_context``), and the scorer's inputs
written into one tensor with the query normalisation's bounds found without a masked copy."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.features import (
    FEATURE_NAMES,
    EntitySpace,
    PairFeatures,
    attribution_matrix,
    cluster_items,
    idf_weights,
    profiles,
)
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.model import AttributionModel, ModelConfig, query_normalise
from actorgraph.gnn.train import TrainConfig, Trainer
from actorgraph.graph.tlp import TLP
from tests.helpers.attribution_world import build_world


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint32)


def test_campaign_rows_expanded_once_give_the_features_of_an_expansion_per_episode(store):
    build_world(store)
    snap = export_graph(store, max_tlp=TLP.RED)
    space = EntitySpace.build(snap, HubList())
    camps, attributed = cluster_items(snap, space, "campaign"), attribution_matrix(snap)
    prof = profiles(cluster_items(snap, space, "actor"), camps, attributed)
    idf = idf_weights(space.expand(prof), space.hub)
    whole = space.expand(camps)
    labelled = np.flatnonzero(np.diff(attributed.indptr))
    assert len(labelled) >= 3
    rng = np.random.default_rng(5)
    n = len(space)
    rows = [np.sort(rng.choice(n, size=k, replace=False)) for k in (1, 3, 7, 20)]
    row_of = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    queries = sp.csr_matrix(
        (np.ones(len(row_of)), (row_of, np.concatenate(rows))), shape=(len(rows), n)
    )
    # every feature before those that need names and habits
    names = FEATURE_NAMES[: FEATURE_NAMES.index("lexical_cos")]
    # An episode hides some attributed campaigns: its features read the others only.
    for hidden in ([], labelled[:1].tolist(), labelled[::2].tolist()):
        kept = attributed.tolil()
        kept[hidden, :] = 0
        kept = kept.tocsr()
        kept.eliminate_zeros()
        apart = PairFeatures(space, prof, idf, camps, kept, names=names)
        shared = PairFeatures(space, prof, idf, camps, kept, names=names, camp_context=whole)
        np.testing.assert_array_equal(_bits(shared(queries)), _bits(apart(queries)))
        for r in rows:
            one = np.ones(len(r))
            np.testing.assert_array_equal(_bits(shared.one(r, one)), _bits(apart.one(r, one)))


def test_the_trainer_expands_only_labelled_campaigns(store):
    build_world(store)
    snap = export_graph(store, max_tlp=TLP.RED)
    trainer = Trainer(snap, TrainConfig(seed=1), HubList())
    expanded = trainer.camp_context
    assert expanded is not None
    for c in range(trainer.camp_items.shape[0]):
        row = expanded[c]
        if c in trainer.labelled:
            own = trainer.space.expand(trainer.camp_items[c])
            assert own.nnz > 0 and (row != own).nnz == 0
        else:
            assert row.nnz == 0
    off = Trainer(snap, TrainConfig(seed=1, campaign_features=False), HubList())
    assert off.camp_context is None


def _reference_normalise(feats: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The query normalisation written plainly: masked copies of the whole batch."""
    if mask is None:
        hi, lo = feats.max(dim=1, keepdim=True).values, feats.min(dim=1, keepdim=True).values
    else:
        m = mask.unsqueeze(-1)
        hi = feats.masked_fill(m, float("-inf")).max(dim=1, keepdim=True).values
        lo = feats.masked_fill(m, float("inf")).min(dim=1, keepdim=True).values
    span = hi - lo
    scaled = (feats - lo) / span.clamp_min(1e-12)
    return torch.where(span > 0, scaled, torch.zeros_like(feats)).clamp(0.0, 1.0)


def test_scorer_inputs_are_the_features_and_their_plain_normalisation_bit_for_bit():
    gen = torch.Generator().manual_seed(3)
    feats = torch.rand(40, 9, 5, generator=gen) * (torch.rand(40, 9, 5, generator=gen) > 0.5)
    feats[:, :, 2] = 0.25  # equal for every candidate
    feats[7] = 0.0  # a query that matches nothing
    masks = {
        "none": None,
        "some": torch.rand(40, 9, generator=gen) > 0.8,
        "all of one query": torch.zeros(40, 9, dtype=torch.bool).index_fill_(0, torch.tensor(3), 1),
    }
    model = AttributionModel(ModelConfig(num_features=5, query_norm=True))
    for name, mask in masks.items():
        expected = _reference_normalise(feats, mask)
        assert torch.equal(
            query_normalise(feats, mask).view(torch.int32), expected.view(torch.int32)
        ), name
        inputs = model.scorer_inputs(feats, mask)
        assert inputs.is_contiguous() and inputs.shape == (40, 9, 10)
        assert torch.equal(inputs[..., :5], feats), name
        assert torch.equal(inputs[..., 5:].view(torch.int32), expected.view(torch.int32)), name
    assert query_normalise(feats[:, :0], None).shape == (40, 0, 5)
