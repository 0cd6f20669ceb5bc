"""Evidence paths through shared hosting, and the fan-out cap that keeps hubs out of them."""

from __future__ import annotations

from actorgraph.gnn.evidence import INFRA_MAX_FANOUT, evidence_paths
from actorgraph.graph.tlp import TLP
from tests.helpers.backends import store_on_each_backend  # noqa: F401  (``store`` on both)

ACTOR = "intrusion-set--00000000-0000-4000-8000-000000000001"


def _world(store, hub_size: int) -> None:
    """Actor X's campaign used domain d1 on IP 203.0.113.5 (a quiet VPS); a hub IP serves
    ``hub_size`` other domains, one of them also X's."""
    store.query(
        "CREATE (a:ThreatActor {id: $a, name: 'X'})"
        "<-[:ATTRIBUTED_TO]-(c:Campaign {id: 'campaign--c1', name: 'C1'}),"
        " (d1:Indicator {id: 'domain:d1.example', kind: 'domain', value: 'd1.example'})"
        "-[:INDICATES]->(c),"
        " (ip:Indicator {id: 'ipv4:203.0.113.5', kind: 'ipv4', value: '203.0.113.5'}),"
        " (d1)-[:RESOLVES_TO]->(ip),"
        " (hub:Indicator {id: 'ipv4:198.51.100.1', kind: 'ipv4', value: '198.51.100.1'}),"
        " (d2:Indicator {id: 'domain:d2.example', kind: 'domain', value: 'd2.example'})"
        "-[:INDICATES]->(c),"
        " (d2)-[:RESOLVES_TO]->(hub)",
        {"a": ACTOR},
    )
    store.query(
        "MATCH (hub:Indicator {id: 'ipv4:198.51.100.1'}) UNWIND range(1, $n) AS i "
        "CREATE (:Indicator {id: 'domain:n' + toString(i) + '.example', kind: 'domain'})"
        "-[:RESOLVES_TO]->(hub)",
        {"n": hub_size},
    )
    # The new activity: two fresh domains, one on X's quiet IP, one on the hub.
    store.query(
        "MATCH (ip:Indicator {id: 'ipv4:203.0.113.5'}), (hub:Indicator {id: 'ipv4:198.51.100.1'}) "
        "CREATE (:Indicator {id: 'domain:new1.example', kind: 'domain', value: 'new1.example'})"
        "-[:RESOLVES_TO]->(ip), "
        "(:Indicator {id: 'domain:new2.example', kind: 'domain', value: 'new2.example'})"
        "-[:RESOLVES_TO]->(hub)"
    )


def _infra(store) -> list[dict]:
    matched = {"domain:new1.example": "new1.example", "domain:new2.example": "new2.example"}

    def rarity(_id: str) -> dict:
        return {"weight": 1.0, "actors_sharing": 1, "hub": False}

    items = evidence_paths(store, [ACTOR], matched, rarity, max_tlp=TLP.RED)
    return [e for e in items if e["kind"] == "shared_infrastructure"]


def test_shared_hosting_is_evidence_but_a_high_fan_out_node_is_not(store):
    _world(store, hub_size=INFRA_MAX_FANOUT + 10)
    found = {e["entity"]["id"] for e in _infra(store)}
    assert found == {"domain:new1.example"}  # via the quiet IP; the hub IP gives nothing


def test_below_the_cap_both_paths_count(store):
    _world(store, hub_size=3)
    assert {e["entity"]["id"] for e in _infra(store)} == {
        "domain:new1.example",
        "domain:new2.example",
    }
