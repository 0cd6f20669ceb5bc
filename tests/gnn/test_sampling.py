"""Neighbour sampling (gnn.sampling) and mini-batch link-prediction pre-training, on tiny graphs."""

from __future__ import annotations

import pytest
import torch

from actorgraph.gnn.model import HeteroSAGE
from actorgraph.gnn.pretrain import pretrain_link_prediction
from actorgraph.gnn.sampling import NeighborSampler, embed_sampled

NUM_NODES = {"actor": 8, "campaign": 4, "malware": 12, "technique": 10}


def _with_reverse(forward: dict[tuple[str, str, str], list[tuple[int, int]]]):
    edges = {}
    for (st, rel, dt), pairs in forward.items():
        ei = torch.tensor(pairs, dtype=torch.long).T.contiguous()
        edges[(st, rel, dt)] = ei
        edges[(dt, f"rev_{rel}", st)] = ei.flip(0)
    return edges


def two_groups():
    """Actors 0-3 use malware 0-5 and techniques 0-4; actors 4-7 the rest; one hub technique."""
    uses_mal, uses_tech, mal_tech, attributed = [], [], [], []
    for a in range(8):
        g = a // 4
        uses_mal += [(a, 6 * g + (a + i) % 6) for i in range(3)]
        uses_tech += [(a, 5 * g + (a + i) % 5) for i in range(3)]
    for m in range(12):
        g = m // 6
        mal_tech += [(m, 5 * g + (m + i) % 5) for i in range(2)]
    mal_tech += [(m, 9) for m in range(6)]
    attributed = [(0, 0), (1, 2), (2, 5), (3, 7)]
    return _with_reverse(
        {
            ("actor", "USES", "malware"): sorted(set(uses_mal)),
            ("actor", "USES", "technique"): sorted(set(uses_tech)),
            ("malware", "USES", "technique"): sorted(set(mal_tech)),
            ("campaign", "ATTRIBUTED_TO", "actor"): attributed,
        }
    )


def communities(groups: int = 4):
    """Groups of four actors using their group's six malware and five techniques."""
    a_m, a_t, m_t = [], [], []
    for a in range(4 * groups):
        g = a // 4
        a_m += [(a, 6 * g + (a + i) % 6) for i in range(4)]
        a_t += [(a, 5 * g + (a + i) % 5) for i in range(3)]
    for m in range(6 * groups):
        m_t += [(m, 5 * (m // 6) + (m + i) % 5) for i in range(2)]
    nodes = {"actor": 4 * groups, "malware": 6 * groups, "technique": 5 * groups}
    return nodes, _with_reverse(
        {
            ("actor", "USES", "malware"): a_m,
            ("actor", "USES", "technique"): a_t,
            ("malware", "USES", "technique"): m_t,
        }
    )


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny graphs: a second OpenMP thread only spins on a busy 2-core machine (as in gnn.train).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def encoder_for(edges, seed: int = 0, dim: int = 8) -> HeteroSAGE:
    torch.manual_seed(seed)
    return HeteroSAGE(
        NUM_NODES, list(edges), dim=dim, layers=2, learned_types=("malware", "technique")
    )


def _max_in_degree(edges) -> int:
    return max(int(torch.bincount(ei[1]).max()) for ei in edges.values())


def test_sampler_keeps_the_fanout_and_only_true_neighbours():
    edges = two_groups()
    fanouts = (2, 1)
    sampler = NeighborSampler(edges, NUM_NODES, fanouts, torch.Generator().manual_seed(3))
    seeds = {"technique": torch.tensor([9, 9, 0]), "actor": torch.tensor([5])}
    sub = sampler.sample(seeds)

    # Seeds come first, each once; seed_index points back at them.
    for t, ids in seeds.items():
        assert torch.equal(sub.node_ids[t][sub.seed_index[t]], ids)
    for t, ids in sub.node_ids.items():
        assert len(torch.unique(ids)) == len(ids), t
    for key, ei in sub.edges.items():
        st, _, dt = key
        true = {tuple(p) for p in edges[key].T.tolist()}
        glob = torch.stack([sub.node_ids[st][ei[0]], sub.node_ids[dt][ei[1]]])
        assert {tuple(p) for p in glob.T.tolist()} <= true, key
        assert len({tuple(p) for p in ei.T.tolist()}) == ei.shape[1], f"repeated edge in {key}"
        deg = torch.bincount(edges[key][1], minlength=NUM_NODES[dt])
        lo = 0
        for hop, k in enumerate(fanouts):
            hi = sub.edge_offsets[key][hop]
            dst = ei[1, lo:hi]
            # Hop-h edges end at nodes first reached at hop h.
            assert (
                (dst >= (sub.node_offsets[dt][hop - 1] if hop else 0))
                & (dst < sub.node_offsets[dt][hop])
            ).all(), (key, hop)
            got = torch.bincount(dst, minlength=len(sub.node_ids[dt]))
            want = deg[sub.node_ids[dt]].clamp_max(k)
            in_hop = torch.zeros(len(sub.node_ids[dt]), dtype=torch.bool)
            in_hop[(sub.node_offsets[dt][hop - 1] if hop else 0) : sub.node_offsets[dt][hop]] = True
            assert torch.equal(got[in_hop], want[in_hop]), (key, hop)
            lo = hi
    # The hub (technique 9, used by 8 malware) kept exactly two of them.
    hub_edges = sub.edges[("malware", "USES", "technique")]
    hub_local = int(sub.seed_index["technique"][0])
    assert int((hub_edges[1] == hub_local).sum()) == 2


def test_sampling_is_uniform_without_replacement():
    # 2,000 destinations, each with the same 20 sources: each is drawn ~ 2000 * 3 / 20 = 300 times.
    src = torch.arange(20).repeat(2000)
    dst = torch.arange(2000).repeat_interleave(20)
    edges = {("tool", "USES", "technique"): torch.stack([src, dst])}
    sampler = NeighborSampler(
        edges, {"tool": 20, "technique": 2000}, (3,), torch.Generator().manual_seed(0)
    )
    sub = sampler.sample({"technique": torch.arange(2000)})
    ei = sub.edges[("tool", "USES", "technique")]
    assert ei.shape[1] == 2000 * 3
    pairs = ei[1] * 20 + sub.node_ids["tool"][ei[0]]
    assert len(torch.unique(pairs)) == len(pairs)
    counts = torch.bincount(sub.node_ids["tool"][ei[0]], minlength=20)
    assert counts.min() > 230 and counts.max() < 370, counts.tolist()


@pytest.mark.parametrize("fanout", [-1, "max"])
def test_full_fanout_gives_the_full_batch_embeddings(fanout):
    edges = two_groups()
    k = _max_in_degree(edges) if fanout == "max" else -1
    encoder = encoder_for(edges)
    with torch.no_grad():
        full = encoder(edges)
        sampler = NeighborSampler(edges, NUM_NODES, (k, k), torch.Generator().manual_seed(1))
        seeds = {
            "actor": torch.tensor([6, 0, 6]),
            "technique": torch.tensor([9, 2]),
            "campaign": torch.tensor([3]),
        }
        sub = sampler.sample(seeds)
        out = embed_sampled(encoder, sub)
    for t, ids in seeds.items():
        torch.testing.assert_close(out[t][sub.seed_index[t]], full[t][ids], atol=1e-6, rtol=1e-5)
    # A smaller fan-out samples a smaller graph, and the seeds still get embeddings.
    small = NeighborSampler(edges, NUM_NODES, (1, 1), torch.Generator().manual_seed(1)).sample(
        seeds
    )
    assert small.num_edges < sub.num_edges
    with torch.no_grad():
        assert embed_sampled(encoder, small)["actor"].shape == (2, 8)


def test_minibatch_pretraining_lowers_the_loss():
    nodes, edges = communities()
    torch.manual_seed(0)
    encoder = HeteroSAGE(
        nodes, list(edges), dim=16, layers=2, learned_types=("malware", "technique")
    )
    losses = pretrain_link_prediction(
        encoder, edges, epochs=20, lr=0.03, seed=1, batch_size=32, fanouts=(3, 3)
    )
    assert len(losses) == 20
    assert sum(losses[-5:]) < 0.9 * sum(losses[:5]), (losses[:3], losses[-3:])


def test_same_seed_same_batches_and_same_model():
    edges = two_groups()

    def run(seed: int):
        encoder = encoder_for(edges, dim=8)
        losses = pretrain_link_prediction(
            encoder, edges, epochs=3, lr=0.01, seed=seed, batch_size=8, fanouts=(2, 2)
        )
        return losses, encoder.state_dict()

    (l1, s1), (l2, s2), (l3, _) = run(4), run(4), run(5)
    assert l1 == l2
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    assert l1 != l3
    a = NeighborSampler(edges, NUM_NODES, (2, 2), torch.Generator().manual_seed(9))
    b = NeighborSampler(edges, NUM_NODES, (2, 2), torch.Generator().manual_seed(9))
    seeds = {"actor": torch.arange(8)}
    sa, sb = a.sample(seeds), b.sample(seeds)
    assert all(torch.equal(sa.edges[k], sb.edges[k]) for k in sa.edges)
    assert all(torch.equal(sa.node_ids[t], sb.node_ids[t]) for t in sa.node_ids)


def test_bad_sampling_settings_are_clear_errors():
    edges = two_groups()
    with pytest.raises(ValueError, match=r"'fanouts' \(got \(10, 0\)\)"):
        NeighborSampler(edges, NUM_NODES, (10, 0))
    with pytest.raises(ValueError, match="seed node type 'sector'"):
        NeighborSampler(edges, NUM_NODES, (2,)).sample({"sector": torch.tensor([0])})
    encoder = encoder_for(edges)
    with pytest.raises(ValueError, match="one entry per encoder layer"):
        pretrain_link_prediction(
            encoder, edges, epochs=1, lr=0.01, seed=0, batch_size=4, fanouts=(5,)
        )
    with pytest.raises(ValueError, match=r"'batch_size' \(got 0\)"):
        pretrain_link_prediction(encoder, edges, epochs=1, lr=0.01, seed=0, batch_size=0)
    sub = NeighborSampler(edges, NUM_NODES, (2,)).sample({"actor": torch.tensor([0])})
    with pytest.raises(ValueError, match="1 hops, the encoder 2 layers"):
        embed_sampled(encoder, sub)
