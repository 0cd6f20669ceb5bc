"""A tiny graph for the API tests, written with the Cypher of cypher/schema.md.

Four actors at different TLP levels, their campaigns, malware, techniques and indicators,
with some objects and relationships marked above ``clear`` so that every read path can be
checked for leaks. Names that must never be seen below a clearance contain ``SECRET``.
"""

from __future__ import annotations

from actorgraph.graph.store import GraphStore

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

NODES = [
    (
        "ThreatActor",
        {
            "id": ALPHA,
            "name": "APT Alpha",
            "aliases": ["Fancy Alpha", "Alpha Blizzard"],
            "country": "RU",
            "external_id": "G9001",
            "tlp": "clear",
            "tlp_level": 0,
            "sources": ["test"],
        },
    ),
    (
        "ThreatActor",
        {
            "id": BRAVO,
            "name": "APT Bravo",
            "aliases": ["Bravo Typhoon"],
            "country": "CN",
            "external_id": "G9002",
            "tlp": "green",
            "tlp_level": 1,
            "sources": ["test"],
        },
    ),
    (
        "ThreatActor",
        {
            "id": AMBER_ACTOR,
            "name": "Amber Group SECRET-AMBER",
            "aliases": [],
            "country": "IR",
            "tlp": "amber",
            "tlp_level": 2,
            "sources": ["test"],
        },
    ),
    (
        "ThreatActor",
        {
            "id": RED_ACTOR,
            "name": "Red Group SECRET-RED",
            "aliases": ["Red Sleet"],
            "country": "KP",
            "tlp": "red",
            "tlp_level": 4,
            "sources": ["test"],
        },
    ),
    (
        "Campaign",
        {
            "id": C_ALPHA,
            "name": "Operation Alpha",
            "first_seen": "2024-01-01T00:00:00Z",
            "last_seen": "2024-03-01T00:00:00Z",
            "tlp_level": 0,
        },
    ),
    (
        "Campaign",
        {
            "id": C_BRAVO,
            "name": "Operation Bravo",
            "first_seen": "2024-02-01T00:00:00Z",
            "tlp_level": 1,
        },
    ),
    ("Campaign", {"id": C_RED, "name": "Operation SECRET-RED", "tlp_level": 4}),
    ("Malware", {"id": M_ALPHA, "name": "AlphaLoader", "tlp_level": 0}),
    ("Malware", {"id": M_SHARED, "name": "SharedRAT", "tlp_level": 0}),
    ("Malware", {"id": M_RED, "name": "SECRET-RED-implant", "tlp_level": 4}),
    ("Malware", {"id": M_BRAVO, "name": "BravoDropper", "tlp_level": 0}),
    ("Technique", {"id": T_BRAVO, "external_id": "T1888", "name": "Bravo Trick"}),
    ("Tool", {"id": "tool--00000000-0000-4000-8000-000000000001", "name": "Mimikatz"}),
    (
        "Technique",
        {"id": T_COMMON, "external_id": "T1059", "name": "Command and Scripting Interpreter"},
    ),
    ("Technique", {"id": T_RARE, "external_id": "T1999", "name": "Rare Trick"}),
    (
        "Indicator",
        {
            "id": "domain:evil.example",
            "kind": "domain",
            "value": "evil.example",
            "last_seen": "2024-03-01T00:00:00Z",
            "tlp_level": 0,
        },
    ),
    (
        "Indicator",
        {"id": "ipv4:203.0.113.7", "kind": "ipv4", "value": "203.0.113.7", "tlp_level": 0},
    ),
    (
        "Indicator",
        {"id": "domain:bravo.example", "kind": "domain", "value": "bravo.example", "tlp_level": 1},
    ),
    (
        "Indicator",
        {
            "id": "domain:secret-red.example",
            "kind": "domain",
            "value": "secret-red.example",
            "tlp_level": 4,
        },
    ),
    (
        "Indicator",
        {
            "id": "domain:amber-link.example",
            "kind": "domain",
            "value": "amber-link.example",
            "tlp_level": 0,
        },
    ),
    ("Indicator", {"id": "x509:" + "ab" * 32, "kind": "x509", "value": "ab" * 32, "tlp_level": 0}),
    (
        "Infrastructure",
        {
            "id": "asn:AS64500",
            "kind": "asn",
            "name": "AS64500",
            "value": "AS64500",
            "asn": 64500,
            "tlp_level": 0,
        },
    ),
    (
        "Infrastructure",
        {
            "id": "registrar:secret-red-registrar",
            "kind": "registrar",
            "name": "SECRET-RED registrar",
            "tlp_level": 4,
        },
    ),
    (
        "Report",
        {
            "id": "report--00000000-0000-4000-8000-000000000001",
            "name": "Alpha report",
            "published": "2024-04-01T00:00:00Z",
        },
    ),
]

# (start id, type, end id, properties)
RELS = [
    (C_ALPHA, "ATTRIBUTED_TO", ALPHA, {"confidence": 90}),
    (C_BRAVO, "ATTRIBUTED_TO", BRAVO, {"confidence": 70, "tlp_level": 1}),
    (C_RED, "ATTRIBUTED_TO", ALPHA, {"confidence": 50, "tlp_level": 4}),
    (C_RED, "ATTRIBUTED_TO", RED_ACTOR, {"confidence": 80, "tlp_level": 4}),
    (ALPHA, "USES", M_ALPHA, {}),
    (ALPHA, "USES", M_SHARED, {}),
    (BRAVO, "USES", M_SHARED, {"tlp_level": 1}),
    (ALPHA, "USES", M_RED, {"tlp_level": 4}),
    (ALPHA, "USES", "tool--00000000-0000-4000-8000-000000000001", {}),
    (ALPHA, "USES", T_COMMON, {}),
    (ALPHA, "USES", T_RARE, {}),
    (BRAVO, "USES", T_COMMON, {}),
    (BRAVO, "USES", M_BRAVO, {}),
    (BRAVO, "USES", T_BRAVO, {}),
    (C_BRAVO, "USES", M_BRAVO, {"tlp_level": 1}),
    (C_ALPHA, "USES", M_ALPHA, {}),
    (C_ALPHA, "USES", T_RARE, {}),
    (RED_ACTOR, "USES", T_RARE, {"tlp_level": 4}),
    ("domain:evil.example", "INDICATES", C_ALPHA, {}),
    ("domain:evil.example", "RESOLVES_TO", "ipv4:203.0.113.7", {}),
    ("x509:" + "ab" * 32, "INDICATES", C_ALPHA, {}),
    ("ipv4:203.0.113.7", "HOSTED_ON", "asn:AS64500", {}),
    ("domain:evil.example", "REGISTERED_WITH", "registrar:secret-red-registrar", {"tlp_level": 4}),
    ("domain:bravo.example", "INDICATES", C_BRAVO, {"tlp_level": 1}),
    ("domain:secret-red.example", "INDICATES", C_RED, {"tlp_level": 4}),
    ("domain:secret-red.example", "RESOLVES_TO", "ipv4:203.0.113.7", {"tlp_level": 4}),
    # A clear indicator whose only link to an actor is amber-marked: invisible below amber.
    ("domain:amber-link.example", "INDICATES", AMBER_ACTOR, {"tlp_level": 2}),
    (ALPHA, "REPORTED_IN", "report--00000000-0000-4000-8000-000000000001", {}),
]

_TLP_NAMES = {0: "clear", 1: "green", 2: "amber", 3: "amber+strict", 4: "red"}


def load_world(store: GraphStore) -> None:
    """Write the tiny world into ``store`` (batched, one query per label and per rel type)."""
    by_label: dict[str, list[dict]] = {}
    for label, props in NODES:
        props = {"tlp_level": 0, "sources": ["api-test"], **props}
        props.setdefault("tlp", _TLP_NAMES[props["tlp_level"]])
        if "name" in props:
            props["name_lc"] = props["name"].lower()
        by_label.setdefault(label, []).append(props)
    for label, rows in by_label.items():
        store.write_batches(
            f"UNWIND $rows AS row MERGE (n:{label} {{id: row.id}}) SET n += row", rows
        )
    by_type: dict[str, list[dict]] = {}
    for src, rel, dst, props in RELS:
        props = {"tlp_level": 0, "sources": ["api-test"], **props}
        by_type.setdefault(rel, []).append({"s": src, "d": dst, "p": props})
    for rel, rows in by_type.items():
        store.write_batches(
            f"UNWIND $rows AS row MATCH (s {{id: row.s}}) MATCH (d {{id: row.d}}) "
            f"MERGE (s)-[r:{rel}]->(d) SET r += row.p",
            rows,
        )
