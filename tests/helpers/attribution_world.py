"""The attribution tests' small world: four actors, one planted signal, shared hubs.

Actor X owns a rare malware (SunSpotX) and a unique C2 domain; every campaign sits behind the
same CDN address and every actor uses Mimikatz and T1059, so only the rare evidence can tell the
actors apart. Campaign techniques are drawn with a fixed seed: the graph is the same every run.
"""

from __future__ import annotations

import numpy as np

from actorgraph.graph.store import GraphStore
from tests.helpers.graphs import FixtureGraph, Node, Rel, node, rel, write_graph

ACTORS = {"X": "CN", "Y": "RU", "Z": "IR", "W": "KP"}
TECHS = [f"T10{i:02d}" for i in range(10, 30)] + ["T1059"]
CDN_IP = "ipv4:104.16.1.1"


def attribution_world(tlp_actor_w: int = 0) -> FixtureGraph:
    """4 actors, 8 campaigns, 21 techniques, rare and shared malware, a common tool, hub infra.

    Args:
        tlp_actor_w: the TLP level of actor W (4 hides it from anyone not cleared for red).
    """
    actors = [
        node(
            "ThreatActor",
            f"intrusion-set--{a}",
            name=f"Actor {a}",
            aliases=[f"{a}-alias"],
            country=c,
            tlp_level=tlp_actor_w if a == "W" else 0,
        )
        for a, c in ACTORS.items()
    ]
    nodes: list[Node] = [
        *actors,
        *(node("Technique", f"attack-pattern--{t}", external_id=t, name=t) for t in TECHS),
        node("Malware", "malware--sunspotx", name="SunSpotX", aliases=["SunSpotX"]),
        node("Malware", "malware--plugx", name="PlugX", aliases=["PlugX", "Korplug"]),
        node("Malware", "malware--wiper", name="WiperY", aliases=[]),
        node("Malware", "malware--tinyz", name="TinyZ", aliases=[]),
        node("Tool", "tool--mimikatz", name="Mimikatz", aliases=["Mimikatz"], external_id="S0002"),
        node("Indicator", "domain:evil-x.example", kind="domain", value="evil-x.example"),
        node("Indicator", CDN_IP, kind="ipv4", value="104.16.1.1"),
        node("Indicator", "ipv4:203.0.113.9", kind="ipv4", value="203.0.113.9"),
        node("Indicator", "domain:y-c2.example", kind="domain", value="y-c2.example"),
        node(
            "Infrastructure",
            "asn:AS13335",
            kind="asn",
            name="Cloudflare",
            value="AS13335",
            asn=13335,
        ),
    ]
    rels: list[Rel] = []
    for i, a in enumerate(ACTORS):
        for t in [*TECHS[i * 5 : (i + 1) * 5], "T1059"]:
            rels.append(rel(f"intrusion-set--{a}", "USES", f"attack-pattern--{t}"))
    rels += [
        rel(f"intrusion-set--{a}", "USES", f"malware--{m}")
        for a, m in [
            ("X", "sunspotx"),
            ("X", "plugx"),
            ("Y", "plugx"),
            ("Y", "wiper"),
            ("Z", "tinyz"),
            ("W", "plugx"),
        ]
    ]
    rels += [rel(f"intrusion-set--{a}", "USES", "tool--mimikatz") for a in ACTORS]
    rng = np.random.default_rng(0)
    attributed, camp_uses, camp_inds = [], [], []
    for i, a in enumerate(ACTORS):
        own = TECHS[i * 5 : (i + 1) * 5]
        for k in range(2):
            cid = f"campaign--{a}{k}"
            nodes.append(node("Campaign", cid, name=f"Op {a}{k}", external_id=f"C09{i}{k}"))
            attributed.append(rel(cid, "ATTRIBUTED_TO", f"intrusion-set--{a}"))
            picks = rng.choice(own, size=3, replace=False)
            camp_uses += [rel(cid, "USES", f"attack-pattern--{t}") for t in picks]
            camp_inds.append(rel(CDN_IP, "INDICATES", cid))  # everyone sits behind the CDN
    camp_inds += [
        rel("domain:evil-x.example", "INDICATES", "campaign--X0"),
        rel("domain:y-c2.example", "INDICATES", "campaign--Y0"),
    ]
    rels += [
        *attributed,
        *camp_uses,
        *camp_inds,
        rel("domain:evil-x.example", "RESOLVES_TO", "ipv4:203.0.113.9"),
        rel(CDN_IP, "HOSTED_ON", "asn:AS13335"),
    ]
    return FixtureGraph(nodes, rels)


def build_world(store: GraphStore, tlp_actor_w: int = 0) -> None:
    """Write :func:`attribution_world` into ``store`` (empty, schema applied)."""
    write_graph(store, attribution_world(tlp_actor_w))
