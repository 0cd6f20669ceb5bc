"""The yardstick (gnn.ablation): its JSON shape, intervals, paired counts, the graph baselines and
the open set retrained without its absent actors."""

from __future__ import annotations

import numpy as np
import pytest

from actorgraph.gnn.ablation import (
    METHODS,
    SPLITS,
    Outcome,
    Query,
    WorldTest,
    campaign_query,
    held_out,
    holdout_actors,
    open_set,
    run_ablation,
    summarise_split,
)
from actorgraph.gnn.activity import Activity
from actorgraph.gnn.baselines import LabelPropagation, TfidfBaseline, TfidfContextBaseline
from actorgraph.gnn.config import TrainConfig
from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.evaluate import bootstrap_ci, wins_losses
from actorgraph.gnn.features import EntitySpace
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.train import train
from actorgraph.graph.errors import ModelError

TINY = TrainConfig(seed=2, epochs=6, episodes=2, pretrain_epochs=5, dim=8)
N_ACTORS = 6


def _snapshot() -> GraphSnapshot:
    """Six actors, each with four own techniques and two own malware, all sharing T1059; two
    attributed campaigns each (ATT&CK-style ids C0...); one C2 domain per actor resolving to an
    IP its second campaign shows and to an IP no campaign shows (reachable by context only)."""
    nodes = [{"id": f"a{i}", "type": "actor", "name": f"A{i}"} for i in range(N_ACTORS)]
    nodes += [{"id": f"t{i}", "type": "technique", "external_id": f"T1{i:03d}"} for i in range(24)]
    nodes.append({"id": "t-common", "type": "technique", "external_id": "T1059"})
    nodes += [{"id": f"m{i}", "type": "malware", "name": f"M{i}"} for i in range(12)]
    edges = []
    for a in range(N_ACTORS):
        own = [f"t{4 * a + k}" for k in range(4)] + [f"m{2 * a}", f"m{2 * a + 1}", "t-common"]
        edges += [{"src": f"a{a}", "rel": "USES", "dst": e} for e in own]
        nodes += [
            {"id": f"d{a}", "type": "indicator", "kind": "domain", "value": f"c2-{a}.example"},
            {"id": f"ip{a}", "type": "indicator", "kind": "ipv4", "value": f"198.51.100.{a}"},
            {"id": f"ipx{a}", "type": "indicator", "kind": "ipv4", "value": f"203.0.113.{a}"},
        ]
        edges.append({"src": f"d{a}", "rel": "RESOLVES_TO", "dst": f"ip{a}"})
        edges.append({"src": f"d{a}", "rel": "RESOLVES_TO", "dst": f"ipx{a}"})
        for k in range(2):
            cid = f"c{a}{k}"
            nodes.append(
                {"id": cid, "type": "campaign", "name": f"Op {a}{k}", "external_id": f"C0{a}{k}"}
            )
            edges.append({"src": cid, "rel": "ATTRIBUTED_TO", "dst": f"a{a}"})
            edges += [{"src": cid, "rel": "USES", "dst": e} for e in own[k : k + 4]]
            edges.append({"src": f"d{a}" if k == 0 else f"ip{a}", "rel": "INDICATES", "dst": cid})
        edges.append({"src": f"m{2 * a}", "rel": "USES", "dst": f"t{4 * a}"})
    return GraphSnapshot.from_rows(nodes, edges)


def _world(snap: GraphSnapshot) -> WorldTest:
    """Held-out queries: a few of each actor's own items (demo_test), its C2 domain alone
    (infrastructure) and an unknown domain (infrastructure_control)."""
    queries: dict[str, list[Query]] = {"demo_test": [], "infrastructure": [], "control": []}
    for a in range(N_ACTORS):
        truth = f"a{a}"
        queries["demo_test"].append(
            Query(
                Activity(techniques=[f"t{4 * a + 2}", f"t{4 * a + 3}"], malware=[f"m{2 * a}"]),
                truth,
            )
        )
        queries["infrastructure"].append(Query(Activity(indicators=[f"d{a}"]), truth))
        queries["control"].append(Query(Activity(indicators=["domain:new.example"]), truth))
    return WorldTest(
        snap,
        {
            "demo_test": queries["demo_test"],
            "infrastructure": queries["infrastructure"],
            "infrastructure_control": queries["control"],
        },
    )


def test_json_shape_every_split_every_method():
    snap = _snapshot()
    result = run_ablation(
        snap,
        _world(snap),
        config=TINY,
        hubs=HubList(),
        n_absent=2,
        campaigns=["c00", "c11"],
    )
    assert set(result["splits"]) == set(SPLITS), result["skipped"]
    assert not result["skipped"]
    for split, methods in result["splits"].items():
        assert list(methods) == list(METHODS)
        for m, row in methods.items():
            assert {"n", "top1", "top3", "mrr", "top1_ci"} <= set(row)
            assert 0 <= row["top1"] <= row["top3"] <= 1 and 0 < row["mrr"] <= 1
            lo, hi = row["top1_ci"]
            assert lo <= row["top1"] <= hi
            assert ("auroc" in row) == (split == "open_set")
            if m != "no_graph":
                assert sum(row["vs_no_graph"].values()) == row["n"]
    assert result["splits"]["attack_loco"]["full"]["n"] == 2
    assert result["splits"]["demo_test"]["tfidf"]["n"] == N_ACTORS
    assert 0 <= result["splits"]["open_set"]["full"]["auroc"] <= 1
    assert len(result["open_set_absent_actors"]) == 2


def test_unknown_split_or_method_is_refused():
    with pytest.raises(ModelError, match="bogus"):
        run_ablation(None, None, splits=["bogus"])
    with pytest.raises(ModelError, match="gcn"):
        run_ablation(None, None, methods=["gcn"])


def test_bootstrap_interval_holds_the_estimate_and_repeats_for_a_seed():
    hits = [1.0] * 7 + [0.0] * 13
    ci = bootstrap_ci(hits, resamples=500, seed=3)
    assert ci is not None and ci[0] <= 0.35 <= ci[1] and ci[0] < ci[1]
    assert bootstrap_ci(hits, resamples=500, seed=3) == ci
    assert bootstrap_ci([1.0, 1.0], seed=3) == [1.0, 1.0]
    assert bootstrap_ci([], seed=3) is None


def test_paired_wins_and_losses_add_up():
    ranks, ref = [1, 2, 5, 3, 1], [2, 2, 1, 4, 1]
    counts = wins_losses(ranks, ref)
    assert counts == {"wins": 2, "losses": 1, "ties": 2}
    assert sum(counts.values()) == len(ranks)
    assert wins_losses(ref, ranks) == {"wins": 1, "losses": 2, "ties": 2}
    with pytest.raises(ValueError, match="length"):
        wins_losses([1], [1, 2])


def test_the_top1_gain_is_taken_on_the_same_queries_as_no_graph():
    def outs(ranks: list[int | None]) -> list[Outcome]:
        return [Outcome(rank=r, unknown=0.0) for r in ranks]

    summary = summarise_split(
        {"no_graph": outs([1, 2, 1, 3, None]), "full": outs([1, 1, 2, 1, 1])}, resamples=10
    )
    # Queries 2 and 4 won, query 3 lost; the fifth (no rank under no_graph) is not paired.
    assert summary["full"]["top1_gain"] == 0.25
    assert "top1_gain" not in summary["no_graph"]


def test_label_propagation_ranks_the_actor_whose_neighbourhood_is_the_query():
    snap = _snapshot()
    space = EntitySpace.build(snap, HubList())
    lp = LabelPropagation(snap, space)
    a = snap.index("actor")["a3"]
    neighbours = [space.pos[e] for e in ("t12", "t13", "t14", "t15", "m6", "m7", "t-common")]
    scores = lp.scores(neighbours)
    assert int(np.argmax(scores)) == a
    assert np.sort(scores)[-1] > np.sort(scores)[-2]
    assert not lp.scores([]).any()


def test_tfidf_context_reaches_an_actor_through_context_edges():
    snap = _snapshot()
    space = EntitySpace.build(snap, HubList())
    # ipx0 is in no profile; a0's C2 domain resolves to it.
    q = [space.pos["ipx0"]]
    assert not TfidfBaseline(snap, space).scores(q).any()
    ctx_scores = TfidfContextBaseline(snap, space).scores(q)
    assert int(np.argmax(ctx_scores)) == snap.index("actor")["a0"]
    assert np.count_nonzero(ctx_scores) == 1


def test_open_set_retrains_without_the_absent_actors():
    snap = _snapshot()
    queries = [campaign_query(snap, c) for c in ("c00", "c10", "c20", "c30", "c40", "c50")]
    outcomes, errors, absent = open_set(
        snap, queries, ["tfidf", "full"], TINY, HubList(), n_absent=2, seed=1
    )
    assert not errors and len(absent) == 2
    for m in ("tfidf", "full"):
        ranks = {q.truth: o.rank for q, o in zip(queries, outcomes[m], strict=True)}
        assert all(ranks[a] is None for a in absent)
        assert all(r is not None for t, r in ranks.items() if t not in absent)
    fold = holdout_actors(snap, absent, ["c00"])
    assert not set(absent) & set(fold.nodes["actor"])
    assert set(fold.labels().values()) == {f"a{i}" for i in range(N_ACTORS)} - set(absent)
    assert "c00" not in fold.props and len(fold.labels()) == 2 * (N_ACTORS - 2) - (
        "a0" not in absent
    )
    trained = train(fold, TINY, HubList())
    assert not set(absent) & set(trained.snapshot.nodes["actor"])
    summary = summarise_split(outcomes)
    assert summary["full"]["n"] == 4 and summary["full"]["n_absent"] == 2
    assert summary["full"]["auroc"] is not None
    with pytest.raises(ModelError, match="no present actor"):
        open_set(snap, queries, ["tfidf"], TINY, HubList(), n_absent=6)


def test_the_encoder_alone_is_a_method_and_finds_the_c2_domains():
    snap = _snapshot()
    result = run_ablation(
        None,
        _world(snap),
        splits=["infrastructure", "infrastructure_control"],
        methods=["no_graph", "gnn"],
        config=TINY,
        hubs=HubList(),
    )
    assert not result["skipped"]
    infra = result["splits"]["infrastructure"]["gnn"]
    control = result["splits"]["infrastructure_control"]["gnn"]
    # Each query is a domain its actor's campaign showed: the encoder's own states rank it.
    assert infra["n"] == N_ACTORS and infra["top1"] == 1.0
    # An unknown domain joins nothing: no actor ahead of another, ties count against the method.
    assert control["top1"] == 0.0


def test_model_outcomes_say_how_much_of_the_truths_evidence_the_graph_added():
    snap = _snapshot()
    splits = ["infrastructure", "infrastructure_control"]
    per_split, errors = held_out(
        _world(snap), splits, ["tfidf", "no_graph", "full"], TINY, HubList()
    )
    assert not errors
    infra = per_split["infrastructure"]
    assert all(o.graph_share is None for o in infra["tfidf"])  # a baseline reports no signals
    # Without message passing the graph adds nothing; with it, part of every C2 domain's
    # evidence comes through the domain's addresses and campaigns.
    assert all(o.graph_share in (None, 0.0) for o in infra["no_graph"])
    full = [o.graph_share for o in infra["full"]]
    assert all(s is not None and 0.0 < s <= 1.0 for s in full), full
    # An unknown domain reaches nothing in the graph.
    control = per_split["infrastructure_control"]["full"]
    assert all(o.graph_share in (None, 0.0) for o in control)
    rows = summarise_split(infra)
    assert "graph_share" not in rows["tfidf"] and rows["no_graph"]["graph_share"] == 0.0
    assert rows["full"]["graph_share"] == pytest.approx(np.mean(full), abs=1e-3)
