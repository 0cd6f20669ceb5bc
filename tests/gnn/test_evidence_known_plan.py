"""Confirming an evidence path costs the same however many things the actor, the campaign or a
shared indicator is linked to: FalkorDB checks the relationship between two nodes the summary
names (looked up by id) and never walks every USES/TARGETS edge of one of them, nor every
campaign a widely shared indicator indicates (the campaigns come from the summary), whether the
indicator is the activity's own (an indicator path), a past indicator in an enrichment node, or
one behind a shared host. Read from the engine's own ``GRAPH.PROFILE`` (records each operation
produced), not from timings."""

from __future__ import annotations

import re
from typing import Any

import falkordb

from actorgraph.gnn.dataset import ENTITY_TYPES, export_graph
from actorgraph.gnn.evidence import evidence_paths, known_query
from actorgraph.gnn.evidence_index import EvidenceIndex
from actorgraph.graph.tlp import TLP
from tests.helpers.recording import RecordingStore

ACTOR = "intrusion-set--00000000-0000-4000-8000-0000000000a1"
OTHER = "intrusion-set--00000000-0000-4000-8000-0000000000a2"
CAMPAIGN = "campaign--00000000-0000-4000-8000-0000000000c1"
MALWARE = "malware--00000000-0000-4000-8000-0000000000b1"
SHARED = "domain:shared.example"
PAST = "domain:past.example"
NEW = "domain:new.example"
IP = "ipv4:203.0.113.5"
NET = "network:203.0.113.0/24"
MANY = 400


def _most_records(store, cypher: str, params: dict[str, Any]) -> tuple[int, list[str]]:
    """The most records any operation of the query's plan produced, and the plan."""
    graph = falkordb.FalkorDB(unix_socket_path=str(store.socket_path)).select_graph(
        store.graph_name
    )
    plan = graph.profile(cypher, params).plan
    produced = [
        int(m.group(1)) for line in plan if (m := re.search(r"Records produced: (\d+)", line))
    ]
    return (max(produced) if produced else -1), plan


def _world_many_edges(store) -> None:
    """One actor who used ``MANY`` tools, one campaign of it that used malware M, ``MANY``
    infrastructure nodes and a past indicator in network NET."""
    store.query(
        "CREATE (a:ThreatActor {id: $a, name: 'X'})<-[:ATTRIBUTED_TO]-"
        "(c:Campaign {id: $c, name: 'C'}),"
        " (c)-[:USES]->(:Malware {id: $m, name: 'M'}),"
        " (i:Indicator {id: $past, kind: 'domain', value: 'past.example'})-[:INDICATES]->(c),"
        " (i)-[:BELONGS_TO]->(:Infrastructure {id: $net, name: '203.0.113.0/24', kind: 'network'})",
        {"a": ACTOR, "c": CAMPAIGN, "m": MALWARE, "past": PAST, "net": NET},
    )
    store.query(
        "MATCH (a:ThreatActor {id: $a}), (c:Campaign {id: $c}) UNWIND range(1, $n) AS k "
        "CREATE (a)-[:USES]->(:Tool {id: 'tool--' + toString(k), name: 'T' + toString(k)}),"
        " (c)-[:USES]->(:Infrastructure {id: 'infra:' + toString(k), name: toString(k)})",
        {"a": ACTOR, "c": CAMPAIGN, "n": MANY},
    )


def test_each_path_is_confirmed_without_walking_the_actors_or_campaigns_edges(store):
    _world_many_edges(store)
    params = {
        "max_tlp": 4,
        "direct_tool": [{"a": ACTOR, "x": "tool--7"}],
        "campaign_malware": [{"a": ACTOR, "x": MALWARE, "cs": [CAMPAIGN]}],
        "enrichment": [{"a": ACTOR, "x": NET, "i": PAST, "cs": [CAMPAIGN]}],
    }
    cypher = known_query(params)
    rows = store.query(cypher, params, read_only=True)
    assert {(r["path_kind"], r["entity"]) for r in rows} == {
        ("direct", "tool--7"),
        ("campaign", MALWARE),
        ("enrichment", NET),
    }
    most, plan = _most_records(store, cypher, params)
    assert 0 <= most < 10, plan


def _rarity(_id: str) -> dict[str, Any]:
    return {"weight": 1.0, "actors_sharing": 1, "hub": None}


def _world_many_campaigns(store) -> None:
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


def test_campaign_paths_are_confirmed_by_id_not_by_walking_an_indicators_campaigns(store):
    _world_many_campaigns(store)
    snap = export_graph(store, max_tlp=TLP.RED)
    ids = [n for t in ENTITY_TYPES for n in snap.nodes.get(t, [])]
    index = EvidenceIndex(snap, {n: i for i, n in enumerate(ids)})
    assert index.indicator_campaigns(ACTOR, SHARED, 3) == [CAMPAIGN]
    assert len(index.indicator_campaigns(OTHER, SHARED, 3)) == 3
    recording = RecordingStore(store)
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
    most, plan = _most_records(store, cypher, params)
    assert 0 <= most < 10, plan
