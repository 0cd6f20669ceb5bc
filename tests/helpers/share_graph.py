"""A small, hand-made graph for the share-and-brief tests (briefing, takedown), built with Cypher.

Three real actor names with invented activity: APT28 (two campaigns, one old and sinkholed), APT29
and Lazarus Group; an unattributed campaign the model links to APT28. Hosting covers the cases a
takedown must tell apart: a bulletproof hoster (keep), a CDN front (exclude the address, keep the
domain), a sinkhole (exclude), an address shared by three actors (exclude), and one red-marked
address that a cleared-for-amber reader must never see.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from actorgraph.graph.schema import label as quote_label
from actorgraph.graph.schema import rel_type as quote_rel

A28 = "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"
A29 = "intrusion-set--899ce53f-13a0-479b-a0e4-67d46e241542"
LAZ = "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a"
C1 = "campaign--83422c77-904c-4dc1-aff5-5c38f3a2c55c"  # APT28, 2024
C2 = "campaign--11111111-1111-4111-8111-111111111111"  # APT28, 2019
C3 = "campaign--33333333-3333-4333-8333-333333333333"  # APT29, 2024
C4 = "campaign--44444444-4444-4444-8444-444444444444"  # Lazarus, 2025
C5 = "campaign--55555555-5555-4555-8555-555555555555"  # unattributed, predicted APT28
XAGENT = "malware--f2b7a9d3-4c1e-4a5b-9e8d-2b3c4d5e6f70"
MIMIKATZ = "tool--afc079f3-c0ea-4096-b75d-3f05338b7060"
T_SPEAR = "attack-pattern--2b742742-28c3-4e1b-bab7-8350d6300fa7"
T_CMD = "attack-pattern--7385dfaf-6886-4229-9ecd-6fd678040830"
T_WEB = "attack-pattern--df8b2a25-8bdf-4856-aaf9-7b2d5b2f9fbc"


def _n(label: str, node_id: str, **props: Any) -> tuple[str, dict[str, Any]]:
    return label, {"id": node_id, **props}


NODES = [
    _n("ThreatActor", A28, name="APT28", name_lc="apt28", external_id="G0007",
       aliases=["Fancy Bear", "Forest Blizzard", "STRONTIUM", "Sofacy"],
       aliases_lc=["apt28", "fancy bear", "forest blizzard", "strontium", "sofacy"],
       country="RU", country_source="derived:alias", tlp="green", tlp_level=1, sources=["mitre-attack"],
       description="APT28 is a threat group attributed to Russia's GRU. It has been active since 2004."),
    _n("ThreatActor", A29, name="APT29", name_lc="apt29", aliases=["Midnight Blizzard", "NOBELIUM"],
       aliases_lc=["apt29", "midnight blizzard", "nobelium"], country="RU", country_source="stix"),
    _n("ThreatActor", LAZ, name="Lazarus Group", name_lc="lazarus group", aliases=["Diamond Sleet"],
       aliases_lc=["lazarus group", "diamond sleet"], country="KP", country_source="stix"),
    _n("Campaign", C1, name="Operation Frozen Inbox", first_seen="2024-01-05T00:00:00.000Z",
       last_seen="2024-03-30T00:00:00.000Z", tlp="amber", tlp_level=2),
    _n("Campaign", C2, name="Operation Old Mail", first_seen="2019-02-01T00:00:00.000Z",
       last_seen="2019-06-30T00:00:00.000Z"),
    _n("Campaign", C3, name="Operation Cloud Ladder", first_seen="2024-05-01T00:00:00.000Z",
       last_seen="2024-07-01T00:00:00.000Z"),
    _n("Campaign", C4, name="Operation Dream Job 2025", first_seen="2025-01-10T00:00:00.000Z",
       last_seen="2025-02-10T00:00:00.000Z"),
    _n("Campaign", C5, name="Activity cluster 2025-17", first_seen="2025-03-01T00:00:00.000Z"),
    _n("Malware", XAGENT, name="X-Agent", name_lc="x-agent", external_id="S0161"),
    _n("Tool", MIMIKATZ, name="Mimikatz", name_lc="mimikatz", external_id="S0002"),
    _n("Technique", T_SPEAR, name="Spearphishing Link", external_id="T1566.002", tactics=["initial-access"]),
    _n("Technique", T_CMD, name="Command and Scripting Interpreter", external_id="T1059", tactics=["execution"]),
    _n("Technique", T_WEB, name="Web Protocols", external_id="T1071.001", tactics=["command-and-control"]),
    _n("Country", "country:RU", code="RU", name="Russia"),
    _n("Country", "country:KP", code="KP", name="North Korea"),
    _n("Country", "country:UA", code="UA", name="Ukraine"),
    _n("Sector", "sector:government", name="government"),
    _n("Infrastructure", "asn:AS64512", kind="asn", value="AS64512", asn=64512, name="IRONVAULT-AS"),
    _n("Infrastructure", "hosting_provider:ironvault", kind="bulletproof_hoster", name="IronVault Hosting Ltd"),
    _n("Infrastructure", "asn:AS13335", kind="asn", value="AS13335", asn=13335, name="CLOUDFLARENET"),
    _n("Infrastructure", "hosting_provider:cloudflare", kind="cdn", name="Cloudflare, Inc."),
    _n("Infrastructure", "asn:AS14061", kind="asn", value="AS14061", asn=14061, name="DIGITALOCEAN-ASN"),
    _n("Infrastructure", "hosting_provider:digitalocean", kind="hosting_provider", name="DigitalOcean"),
    _n("Infrastructure", "infrastructure--5e1a0000-0000-4000-8000-000000000001", kind="sinkhole",
       name="Research sinkhole Alpha"),
    _n("Infrastructure", "registrar:namecheap", kind="registrar", name="NameCheap, Inc."),
    _n("Infrastructure", "registrar:njalla", kind="registrar", name="Njalla"),
    _n("Indicator", "domain:mail-gov-ua.example", kind="domain", value="mail-gov-ua.example",
       valid_from="2024-01-05T00:00:00.000Z", confidence=80, tlp="amber", tlp_level=2,
       stix_ids=["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]),
    _n("Indicator", "domain:owa-mfa.example", kind="domain", value="owa-mfa.example",
       valid_from="2024-02-01T00:00:00.000Z", confidence=70),
    _n("Indicator", "domain:old-mail.example", kind="domain", value="old-mail.example",
       valid_from="2019-02-01T00:00:00.000Z"),
    _n("Indicator", "domain:old-live.example", kind="domain", value="old-live.example",
       valid_from="2019-03-01T00:00:00.000Z"),
    _n("Indicator", "domain:dreamjob-careers.example", kind="domain", value="dreamjob-careers.example",
       valid_from="2025-01-10T00:00:00.000Z"),
    _n("Indicator", "ipv4:203.0.113.45", kind="ipv4", value="203.0.113.45"),
    _n("Indicator", "ipv4:104.16.1.1", kind="ipv4", value="104.16.1.1"),
    _n("Indicator", "ipv4:192.0.2.10", kind="ipv4", value="192.0.2.10"),
    _n("Indicator", "ipv4:198.51.100.7", kind="ipv4", value="198.51.100.7", valid_from="2024-01-01T00:00:00.000Z"),
    _n("Indicator", "ipv4:203.0.113.99", kind="ipv4", value="203.0.113.99", tlp="red", tlp_level=4,
       valid_from="2024-03-01T00:00:00.000Z"),
    _n("Indicator", "sha256:" + "ab" * 32, kind="sha256", value="ab" * 32, valid_from="2024-03-10T00:00:00.000Z"),
]  # fmt: skip

EDGES = [
    ("Campaign", "ATTRIBUTED_TO", "ThreatActor", C1, A28, {"confidence": 90}),
    ("Campaign", "ATTRIBUTED_TO", "ThreatActor", C2, A28, {"confidence": 60}),
    ("Campaign", "ATTRIBUTED_TO", "ThreatActor", C3, A29, {}),
    ("Campaign", "ATTRIBUTED_TO", "ThreatActor", C4, LAZ, {}),
    ("Campaign", "PREDICTED_ACTOR", "ThreatActor", C5, A28,
     {"score": 0.81, "rank": 1, "model_version": "m-2026-01", "created": "2026-01-02T00:00:00.000Z"}),
    ("Campaign", "PREDICTED_ACTOR", "ThreatActor", C5, A29,
     {"score": 0.09, "rank": 2, "model_version": "m-2026-01", "created": "2026-01-02T00:00:00.000Z"}),
    ("ThreatActor", "ORIGINATES_FROM", "Country", A28, "country:RU", {"country_source": "derived:alias"}),
    ("ThreatActor", "ORIGINATES_FROM", "Country", LAZ, "country:KP", {}),
    ("ThreatActor", "USES", "Malware", A28, XAGENT, {}),
    ("ThreatActor", "USES", "Tool", A28, MIMIKATZ, {}),
    ("ThreatActor", "USES", "Tool", A29, MIMIKATZ, {}),
    ("ThreatActor", "USES", "Tool", LAZ, MIMIKATZ, {}),
    ("ThreatActor", "USES", "Technique", A28, T_CMD, {}),
    ("ThreatActor", "USES", "Technique", A29, T_CMD, {}),
    ("ThreatActor", "USES", "Technique", LAZ, T_CMD, {}),
    ("ThreatActor", "USES", "Technique", A29, T_WEB, {}),
    ("Campaign", "USES", "Technique", C1, T_SPEAR, {}),
    ("Campaign", "USES", "Technique", C1, T_WEB, {}),
    ("Campaign", "TARGETS", "Country", C1, "country:UA", {}),
    ("Campaign", "TARGETS", "Sector", C1, "sector:government", {}),
    ("Indicator", "INDICATES", "Campaign", "domain:mail-gov-ua.example", C1, {"confidence": 85}),
    ("Indicator", "INDICATES", "Campaign", "domain:owa-mfa.example", C1, {}),
    ("Indicator", "INDICATES", "Campaign", "domain:old-mail.example", C2, {}),
    ("Indicator", "INDICATES", "Campaign", "domain:old-live.example", C2, {}),
    ("Indicator", "INDICATES", "Campaign", "domain:dreamjob-careers.example", C4, {}),
    ("Indicator", "INDICATES", "Campaign", "ipv4:198.51.100.7", C1, {}),
    ("Indicator", "INDICATES", "Campaign", "ipv4:198.51.100.7", C3, {}),
    ("Indicator", "INDICATES", "Campaign", "ipv4:198.51.100.7", C4, {}),
    ("Indicator", "INDICATES", "Campaign", "ipv4:203.0.113.99", C1, {"tlp": "red", "tlp_level": 4}),
    ("Indicator", "INDICATES", "Campaign", "sha256:" + "ab" * 32, C1, {}),
    ("Indicator", "RESOLVES_TO", "Indicator", "domain:mail-gov-ua.example", "ipv4:203.0.113.45",
     {"first_seen": "2024-01-05T00:00:00.000Z", "last_seen": "2024-04-01T00:00:00.000Z"}),
    ("Indicator", "RESOLVES_TO", "Indicator", "domain:owa-mfa.example", "ipv4:104.16.1.1", {}),
    ("Indicator", "RESOLVES_TO", "Indicator", "domain:old-mail.example", "ipv4:192.0.2.10", {}),
    ("Indicator", "HOSTED_ON", "Infrastructure", "ipv4:203.0.113.45", "asn:AS64512", {}),
    ("Infrastructure", "HOSTED_ON", "Infrastructure", "asn:AS64512", "hosting_provider:ironvault", {}),
    ("Indicator", "HOSTED_ON", "Infrastructure", "ipv4:104.16.1.1", "asn:AS13335", {}),
    ("Infrastructure", "HOSTED_ON", "Infrastructure", "asn:AS13335", "hosting_provider:cloudflare", {}),
    ("Indicator", "HOSTED_ON", "Infrastructure", "ipv4:198.51.100.7", "asn:AS14061", {}),
    ("Indicator", "HOSTED_ON", "Infrastructure", "ipv4:203.0.113.99", "asn:AS14061", {}),
    ("Infrastructure", "HOSTED_ON", "Infrastructure", "asn:AS14061", "hosting_provider:digitalocean", {}),
    ("Infrastructure", "CONSISTS_OF", "Indicator", "infrastructure--5e1a0000-0000-4000-8000-000000000001",
     "ipv4:192.0.2.10", {}),
    ("Indicator", "REGISTERED_WITH", "Infrastructure", "domain:mail-gov-ua.example", "registrar:namecheap", {}),
    ("Indicator", "REGISTERED_WITH", "Infrastructure", "domain:old-mail.example", "registrar:namecheap", {}),
    ("Indicator", "REGISTERED_WITH", "Infrastructure", "domain:old-live.example", "registrar:namecheap", {}),
    ("Indicator", "REGISTERED_WITH", "Infrastructure", "domain:owa-mfa.example", "registrar:njalla", {}),
]  # fmt: skip


def build(store: Any) -> None:
    """Write NODES and EDGES into ``store`` with batched, parameterised Cypher."""
    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for label, props in NODES:
        by_label[label].append(props)
    for label, rows in by_label.items():
        store.write_batches(
            f"UNWIND $rows AS row CREATE (n:{quote_label(label)}) SET n = row", rows
        )
    by_type: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for src_label, rel, dst_label, src, dst, props in EDGES:
        by_type[(src_label, rel, dst_label)].append({"s": src, "d": dst, "p": props})
    for (src_label, rel, dst_label), rows in by_type.items():
        store.write_batches(
            f"UNWIND $rows AS row MATCH (a:{quote_label(src_label)} {{id: row.s}}) "
            f"MATCH (b:{quote_label(dst_label)} {{id: row.d}}) "
            f"CREATE (a)-[r:{quote_rel(rel)}]->(b) SET r = row.p",
            rows,
        )
