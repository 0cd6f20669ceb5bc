"""Confirming an evidence path costs the same however many things the actor or the campaign
used: FalkorDB checks the relationship between the two nodes the summary names (looked up by
id) and never walks every USES/TARGETS edge of one of them. Read from the engine's own
``GRAPH.PROFILE`` (records each operation produced), not from timings."""

from __future__ import annotations

import re

import falkordb

from actorgraph.gnn.evidence import known_query

ACTOR = "intrusion-set--00000000-0000-4000-8000-0000000000a1"
CAMPAIGN = "campaign--00000000-0000-4000-8000-0000000000c1"
MALWARE = "malware--00000000-0000-4000-8000-0000000000b1"
PAST = "domain:past.example"
NET = "network:203.0.113.0/24"
MANY = 400


def _world(store) -> None:
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
    _world(store)
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
