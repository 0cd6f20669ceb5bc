"""Attribution engine on tiny inline graphs in the real embedded store (issue 3)."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from actorgraph.commands.attribute import format_result
from actorgraph.gnn import artefacts
from actorgraph.gnn.activity import activity_from_simple, activity_from_stix, load_activity
from actorgraph.gnn.attribute import Attributor
from actorgraph.gnn.dataset import export_graph
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.errors import IngestError, InvalidIndicator, ModelError, ValidationError
from actorgraph.graph.tlp import TLP
from tests.helpers.attribution_world import build_world
from tests.helpers.backends import store_on_each_backend  # noqa: F401  (``store`` on both)

CONFIG = TrainConfig(seed=3, epochs=40, episodes=4, dim=16)


@pytest.fixture
def trained_world(store, tmp_path: Path):
    build_world(store)
    trained = train(export_graph(store, max_tlp=TLP.RED), CONFIG)
    version = artefacts.save(trained, tmp_path / "models")
    return store, tmp_path / "models", trained, version


@pytest.mark.parametrize("use_gnn", [False, True])
def test_training_lowers_the_loss(store, use_gnn: bool):
    build_world(store)
    trained = train(
        export_graph(store, max_tlp=TLP.RED),
        TrainConfig(
            seed=1, epochs=40, episodes=4, dim=16, hidden=8, use_gnn=use_gnn, pretrain_gnn=False
        ),
    )
    first, last = np.mean(trained.losses[:4]), np.mean(trained.losses[-4:])
    assert last < first * 0.9, (first, last)
    assert 0.05 <= trained.metrics["temperature"] <= 20
    assert (trained.entity_emb is not None) == use_gnn


def test_minibatch_pretraining_trains_a_usable_model(store, tmp_path: Path):
    # The neighbour-sampling path end to end: config -> pre-training -> saved artefact -> answer.
    build_world(store)
    config = TrainConfig(
        seed=3,
        epochs=40,
        episodes=4,
        dim=16,
        pretrain_gnn=True,
        pretrain_epochs=5,
        pretrain_batch_size=8,
        pretrain_fanouts=(3, 3),
    )
    snap = export_graph(store, max_tlp=TLP.RED)
    trained = train(snap, config)
    assert trained.entity_emb is not None
    full = train(snap, TrainConfig(**{**asdict(config), "pretrain_batch_size": None}))
    assert trained.metrics["pretrain_final_loss"] != full.metrics["pretrain_final_loss"]
    artefacts.save(trained, tmp_path / "models")
    att = Attributor.load(tmp_path / "models", store, max_tlp=TLP.RED)
    assert att.trained.config.pretrain_fanouts == (3, 3)
    act = activity_from_simple({"malware": ["SunSpotX"], "indicators": ["evil-x.example"]})
    res = att.attribute(act, max_tlp=TLP.RED)
    assert res.candidates[0].actor_id == "intrusion-set--X"


def test_encoder_model_round_trips_and_finds_the_planted_signal(store, tmp_path: Path):
    build_world(store)
    trained = train(
        export_graph(store, max_tlp=TLP.RED),
        TrainConfig(seed=3, epochs=40, episodes=4, dim=16, use_gnn=True),
    )
    artefacts.save(trained, tmp_path / "models")
    att = Attributor.load(tmp_path / "models", store, max_tlp=TLP.RED)
    assert att.trained.entity_emb is not None
    act = activity_from_simple({"malware": ["SunSpotX"], "indicators": ["evil-x.example"]})
    res = att.attribute(act, max_tlp=TLP.RED)
    assert res.candidates[0].actor_id == "intrusion-set--X"


@pytest.mark.parametrize("query_norm", [False, True])
def test_query_norm_model_round_trips(store, tmp_path: Path, query_norm: bool):
    from actorgraph.gnn.scoring import Scorer

    build_world(store)
    trained = train(export_graph(store, max_tlp=TLP.RED), replace(CONFIG, query_norm=query_norm))
    width = trained.model.scorer[0].in_features
    version = artefacts.save(trained, tmp_path / "models")
    att = Attributor.load(tmp_path / "models", store, version=version, max_tlp=TLP.RED)
    assert (
        att.trained.model.query_norm is query_norm
        and att.trained.model.scorer[0].in_features == width
    )
    q = [[trained.space.pos["malware--sunspotx"], trained.space.pos["domain:evil-x.example"]]]
    np.testing.assert_allclose(
        Scorer(trained).probabilities(q), att.scorer.probabilities(q), atol=1e-6
    )
    assert (
        int(np.argmax(att.scorer.probabilities(q)[0][:-1]))
        == trained.snapshot.index("actor")["intrusion-set--X"]
    )


def test_planted_signal_ranks_its_actor_first(trained_world):
    store, models, _, _ = trained_world
    att = Attributor.load(models, store, max_tlp=TLP.RED)
    act = activity_from_simple(
        {"malware": ["sunspotx"], "indicators": ["evil-x[.]example"], "techniques": ["T1059"]}
    )
    res = att.attribute(act, max_tlp=TLP.RED, top_k=4)
    assert res.candidates[0].name == "Actor X"
    assert res.candidates[0].score > res.candidates[1].score
    assert res.countries[0].country == "CN"
    kinds = {(e.actor_id, e.kind) for e in res.evidence}
    assert ("intrusion-set--X", "shared_malware") in kinds
    assert ("intrusion-set--X", "shared_indicator") in kinds


def test_hub_only_match_is_not_a_confident_attribution(trained_world):
    store, models, _, _ = trained_world
    att = Attributor.load(models, store, max_tlp=TLP.RED)
    act = activity_from_simple({"indicators": ["104.16.1.1"], "tools": ["Mimikatz"]})
    res = att.attribute(act, max_tlp=TLP.RED, top_k=4)
    top = res.candidates[0].score
    assert res.unknown > top and top < 0.5, res.to_dict()
    hubs = [e for e in res.evidence if e.hub]
    assert hubs and all(e.weight < 0.1 for e in hubs)


def test_probabilities_and_unknown_sum_to_one(trained_world):
    store, models, _, _ = trained_world
    att = Attributor.load(models, store, max_tlp=TLP.RED)
    for simple in (
        {"malware": ["PlugX"]},
        {"techniques": ["T1010", "T1016"]},
        {"tools": ["nothing-known"]},
    ):
        res = att.attribute(activity_from_simple(simple), max_tlp=TLP.RED, top_k=10)
        assert len(res.candidates) == 4
        assert sum(c.score for c in res.candidates) + res.unknown == pytest.approx(1.0, abs=1e-4)
        assert all(0 <= c.score <= 1 for c in res.candidates)
    empty = att.attribute(activity_from_simple({"tools": ["nothing-known"]}), max_tlp=TLP.RED)
    assert empty.unknown == pytest.approx(1.0)


def test_same_seed_same_result(store):
    build_world(store)
    snap = export_graph(store, max_tlp=TLP.RED)
    a, b = train(snap, CONFIG), train(snap, CONFIG)
    assert a.losses == pytest.approx(b.losses, rel=1e-5)
    from actorgraph.gnn.scoring import Scorer

    q = [[a.space.pos["malware--plugx"], a.space.pos["attack-pattern--T1015"]]]
    np.testing.assert_allclose(Scorer(a).probabilities(q), Scorer(b).probabilities(q), rtol=1e-5)


def test_malformed_input_gets_a_clear_error(tmp_path: Path):
    with pytest.raises(InvalidIndicator, match=re.escape("999.1.1.1")):
        activity_from_simple({"indicators": ["999.1.1.1"]})
    with pytest.raises(ValidationError, match="unknown activity field"):
        activity_from_simple({"ips": ["1.2.3.4"]})
    with pytest.raises(ValidationError, match="empty"):
        activity_from_simple({"indicators": []})
    with pytest.raises(ValidationError, match="must be a list"):
        activity_from_simple({"malware": "PlugX"})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(IngestError, match="not valid JSON"):
        load_activity(bad)
    with pytest.raises(IngestError):
        activity_from_stix({"type": "bundle", "id": "bundle--x", "objects": [{"type": "malware"}]})


def test_stix_bundle_input_links_by_name_and_pattern(trained_world):
    store, models, _, _ = trained_world
    bundle = {
        "type": "bundle",
        "id": "bundle--6f0c2c3a-3a54-4bb0-9a43-1f0d1d2f1a11",
        "objects": [
            {
                "type": "malware",
                "spec_version": "2.1",
                "id": "malware--0b6a5a2e-5cbb-4a8c-a4c7-9d9d8f1e0b01",
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "name": "SunSpotX",
                "is_family": True,
            },
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--1b6a5a2e-5cbb-4a8c-a4c7-9d9d8f1e0b02",
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "pattern": "[domain-name:value = 'evil-x.example']",
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
            },
        ],
    }
    act = activity_from_stix(bundle, name="b.json")
    res = Attributor.load(models, store, max_tlp=TLP.RED).attribute(act, max_tlp=TLP.RED)
    assert res.candidates[0].actor_id == "intrusion-set--X"


def test_persist_writes_hypotheses_only(trained_world):
    store, models, _, version = trained_world
    att = Attributor.load(models, store, max_tlp=TLP.RED)
    act = activity_from_simple({"malware": ["SunSpotX"], "name": "new op"})
    res = att.attribute(act, max_tlp=TLP.RED, top_k=2)
    cid = att.persist(act, res, max_tlp=TLP.RED, created="2026-11-30T00:00:00Z")
    rows = store.query(
        "MATCH (c:Campaign {id: $id})-[r]->(a:ThreatActor) RETURN type(r) AS t, "
        "r.rank AS rank, r.model_version AS v ORDER BY rank",
        {"id": cid},
    )
    assert [r["t"] for r in rows] == ["PREDICTED_ACTOR", "PREDICTED_ACTOR"]
    assert rows[0]["v"] == version and rows[0]["rank"] == 1
    # A later training run must not learn from its own hypotheses.
    assert cid not in export_graph(store, max_tlp=TLP.RED).labels()


def test_tlp_hides_actors_above_clearance(store, tmp_path: Path):
    # One model per clearance (issue 18): the green requester is answered by a model that
    # never saw actor W, not by the red model with W hidden afterwards.
    from actorgraph.gnn.attribute import Attributors
    from actorgraph.gnn.clearances import train_per_clearance

    build_world(store, tlp_actor_w=4)
    artefacts.save(list(train_per_clearance(store, CONFIG).values()), tmp_path / "models")
    models = Attributors.load(tmp_path / "models", store)
    act = activity_from_simple({"malware": ["PlugX"]})
    full = models.for_clearance(4).attribute(act, top_k=4, max_tlp=4)
    low = models.for_clearance(1).attribute(act, top_k=4, max_tlp=1)
    assert "intrusion-set--W" in {c.actor_id for c in full.candidates}
    assert "intrusion-set--W" not in {c.actor_id for c in low.candidates}
    assert all(e.actor_id != "intrusion-set--W" for e in low.evidence)
    assert sum(c.score for c in low.candidates) + low.unknown == pytest.approx(1.0, abs=1e-4)


def test_leave_one_campaign_out_in_processes_gives_the_serial_rows(embedded_store):
    # The multi-seed LOCO benchmark spreads folds over processes; that must change the time
    # taken, never a rank or a probability. (It works on the snapshot: one backend is enough.)
    from actorgraph.gnn.evaluate import leave_one_campaign_out

    build_world(embedded_store)
    snap = export_graph(embedded_store, max_tlp=TLP.RED)
    campaigns = sorted(snap.labels())[:3]
    serial = leave_one_campaign_out(snap, CONFIG, campaigns=campaigns)
    parallel = leave_one_campaign_out(snap, CONFIG, campaigns=campaigns, jobs=2)

    def timeless(result):
        return [{k: v for k, v in f.items() if k != "train_seconds"} for f in result["folds"]]

    assert timeless(parallel) == timeless(serial)
    assert [f["campaign"] for f in serial["folds"]] == [snap.props[c]["name"] for c in campaigns]
    assert parallel["metrics"] == serial["metrics"] and parallel["unknown"] == serial["unknown"]


def test_artefacts_are_versioned_and_latest_is_used(trained_world):
    store, models, trained, version = trained_world
    meta = json.loads((models / version / "meta.json").read_text())
    assert meta["data_fingerprint"] == trained.snapshot.fingerprint()
    config = models / version / "red" / "config.json"  # one folder per clearance
    assert json.loads(config.read_text())["seed"] == CONFIG.seed
    second = artefacts.save(trained, models, version="zz-named")
    assert Attributor.load(models, store, max_tlp=TLP.RED).version == second
    assert Attributor.load(models, store, version=version, max_tlp=TLP.RED).version == version
    with pytest.raises(ModelError, match="no trained model"):
        Attributor.load(models / "empty", store, max_tlp=TLP.RED)


def test_a_model_of_an_older_feature_format_is_refused(trained_world):
    # Format 2 weights were fitted on features whose cosines let hub-only matches score 1.0:
    # serving them beside today's features would be silently wrong, so they must retrain.
    store, models, trained, _ = trained_world
    version = artefacts.save(trained, models, version="old-format")
    meta_path = models / version / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "format": artefacts.FORMAT - 1}))
    with pytest.raises(
        ModelError, match=f"has format {artefacts.FORMAT - 1}, expected {artefacts.FORMAT}"
    ):
        Attributor.load(models, store, version=version, max_tlp=TLP.RED)
    shutil.rmtree(models / version)


@pytest.mark.parametrize("damage", [b"not a model", b"", b"PK\x03\x04truncated"])
def test_a_damaged_model_file_is_a_model_error_naming_it(trained_world, damage: bytes):
    store, models, trained, _ = trained_world
    version = artefacts.save(trained, models, version=f"damaged-{len(damage)}")
    (models / version / "red" / "model.pt").write_bytes(damage)
    with pytest.raises(ModelError, match=f"corrupt model artefact .*{version}"):
        Attributor.load(models, store, version=version, max_tlp=TLP.RED)
    shutil.rmtree(models / version)


def test_concurrent_attributions_match_sequential_ones(trained_world):
    from concurrent.futures import ThreadPoolExecutor

    store, models, _, _ = trained_world
    att = Attributor.load(models, store, max_tlp=TLP.RED)
    inputs = [
        {"malware": ["SunSpotX"]},
        {"malware": ["WiperY"], "techniques": ["T1016"]},
        {"indicators": ["104.16.1.1"]},
        {"malware": ["TinyZ"], "tools": ["Mimikatz"]},
    ] * 3
    acts = [activity_from_simple(x) for x in inputs]
    expected = [att.attribute(a, max_tlp=TLP.RED).to_dict() for a in acts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda a: att.attribute(a, max_tlp=TLP.RED).to_dict(), acts))
    assert got == expected


@pytest.mark.parametrize("similarity", ["cosine", "dot", "nearest"])
def test_pretrained_encoder_round_trips_and_keeps_the_planted_signal(
    store, tmp_path: Path, similarity: str
):
    build_world(store)
    cfg = TrainConfig(
        seed=3,
        epochs=40,
        episodes=4,
        dim=16,
        pretrain_gnn=True,
        pretrain_epochs=60,
        gnn_similarity=similarity,
    )
    trained = train(export_graph(store, max_tlp=TLP.RED), cfg)
    assert trained.entity_emb is not None
    assert trained.metrics["gnn_weight"] >= 0.0
    # The encoder is frozen after pre-training: nothing in it may still want gradients.
    assert not any(p.requires_grad for p in trained.model.encoder.parameters())
    version = artefacts.save(trained, tmp_path / "models")
    att = Attributor.load(tmp_path / "models", store, version=version, max_tlp=TLP.RED)
    assert att.trained.model.similarity == similarity
    act = activity_from_simple({"malware": ["SunSpotX"], "indicators": ["evil-x.example"]})
    res = att.attribute(act, max_tlp=TLP.RED)
    assert res.candidates[0].actor_id == "intrusion-set--X"
    from actorgraph.gnn.scoring import Scorer

    q = [[trained.space.pos["malware--sunspotx"], trained.space.pos["domain:evil-x.example"]]]
    np.testing.assert_allclose(
        Scorer(trained).probabilities(q), att.scorer.probabilities(q), atol=1e-6
    )


def test_link_prediction_pretraining_lowers_its_loss(store):
    from actorgraph.gnn.model import HeteroSAGE
    from actorgraph.gnn.pretrain import pretrain_link_prediction
    from actorgraph.gnn.train import Trainer

    build_world(store)
    trainer = Trainer(export_graph(store, max_tlp=TLP.RED), TrainConfig(seed=1, dim=16))
    encoder = trainer.build_encoder()
    assert isinstance(encoder, HeteroSAGE)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as train() does for small graphs: 2 threads only spin here
    try:
        losses = pretrain_link_prediction(
            encoder, trainer._edges({}, None), epochs=80, lr=0.01, seed=1
        )
    finally:
        torch.set_num_threads(threads)
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) * 0.9, (losses[:3], losses[-3:])


def test_bad_encoder_settings_are_clear_errors(store):
    build_world(store)
    snap = export_graph(store, max_tlp=TLP.RED)
    with pytest.raises(ModelError, match="gnn_similarity 'bogus'"):
        train(snap, TrainConfig(pretrain_gnn=True, gnn_similarity="bogus", epochs=2))
    with pytest.raises(ModelError, match="hidden must be 0, got 8"):
        train(snap, TrainConfig(pretrain_gnn=True, hidden=8, epochs=2))
    with pytest.raises(ModelError, match="unknown graph mode 'partial'"):
        train(snap, TrainConfig(graph="partial", epochs=2))


def test_nearest_overlap_takes_the_closest_profile_entity_whatever_the_profile_size():
    import scipy.sparse as sp
    import torch

    from actorgraph.gnn.nearest import nearest_overlap, profile_pairs

    emb = torch.eye(4)  # four unrelated entities
    # Actor 0 holds entity 0 among three others; actor 1 holds only entity 1; actor 2 nothing.
    profile = sp.csr_matrix(np.array([[1.0, 0, 1, 1], [0, 1.0, 0, 0], [0, 0, 0, 0]]))
    sim = nearest_overlap(
        torch.tensor([0, 1]),
        torch.tensor([1.0, 1.0]),
        torch.tensor([0, 1]),
        2,
        emb,
        *profile_pairs(profile),
        3,
    )
    torch.testing.assert_close(sim, torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))


def test_nearest_index_matches_the_torch_overlap():
    import scipy.sparse as sp
    import torch

    from actorgraph.gnn.nearest import NearestIndex, nearest_overlap, profile_pairs

    gen = torch.Generator().manual_seed(0)
    emb = torch.randn(30, 8, generator=gen)
    rng = np.random.default_rng(0)
    dense = (rng.random((6, 30)) < 0.2).astype(float)
    dense[2] = 0.0  # an actor without profile
    profile = sp.csr_matrix(dense)
    q_idx = torch.tensor([0, 5, 7, 29, 3])
    q_w = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
    q_batch = torch.tensor([0, 0, 1, 1, 1])
    want = nearest_overlap(q_idx, q_w, q_batch, 2, emb, *profile_pairs(profile), 6)
    index = NearestIndex(emb, profile)
    assert index.table is not None
    got = index(q_idx.numpy(), q_w.numpy(), q_batch.numpy(), 2)
    np.testing.assert_allclose(got, want.numpy(), atol=1e-5)
    index.table = None  # the on-the-fly path of large graphs gives the same numbers
    np.testing.assert_allclose(
        index(q_idx.numpy(), q_w.numpy(), q_batch.numpy(), 2), want.numpy(), atol=1e-5
    )


def test_the_result_is_typed_and_the_clearance_is_required(trained_world):
    from actorgraph.graph.attribution import AttributionResult

    store, models, _, _ = trained_world
    att = Attributor.load(models, store, max_tlp=TLP.RED)
    act = activity_from_simple({"malware": ["SunSpotX"], "indicators": ["evil-x.example"]})
    with pytest.raises(TypeError, match="max_tlp"):
        att.attribute(act)  # no default: forgetting the clearance must not show everything
    res = att.attribute(act, max_tlp=TLP.RED)
    assert isinstance(res, AttributionResult) and res.evidence
    assert AttributionResult.from_json(res.to_json()) == res


@pytest.mark.parametrize("monotone", [False, True])
def test_the_signals_add_up_to_the_actors_log_odds(trained_world, monotone: bool):
    from actorgraph.gnn.scoring import Scorer

    store, _, _, _ = trained_world
    trained = train(export_graph(store, max_tlp=TLP.RED), replace(CONFIG, monotone=monotone))
    pos = trained.space.pos
    q = [[pos["malware--plugx"], pos["tool--mimikatz"]], [pos["malware--sunspotx"]]]
    probs, signals = Scorer(trained).scores(q)
    assert signals is not None and signals.shape == (2, probs.shape[1] - 1, 5)
    for p, s in zip(probs, signals, strict=True):
        ok, ref = p[:-1] > 1e-30, int(np.argmax(p[:-1]))  # float32: smaller ones are inexact
        log_odds = np.log(p[:-1][ok]) - np.log(p[ref])
        np.testing.assert_allclose(log_odds, s.sum(axis=1)[ok] - s[ref].sum(), atol=1e-3)
    evidence = signals[..., :4]  # every kind but the prior
    # Unconstrained, this small world's scorer weighs some overlap against actors; the
    # constraint is what keeps every kind of evidence at 0 or more.
    assert bool((evidence >= 0).all()) is monotone


def test_each_candidate_reports_its_signals(trained_world):
    store, models, _, _ = trained_world
    att = Attributor.load(models, store, max_tlp=TLP.RED)
    planted = activity_from_simple({"malware": ["SunSpotX"], "indicators": ["evil-x.example"]})
    res = att.attribute(planted, max_tlp=TLP.RED, top_k=4, evidence=False)
    assert len(res.candidates) == 4 and all(c.signals is not None for c in res.candidates)
    # X holds the activity's rare malware and its domain: direct overlap counts most for it.
    first, last = res.candidates[0], res.candidates[-1]
    assert first.actor_id == "intrusion-set--X"
    assert first.signals is not None and last.signals is not None
    assert first.signals.direct > last.signals.direct
    assert "what each kind of evidence added (log-odds):" in format_result(res)


def test_a_scorer_with_a_hidden_layer_reports_no_signals(trained_world):
    store, models, _, _ = trained_world
    snap = export_graph(store, max_tlp=TLP.RED)
    version = artefacts.save(train(snap, replace(CONFIG, hidden=4)), models)
    att = Attributor.load(models, store, version=version, max_tlp=TLP.RED)
    res = att.attribute(activity_from_simple({"malware": ["SunSpotX"]}), max_tlp=TLP.RED)
    assert res.candidates and all(c.signals is None for c in res.candidates)
    assert "what each kind of evidence added" not in format_result(res)
