"""Infrastructure-habit likelihood (``gnn.habit_likelihood``): a query's domains and servers
matched set-up by set-up against each actor's past ones, not as a bag of hubs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from actorgraph.gnn import habit_likelihood as hl
from actorgraph.gnn.activity import Activity, EntityLookup, link
from actorgraph.gnn.dataset import GraphSnapshot, export_graph
from actorgraph.gnn.features import (
    EntitySpace,
    PairFeatures,
    cluster_items,
    feature_names,
    idf_weights,
)
from actorgraph.gnn.habit_likelihood import (
    DOMAIN,
    IP,
    Setup,
    SetupLikelihood,
    SetupSpace,
    activity_setups,
)
from actorgraph.gnn.hubs import HubList
from actorgraph.graph.tlp import TLP
from tests.helpers.demo_world import load_demo_world
from tests.helpers.profiles import space_and_profiles

# Actor A registers every domain at X with name servers ns-a1/ns-a2 and hosts in 100.64.1.0/24;
# actor B registers at X with name servers ns-b1/ns-b2 and at Y with ns-a1/ns-a2, and hosts in
# 100.64.2.0/24. Both profiles hold X, ns-a1, ns-a2 and AS 64500: presence cannot tell them
# apart, the set-ups can.
_SETUPS = {
    "a": [("reg-x", ("ns-a1", "ns-a2"), "100.64.1")] * 3,
    "b": [
        ("reg-x", ("ns-b1", "ns-b2"), "100.64.2"),
        ("reg-y", ("ns-a1", "ns-a2"), "100.64.2"),
        ("reg-y", ("ns-a1", "ns-a2"), "100.64.2"),
    ],
}


def _snapshot(
    more_nodes: tuple[dict[str, Any], ...] = (), more_edges: tuple[dict[str, Any], ...] = ()
) -> GraphSnapshot:
    nodes: list[dict[str, Any]] = [
        *more_nodes,
        {"id": "as-1", "type": "infrastructure", "name": "AS64500", "kind": "asn"},
        *[
            {"id": f"network:{n}.0/24", "type": "infrastructure", "kind": "network"}
            for n in ("100.64.1", "100.64.2")
        ],
        *[
            {"id": r, "type": "infrastructure", "name": r.upper(), "kind": "registrar"}
            for r in ("reg-x", "reg-y")
        ],
        *[
            {"id": n, "type": "infrastructure", "name": n, "kind": "name_server"}
            for n in ("ns-a1", "ns-a2", "ns-b1", "ns-b2")
        ],
    ]
    edges: list[dict[str, Any]] = []
    for actor, setups in _SETUPS.items():
        nodes.append({"id": actor, "type": "actor", "name": actor.upper()})
        for k, (registrar, name_servers, net) in enumerate(setups):
            domain, ip = f"domain:{actor}{k}.com", f"ipv4:{net}.{10 + k}"
            nodes += [
                {"id": domain, "type": "indicator", "kind": "domain", "value": f"{actor}{k}.com"},
                {"id": ip, "type": "indicator", "kind": "ipv4", "value": f"{net}.{10 + k}"},
            ]
            edges += [
                {"src": actor, "rel": "USES", "dst": domain},
                {"src": domain, "rel": "REGISTERED_WITH", "dst": registrar},
                *[{"src": domain, "rel": "USES_NAMESERVER", "dst": n} for n in name_servers],
                {"src": domain, "rel": "RESOLVES_TO", "dst": ip},
                {"src": ip, "rel": "HOSTED_ON", "dst": "as-1"},
                {"src": ip, "rel": "BELONGS_TO", "dst": f"network:{net}.0/24"},
            ]
    return GraphSnapshot.from_rows(nodes, [*edges, *more_edges])


@pytest.fixture
def world() -> tuple[GraphSnapshot, EntitySpace, sp.csr_matrix]:
    snap = _snapshot()
    space, prof = space_and_profiles(snap)
    return snap, space, prof


def _setup(space: EntitySpace, kind: int, *ids: str) -> Setup:
    return Setup(kind, SetupSpace(space).close(np.array([space.pos[i] for i in ids])))


def test_a_new_domain_is_the_actor_s_whose_registrar_and_name_servers_went_together(
    world: tuple[GraphSnapshot, EntitySpace, sp.csr_matrix],
) -> None:
    snap, space, prof = world
    lik = SetupLikelihood(SetupSpace(space), prof)
    a, b = snap.index("actor")["a"], snap.index("actor")["b"]
    ll = lik([_setup(space, DOMAIN, "reg-x", "ns-a1", "ns-a2")])
    # A made every domain this way; B used X and these name servers, never together.
    assert ll[a] == 0.0 and ll[b] < -1.0
    # The same attributes in B's combination go to B.
    ll = lik([_setup(space, DOMAIN, "reg-y", "ns-a1", "ns-a2")])
    assert ll[b] == 0.0 and ll[a] < -1.0


def test_an_actor_known_only_by_its_hubs_has_them_as_one_past_set_up() -> None:
    # C's one campaign is known by what it matched (registrar Y, name servers ns-b1/ns-b2),
    # not by its domains, as a campaign stored from an activity is; D has no infrastructure.
    # Nobody's past domain combined Y with ns-b1/ns-b2; B's came close (Y, or ns-b1/ns-b2).
    hubs = ("reg-y", "ns-b1", "ns-b2")
    snap = _snapshot(
        ({"id": "c", "type": "actor", "name": "C"}, {"id": "d", "type": "actor", "name": "D"}),
        tuple({"src": "c", "rel": "USES", "dst": h} for h in hubs),
    )
    space, prof = space_and_profiles(snap)
    lik = SetupLikelihood(SetupSpace(space), prof)
    actor = snap.index("actor")
    ll = lik([_setup(space, DOMAIN, *hubs)])
    assert ll[actor["c"]] == 0.0
    assert ll[actor["b"]] < -1.0 and ll[actor["d"]] < -1.0 and ll[actor["a"]] < -1.0
    # Actors with past domains keep them: the hubs count only where no item does.
    assert lik.n_items[actor["b"]].tolist() == [3, 3]
    assert lik.n_items[actor["c"]].tolist() == [1, 0] and lik.n_items[actor["d"]].tolist() == [0, 0]
    # A's set-up is not C's: no evidence against C either (its domains are unknown, not absent),
    # so C stays at the background of D, who has no infrastructure at all.
    other = lik([_setup(space, DOMAIN, "reg-x", "ns-a1", "ns-a2")])
    assert other[actor["c"]] == other[actor["d"]] < other[actor["a"]] == 0.0
    # The same graph without C's hubs: C has no set-up and is not the most likely.
    bare = _snapshot(({"id": "c", "type": "actor", "name": "C"},))
    bare_space, bare_prof = space_and_profiles(bare)
    bare_ll = SetupLikelihood(SetupSpace(bare_space), bare_prof)(
        [_setup(bare_space, DOMAIN, *hubs)]
    )
    assert bare_ll[bare.index("actor")["c"]] < 0.0


def test_a_new_server_in_an_actor_s_past_slash_24_counts_more_than_one_in_its_as(
    world: tuple[GraphSnapshot, EntitySpace, sp.csr_matrix],
) -> None:
    snap, space, prof = world
    lik = SetupLikelihood(SetupSpace(space), prof)
    a, b = snap.index("actor")["a"], snap.index("actor")["b"]
    ll = lik([_setup(space, IP, "as-1", "network:100.64.2.0/24")])
    assert ll[b] == 0.0 and ll[a] < -1.0
    # In the AS both use but no past network: nobody's more than anybody's.
    ll = lik([_setup(space, IP, "as-1")])
    np.testing.assert_allclose(ll[[a, b]], [0.0, 0.0])


def test_known_items_match_by_their_own_set_up_and_a_hidden_item_not_itself(
    world: tuple[GraphSnapshot, EntitySpace, sp.csr_matrix],
) -> None:
    snap, space, prof = world
    setups = SetupSpace(space)
    domain = space.pos["domain:b1.com"]
    known = setups.of_items([domain], exclude_self=False)
    # The domain, and the IP it resolves to.
    assert [s.kind for s in known] == [DOMAIN, IP]
    assert all(s.exclude == -1 for s in known)
    hidden = setups.of_items([domain], exclude_self=True)
    assert hidden[0].exclude == domain
    lik = SetupLikelihood(setups, prof)
    b = snap.index("actor")["b"]
    assert lik(known)[b] == 0.0 and lik(hidden)[b] == 0.0  # b2.com has the same set-up


def test_an_attribute_held_by_too_many_past_items_is_left_out(
    world: tuple[GraphSnapshot, EntitySpace, sp.csr_matrix], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, space, prof = world
    lik = SetupLikelihood(SetupSpace(space), prof)
    setup = _setup(space, DOMAIN, "reg-x", "ns-a1", "ns-a2")
    assert lik([setup]).min() < 0
    # reg-x sits on 4 past domains, ns-a1/ns-a2 on 5: above the cap nothing is left to match.
    monkeypatch.setattr(hl, "MAX_POSTINGS", 3)
    np.testing.assert_array_equal(lik([setup]), np.zeros(prof.shape[0]))


def test_an_activity_s_new_indicators_bring_their_set_ups_through_its_own_relations(
    world: tuple[GraphSnapshot, EntitySpace, sp.csr_matrix],
) -> None:
    snap, space, _ = world
    act = Activity(
        indicators=["domain:fresh.net", "ipv4:100.64.1.99"],
        context=[
            ("domain:fresh.net", "REGISTERED_WITH", "reg-x"),
            ("domain:fresh.net", "USES_NAMESERVER", "ns-a1"),
            ("domain:fresh.net", "USES_NAMESERVER", "ns-a2"),
            ("domain:fresh.net", "RESOLVES_TO", "ipv4:100.64.1.99"),
            ("ipv4:100.64.1.99", "HOSTED_ON", "as-1"),
        ],
    )
    linked = link(act, EntityLookup(snap, space.ids), enrich=False)
    setups = activity_setups(linked, space.pos.get, SetupSpace(space))
    got = {s.kind: sorted(space.ids[i] for i in s.attributes) for s in setups}
    # The IP's /24 comes from its enrichment facts, as ingest would have written it.
    assert got == {DOMAIN: ["ns-a1", "ns-a2", "reg-x"], IP: ["as-1", "network:100.64.1.0/24"]}
    # What the requester may not see names nothing.
    hidden = activity_setups(
        linked, lambda e: None if e == "reg-x" else space.pos.get(e), SetupSpace(space)
    )
    assert sorted(space.ids[i] for i in hidden[0].attributes) == ["ns-a1", "ns-a2"]


def test_the_scorer_reads_the_likelihood_in_both_paths_and_no_graph_has_none(
    world: tuple[GraphSnapshot, EntitySpace, sp.csr_matrix],
) -> None:
    snap, space, prof = world
    idf = idf_weights(space.expand(prof), space.hub)
    names = feature_names("full", lexical=False, relations=True)
    assert "ctx_habit_lik" in names
    assert "ctx_habit_lik" not in feature_names("none", lexical=True, relations=True)
    pf = PairFeatures(space, prof, idf, names=names)
    col = names.index("ctx_habit_lik")
    a, b = snap.index("actor")["a"], snap.index("actor")["b"]
    new = [_setup(space, DOMAIN, "reg-x", "ns-a1", "ns-a2")]
    q = np.array([space.pos["reg-x"], space.pos["ns-a1"], space.pos["ns-a2"]])
    one = pf.one(q, np.ones(3), new_setups=new)
    batch = pf(
        sp.csr_matrix((np.ones(3), (np.zeros(3, int), q)), shape=(1, len(space))), None, [new]
    )
    np.testing.assert_allclose(one, batch[0], rtol=1e-6)
    assert one[a, col] == 0.0 and one[b, col] < -1.0
    # Without the new domain's set-up the bag of hubs holds no set-up: no evidence either way.
    np.testing.assert_array_equal(pf.one(q, np.ones(3))[:, col], np.zeros(prof.shape[0]))


@pytest.fixture
def demo_graph(store: Any, tmp_path: Any) -> GraphSnapshot:
    """The demo world (its seed, small scale) ingested into the embedded store and exported."""
    load_demo_world(store, tmp_path / "world")
    return export_graph(store, max_tlp=TLP.RED)


def test_a_batch_of_queries_reads_the_same_likelihoods_as_one_query_at_a_time(
    demo_graph: GraphSnapshot,
) -> None:
    snap = demo_graph
    space, prof = space_and_profiles(snap, HubList.load())
    setups = SetupSpace(space)
    lik = SetupLikelihood(setups, prof)
    queries = cluster_items(snap, space, "campaign").tocsr()
    # Each campaign's first known item also as a hidden one: the other path, with exclusion.
    new = [
        setups.of_items(
            queries.indices[queries.indptr[r] : queries.indptr[r] + 1], exclude_self=True
        )
        for r in range(queries.shape[0])
    ]
    batch = lik.rows(queries, new)
    one = np.stack(
        [
            lik(
                setups.of_items(
                    queries.indices[queries.indptr[r] : queries.indptr[r + 1]], exclude_self=False
                )
                + new[r]
            )
            for r in range(queries.shape[0])
        ]
    )
    assert batch.shape == (queries.shape[0], prof.shape[0])
    assert np.abs(batch - one).max() < 1e-9
    # The graph gives the feature something to say: many queries set actors apart.
    assert (batch.min(axis=1) < -1.0).sum() >= queries.shape[0] // 4
