"""The attribution model built from its config, its artefact, the optimiser, and the rule that
inference imports nothing from training."""

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
import torch

from actorgraph.gnn import artefacts
from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.features import PRIOR_FEATURES
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.model import AttributionModel, HeteroSAGE, ModelConfig
from actorgraph.gnn.optim import Adam
from actorgraph.gnn.scoring import Scorer
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.errors import ModelError
from actorgraph.graph.tlp import TLP
from tests.helpers.cli import run_python

TINY = TrainConfig(seed=2, epochs=6, episodes=2, pretrain_epochs=5, dim=8)


def _snapshot() -> GraphSnapshot:
    """Four actors with six items each, one attributed campaign per actor."""
    nodes = [{"id": f"a{i}", "type": "actor", "name": f"A{i}"} for i in range(4)]
    nodes += [{"id": f"c{i}", "type": "campaign", "name": f"C{i}"} for i in range(4)]
    nodes += [{"id": f"t{i}", "type": "technique", "external_id": f"T1{i:03d}"} for i in range(16)]
    nodes += [{"id": f"m{i}", "type": "malware", "name": f"M{i}"} for i in range(8)]
    edges = []
    for a in range(4):
        own = [f"t{4 * a + k}" for k in range(4)] + [f"m{2 * a}", f"m{2 * a + 1}"]
        edges += [{"src": f"a{a}", "rel": "USES", "dst": e} for e in own]
        edges += [{"src": f"c{a}", "rel": "USES", "dst": e} for e in own[1:5]]
        edges.append({"src": f"c{a}", "rel": "ATTRIBUTED_TO", "dst": f"a{a}"})
    return GraphSnapshot.from_rows(nodes, edges)


def test_inference_imports_nothing_from_training():
    code = (
        "import actorgraph.gnn.scoring, actorgraph.gnn.attribute, actorgraph.gnn.artefacts, "
        "sys; print([m for m in sys.modules if m in ('actorgraph.gnn.train', "
        "'actorgraph.gnn.pretrain')])"
    )
    out = run_python("-c", code, timeout=300, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize(
    ("config", "inputs", "proj"),
    [
        (ModelConfig(num_features=5), 5, False),
        (ModelConfig(num_features=5, query_norm=True), 10, False),
        (ModelConfig(num_features=5, query_norm=True, similarity="nearest", dim=4), 11, True),
        (ModelConfig(num_features=5, hidden=3, similarity="cosine", dim=4), 6, True),
    ],
)
def test_the_config_fixes_every_shape(config: ModelConfig, inputs: int, proj: bool):
    model = AttributionModel(config)
    assert config.scorer_inputs == inputs and model.scorer[0].in_features == inputs
    assert model.scorer[-1].out_features == 1
    assert (model.query_proj is not None) is proj
    assert model.similarity == config.similarity and model.query_norm is config.query_norm
    logits = model(torch.rand(2, 3, 5), torch.rand(2, 3) if proj else None, torch.rand(2, 3))
    assert logits.shape == (2, 4)


def test_bad_model_configs_are_clear_errors():
    with pytest.raises(ModelError, match="'similarity' \\(got 'bogus'\\)"):
        ModelConfig(num_features=5, similarity="bogus")
    with pytest.raises(ModelError, match="'hidden' \\(got -1\\)"):
        ModelConfig(num_features=5, hidden=-1)
    encoder = HeteroSAGE({"actor": 2}, [], dim=4, layers=1)
    with pytest.raises(ModelError, match="an encoder needs a 'similarity'"):
        AttributionModel(ModelConfig(num_features=5, dim=4), encoder)


def test_the_same_seed_builds_the_same_initial_weights():
    config = ModelConfig(num_features=5, query_norm=True, similarity="dot", dim=4)
    torch.manual_seed(0)
    first = AttributionModel(config).state_dict()
    torch.manual_seed(0)
    second = AttributionModel(config).state_dict()
    for key, value in first.items():
        torch.testing.assert_close(second[key], value)


def test_adam_steps_against_the_gradient():
    p = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = Adam([p], lr=0.1)
    (p**2).sum().backward()
    opt.step()
    # First step: bias-corrected moments are g and g^2, so each entry moves by lr * sign(g).
    torch.testing.assert_close(p.detach(), torch.tensor([0.9, -1.9, 2.9]))
    opt.zero_grad()
    assert p.grad is None
    for _ in range(200):
        opt.zero_grad()
        (p**2).sum().backward()
        opt.step()
    assert float(p.detach().abs().max()) < 0.1


@pytest.mark.parametrize("overrides", [{}, {"pretrain_gnn": False}, {"use_gnn": True}])
def test_training_and_loading_build_the_same_model_from_its_config(tmp_path: Path, overrides: dict):
    trained = train(_snapshot(), replace(TINY, **overrides), hubs=HubList())
    version = artefacts.save(trained, tmp_path)
    stored = json.loads((tmp_path / version / "red" / "model.json").read_text())
    assert stored == json.loads(json.dumps(asdict(trained.model.config)))
    loaded = artefacts.load(tmp_path, version, max_tlp=TLP.RED, hubs=HubList())
    assert loaded.model.config == trained.model.config
    assert loaded.model.encoder is None
    q = [[0, 1, 2], [5, 9]]
    np.testing.assert_allclose(
        Scorer(loaded).probabilities(q), Scorer(trained).probabilities(q), atol=1e-6
    )


def test_an_artefact_of_the_previous_format_is_refused_before_anything_is_read(tmp_path: Path):
    version = artefacts.save(
        train(_snapshot(), replace(TINY, pretrain_gnn=False), hubs=HubList()), tmp_path
    )
    meta_path = tmp_path / version / "meta.json"
    meta_path.write_text(
        json.dumps({**json.loads(meta_path.read_text()), "format": artefacts.FORMAT - 1})
    )
    (tmp_path / version / "red" / "model.json").unlink()  # older formats did not write it
    with pytest.raises(
        ModelError, match=f"has format {artefacts.FORMAT - 1}, expected {artefacts.FORMAT}"
    ):
        artefacts.load(tmp_path, version, max_tlp=TLP.RED, hubs=HubList())


def test_a_model_config_that_does_not_fit_is_a_corrupt_artefact(tmp_path: Path):
    version = artefacts.save(
        train(_snapshot(), replace(TINY, pretrain_gnn=False), hubs=HubList()), tmp_path
    )
    path = tmp_path / version / "red" / "model.json"
    stored = json.loads(path.read_text())
    for wrong in (
        {"query_norm": not stored["query_norm"]},
        {"similarity": "cosine"},
        {"similarity": "bogus"},
        {"layers": 3},
    ):
        path.write_text(json.dumps({**stored, **wrong}))
        with pytest.raises(ModelError, match=f"corrupt model artefact .*{version}"):
            artefacts.load(tmp_path, version, max_tlp=TLP.RED, hubs=HubList())
    path.write_text(json.dumps(stored))
    assert artefacts.load(
        tmp_path, version, max_tlp=TLP.RED, hubs=HubList()
    ).model.config == ModelConfig(**stored)


def _overlap_columns(config: ModelConfig) -> tuple[list[int], list[int]]:
    """The scorer's input columns of overlap features and of the prior (``log_profile``)."""
    f = config.num_features
    prior = [i for i, n in enumerate(config.features) if n in PRIOR_FEATURES]
    overlap = [i for i in range(f) if i not in prior]
    if config.query_norm:
        prior, overlap = prior + [f + i for i in prior], overlap + [f + i for i in overlap]
    return overlap, prior


def test_clamping_raises_only_the_overlap_weights_of_a_log_linear_scorer():
    config = ModelConfig(
        num_features=3, query_norm=True, features=("all_cos", "log_profile", "n_shared")
    )
    model = AttributionModel(config)
    with torch.no_grad():
        model.input_layer.weight.copy_(torch.tensor([[-1.0, -2.0, 3.0, -4.0, -5.0, 6.0]]))
    model.clamp_evidence()
    overlap, prior = _overlap_columns(config)
    w = model.input_layer.weight.detach()[0]
    assert (prior, overlap) == ([1, 4], [0, 2, 3, 5])
    torch.testing.assert_close(w, torch.tensor([0.0, -2.0, 3.0, 0.0, -5.0, 6.0]))
    hidden = AttributionModel(replace(config, hidden=2))
    before = hidden.input_layer.weight.detach().clone()
    hidden.clamp_evidence()  # a hidden layer's weights are no per-feature evidence weights
    torch.testing.assert_close(hidden.input_layer.weight.detach(), before)


@pytest.mark.parametrize("monotone", [False, True])
def test_a_monotone_scorer_never_weighs_an_overlap_against_an_actor(monotone: bool):
    trained = train(_snapshot(), replace(TINY, monotone=monotone), hubs=HubList())
    overlap, _ = _overlap_columns(trained.model.config)
    w = trained.model.input_layer.weight.detach()[0, overlap]
    # Without the constraint this world's scorer does hold negative overlap weights: the
    # assertion below can fail.
    assert bool((w >= 0).all()) is monotone, w
