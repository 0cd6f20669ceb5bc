"""A path through a campaign is confirmed from the campaigns the model's summary names for the
(actor, indicator) pair, looked up by id: the store never walks every campaign a widely shared
indicator indicates, whether the indicator is the activity's own (an indicator path), a past
indicator in an enrichment node, or one behind a shared host. Read from the engine's own
``GRAPH.PROFILE`` (records each operation produced), not from timings."""

from __future__ import annotations

import re
from typing import Any

import falkordb

from actorgraph.gnn.dataset import ENTITY_TYPES, export_graph
from actorgraph.gnn.evidence import evidence_paths
from actorgraph.gnn.evidence_index import EvidenceIndex
from actorgraph.graph.tlp import TLP

ACTOR = "intrusion-set--00000000-0000-4000-8000-0000000000a1"
OTHER = "intrusion-set--00000000-0000-4000-8000-0000000000a2"
CAMPAIGN = "campaign--00000000-0000-4000-8000-0000000000c1"
SHARED = "domain:shared.example"
PAST = "domain:past.example"
NEW = "domain:new.example"
IP = "ipv4:203.0.113.5"
NET = "network:203.0.113.0/24"
MANY = 400


def _rarity(_id: str) -> dict[str, Any]:
    return {"weight": 1.0, "actors_sharing": 1, "hub": None}


def _world(store) -> None:
    """Actor X's campaign C1 is indicated by a shared indicator S and by a past indicator P
    (on an IP the new indicator N also resolves to, in network NET); S and P each also
    indicate ``MANY`` campaigns of another actor, created first so that a walk over their
    campaigns meets C1 last."""
    store.query(
        "CREATE (:ThreatActor {id: $a, name: 'X'}), (o:ThreatActor {id: $o, name: 'Y'}),"
        " (s:Indicator {id: $s, kind: 'domain', value: 'shared.example'}),"
        " (p:Indicator {id: $p, kind: 'domain', value: 'past.example'}),"
        " (ip:Indicator {id: $ip, kind: 'ipv4', value: '203.0.113.5'}),"
        " (p)-[:RESOLVES_TO]->(ip),"
        " (:Indicator {id: $n, kind: 'domain', value: 'new.example'})-[:RESOLVES_TO]->(ip),"
        " (p)-[:BELONGS_TO]->(:Infrastructure {id: $net, name: '203.0.113.0/24',"
        " kind: 'network'})"
        " WITH o, s, p UNWIND range(1, $many) AS k "
        "CREATE (c:Campaign {id: 'campaign--y' + toString(k), name: 'Y' + toString(k)}),"
        " (c)-[:ATTRIBUTED_TO]->(o), (s)-[:INDICATES]->(c), (p)-[:INDICATES]->(c)",
        {
            "a": ACTOR,
            "o": OTHER,
            "s": SHARED,
            "p": PAST,
            "n": NEW,
            "ip": IP,
            "net": NET,
            "many": MANY,
        },
    )
    store.query(
        "MATCH (a:ThreatActor {id: $a}), (s:Indicator {id: $s}), (p:Indicator {id: $p}) "
        "CREATE (a)<-[:ATTRIBUTED_TO]-(c:Campaign {id: $c, name: 'C1'}),"
        " (s)-[:INDICATES]->(c), (p)-[:INDICATES]->(c)",
        {"a": ACTOR, "c": CAMPAIGN, "s": SHARED, "p": PAST},
    )


class _Recording:
    """The store, keeping the last query it was asked (to profile the same text and
    parameters)."""

    def __init__(self, store) -> None:
        self.store = store
        self.last: tuple[str, dict[str, Any]] | None = None

    def query(self, cypher: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        self.last = (cypher, params or {})
        return self.store.query(cypher, params, **kw)


def test_campaign_paths_are_confirmed_by_id_not_by_walking_an_indicators_campaigns(store):
    _world(store)
    snap = export_graph(store, max_tlp=TLP.RED)
    ids = [n for t in ENTITY_TYPES for n in snap.nodes.get(t, [])]
    index = EvidenceIndex(snap, {n: i for i, n in enumerate(ids)})
    assert index.indicator_campaigns(ACTOR, SHARED, 3) == [CAMPAIGN]
    assert len(index.indicator_campaigns(OTHER, SHARED, 3)) == 3
    recording = _Recording(store)
    items = evidence_paths(
        recording,  # type: ignore[arg-type]
        [ACTOR],
        {SHARED: "shared.example", NEW: "new.example"},
        _rarity,
        max_tlp=TLP.RED,
        shortlist={ACTOR: [(SHARED, "Indicator")]},
        infra_ids=[NEW],
        enriched={NET: "ipv4:203.0.113.9"},
        index=index,
    )
    found = {(v["kind"], v["entity"]["id"]): v["path"] for v in items}
    assert found[("shared_indicator", SHARED)][2] == "Campaign:C1"
    assert ("shared_infrastructure", NEW) in found
    assert "1 of the actor's past indicator" in found[("enrichment", NET)][4]
    assert recording.last is not None
    cypher, params = recording.last
    assert params["campaign_indicator"] and params["hosting_indicator"] and params["enrichment"]
    graph = falkordb.FalkorDB(unix_socket_path=str(store.socket_path)).select_graph(
        store.graph_name
    )
    plan = graph.profile(cypher, params).plan
    produced = [
        (int(m.group(1)), line.strip())
        for line in plan
        if (m := re.search(r"Records produced: (\d+)", line))
    ]
    assert produced and max(n for n, _ in produced) < 10, plan
