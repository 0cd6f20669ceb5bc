"""A small, hand-made graph for the share-and-brief tests (briefing, takedown).

Three real actor names with invented activity: APT28 (two campaigns, one old and sinkholed), APT29
and Lazarus Group; an unattributed campaign the model links to APT28. Hosting covers the cases a
takedown must tell apart: a bulletproof hoster (keep), a CDN front (exclude the address, keep the
domain), a sinkhole (exclude), an address shared by three actors (exclude), and one red-marked
address that a cleared-for-amber reader must never see.
"""

from __future__ import annotations

from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import FixtureGraph, node, rel

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
SINKHOLE = "infrastructure--5e1a0000-0000-4000-8000-000000000001"
SHA = "ab" * 32
HYPOTHESIS = {"model_version": "m-2026-01", "created": "2026-01-02T00:00:00.000Z"}

NODES = [
    node(
        "ThreatActor",
        A28,
        name="APT28",
        name_lc="apt28",
        external_id="G0007",
        aliases=["Fancy Bear", "Forest Blizzard", "STRONTIUM", "Sofacy"],
        aliases_lc=["apt28", "fancy bear", "forest blizzard", "strontium", "sofacy"],
        country="RU",
        country_source="derived:alias",
        tlp=TLP.GREEN,
        sources=["mitre-attack"],
        description=(
            "APT28 is a threat group attributed to Russia's GRU. It has been active since 2004."
        ),
    ),
    node(
        "ThreatActor",
        A29,
        name="APT29",
        name_lc="apt29",
        aliases=["Midnight Blizzard", "NOBELIUM"],
        aliases_lc=["apt29", "midnight blizzard", "nobelium"],
        country="RU",
        country_source="stix",
    ),
    node(
        "ThreatActor",
        LAZ,
        name="Lazarus Group",
        name_lc="lazarus group",
        aliases=["Diamond Sleet"],
        aliases_lc=["lazarus group", "diamond sleet"],
        country="KP",
        country_source="stix",
    ),
    node(
        "Campaign",
        C1,
        name="Operation Frozen Inbox",
        first_seen="2024-01-05T00:00:00.000Z",
        last_seen="2024-03-30T00:00:00.000Z",
        tlp=TLP.AMBER,
    ),
    node(
        "Campaign",
        C2,
        name="Operation Old Mail",
        first_seen="2019-02-01T00:00:00.000Z",
        last_seen="2019-06-30T00:00:00.000Z",
    ),
    node(
        "Campaign",
        C3,
        name="Operation Cloud Ladder",
        first_seen="2024-05-01T00:00:00.000Z",
        last_seen="2024-07-01T00:00:00.000Z",
    ),
    node(
        "Campaign",
        C4,
        name="Operation Dream Job 2025",
        first_seen="2025-01-10T00:00:00.000Z",
        last_seen="2025-02-10T00:00:00.000Z",
    ),
    node("Campaign", C5, name="Activity cluster 2025-17", first_seen="2025-03-01T00:00:00.000Z"),
    node("Malware", XAGENT, name="X-Agent", name_lc="x-agent", external_id="S0161"),
    node("Tool", MIMIKATZ, name="Mimikatz", name_lc="mimikatz", external_id="S0002"),
    node(
        "Technique",
        T_SPEAR,
        name="Spearphishing Link",
        external_id="T1566.002",
        tactics=["initial-access"],
    ),
    node(
        "Technique",
        T_CMD,
        name="Command and Scripting Interpreter",
        external_id="T1059",
        tactics=["execution"],
    ),
    node(
        "Technique",
        T_WEB,
        name="Web Protocols",
        external_id="T1071.001",
        tactics=["command-and-control"],
    ),
    node("Country", "country:RU", code="RU", name="Russia"),
    node("Country", "country:KP", code="KP", name="North Korea"),
    node("Country", "country:UA", code="UA", name="Ukraine"),
    node("Sector", "sector:government", name="government"),
    node(
        "Infrastructure",
        "asn:AS64512",
        kind="asn",
        value="AS64512",
        asn=64512,
        name="IRONVAULT-AS",
    ),
    node(
        "Infrastructure",
        "hosting_provider:ironvault",
        kind="bulletproof_hoster",
        name="IronVault Hosting Ltd",
    ),
    node(
        "Infrastructure",
        "asn:AS13335",
        kind="asn",
        value="AS13335",
        asn=13335,
        name="CLOUDFLARENET",
    ),
    node("Infrastructure", "hosting_provider:cloudflare", kind="cdn", name="Cloudflare, Inc."),
    node(
        "Infrastructure",
        "asn:AS14061",
        kind="asn",
        value="AS14061",
        asn=14061,
        name="DIGITALOCEAN-ASN",
    ),
    node(
        "Infrastructure",
        "hosting_provider:digitalocean",
        kind="hosting_provider",
        name="DigitalOcean",
    ),
    node("Infrastructure", SINKHOLE, kind="sinkhole", name="Research sinkhole Alpha"),
    node("Infrastructure", "registrar:namecheap", kind="registrar", name="NameCheap, Inc."),
    node("Infrastructure", "registrar:njalla", kind="registrar", name="Njalla"),
    node(
        "Indicator",
        "domain:mail-gov-ua.example",
        kind="domain",
        value="mail-gov-ua.example",
        valid_from="2024-01-05T00:00:00.000Z",
        confidence=80,
        tlp=TLP.AMBER,
        stix_ids=["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"],
    ),
    node(
        "Indicator",
        "domain:owa-mfa.example",
        kind="domain",
        value="owa-mfa.example",
        valid_from="2024-02-01T00:00:00.000Z",
        confidence=70,
    ),
    node(
        "Indicator",
        "domain:old-mail.example",
        kind="domain",
        value="old-mail.example",
        valid_from="2019-02-01T00:00:00.000Z",
    ),
    node(
        "Indicator",
        "domain:old-live.example",
        kind="domain",
        value="old-live.example",
        valid_from="2019-03-01T00:00:00.000Z",
    ),
    node(
        "Indicator",
        "domain:dreamjob-careers.example",
        kind="domain",
        value="dreamjob-careers.example",
        valid_from="2025-01-10T00:00:00.000Z",
    ),
    node("Indicator", "ipv4:203.0.113.45", kind="ipv4", value="203.0.113.45"),
    node("Indicator", "ipv4:104.16.1.1", kind="ipv4", value="104.16.1.1"),
    node("Indicator", "ipv4:192.0.2.10", kind="ipv4", value="192.0.2.10"),
    node(
        "Indicator",
        "ipv4:198.51.100.7",
        kind="ipv4",
        value="198.51.100.7",
        valid_from="2024-01-01T00:00:00.000Z",
    ),
    node(
        "Indicator",
        "ipv4:203.0.113.99",
        kind="ipv4",
        value="203.0.113.99",
        tlp=TLP.RED,
        valid_from="2024-03-01T00:00:00.000Z",
    ),
    node(
        "Indicator",
        f"sha256:{SHA}",
        kind="sha256",
        value=SHA,
        valid_from="2024-03-10T00:00:00.000Z",
    ),
]

RELS = [
    rel(C1, "ATTRIBUTED_TO", A28, confidence=90),
    rel(C2, "ATTRIBUTED_TO", A28, confidence=60),
    rel(C3, "ATTRIBUTED_TO", A29),
    rel(C4, "ATTRIBUTED_TO", LAZ),
    rel(C5, "PREDICTED_ACTOR", A28, score=0.81, rank=1, **HYPOTHESIS),
    rel(C5, "PREDICTED_ACTOR", A29, score=0.09, rank=2, **HYPOTHESIS),
    rel(A28, "ORIGINATES_FROM", "country:RU", country_source="derived:alias"),
    rel(LAZ, "ORIGINATES_FROM", "country:KP"),
    rel(A28, "USES", XAGENT),
    rel(A28, "USES", MIMIKATZ),
    rel(A29, "USES", MIMIKATZ),
    rel(LAZ, "USES", MIMIKATZ),
    rel(A28, "USES", T_CMD),
    rel(A29, "USES", T_CMD),
    rel(LAZ, "USES", T_CMD),
    rel(A29, "USES", T_WEB),
    rel(C1, "USES", T_SPEAR),
    rel(C1, "USES", T_WEB),
    rel(C1, "TARGETS", "country:UA"),
    rel(C1, "TARGETS", "sector:government"),
    rel("domain:mail-gov-ua.example", "INDICATES", C1, confidence=85),
    rel("domain:owa-mfa.example", "INDICATES", C1),
    rel("domain:old-mail.example", "INDICATES", C2),
    rel("domain:old-live.example", "INDICATES", C2),
    rel("domain:dreamjob-careers.example", "INDICATES", C4),
    rel("ipv4:198.51.100.7", "INDICATES", C1),
    rel("ipv4:198.51.100.7", "INDICATES", C3),
    rel("ipv4:198.51.100.7", "INDICATES", C4),
    rel("ipv4:203.0.113.99", "INDICATES", C1, tlp=TLP.RED),
    rel(f"sha256:{SHA}", "INDICATES", C1),
    rel(
        "domain:mail-gov-ua.example",
        "RESOLVES_TO",
        "ipv4:203.0.113.45",
        first_seen="2024-01-05T00:00:00.000Z",
        last_seen="2024-04-01T00:00:00.000Z",
    ),
    rel("domain:owa-mfa.example", "RESOLVES_TO", "ipv4:104.16.1.1"),
    rel("domain:old-mail.example", "RESOLVES_TO", "ipv4:192.0.2.10"),
    rel("ipv4:203.0.113.45", "HOSTED_ON", "asn:AS64512"),
    rel("asn:AS64512", "HOSTED_ON", "hosting_provider:ironvault"),
    rel("ipv4:104.16.1.1", "HOSTED_ON", "asn:AS13335"),
    rel("asn:AS13335", "HOSTED_ON", "hosting_provider:cloudflare"),
    rel("ipv4:198.51.100.7", "HOSTED_ON", "asn:AS14061"),
    rel("ipv4:203.0.113.99", "HOSTED_ON", "asn:AS14061"),
    rel("asn:AS14061", "HOSTED_ON", "hosting_provider:digitalocean"),
    rel(SINKHOLE, "CONSISTS_OF", "ipv4:192.0.2.10"),
    rel("domain:mail-gov-ua.example", "REGISTERED_WITH", "registrar:namecheap"),
    rel("domain:old-mail.example", "REGISTERED_WITH", "registrar:namecheap"),
    rel("domain:old-live.example", "REGISTERED_WITH", "registrar:namecheap"),
    rel("domain:owa-mfa.example", "REGISTERED_WITH", "registrar:njalla"),
]

SHARE_WORLD = FixtureGraph(NODES, RELS)
