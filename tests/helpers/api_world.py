"""A tiny graph for the API tests, written with the Cypher of cypher/README.md.

Four actors at different TLP levels, their campaigns, malware, techniques and indicators,
with some objects and relationships marked above ``clear`` so that every read path can be
checked for leaks. Names that must never be seen below a clearance contain ``SECRET``.
"""

from __future__ import annotations

from typing import Any

from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import FixtureGraph, Node, Rel, node, rel

ALPHA = "intrusion-set--00000000-0000-4000-8000-00000000000a"
BRAVO = "intrusion-set--00000000-0000-4000-8000-00000000000b"
AMBER_ACTOR = "intrusion-set--00000000-0000-4000-8000-0000000000a3"
RED_ACTOR = "intrusion-set--00000000-0000-4000-8000-0000000000ed"
C_ALPHA = "campaign--00000000-0000-4000-8000-00000000c001"
C_BRAVO = "campaign--00000000-0000-4000-8000-00000000c002"
C_RED = "campaign--00000000-0000-4000-8000-00000000c0ed"
M_ALPHA = "malware--00000000-0000-4000-8000-0000000000f1"
M_SHARED = "malware--00000000-0000-4000-8000-0000000000f2"
M_RED = "malware--00000000-0000-4000-8000-0000000000f3"
T_COMMON = "attack-pattern--00000000-0000-4000-8000-000000000059"
T_RARE = "attack-pattern--00000000-0000-4000-8000-000000009999"
M_BRAVO = "malware--00000000-0000-4000-8000-0000000000f4"
T_BRAVO = "attack-pattern--00000000-0000-4000-8000-000000008888"

SOURCES = ["api-test"]
X509 = "ab" * 32
TOOL = "tool--00000000-0000-4000-8000-000000000001"
REPORT = "report--00000000-0000-4000-8000-000000000001"


def _node(
    label: str, id_: str, *, tlp: TLP = TLP.CLEAR, sources: list[str] = SOURCES, **props: Any
) -> Node:
    """Every object here is marked (``clear`` unless said), sourced, and named in lower case too."""
    lower = {"name_lc": props["name"].lower()} if "name" in props else {}
    return node(label, id_, tlp_level=tlp, sources=sources, **props, tlp=tlp.label, **lower)


def _rel(src: str, type_: str, dst: str, *, tlp: TLP = TLP.CLEAR, **props: Any) -> Rel:
    """Every relationship here carries a level (``clear`` unless said) and a source."""
    return rel(src, type_, dst, tlp_level=tlp, sources=SOURCES, **props)


NODES = [
    _node(
        "ThreatActor",
        ALPHA,
        name="APT Alpha",
        aliases=["Fancy Alpha", "Alpha Blizzard"],
        country="RU",
        external_id="G9001",
        sources=["test"],
    ),
    _node(
        "ThreatActor",
        BRAVO,
        name="APT Bravo",
        aliases=["Bravo Typhoon"],
        country="CN",
        external_id="G9002",
        tlp=TLP.GREEN,
        sources=["test"],
    ),
    _node(
        "ThreatActor",
        AMBER_ACTOR,
        name="Amber Group SECRET-AMBER",
        aliases=[],
        country="IR",
        tlp=TLP.AMBER,
        sources=["test"],
    ),
    _node(
        "ThreatActor",
        RED_ACTOR,
        name="Red Group SECRET-RED",
        aliases=["Red Sleet"],
        country="KP",
        tlp=TLP.RED,
        sources=["test"],
    ),
    _node(
        "Campaign",
        C_ALPHA,
        name="Operation Alpha",
        first_seen="2024-01-01T00:00:00Z",
        last_seen="2024-03-01T00:00:00Z",
    ),
    _node(
        "Campaign",
        C_BRAVO,
        name="Operation Bravo",
        first_seen="2024-02-01T00:00:00Z",
        tlp=TLP.GREEN,
    ),
    _node("Campaign", C_RED, name="Operation SECRET-RED", tlp=TLP.RED),
    _node("Malware", M_ALPHA, name="AlphaLoader"),
    _node("Malware", M_SHARED, name="SharedRAT"),
    _node("Malware", M_RED, name="SECRET-RED-implant", tlp=TLP.RED),
    _node("Malware", M_BRAVO, name="BravoDropper"),
    _node("Technique", T_BRAVO, external_id="T1888", name="Bravo Trick"),
    _node("Tool", TOOL, name="Mimikatz"),
    _node("Technique", T_COMMON, external_id="T1059", name="Command and Scripting Interpreter"),
    _node("Technique", T_RARE, external_id="T1999", name="Rare Trick"),
    _node(
        "Indicator",
        "domain:evil.example",
        kind="domain",
        value="evil.example",
        last_seen="2024-03-01T00:00:00Z",
    ),
    _node("Indicator", "ipv4:203.0.113.7", kind="ipv4", value="203.0.113.7"),
    _node("Indicator", "domain:bravo.example", kind="domain", value="bravo.example", tlp=TLP.GREEN),
    _node(
        "Indicator",
        "domain:secret-red.example",
        kind="domain",
        value="secret-red.example",
        tlp=TLP.RED,
    ),
    _node("Indicator", "domain:amber-link.example", kind="domain", value="amber-link.example"),
    _node("Indicator", f"x509:{X509}", kind="x509", value=X509),
    _node("Infrastructure", "asn:AS64500", kind="asn", name="AS64500", value="AS64500", asn=64500),
    _node(
        "Infrastructure",
        "registrar:secret-red-registrar",
        kind="registrar",
        name="SECRET-RED registrar",
        tlp=TLP.RED,
    ),
    _node("Report", REPORT, name="Alpha report", published="2024-04-01T00:00:00Z"),
]

RELS = [
    _rel(C_ALPHA, "ATTRIBUTED_TO", ALPHA, confidence=90),
    _rel(C_BRAVO, "ATTRIBUTED_TO", BRAVO, tlp=TLP.GREEN, confidence=70),
    _rel(C_RED, "ATTRIBUTED_TO", ALPHA, tlp=TLP.RED, confidence=50),
    _rel(C_RED, "ATTRIBUTED_TO", RED_ACTOR, tlp=TLP.RED, confidence=80),
    _rel(ALPHA, "USES", M_ALPHA),
    _rel(ALPHA, "USES", M_SHARED),
    _rel(BRAVO, "USES", M_SHARED, tlp=TLP.GREEN),
    _rel(ALPHA, "USES", M_RED, tlp=TLP.RED),
    _rel(ALPHA, "USES", TOOL),
    _rel(ALPHA, "USES", T_COMMON),
    _rel(ALPHA, "USES", T_RARE),
    _rel(BRAVO, "USES", T_COMMON),
    _rel(BRAVO, "USES", M_BRAVO),
    _rel(BRAVO, "USES", T_BRAVO),
    _rel(C_BRAVO, "USES", M_BRAVO, tlp=TLP.GREEN),
    _rel(C_ALPHA, "USES", M_ALPHA),
    _rel(C_ALPHA, "USES", T_RARE),
    _rel(RED_ACTOR, "USES", T_RARE, tlp=TLP.RED),
    _rel("domain:evil.example", "INDICATES", C_ALPHA),
    _rel("domain:evil.example", "RESOLVES_TO", "ipv4:203.0.113.7"),
    _rel(f"x509:{X509}", "INDICATES", C_ALPHA),
    _rel("ipv4:203.0.113.7", "HOSTED_ON", "asn:AS64500"),
    _rel("domain:evil.example", "REGISTERED_WITH", "registrar:secret-red-registrar", tlp=TLP.RED),
    _rel("domain:bravo.example", "INDICATES", C_BRAVO, tlp=TLP.GREEN),
    _rel("domain:secret-red.example", "INDICATES", C_RED, tlp=TLP.RED),
    _rel("domain:secret-red.example", "RESOLVES_TO", "ipv4:203.0.113.7", tlp=TLP.RED),
    # A clear indicator whose only link to an actor is amber-marked: invisible below amber.
    _rel("domain:amber-link.example", "INDICATES", AMBER_ACTOR, tlp=TLP.AMBER),
    _rel(ALPHA, "REPORTED_IN", REPORT),
]

API_WORLD = FixtureGraph(NODES, RELS)
