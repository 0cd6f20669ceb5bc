"""Clusters of unexplained activity on the real embedded store."""

from __future__ import annotations

from actorgraph.graph.clusters import ClusterConfig, find_clusters
from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import FixtureGraph, node, rel, write_graph

G1 = [f"campaign--g1-{i}" for i in range(3)]
G2 = [f"campaign--g2-{i}" for i in range(3)]
LONE = "campaign--lone"


def _world() -> FixtureGraph:
    nodes = [
        node("ThreatActor", "intrusion-set--x", name="X"),
        node("ThreatActor", "intrusion-set--y", name="Y"),
        node("Malware", "malware--gx", name="GxLoader"),
        node("Tool", "tool--ty", name="TyTunnel"),
        node("Tool", "tool--mimikatz", name="Mimikatz"),
        node("Technique", "attack-pattern--t1059", name="T1059"),
        node("Infrastructure", "network:198.51.100.0/24", kind="network", name="198.51.100.0/24"),
        node("Infrastructure", "registrar:shady", kind="registrar", name="shady"),
        node("Campaign", "campaign--known", name="known op"),
        node("Campaign", "campaign--confident", name="confident"),
        node("Campaign", "campaign--red", name="red", tlp_level=4, tlp="red"),
        node("Campaign", LONE, name="lone"),
    ]
    rels = [
        rel("intrusion-set--x", "USES", "malware--gx"),
        rel("campaign--known", "ATTRIBUTED_TO", "intrusion-set--y"),
        rel("campaign--known", "USES", "tool--ty"),
        rel("campaign--known", "USES", "malware--gx"),
        rel("campaign--confident", "PREDICTED_ACTOR", "intrusion-set--x", score=0.9, rank=1),
        rel("campaign--confident", "USES", "malware--gx"),
        rel("campaign--red", "USES", "malware--gx", tlp_level=4, tlp="red"),
        rel(LONE, "USES", "tool--mimikatz"),
    ]
    for i, cid in enumerate(G1):
        ip = f"ipv4:198.51.100.{i + 1}"
        nodes += [
            node("Campaign", cid, name=cid, first_seen_epoch=1_700_000_000 + i * 86_400),
            node("Indicator", ip, kind="ipv4", value=ip[5:]),
        ]
        rels += [
            rel(cid, "USES", "malware--gx"),
            rel(cid, "USES", "tool--mimikatz"),
            rel(cid, "USES", "attack-pattern--t1059"),
            rel(ip, "INDICATES", cid),
            rel(ip, "BELONGS_TO", "network:198.51.100.0/24"),
        ]
        if i:  # a low-confidence hypothesis does not explain the campaign
            rels.append(rel(cid, "PREDICTED_ACTOR", "intrusion-set--y", score=0.2, rank=1))
    for i, cid in enumerate(G2):
        domain = f"domain:g2-{i}.example"
        nodes += [
            node("Campaign", cid, name=cid),
            node("Indicator", domain, kind="domain", value=domain[7:]),
        ]
        rels += [
            rel(cid, "USES", "tool--ty"),
            rel(cid, "USES", "tool--mimikatz"),
            rel(cid, "USES", "attack-pattern--t1059"),
            rel(domain, "INDICATES", cid),
            rel(domain, "REGISTERED_WITH", "registrar:shady"),
        ]
    return FixtureGraph(nodes, rels)


# Nine campaigns: a hub is evidence in more than 60 % of them (the default 5 % suits real graphs).
CONFIG = ClusterConfig(max_df_share=0.6)


def test_unexplained_activity_groups_by_shared_evidence(store):
    write_graph(store, _world())
    clusters, considered = find_clusters(store, max_tlp=TLP.CLEAR, config=CONFIG)
    assert considered == 7  # G1, G2 and the lone one: not the attributed, confident or red
    assert [[c["id"] for c in k.campaigns] for k in clusters] == [G1, G2]
    g1, g2 = clusters
    # Rarer first; Mimikatz, in seven of the nine campaigns, is a hub: it is not shared evidence
    # and does not pull the lone campaign (which has only Mimikatz) into a cluster.
    assert [s["name"] for s in g1.shared] == ["198.51.100.0/24", "GxLoader"]
    assert g1.nearest_actors[0]["id"] == "intrusion-set--x"
    assert {s["name"] for s in g2.shared} >= {"TyTunnel", "shady"}
    assert g2.nearest_actors[0]["id"] == "intrusion-set--y"  # via its attributed campaign
    assert g1.to_dict()["size"] == 3


def test_software_many_known_actors_use_links_nothing(store):
    graph = _world()
    users = [node("ThreatActor", f"intrusion-set--u{i}", name=f"U{i}") for i in range(3)]
    graph = FixtureGraph(
        [*graph.nodes, *users],
        [*graph.rels, *(rel(u.id, "USES", "tool--ty") for u in users)],
    )
    write_graph(store, graph)
    clusters, _ = find_clusters(store, max_tlp=TLP.CLEAR, config=CONFIG)
    g2 = next(k for k in clusters if k.campaigns[0]["id"] == G2[0])
    assert [s["name"] for s in g2.shared] == ["shady"]  # TyTunnel is now commodity


def test_the_threshold_and_clearance_decide_what_counts_as_unexplained(store):
    write_graph(store, _world())
    _, strict = find_clusters(store, max_tlp=TLP.CLEAR, config=ClusterConfig(threshold=0.1))
    assert strict == 5  # the two G1 campaigns with a 0.2 hypothesis now count as explained
    _, red = find_clusters(store, max_tlp=TLP.RED)
    assert red == 8
