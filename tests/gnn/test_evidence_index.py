"""Evidence from the model's summaries (``gnn.evidence_index``): the same paths, counts and
skipped hubs as the store walks, confirmed in the store at the requester's clearance, never
through what was revoked or re-marked since training, and asked only about the actor's own
past indicators however large the network around them."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from actorgraph.gnn import evidence as evidence_module
from actorgraph.gnn.dataset import ENTITY_TYPES, export_graph
from actorgraph.gnn.evidence import ENRICH_MAX_MEMBERS, INFRA_MAX_FANOUT, evidence_paths
from actorgraph.gnn.evidence_index import EvidenceIndex, _reach_many
from actorgraph.graph.tlp import TLP
from tests.helpers.backends import store_on_each_backend  # noqa: F401  (``store`` on both)
from tests.helpers.recording import RecordingStore

ACTOR = "intrusion-set--00000000-0000-4000-8000-000000000001"
OTHER = "intrusion-set--00000000-0000-4000-8000-000000000002"
QUIET_IP, HUB_IP = "ipv4:203.0.113.5", "ipv4:198.51.100.1"
NET, BIG_NET = "network:203.0.113.0/24", "network:198.51.100.0/24"
HUB_SIZE = 300
NEW = {"domain:new1.example": "new1.example", "domain:new2.example": "new2.example"}
ENRICHED = {NET: "ipv4:203.0.113.9", BIG_NET: "ipv4:198.51.100.9"}


def _rarity(_id: str) -> dict[str, Any]:
    return {"weight": 1.0, "actors_sharing": 1, "hub": None}


def _world(store, *, strangers: int = 0) -> None:
    """Actor X's campaign used d1 (on a quiet IP, in a small network) and malware M; the
    campaign's ``HUB_SIZE`` other domains resolve to a hub IP in a large network. Another
    actor's campaign holds ``strangers`` indicators in X's small network."""
    store.query(
        "CREATE (a:ThreatActor {id: $a, name: 'X'})"
        "<-[:ATTRIBUTED_TO]-(c:Campaign {id: 'campaign--c1', name: 'C1'}),"
        " (c)-[:USES]->(:Malware {id: 'malware--m', name: 'M'}),"
        " (d1:Indicator {id: 'domain:d1.example', kind: 'domain', value: 'd1.example'})"
        "-[:INDICATES]->(c),"
        " (ip:Indicator {id: $quiet, kind: 'ipv4', value: '203.0.113.5'}),"
        " (d1)-[:RESOLVES_TO]->(ip),"
        " (hub:Indicator {id: $hub, kind: 'ipv4', value: '198.51.100.1'}),"
        " (net:Infrastructure {id: $net, name: '203.0.113.0/24', kind: 'network'}),"
        " (big:Infrastructure {id: $big, name: '198.51.100.0/24', kind: 'network'}),"
        " (d1)-[:BELONGS_TO]->(net),"
        " (:ThreatActor {id: $other, name: 'Y'})<-[:ATTRIBUTED_TO]-"
        "(:Campaign {id: 'campaign--c2', name: 'C2'})",
        {"a": ACTOR, "other": OTHER, "quiet": QUIET_IP, "hub": HUB_IP, "net": NET, "big": BIG_NET},
    )
    store.query(
        "MATCH (hub:Indicator {id: $hub}), (c:Campaign {id: 'campaign--c1'}),"
        " (big:Infrastructure {id: $big}) UNWIND range(1, $n) AS i "
        "CREATE (d:Indicator {id: 'domain:n' + toString(i) + '.example', kind: 'domain',"
        " value: 'n' + toString(i) + '.example'}),"
        " (d)-[:RESOLVES_TO]->(hub), (d)-[:INDICATES]->(c), (d)-[:BELONGS_TO]->(big)",
        {"hub": HUB_IP, "big": BIG_NET, "n": HUB_SIZE},
    )
    if strangers:
        store.query(
            "MATCH (net:Infrastructure {id: $net}), (c:Campaign {id: 'campaign--c2'}) "
            "UNWIND range(1, $n) AS i "
            "CREATE (s:Indicator {id: 'ipv4:203.0.113.' + toString(100 + i), kind: 'ipv4'}),"
            " (s)-[:BELONGS_TO]->(net), (s)-[:INDICATES]->(c)",
            {"net": NET, "n": strangers},
        )
    store.query(
        "MATCH (ip:Indicator {id: $quiet}), (hub:Indicator {id: $hub}) "
        "CREATE (:Indicator {id: 'domain:new1.example', kind: 'domain', value: 'new1.example'})"
        "-[:RESOLVES_TO]->(ip), "
        "(:Indicator {id: 'domain:new2.example', kind: 'domain', value: 'new2.example'})"
        "-[:RESOLVES_TO]->(hub)",
        {"quiet": QUIET_IP, "hub": HUB_IP},
    )


def _index(store, max_tlp: int = TLP.RED) -> EvidenceIndex:
    snap = export_graph(store, max_tlp=max_tlp)
    ids = [n for t in ENTITY_TYPES for n in snap.nodes.get(t, [])]
    return EvidenceIndex(snap, {n: i for i, n in enumerate(ids)})


def _evidence(store, index: EvidenceIndex | None, max_tlp: int = TLP.RED) -> tuple[set, set]:
    skipped: list[dict[str, Any]] = []
    items = evidence_paths(
        store,
        [ACTOR],
        {**NEW, "malware--m": "M"},
        _rarity,
        max_tlp=max_tlp,
        shortlist={ACTOR: [("malware--m", "Malware")]},
        infra_ids=sorted(NEW),
        enriched=ENRICHED,
        skipped=skipped,
        index=index,
    )
    return {(e["kind"], e["entity"]["id"], " ".join(e["path"])) for e in items}, {
        (s["id"], s["reason"]) for s in skipped
    }


def test_the_summaries_give_the_paths_counts_and_hubs_of_the_store_walks(store):
    _world(store)
    walked = _evidence(store, None)
    summarised = _evidence(store, _index(store))
    assert summarised == walked
    items, skipped = summarised
    kinds = {(k, e) for k, e, _ in items}
    assert kinds == {
        ("shared_malware", "malware--m"),
        ("shared_infrastructure", "domain:new1.example"),
        ("enrichment", NET),
    }
    assert {h for h, _ in skipped} == {HUB_IP, BIG_NET}
    assert HUB_SIZE > ENRICH_MAX_MEMBERS and HUB_SIZE > INFRA_MAX_FANOUT
    (enrichment,) = [p for k, _, p in items if k == "enrichment"]
    assert "1 of the actor's past indicator " in enrichment + " "


def test_what_was_revoked_since_training_is_not_shown(store):
    _world(store)
    index = _index(store)
    store.query("MATCH (d:Indicator {id: 'domain:d1.example'}) SET d.revoked = true")
    items, _ = _evidence(store, index)
    # d1 was the only past indicator on the quiet IP and in the small network.
    assert {(k, e) for k, e, _ in items} == {("shared_malware", "malware--m")}


def test_what_was_marked_above_the_clearance_since_training_is_not_shown(store):
    _world(store)
    index = _index(store, TLP.CLEAR)
    store.query(
        "MATCH (:Campaign {id: 'campaign--c1'})-[r:USES]->(:Malware) SET r.tlp_level = $red",
        {"red": int(TLP.RED)},
    )
    clear, _ = _evidence(store, index, TLP.CLEAR)
    red, _ = _evidence(store, index, TLP.RED)
    assert "malware--m" not in {e for _, e, _ in clear}
    assert "malware--m" in {e for _, e, _ in red}


def test_the_store_is_asked_only_about_the_actors_own_past_indicators(store):
    # Other actors' indicators in the same network are never sent, however many there are.
    _world(store, strangers=150)
    recording = RecordingStore(store)
    items, _ = _evidence(recording, _index(store))
    (sent,) = recording.sent
    assert [r["i"] for r in sent["enrichment"]] == ["domain:d1.example"]
    assert {e for k, e, _ in items if k == "enrichment"} == {NET}
    assert all(len(r["cs"]) <= 3 for r in sent["campaign_malware"])


def test_past_the_confirmation_cap_the_count_says_at_least(store, monkeypatch):
    _world(store)
    store.query(
        "MATCH (net:Infrastructure {id: $net}), (c:Campaign {id: 'campaign--c1'}) "
        "UNWIND range(1, 2) AS i "
        "CREATE (d:Indicator {id: 'ipv4:203.0.113.' + toString(50 + i), kind: 'ipv4'}),"
        " (d)-[:BELONGS_TO]->(net), (d)-[:INDICATES]->(c)",
        {"net": NET},
    )
    index = _index(store)
    (exact,) = [p for k, _, p in _evidence(store, index)[0] if k == "enrichment"]
    assert "-BELONGS_TO- 3 of the actor's past indicators " in exact
    monkeypatch.setattr(evidence_module, "ENRICH_CONFIRM", 2)
    (capped,) = [p for k, _, p in _evidence(store, index)[0] if k == "enrichment"]
    assert "-BELONGS_TO- at least 2 of the actor's past indicators (3 in the model's graph) " in (
        capped
    )


def _walk(adj: sp.csr_matrix, start: int, hops: int, per_row: int) -> list[int]:
    """One capped walk, node by node: the reference ``_reach_many`` must agree with."""
    frontier, seen = {start}, set()
    for _ in range(hops):
        frontier = {
            int(n)
            for i in sorted(frontier)
            for n in adj.indices[adj.indptr[i] : adj.indptr[i + 1]][:per_row]
        }
        seen |= frontier
    return sorted(seen)


def test_walking_many_hosts_back_at_once_reaches_what_each_walk_reaches():
    rng = np.random.default_rng(7)
    n = 300
    adj = sp.random(n, n, density=0.03, format="csr", random_state=rng)
    adj.data[:] = 1.0
    adj.sort_indices()
    starts = rng.choice(n, size=40, replace=False)
    for per_row in (1, 3, 51):
        groups, nodes = _reach_many(adj, starts, 2, per_row)
        for g, s in enumerate(starts.tolist()):
            assert nodes[groups == g].tolist() == _walk(adj, s, 2, per_row)
