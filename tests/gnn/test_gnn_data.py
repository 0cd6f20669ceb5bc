"""Snapshot export helpers, the hub warning list and the baselines (issue 3)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from actorgraph.gnn.baselines import OverlapBaseline, TfidfBaseline
from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.evaluate import rank_of
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
from actorgraph.gnn.train import _loss_weights
from actorgraph.graph.errors import ModelError

NODES = [
    {"id": "a1", "type": "actor", "name": "A1", "country": None},
    {"id": "a2", "type": "actor", "name": "A2"},
    {"id": "c1", "type": "campaign", "name": "C1"},
    {"id": "m1", "type": "malware", "name": "Rare"},
    {"id": "m2", "type": "malware", "name": "Common"},
    {"id": "t1", "type": "technique", "external_id": "T1001"},
    {"id": "country:RU", "type": "country", "name": "Russia"},
]
EDGES = [
    {"src": "a1", "rel": "USES", "dst": "m1"},
    {"src": "a1", "rel": "USES", "dst": "m2"},
    {"src": "a2", "rel": "USES", "dst": "m2"},
    {"src": "c1", "rel": "ATTRIBUTED_TO", "dst": "a2"},
    {"src": "c1", "rel": "USES", "dst": "t1"},
    {"src": "a1", "rel": "ORIGINATES_FROM", "dst": "country:RU"},
    {"src": "c1", "rel": "PREDICTED_ACTOR", "dst": "a1"},
    {"src": "a1", "rel": "USES", "dst": "missing"},
]


def test_snapshot_rows_labels_fingerprint_and_leave_one_out():
    snap = GraphSnapshot.from_rows(NODES, EDGES)
    assert snap.labels() == {"c1": "a2"}
    assert ("campaign", "PREDICTED_ACTOR", "actor") not in snap.edges  # hypotheses never train
    assert snap.props["a1"]["country"] == "RU"  # from ORIGINATES_FROM
    again = GraphSnapshot.from_rows(list(reversed(NODES)), list(reversed(EDGES)))
    assert again.fingerprint() == snap.fingerprint()
    loo = snap.without_campaign("c1")
    assert loo.labels() == {} and "c1" not in loo.props and loo.fingerprint() != snap.fingerprint()


def test_hub_list_flags_shared_infrastructure_not_ordinary_values():
    hubs = HubList.load()
    assert hubs.reason("ipv4:8.8.8.8", {"type": "indicator", "kind": "ipv4", "value": "8.8.8.8"})
    assert hubs.reason(
        "ipv4:104.16.3.4", {"type": "indicator", "kind": "ipv4", "value": "104.16.3.4"}
    )
    assert hubs.reason("asn:AS13335", {"type": "infrastructure", "kind": "asn", "value": "AS13335"})
    assert hubs.reason("x", {"type": "tool", "name": "Cobalt Strike", "aliases": []})
    assert hubs.reason("x", {"type": "technique", "external_id": "T1059.001"})
    sinkhole = "a.sinkhole.shadowserver.org"
    assert hubs.reason(
        f"domain:{sinkhole}", {"type": "indicator", "kind": "domain", "value": sinkhole}
    )
    assert (
        hubs.reason(
            "ipv4:203.0.113.5", {"type": "indicator", "kind": "ipv4", "value": "203.0.113.5"}
        )
        is None
    )
    assert hubs.reason("x", {"type": "malware", "name": "SunSpotX", "aliases": []}) is None
    assert 0 < hubs.weight("x", {"type": "tool", "name": "mimikatz"}) < 0.1


def test_baselines_rank_rare_overlap_first_and_ties_count_against():
    snap = GraphSnapshot.from_rows(NODES, EDGES)
    space = EntitySpace.build(snap, HubList())
    q = [space.pos["m1"], space.pos["m2"]]
    for baseline in (TfidfBaseline(snap, space), OverlapBaseline(snap, space)):
        s = baseline.scores(q)
        assert rank_of(s, snap.index("actor")["a1"]) == 1
    assert rank_of(np.array([0.0, 0.0, 0.0]), 0) == 3


def test_campaign_match_is_the_best_of_the_actors_own_campaigns():
    nodes = [{"id": f"a{i}", "type": "actor", "name": f"A{i}"} for i in (1, 2, 3)]
    nodes += [{"id": f"c{i}", "type": "campaign", "name": f"C{i}"} for i in (1, 2, 3)]
    nodes += [{"id": f"t{i}", "type": "technique", "external_id": f"T100{i}"} for i in range(1, 6)]
    edges = [
        {"src": c, "rel": "ATTRIBUTED_TO", "dst": a}
        for c, a in (("c1", "a1"), ("c2", "a1"), ("c3", "a2"))
    ]
    edges += [
        {"src": c, "rel": "USES", "dst": t}
        for c, t in (("c1", "t1"), ("c1", "t2"), ("c2", "t3"), ("c3", "t4"), ("c3", "t1"))
    ]
    edges += [
        {"src": "a3", "rel": "USES", "dst": "t1"},
        {"src": "a3", "rel": "USES", "dst": "t2"},
        {"src": "a1", "rel": "USES", "dst": "t5"},
    ]
    snap = GraphSnapshot.from_rows(nodes, edges)
    space = EntitySpace.build(snap, HubList())
    camps, attributed = cluster_items(snap, space, "campaign"), attribution_matrix(snap)
    prof = profiles(cluster_items(snap, space, "actor"), camps, attributed)
    idf = idf_weights(space.expand(prof), space.hub)
    eye = np.eye(len(space))
    query = sp.csr_matrix(eye[[space.pos["t1"]]] + eye[[space.pos["t2"]]])
    col = FEATURE_NAMES.index("campaign_cos")
    with_camps = PairFeatures(space, prof, idf, camps, attributed)(query)[0]
    a = snap.index("actor")
    # a1's first campaign is exactly the query; its other campaign (t3) does not dilute it.
    assert with_camps[a["a1"], col] == pytest.approx(1.0, abs=1e-6)
    assert 0.0 < with_camps[a["a2"], col] < 1.0  # shares t1 with c3
    assert with_camps[a["a3"], col] == 0.0  # no attributed campaign, however close its profile
    assert with_camps[a["a3"], FEATURE_NAMES.index("all_cos")] > 0.9
    without = PairFeatures(space, prof, idf)(query)[0]
    assert not without[:, col : col + 2].any()
    np.testing.assert_allclose(without[:, :col], with_camps[:, :col])


def test_a_hub_alone_does_not_make_a_channel_or_campaign_match():
    # Cosines are scale-free: with the hub damping inside the norms, a channel whose only
    # shared item is Mimikatz scored 1.0, as much as a shared rare malware (measured on ATT&CK:
    # Whitefly, whose only software is Mimikatz, topped the Triton campaign's candidates).
    nodes = [{"id": f"a{i}", "type": "actor", "name": f"A{i}"} for i in (1, 2)]
    nodes += [
        {"id": "c1", "type": "campaign", "name": "C1"},
        {"id": "mimi", "type": "tool", "name": "Mimikatz"},
        {"id": "rare", "type": "malware", "name": "RareRAT"},
        {"id": "t1", "type": "technique", "external_id": "T1001"},
    ]
    edges = [
        {"src": "a1", "rel": "USES", "dst": "mimi"},
        {"src": "a1", "rel": "USES", "dst": "t1"},
        {"src": "a2", "rel": "USES", "dst": "rare"},
        {"src": "a2", "rel": "USES", "dst": "mimi"},
        {"src": "c1", "rel": "USES", "dst": "mimi"},
        {"src": "c1", "rel": "ATTRIBUTED_TO", "dst": "a1"},
    ]
    snap = GraphSnapshot.from_rows(nodes, edges)
    a = snap.index("actor")
    sw, camp = FEATURE_NAMES.index("direct_software_cos"), FEATURE_NAMES.index("campaign_cos")

    def features(hubs: HubList, query: list[str]) -> np.ndarray:
        space = EntitySpace.build(snap, hubs)
        camps, attributed = cluster_items(snap, space, "campaign"), attribution_matrix(snap)
        prof = profiles(cluster_items(snap, space, "actor"), camps, attributed)
        idf = idf_weights(space.expand(prof), space.hub)
        pf = PairFeatures(space, prof, idf, camps, attributed)
        q = sp.csr_matrix(
            (np.ones(len(query)), ([0] * len(query), [space.pos[e] for e in query])),
            shape=(1, len(space)),
        )
        batch = pf(sp.vstack([q, q]).tocsr())[0]
        np.testing.assert_array_equal(pf(q)[0], batch)  # the one-row path agrees
        return batch

    listed = features(HubList.load(), ["mimi"])
    assert 0.0 < listed[a["a1"], sw] < 0.01 and 0.0 < listed[a["a1"], camp] < 0.01
    unlisted = features(HubList(), ["mimi"])  # the same tool, not on the warning list
    assert unlisted[a["a1"], sw] == pytest.approx(1.0)
    assert unlisted[a["a1"], camp] == pytest.approx(1.0)
    rare = features(HubList.load(), ["rare"])  # a rare malware still counts in full
    assert rare[a["a2"], sw] > 0.99


def test_query_normalise_scales_over_the_candidates_only():
    import torch

    from actorgraph.gnn.model import query_normalise

    # 1 query, 4 actors, 2 features; actor 3 is hidden (not a candidate), feature 1 is flat.
    feats = torch.tensor([[[0.2, 5.0], [0.6, 5.0], [0.4, 5.0], [9.0, 5.0]]])
    mask = torch.tensor([[False, False, False, True]])
    out = query_normalise(feats, mask)
    assert out[0, :3, 0].tolist() == pytest.approx([0.0, 1.0, 0.5])
    assert out[0, 3, 0] == 1.0  # the hidden actor is clipped, and moved nobody else's value
    assert not out[..., 1].any()  # equal for every candidate: carries nothing
    unmasked = query_normalise(feats, None)[0, :, 0]
    assert unmasked.tolist() == pytest.approx([0.0, 0.4 / 8.8, 0.2 / 8.8, 1.0])
    assert query_normalise(feats[:, :0], None).shape == (1, 0, 2)


def test_campaign_loss_share_weights_views_by_kind():
    w = _loss_weights(np.array([True, False, False, False]), 0.5)
    assert w is not None and w.tolist() == pytest.approx([2.0, 2 / 3, 2 / 3, 2 / 3])
    assert float(w.mean()) == pytest.approx(1.0)
    assert _loss_weights(np.array([True, False]), None) is None
    assert _loss_weights(np.array([False, False]), 0.5) is None  # nothing to balance
    with pytest.raises(ModelError, match="campaign_loss_share"):
        _loss_weights(np.array([True, False]), 1.5)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit inside PyG
def test_to_hetero_data_has_reverse_edges():
    data = GraphSnapshot.from_rows(NODES, EDGES).to_hetero_data()
    assert data["actor"].num_nodes == 2
    assert data["actor", "uses", "malware"].edge_index.shape == (2, 3)
    assert data["malware", "rev_uses", "actor"].edge_index.shape == (2, 3)


def _context_graph(seed: int = 3) -> GraphSnapshot:
    """Actors, campaigns and entities with context edges of every kind the features follow."""
    rng = np.random.default_rng(seed)
    nodes = [{"id": f"a{i}", "type": "actor", "name": f"A{i}"} for i in range(6)]
    nodes += [{"id": f"c{i}", "type": "campaign", "name": f"C{i}"} for i in range(8)]
    kinds = {
        "technique": 12,
        "malware": 6,
        "tool": 3,
        "indicator": 20,
        "infrastructure": 5,
        "sector": 3,
    }
    ents = {k: [f"{k}{i}" for i in range(n)] for k, n in kinds.items()}
    nodes += [{"id": e, "type": k, "name": e} for k, ids in ents.items() for e in ids]
    edges = [{"src": f"c{i}", "rel": "ATTRIBUTED_TO", "dst": f"a{i % 5}"} for i in range(8)]
    everything = [e for ids in ents.values() for e in ids]
    for owner in [f"a{i}" for i in range(6)] + [f"c{i}" for i in range(8)]:
        for e in rng.choice(everything, size=8, replace=False):
            rel = "TARGETS" if e.startswith("sector") else "USES"
            if e.startswith("indicator"):
                edges.append({"src": e, "rel": "INDICATES", "dst": owner})
            else:
                edges.append({"src": owner, "rel": rel, "dst": e})
    for i in range(0, 20, 2):  # domain -> IP -> hosting, hash -> malware
        edges.append({"src": f"indicator{i}", "rel": "RESOLVES_TO", "dst": f"indicator{i + 1}"})
        edges.append(
            {"src": f"indicator{i + 1}", "rel": "HOSTED_ON", "dst": f"infrastructure{i % 5}"}
        )
    edges += [{"src": f"malware{i}", "rel": "USES", "dst": f"technique{2 * i}"} for i in range(6)]
    edges += [
        {"src": f"technique{i}", "rel": "SUBTECHNIQUE_OF", "dst": f"technique{i + 6}"}
        for i in range(6)
    ]
    return GraphSnapshot.from_rows(nodes, edges)


def test_one_query_row_gives_exactly_the_batch_features():
    # The API scores one activity at a time through a numpy path; training and evaluation use
    # sparse batches. Both must give the same numbers, bit for bit.
    snap = _context_graph()
    space = EntitySpace.build(snap, HubList())
    camps, attributed = cluster_items(snap, space, "campaign"), attribution_matrix(snap)
    prof = profiles(cluster_items(snap, space, "actor"), camps, attributed)
    pf = PairFeatures(space, prof, idf_weights(space.expand(prof), space.hub), camps, attributed)
    rng = np.random.default_rng(0)
    n = len(space)
    rows = [rng.choice(n, size=k, replace=False) for k in (0, 1, 3, 7, 15, n)]
    row_of = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    batch = sp.csr_matrix(
        (np.ones(sum(map(len, rows))), (row_of, np.concatenate(rows))), shape=(len(rows), n)
    )
    together = pf(batch)
    expanded = space.expand(batch)
    for i, r in enumerate(rows):
        np.testing.assert_array_equal(pf(batch[i]), together[i : i + 1])
        idx, val = space.expand_row(np.sort(r).astype(np.int64), np.ones(len(r)))
        ref = expanded[i]
        assert idx.tolist() == sorted(ref.indices.tolist())
        np.testing.assert_array_equal(val, ref.toarray()[0, idx])
    assert together[3:].any()  # the queries did share something with the actors
