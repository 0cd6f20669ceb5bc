"""Evidence look-ups cost the same on a hub as on a quiet node, and never use revoked nodes."""

from __future__ import annotations

from typing import Any

from actorgraph.gnn.evidence import (
    ENRICH_MAX_MEMBERS,
    INFRA_MAX_FANOUT,
    INFRA_PER_VIA,
    INFRASTRUCTURE,
    evidence_paths,
)
from actorgraph.graph.tlp import TLP

ACTOR = "intrusion-set--00000000-0000-4000-8000-000000000001"
QUIET_IP, HUB_IP = "ipv4:203.0.113.5", "ipv4:198.51.100.1"
NET, BIG_NET = "network:203.0.113.0/24", "network:198.51.100.0/24"
HUB_SIZE = 2_000


def _rarity(_id: str) -> dict[str, Any]:
    return {"weight": 1.0, "actors_sharing": 1, "hub": False}


def _world(store) -> None:
    """Actor X's campaign used d1 (on a quiet IP, in a small network) and d2 (on a hub IP that
    ``HUB_SIZE`` other domains of X's campaign resolve to, in a large network)."""
    store.query(
        "CREATE (a:ThreatActor {id: $a, name: 'X'})"
        "<-[:ATTRIBUTED_TO]-(c:Campaign {id: 'campaign--c1', name: 'C1'}),"
        " (d1:Indicator {id: 'domain:d1.example', kind: 'domain', value: 'd1.example'})"
        "-[:INDICATES]->(c),"
        " (ip:Indicator {id: $quiet, kind: 'ipv4', value: '203.0.113.5'}),"
        " (d1)-[:RESOLVES_TO]->(ip),"
        " (hub:Indicator {id: $hub, kind: 'ipv4', value: '198.51.100.1'}),"
        " (net:Infrastructure {id: $net, name: '203.0.113.0/24', kind: 'network'}),"
        " (big:Infrastructure {id: $big, name: '198.51.100.0/24', kind: 'network'}),"
        " (d1)-[:BELONGS_TO]->(net)",
        {"a": ACTOR, "quiet": QUIET_IP, "hub": HUB_IP, "net": NET, "big": BIG_NET},
    )
    store.query(
        "MATCH (hub:Indicator {id: $hub}), (c:Campaign {id: 'campaign--c1'}),"
        " (big:Infrastructure {id: $big}) UNWIND range(1, $n) AS i "
        "CREATE (d:Indicator {id: 'domain:n' + toString(i) + '.example', kind: 'domain',"
        " value: 'n' + toString(i) + '.example'}),"
        " (d)-[:RESOLVES_TO]->(hub), (d)-[:INDICATES]->(c), (d)-[:BELONGS_TO]->(big)",
        {"hub": HUB_IP, "big": BIG_NET, "n": HUB_SIZE},
    )
    # The new activity: one fresh domain on each IP.
    store.query(
        "MATCH (ip:Indicator {id: $quiet}), (hub:Indicator {id: $hub}) "
        "CREATE (:Indicator {id: 'domain:new1.example', kind: 'domain', value: 'new1.example'})"
        "-[:RESOLVES_TO]->(ip), "
        "(:Indicator {id: 'domain:new2.example', kind: 'domain', value: 'new2.example'})"
        "-[:RESOLVES_TO]->(hub)",
        {"quiet": QUIET_IP, "hub": HUB_IP},
    )


NEW = {"domain:new1.example": "new1.example", "domain:new2.example": "new2.example"}
ENRICHED = {NET: "ipv4:203.0.113.9", BIG_NET: "ipv4:198.51.100.9"}


def _evidence(store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    skipped: list[dict[str, Any]] = []
    items = evidence_paths(
        store,
        [ACTOR],
        NEW,
        _rarity,
        max_tlp=TLP.RED,
        shortlist={ACTOR: []},
        infra_ids=sorted(NEW),
        enriched=ENRICHED,
        skipped=skipped,
    )
    return items, skipped


def test_a_hub_is_counted_only_up_to_the_cap_and_reported_skipped(store):
    _world(store)
    rows = store.query(
        INFRASTRUCTURE,
        {
            "ids": ["domain:new2.example"],
            "hubs": [],
            "actors": [ACTOR],
            "max_tlp": int(TLP.RED),
            "max_fanout": INFRA_MAX_FANOUT,
            "probe": INFRA_MAX_FANOUT + 1,
            "per_via": INFRA_PER_VIA,
        },
        read_only=True,
    )
    # One row for the hub: its count stopped one past the cap, nothing followed from it.
    assert [(r["via_id"], r["fanout"], r["found"]) for r in rows] == [
        (HUB_IP, INFRA_MAX_FANOUT + 1, [])
    ]
    items, skipped = _evidence(store)
    hosting = {e["entity"]["id"] for e in items if e["kind"] == "shared_infrastructure"}
    assert hosting == {"domain:new1.example"}  # via the quiet IP only
    assert {s["id"] for s in skipped} == {HUB_IP, BIG_NET}
    assert all(s["reason"] for s in skipped)
    networks = {e["entity"]["id"]: e for e in items if e["kind"] == "enrichment"}
    assert set(networks) == {NET}  # the large network is skipped, not counted
    assert "1 of the actor's past indicator" in " ".join(networks[NET]["path"])
    assert HUB_SIZE > ENRICH_MAX_MEMBERS > 1


def test_a_revoked_indicator_is_never_on_an_evidence_path(store):
    _world(store)
    before, _ = _evidence(store)
    assert {e["entity"]["id"] for e in before} >= {"domain:new1.example", NET}
    # d1, the actor's only indicator on the quiet IP and in the small network, is revoked.
    store.query("MATCH (d:Indicator {id: 'domain:d1.example'}) SET d.revoked = true")
    after, _ = _evidence(store)
    assert {e["entity"]["id"] for e in after} == set()
    # Matched directly, a revoked indicator is no evidence either.
    items = evidence_paths(
        store,
        [ACTOR],
        {"domain:d1.example": "d1.example"},
        _rarity,
        max_tlp=TLP.RED,
        shortlist={ACTOR: [("domain:d1.example", "Indicator")]},
    )
    assert items == []
    slow = evidence_paths(
        store, [ACTOR], {"domain:d1.example": "d1.example"}, _rarity, max_tlp=TLP.RED
    )
    assert slow == []
