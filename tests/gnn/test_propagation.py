"""The evidence encoder (gnn.propagation): inductive inputs, the neighbourhood it trains on, an
unseen indicator scored through the network enrichment joins it to, its place in the model
(configuration, ``--no-graph``, artefacts)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from actorgraph.gnn import artefacts
from actorgraph.gnn.activity import activity_from_simple
from actorgraph.gnn.attribute import Attributor
from actorgraph.gnn.dataset import GraphSnapshot, export_graph
from actorgraph.gnn.features import EntitySpace
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.propagation import (
    EntityGraph,
    EvidencePropagation,
    SparseMatmul,
    evidence_inputs,
    neighbourhood,
)
from actorgraph.gnn.scoring import Scorer
from actorgraph.gnn.train import TrainConfig, train
from actorgraph.graph.errors import ModelError
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.tlp import TLP
from tests.helpers.stix import bundle, sdo

ENCODER = TrainConfig(seed=3, epochs=30, episodes=4, encoder="evidence")
# Both actors use the same techniques; only their C2 networks tell them apart.
NETS = {"A": "100.64.9", "B": "192.0.2"}
TECHS = ["T1071", "T1059", "T1105"]
NEW_IPS = {"indicators": ["100.64.9.201", "100.64.9.202"]}  # never seen; in A's /24


def _snapshot() -> GraphSnapshot:
    """Two actors; each one's campaign shows two IPs of its own /24 network."""
    nodes: list[dict[str, Any]] = [
        {"id": "net-a", "type": "infrastructure", "name": "network:100.64.9.0/24"},
        {"id": "net-b", "type": "infrastructure", "name": "network:192.0.2.0/24"},
        {"id": "t1", "type": "technique", "external_id": "T1071"},
    ]
    edges: list[dict[str, Any]] = []
    for a, net in (("a", "net-a"), ("b", "net-b")):
        nodes += [
            {"id": a, "type": "actor", "name": a.upper()},
            {"id": f"c-{a}", "type": "campaign", "name": f"Op {a}"},
        ]
        edges += [
            {"src": f"c-{a}", "rel": "ATTRIBUTED_TO", "dst": a},
            {"src": a, "rel": "USES", "dst": "t1"},
        ]
        for k in range(2):
            ip = f"ip-{a}{k}"
            nodes.append({"id": ip, "type": "indicator", "kind": "ipv4", "value": f"{a}{k}"})
            edges += [
                {"src": ip, "rel": "INDICATES", "dst": f"c-{a}"},
                {"src": ip, "rel": "BELONGS_TO", "dst": net},
            ]
    return GraphSnapshot.from_rows(nodes, edges)


def test_node_features_describe_an_entity_never_name_it() -> None:
    snap = _snapshot()
    space = EntitySpace.build(snap, HubList())
    graph = EntityGraph.build(snap, space)
    x = {nid: graph.features[space.pos[nid]] for nid in space.ids}
    # Two IPs of the same kind and degree are the same input: no per-indicator identity.
    np.testing.assert_array_equal(x["ip-a0"], x["ip-b1"])
    assert not np.array_equal(x["ip-a0"], x["net-a"])
    assert set(graph.relations) == {"BELONGS_TO", "rev_BELONGS_TO"}


def test_the_input_states_split_each_entity_among_its_actors() -> None:
    profile = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0]], dtype=float))
    h0 = evidence_inputs(profile)
    np.testing.assert_allclose(h0, [[0.5, 0.5], [1.0, 0.0], [0.0, 0.0]])


def test_the_neighbourhood_holds_what_reaches_the_seeds() -> None:
    # A path 0 - 1 - 2 - 3 and an isolated node 4.
    adj = sp.csr_matrix((np.ones(6), ([0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2])), shape=(5, 5))
    assert neighbourhood(adj, np.array([0]), 1).tolist() == [0, 1]
    assert neighbourhood(adj, np.array([0]), 2).tolist() == [0, 1, 2]
    assert neighbourhood(adj, np.array([4]), 2).tolist() == [4]


def test_a_network_no_actor_uses_carries_the_evidence_of_its_indicators() -> None:
    snap = _snapshot()
    space = EntitySpace.build(snap, HubList())
    graph = EntityGraph.build(snap, space)
    actors = snap.index("actor")
    profile = sp.lil_matrix((2, len(space)))
    for a in ("a", "b"):
        for k in range(2):
            profile[actors[a], space.pos[f"ip-{a}{k}"]] = 1.0
    encoder = EvidencePropagation(graph.relations, graph.features.shape[1], layers=1).eval()
    with torch.no_grad():
        h = encoder(
            torch.from_numpy(evidence_inputs(profile.tocsr())),
            torch.from_numpy(graph.features),
            {r: torch.from_numpy(ei) for r, ei in graph.edges.items()},
            torch.tensor([2.0, 2.0]),
        ).numpy()
    net_a, net_b = h[space.pos["net-a"]], h[space.pos["net-b"]]
    assert net_a[actors["a"]] > 0 and net_a[actors["b"]] == 0
    assert net_b[actors["b"]] > 0 and net_b[actors["a"]] == 0


def test_unknown_or_conflicting_encoders_are_refused() -> None:
    snap = _snapshot()
    with pytest.raises(ModelError, match="unknown encoder 'sage'"):
        train(snap, replace(ENCODER, encoder="sage"))
    with pytest.raises(ModelError, match="replaces the GraphSAGE encoder"):
        train(snap, replace(ENCODER, use_gnn=True))


# -- through the store, enrichment and the attributor --------------------------------------------
def _world() -> dict[str, Any]:
    objects: list[dict[str, Any]] = []
    techs = []
    for k, t in enumerate(TECHS):
        ref = {"source_name": "mitre-attack", "external_id": t}
        techs.append(sdo("attack-pattern", 900 + k, name=t, external_references=[ref]))
    objects += techs
    n = 0
    for i, (actor, net) in enumerate(NETS.items()):
        a = sdo("intrusion-set", 100 + i, name=f"Actor {actor}")
        objects.append(a)
        for c in range(3):
            camp = sdo("campaign", 300 + 10 * i + c, name=f"Op {actor}{c}")
            objects += [camp, _rel(n := n + 1, "attributed-to", camp, a)]
            objects += [_rel(n := n + 1, "uses", camp, t) for t in techs]
            for host in (10 + 2 * c, 11 + 2 * c):
                ind = sdo(
                    "indicator",
                    500 + n,
                    pattern=f"[ipv4-addr:value = '{net}.{host}']",
                    pattern_type="stix",
                    valid_from="2024-01-01T00:00:00Z",
                )
                objects += [ind, _rel(n := n + 1, "indicates", ind, camp)]
    return bundle(*objects)


def _rel(n: int, verb: str, src: dict[str, Any], dst: dict[str, Any]) -> dict[str, Any]:
    ends = {"relationship_type": verb, "source_ref": src["id"], "target_ref": dst["id"]}
    return sdo("relationship", 700 + n, **ends)


@pytest.fixture
def world(store) -> GraphSnapshot:
    ingest_object(store, _world(), "world", max_tlp=TLP.RED, enrich=True)
    return export_graph(store, max_tlp=TLP.RED)


def _scores(trained, activity: dict[str, Any]) -> dict[str, float]:
    res = Attributor(trained, None).attribute(
        activity_from_simple(activity), max_tlp=TLP.RED, top_k=2, evidence=False
    )
    return {c.name: c.score for c in res.candidates}


def test_new_ips_in_an_actor_s_network_rank_it_first_through_the_encoder(world) -> None:
    trained = train(world, ENCODER)
    assert trained.evidence is not None
    scores = _scores(trained, NEW_IPS)
    assert scores["Actor A"] > 2 * scores["Actor B"], scores
    # The encoder's own score, before the scorer, already decides.
    attributor = Attributor(trained, None)
    net = attributor.trained.space.pos["network:100.64.9.0/24"]
    own = attributor.scorer.evidence_scores([[net]])[0]
    actors = world.index("actor")
    a, b = (actors[sdo("intrusion-set", 100 + i)["id"]] for i in range(2))
    assert own[a] > 0 and own[b] == 0


def test_without_message_passing_the_new_ips_say_nothing(world) -> None:
    trained = train(world, replace(ENCODER, graph="none"))
    assert trained.evidence is None
    scores = _scores(trained, NEW_IPS)
    assert abs(scores["Actor A"] - scores["Actor B"]) < 0.05, scores


def test_a_saved_encoder_model_loads_and_scores_the_same(world, tmp_path) -> None:
    trained = train(world, ENCODER)
    version = artefacts.save(trained, tmp_path)
    loaded = artefacts.load(tmp_path, version, max_tlp=TLP.RED)
    assert loaded.evidence is not None
    np.testing.assert_allclose(loaded.evidence.toarray(), trained.evidence.toarray())
    queries = [[0, 1], [2]]
    np.testing.assert_allclose(
        Scorer(loaded).probabilities(queries), Scorer(trained).probabilities(queries), atol=1e-6
    )
    assert _scores(loaded, NEW_IPS) == pytest.approx(_scores(trained, NEW_IPS), abs=1e-6)


def test_a_model_without_its_evidence_states_is_refused(world, tmp_path) -> None:
    version = artefacts.save(train(world, ENCODER), tmp_path)
    pt = tmp_path / version / "red" / "model.pt"
    tensors = torch.load(pt, weights_only=True)
    for key in [k for k in tensors if k.startswith("evidence_")]:
        del tensors[key]
    torch.save(tensors, pt)
    with pytest.raises(ModelError, match="does not match the stored embeddings"):
        artefacts.load(tmp_path, version, max_tlp=TLP.RED)


def test_the_sparse_layer_is_a_matrix_product_with_exact_gradients() -> None:
    torch.manual_seed(0)
    n = 7
    index = torch.randint(0, n, (2, 15))  # repeated edges included
    values = torch.rand(15, dtype=torch.double, requires_grad=True)
    h = torch.rand(n, 3, dtype=torch.double, requires_grad=True)
    dense = torch.zeros(n, n, dtype=torch.double)
    dense = dense.index_put((index[0], index[1]), values.detach(), accumulate=True)
    torch.testing.assert_close(SparseMatmul.apply(index, values, h), dense @ h)
    assert torch.autograd.gradcheck(lambda v, x: SparseMatmul.apply(index, v, x), (values, h))
