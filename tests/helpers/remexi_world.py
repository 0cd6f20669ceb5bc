"""The Remexi case of docs/SECURITY.md (TLP finding 1) in small: a clear actor linked to a
clear malware only through a TLP:RED campaign, a red-only actor, and a red relationship between
two clear objects.

Built on :func:`tests.helpers.attribution_world.attribution_world` (four clear actors, eight
labelled campaigns) so that every clearance has enough to train on. APT39 uses Remexi in the
open; Magic Hound's only link to Remexi is the red campaign "SECRET Op Sandstorm"; the red actor
"SECRET Red Actor" uses Remexi and a red malware; Actor Z's use of Remexi is a red relationship
between two clear nodes. :func:`clear_part` is the same world without anything marked above
clear: a model trained on it is what a clear key must be answered by.
"""

from __future__ import annotations

from actorgraph.graph.tlp import TLP
from tests.helpers.attribution_world import attribution_world
from tests.helpers.graphs import FixtureGraph, node, rel

APT39 = "intrusion-set--apt39"
MAGIC_HOUND = "intrusion-set--magic-hound"
RED_ACTOR = "intrusion-set--secret-red"
REMEXI = "malware--remexi"
RED_MALWARE = "malware--secret-redloader"
RED_CAMPAIGN = "campaign--secret-sandstorm"
RED_INDICATOR = "domain:secret-red.example"
CLEAR_INDICATOR = "domain:apt39-c2.example"
# Activity values: a hidden one and one the graph does not hold must look the same to a clear
# key.
RED_VALUES = {"malware": ["SECRET-RedLoader"], "indicators": ["secret-red.example"]}
MISSING_VALUES = {"malware": ["NoSuchLoader"], "indicators": ["no-such-domain.example"]}


def remexi_world() -> FixtureGraph:
    """The attribution world plus APT39, Magic Hound, Remexi and their red links."""
    base = attribution_world()
    techs = [f"attack-pattern--T10{i:02d}" for i in range(10, 30)]
    red = {"tlp": TLP.RED}
    nodes = [
        *base.nodes,
        node("ThreatActor", APT39, name="APT39", aliases=["Chafer"], country="IR"),
        node("ThreatActor", MAGIC_HOUND, name="Magic Hound", aliases=["APT35"], country="IR"),
        node("ThreatActor", RED_ACTOR, name="SECRET Red Actor", aliases=[], country="KP", **red),
        node("Malware", REMEXI, name="Remexi", aliases=["Remexi"]),
        node("Malware", "malware--pupyrat", name="PupyRAT", aliases=["Pupy"]),
        node("Malware", RED_MALWARE, name="SECRET-RedLoader", aliases=[], **red),
        node("Indicator", CLEAR_INDICATOR, kind="domain", value="apt39-c2.example"),
        node("Indicator", RED_INDICATOR, kind="domain", value="secret-red.example", **red),
        node("Campaign", "campaign--apt39-0", name="Op Chafer 0", external_id="C0390"),
        node("Campaign", "campaign--apt39-1", name="Op Chafer 1", external_id="C0391"),
        node("Campaign", "campaign--mh-0", name="Op Charming 0", external_id="C0350"),
        node("Campaign", "campaign--mh-1", name="Op Charming 1", external_id="C0351"),
        node("Campaign", RED_CAMPAIGN, name="SECRET Op Sandstorm", external_id="C0999", **red),
        node("Campaign", "campaign--secret-red-0", name="SECRET Op Red 0", **red),
        node("Campaign", "campaign--secret-red-1", name="SECRET Op Red 1", **red),
    ]
    rels = [
        *base.rels,
        rel(APT39, "USES", REMEXI),
        *(rel(APT39, "USES", t) for t in techs[0:3]),
        rel(MAGIC_HOUND, "USES", "malware--pupyrat"),
        *(rel(MAGIC_HOUND, "USES", t) for t in techs[8:11]),
        rel(RED_ACTOR, "USES", REMEXI, tlp_level=TLP.RED),
        rel(RED_ACTOR, "USES", RED_MALWARE, tlp_level=TLP.RED),
        *(rel(RED_ACTOR, "USES", t, tlp_level=TLP.RED) for t in techs[15:18]),
        # A red relationship between two clear nodes: invisible to a clear key, both ends not.
        rel("intrusion-set--Z", "USES", REMEXI, tlp_level=TLP.RED),
    ]
    for k in range(2):
        camp = f"campaign--apt39-{k}"
        rels += [
            rel(camp, "ATTRIBUTED_TO", APT39),
            rel(camp, "USES", REMEXI),
            *(rel(camp, "USES", t) for t in techs[k : k + 2]),
        ]
        camp = f"campaign--mh-{k}"
        rels += [
            rel(camp, "ATTRIBUTED_TO", MAGIC_HOUND),
            rel(camp, "USES", "malware--pupyrat"),
            *(rel(camp, "USES", t) for t in techs[8 + k : 10 + k]),
        ]
        camp = f"campaign--secret-red-{k}"
        rels += [
            rel(camp, "ATTRIBUTED_TO", RED_ACTOR),
            rel(camp, "USES", RED_MALWARE),
            rel(camp, "USES", REMEXI),
            *(rel(camp, "USES", t) for t in techs[15 + k : 17 + k]),
        ]
    rels += [
        rel(CLEAR_INDICATOR, "INDICATES", "campaign--apt39-0"),
        # Magic Hound's only link to Remexi: a red campaign (its relationships unmarked, as
        # ingestion leaves relationships of a marked object).
        rel(RED_CAMPAIGN, "ATTRIBUTED_TO", MAGIC_HOUND),
        rel(RED_CAMPAIGN, "USES", REMEXI),
        rel(RED_CAMPAIGN, "USES", techs[9]),
        rel(RED_INDICATOR, "INDICATES", RED_CAMPAIGN),
        rel(RED_INDICATOR, "INDICATES", "campaign--secret-red-0"),
    ]
    return FixtureGraph(nodes, rels)


def clear_part(graph: FixtureGraph) -> FixtureGraph:
    """``graph`` without every node and relationship marked above clear (and the relationships
    of removed nodes): exactly what a clear key may see."""
    nodes = [n for n in graph.nodes if int(n.props.get("tlp_level") or 0) == TLP.CLEAR]
    kept = {n.id for n in nodes}
    rels = [
        r
        for r in graph.rels
        if int(r.props.get("tlp_level") or 0) == TLP.CLEAR and r.src in kept and r.dst in kept
    ]
    return FixtureGraph(nodes, rels)
