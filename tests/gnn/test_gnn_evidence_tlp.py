"""Issue 18, finding 1 in the evidence paths: every node, every relationship and every count
on an evidence path is within the requester's clearance."""

from __future__ import annotations

from typing import Any

import pytest

from actorgraph.gnn.evidence import INFRA_MAX_FANOUT, evidence_paths
from actorgraph.graph.tlp import TLP
from tests.helpers.backends import store_on_each_backend  # noqa: F401  (``store`` on both)
from tests.helpers.graphs import FixtureGraph, node, rel, write_graph
from tests.helpers.remexi_world import MAGIC_HOUND, REMEXI, remexi_world

Z = "intrusion-set--Z"


def _rarity(_id: str) -> dict[str, Any]:
    return {"weight": 1.0, "actors_sharing": 1, "hub": None}


def _paths(store, actors, matched, max_tlp, shortlist=None, infra=None) -> set[tuple[str, str]]:
    items = evidence_paths(
        store, actors, matched, _rarity, max_tlp=max_tlp, shortlist=shortlist, infra_ids=infra
    )
    return {(e["actor_id"], e["entity"]["id"]) for e in items}


@pytest.mark.parametrize("fast", [False, True])
def test_evidence_never_walks_a_hidden_relationship(store, fast: bool):
    world = remexi_world()
    write_graph(
        store,
        FixtureGraph(
            [*world.nodes, node("Malware", "malware--m2", name="M2")],
            [
                *world.rels,
                # A clear campaign attributed to Magic Hound by a red relationship only.
                rel("campaign--mh-0", "USES", "malware--m2"),
                rel("campaign--apt39-0", "ATTRIBUTED_TO", MAGIC_HOUND, tlp_level=TLP.RED),
            ],
        ),
    )
    matched = {REMEXI: "Remexi", "malware--m2": "M2", "attack-pattern--T1059": "T1059"}
    actors = [Z, MAGIC_HOUND]
    shortlist = (
        {Z: [(REMEXI, "Malware")], MAGIC_HOUND: [(REMEXI, "Malware"), ("malware--m2", "Malware")]}
        if fast
        else None
    )
    low = _paths(store, actors, matched, TLP.CLEAR, shortlist)
    high = _paths(store, actors, matched, TLP.RED, shortlist)
    assert (Z, REMEXI) not in low and (Z, REMEXI) in high  # Z -[USES red]-> Remexi
    assert (MAGIC_HOUND, REMEXI) not in low and (MAGIC_HOUND, REMEXI) in high
    assert (MAGIC_HOUND, "malware--m2") in low  # through its own clear campaign


def _hosting_world(store) -> None:
    """Actor A's campaign used domain d1 on a quiet IP. Red domains crowd that IP past the
    fan-out cap; a clear domain reaches A's ASN only through a red IP or a red link."""
    nodes = [
        node("ThreatActor", "intrusion-set--a", name="A"),
        node("Campaign", "campaign--c", name="C"),
        node("Indicator", "domain:d1.example", kind="domain", value="d1.example"),
        node("Indicator", "domain:d3.example", kind="domain", value="d3.example"),
        node("Indicator", "ipv4:203.0.113.5", kind="ipv4", value="203.0.113.5"),
        node("Indicator", "ipv4:203.0.113.6", kind="ipv4", value="203.0.113.6"),
        node("Indicator", "ipv4:203.0.113.66", kind="ipv4", value="203.0.113.66", tlp=TLP.RED),
        node("Infrastructure", "asn:AS64500", kind="asn", name="AS64500", value="AS64500"),
        node("Indicator", "domain:new1.example", kind="domain", value="new1.example"),
        node("Indicator", "domain:new2.example", kind="domain", value="new2.example"),
        node("Indicator", "domain:new3.example", kind="domain", value="new3.example"),
    ]
    rels = [
        rel("campaign--c", "ATTRIBUTED_TO", "intrusion-set--a"),
        rel("domain:d1.example", "INDICATES", "campaign--c"),
        rel("domain:d3.example", "INDICATES", "campaign--c"),
        rel("domain:d1.example", "RESOLVES_TO", "ipv4:203.0.113.5"),
        rel("domain:d3.example", "RESOLVES_TO", "ipv4:203.0.113.6"),
        rel("ipv4:203.0.113.6", "HOSTED_ON", "asn:AS64500"),
        rel("domain:new1.example", "RESOLVES_TO", "ipv4:203.0.113.5"),
        # new2 reaches the ASN only through a red IP, new3 only through a red link.
        rel("domain:new2.example", "RESOLVES_TO", "ipv4:203.0.113.66"),
        rel("ipv4:203.0.113.66", "HOSTED_ON", "asn:AS64500"),
        rel("domain:new3.example", "RESOLVES_TO", "ipv4:203.0.113.6", tlp_level=TLP.RED),
    ]
    crowd = [f"domain:red{i}.example" for i in range(INFRA_MAX_FANOUT + 5)]
    nodes += [node("Indicator", d, kind="domain", value=d[7:], tlp=TLP.RED) for d in crowd]
    rels += [rel(d, "RESOLVES_TO", "ipv4:203.0.113.5") for d in crowd]
    write_graph(store, FixtureGraph(nodes, rels))


def test_shared_hosting_evidence_counts_and_walks_only_what_the_clearance_sees(store):
    _hosting_world(store)
    new = ["domain:new1.example", "domain:new2.example", "domain:new3.example"]
    matched = {d: d[7:] for d in new}
    actor = ["intrusion-set--a"]
    low = _paths(store, actor, matched, TLP.CLEAR, shortlist={}, infra=new)
    high = _paths(store, actor, matched, TLP.RED, shortlist={}, infra=new)
    # Hidden red domains do not push the quiet IP over the fan-out cap for a clear key...
    assert ("intrusion-set--a", "domain:new1.example") in low
    # ...and a red key, who sees them, sees a crowded IP.
    assert ("intrusion-set--a", "domain:new1.example") not in high
    # Paths through a red IP or a red link exist only for red.
    assert ("intrusion-set--a", "domain:new2.example") not in low
    assert ("intrusion-set--a", "domain:new3.example") not in low
    assert {
        ("intrusion-set--a", "domain:new2.example"),
        ("intrusion-set--a", "domain:new3.example"),
    } <= high
