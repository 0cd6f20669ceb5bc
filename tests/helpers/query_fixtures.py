"""A small, hand-made graph in the shape of ``cypher/README.md`` for the query-library tests.

Real ATT&CK names (APT28, Sandworm Team, T1059.001, Mimikatz, Cobalt Strike) with a tiny invented
indicator layer built so that every research query has something to find: shared hosting, a hub
IP, a reused certificate, an alias collision, model hypotheses that disagree, an orphan and a stale
indicator. Objects whose name or value contains ``secret`` are marked TLP:RED (level 4), so a test
can check that nothing of them leaks below that clearance; one red ``ATTRIBUTED_TO`` joins two clear
objects (Grid Strike -> APT28), to check that relationships' markings are honoured too.
"""

from __future__ import annotations

from typing import Any

from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, visible
from tests.helpers.graphs import FixtureGraph, Node, Rel, node, rel

SECRET = "secret"
SRC = ["test-fixture"]


def _n(label: str, id_: str, **props: Any) -> Node:
    return node(label, id_, sources=SRC, **props)


def _ind(kind: str, value: str, **props: Any) -> Node:
    return _n("Indicator", f"{kind}:{value}", kind=kind, value=value, **props)


def _infra(kind: str, name: str, **props: Any) -> Node:
    return _n("Infrastructure", f"{kind}:{name}", kind=kind, name=name, value=name, **props)


def _rel(src: str, type_: str, dst: str, **props: Any) -> Rel:
    return rel(src, type_, dst, sources=SRC, **props)


def _seen(first: str, last: str) -> dict[str, Any]:
    return {"first_seen": first, "last_seen": last}


def _guess(score: float, rank: int) -> dict[str, Any]:
    """A model hypothesis's properties (a ``PREDICTED_ACTOR`` relationship)."""
    return {
        "score": score,
        "rank": rank,
        "model_version": "test-1",
        "created": "2024-01-01T00:00:00Z",
    }


NODES: list[Node] = [
    _n(
        "ThreatActor",
        "intrusion-set--apt28",
        name="APT28",
        external_id="G0007",
        country="RU",
        country_source="derived:alias",
        aliases=["Fancy Bear", "Sofacy", "Forest Blizzard"],
    ),
    _n(
        "ThreatActor",
        "intrusion-set--sandworm",
        name="Sandworm Team",
        external_id="G0034",
        country="RU",
        country_source="stix",
        aliases=["ELECTRUM", "Voodoo Bear"],
    ),
    _n(
        "ThreatActor",
        "intrusion-set--apt41",
        name="APT41",
        external_id="G0096",
        country="CN",
        country_source="derived:description",
        aliases=["Wicked Panda"],
    ),
    _n(
        "ThreatActor",
        "intrusion-set--mustang",
        name="Mustang Panda",
        external_id="G0129",
        country="CN",
        country_source="derived:description",
        aliases=["TA416"],
    ),
    _n(
        "ThreatActor",
        "intrusion-set--fin7",
        name="FIN7",
        external_id="G0046",
        aliases=["Carbon Spider"],
        motivation="financial",
    ),
    _n(
        "ThreatActor",
        "intrusion-set--sofacy-dup",
        name="Sofacy Group (vendor X)",
        aliases=["Sofacy"],
        country="RU",
    ),
    _n(
        "ThreatActor",
        "intrusion-set--secret-actor",
        name="Secret Red Actor",
        country="RU",
        aliases=["Fancy Bear"],
        tlp=TLP.RED,
    ),
    _n("Country", "country:RU", code="RU", name="Russia"),
    _n("Country", "country:CN", code="CN", name="China"),
    _n("Sector", "sector:energy", name="Energy"),
    _n("Sector", "sector:government", name="Government"),
    _n(
        "Technique",
        "attack-pattern--t1059",
        external_id="T1059",
        name="Command and Scripting Interpreter",
        tactics=["execution"],
        is_subtechnique=False,
    ),
    _n(
        "Technique",
        "attack-pattern--t1059-001",
        external_id="T1059.001",
        name="PowerShell",
        tactics=["execution"],
        is_subtechnique=True,
        parent_external_id="T1059",
    ),
    _n(
        "Technique",
        "attack-pattern--t1566-001",
        external_id="T1566.001",
        name="Spearphishing Attachment",
        tactics=["initial-access"],
        is_subtechnique=True,
        parent_external_id="T1566",
    ),
    _n(
        "Technique",
        "attack-pattern--t1071-001",
        external_id="T1071.001",
        name="Web Protocols",
        tactics=["command-and-control"],
        is_subtechnique=True,
        parent_external_id="T1071",
    ),
    _n(
        "Technique",
        "attack-pattern--t1105",
        external_id="T1105",
        name="Ingress Tool Transfer",
        tactics=["command-and-control"],
    ),
    _n(
        "Technique",
        "attack-pattern--t1561-002",
        external_id="T1561.002",
        name="Disk Structure Wipe",
        tactics=["impact"],
        is_subtechnique=True,
    ),
    _n("Malware", "malware--xagent", name="X-Agent", external_id="S0161"),
    _n("Malware", "malware--cobaltstrike", name="Cobalt Strike", external_id="S0154"),
    _n("Malware", "malware--plugx", name="PlugX", external_id="S0013"),
    _n("Malware", "malware--industroyer", name="Industroyer", external_id="S0604"),
    _n("Tool", "tool--mimikatz", name="Mimikatz", external_id="S0002"),
    _n("Tool", "tool--psexec", name="PsExec", external_id="S0029"),
    _n(
        "Campaign",
        "campaign--apt28-2021",
        name="Operation Fancy Mail",
        **_seen("2021-03-01T00:00:00Z", "2021-09-30T00:00:00Z"),
        first_seen_epoch=1614556800,
        last_seen_epoch=1632960000,
    ),
    _n(
        "Campaign",
        "campaign--sandworm-2022",
        name="Grid Strike",
        **_seen("2022-02-01T00:00:00Z", "2022-04-30T00:00:00Z"),
        first_seen_epoch=1643673600,
        last_seen_epoch=1651276800,
    ),
    _n(
        "Campaign",
        "campaign--apt41-2020",
        name="Supply Chain 2020",
        **_seen("2020-01-10T00:00:00Z", "2020-06-01T00:00:00Z"),
        first_seen_epoch=1578614400,
        last_seen_epoch=1590969600,
    ),
    _n(
        "Campaign",
        "campaign--unattributed-1",
        name="Unknown Cluster 1",
        **_seen("2023-05-01T00:00:00Z", "2023-06-01T00:00:00Z"),
        first_seen_epoch=1682899200,
        last_seen_epoch=1685577600,
    ),
    _n(
        "Campaign",
        "campaign--secret",
        name="Secret Operation",
        **_seen("2021-05-01T00:00:00Z", "2021-06-01T00:00:00Z"),
        first_seen_epoch=1619827200,
        last_seen_epoch=1622505600,
        tlp=TLP.RED,
    ),
    _ind(
        "domain",
        "mail-update.example",
        confidence=40,
        **_seen("2021-03-02T00:00:00Z", "2021-09-01T00:00:00Z"),
    ),
    _ind(
        "domain",
        "login-portal.example",
        confidence=80,
        **_seen("2021-04-01T00:00:00Z", "2024-01-01T00:00:00Z"),
    ),
    _ind("domain", "grid-status.example", **_seen("2022-02-01T00:00:00Z", "2022-04-01T00:00:00Z")),
    _ind("domain", "cdn-assets.example", **_seen("2020-01-15T00:00:00Z", "2020-05-01T00:00:00Z")),
    _ind("domain", "panda-news.example", **_seen("2023-05-02T00:00:00Z", "2023-05-30T00:00:00Z")),
    _ind(
        "domain",
        "secret-c2.example",
        tlp=TLP.RED,
        confidence=30,
        **_seen("2021-05-01T00:00:00Z", "2021-06-01T00:00:00Z"),
    ),
    _ind("ipv4", "203.0.113.10", **_seen("2021-03-02T00:00:00Z", "2021-09-01T00:00:00Z")),
    _ind("ipv4", "203.0.113.20", **_seen("2022-02-01T00:00:00Z", "2022-04-01T00:00:00Z")),
    _ind("ipv4", "198.51.100.1", **_seen("2020-01-01T00:00:00Z", "2023-06-01T00:00:00Z")),
    _ind("ipv4", "192.0.2.99", **_seen("2014-01-01T00:00:00Z", "2015-01-01T00:00:00Z")),
    _ind("sha256", "a" * 64, **_seen("2021-03-05T00:00:00Z", "2021-03-05T00:00:00Z")),
    _ind("x509", "ab" * 20),
    _infra("asn", "AS64500", asn=64500),
    _infra("hosting_provider", "Evil Hosting Ltd"),
    _infra("hosting_provider", "BigCloud"),
    _infra("asn", "AS64501", asn=64501),
    _infra("registrar", "namecheap"),
    _infra("registrar", "regru"),
    _infra("name_server", "ns1.sharedns.example"),
    node("Report", "report--unsourced", name="Hand-written note"),  # no provenance on purpose
]

RELS: list[Rel] = [
    _rel("intrusion-set--apt28", "ORIGINATES_FROM", "country:RU"),
    _rel("intrusion-set--sandworm", "ORIGINATES_FROM", "country:RU"),
    _rel("intrusion-set--apt41", "ORIGINATES_FROM", "country:CN"),
    _rel("intrusion-set--sandworm", "TARGETS", "sector:energy"),
    _rel("campaign--apt28-2021", "TARGETS", "sector:government"),
    _rel("attack-pattern--t1059-001", "SUBTECHNIQUE_OF", "attack-pattern--t1059"),
    # what the actors use (ATT&CK-style)
    _rel("intrusion-set--apt28", "USES", "malware--xagent"),
    _rel("intrusion-set--apt28", "USES", "tool--mimikatz"),
    _rel("intrusion-set--apt28", "USES", "attack-pattern--t1566-001"),
    _rel("intrusion-set--apt28", "USES", "attack-pattern--t1059-001"),
    _rel("intrusion-set--apt28", "USES", "attack-pattern--t1105"),
    _rel("intrusion-set--sandworm", "USES", "malware--industroyer"),
    _rel("intrusion-set--sandworm", "USES", "tool--mimikatz"),
    _rel("intrusion-set--sandworm", "USES", "attack-pattern--t1561-002"),
    _rel("intrusion-set--sandworm", "USES", "attack-pattern--t1059-001"),
    _rel("intrusion-set--sandworm", "USES", "attack-pattern--t1105"),
    _rel("intrusion-set--apt41", "USES", "malware--cobaltstrike"),
    _rel("intrusion-set--apt41", "USES", "malware--plugx"),
    _rel("intrusion-set--apt41", "USES", "tool--mimikatz"),
    _rel("intrusion-set--apt41", "USES", "tool--psexec"),
    _rel("intrusion-set--apt41", "USES", "attack-pattern--t1105"),
    _rel("intrusion-set--apt41", "USES", "attack-pattern--t1071-001"),
    _rel("intrusion-set--mustang", "USES", "malware--plugx"),
    _rel("intrusion-set--mustang", "USES", "tool--psexec"),
    _rel("intrusion-set--mustang", "USES", "attack-pattern--t1071-001"),
    _rel("intrusion-set--fin7", "USES", "malware--cobaltstrike"),
    _rel("intrusion-set--fin7", "USES", "attack-pattern--t1059-001"),
    _rel("intrusion-set--secret-actor", "USES", "malware--xagent"),
    _rel("malware--cobaltstrike", "USES", "attack-pattern--t1059-001"),
    _rel("campaign--apt28-2021", "USES", "malware--cobaltstrike"),
    # attributions, and the model's hypotheses
    _rel("campaign--apt28-2021", "ATTRIBUTED_TO", "intrusion-set--apt28", confidence=85),
    _rel("campaign--sandworm-2022", "ATTRIBUTED_TO", "intrusion-set--sandworm", confidence=90),
    _rel("campaign--apt41-2020", "ATTRIBUTED_TO", "intrusion-set--apt41", confidence=70),
    _rel(
        "campaign--secret",
        "ATTRIBUTED_TO",
        "intrusion-set--apt28",
        confidence=60,
        tlp_level=TLP.RED,
    ),
    # a red claim between two clear objects: only the relationship's marking hides it
    _rel(
        "campaign--sandworm-2022",
        "ATTRIBUTED_TO",
        "intrusion-set--apt28",
        confidence=20,
        tlp_level=TLP.RED,
    ),
    _rel("campaign--apt41-2020", "PREDICTED_ACTOR", "intrusion-set--mustang", **_guess(0.55, 1)),
    _rel("campaign--apt41-2020", "PREDICTED_ACTOR", "intrusion-set--apt41", **_guess(0.35, 2)),
    _rel("campaign--unattributed-1", "PREDICTED_ACTOR", "intrusion-set--mustang", **_guess(0.7, 1)),
    _rel("campaign--unattributed-1", "PREDICTED_ACTOR", "intrusion-set--apt41", **_guess(0.2, 2)),
    _rel("campaign--unattributed-1", "PREDICTED_ACTOR", "intrusion-set--apt28", **_guess(0.1, 3)),
    # indicators -> campaigns / malware
    _rel("domain:mail-update.example", "INDICATES", "campaign--apt28-2021"),
    _rel("domain:login-portal.example", "INDICATES", "campaign--apt28-2021"),
    _rel("domain:grid-status.example", "INDICATES", "campaign--sandworm-2022"),
    _rel("domain:cdn-assets.example", "INDICATES", "campaign--apt41-2020"),
    _rel("domain:panda-news.example", "INDICATES", "campaign--unattributed-1"),
    _rel("domain:secret-c2.example", "INDICATES", "campaign--secret"),
    _rel("domain:secret-c2.example", "INDICATES", "intrusion-set--secret-actor"),
    _rel("sha256:" + "a" * 64, "INDICATES", "malware--xagent"),
    _rel("sha256:" + "a" * 64, "INDICATES", "campaign--apt28-2021"),
    # DNS, hosting, registration, certificates
    _rel("domain:mail-update.example", "RESOLVES_TO", "ipv4:203.0.113.10"),
    _rel("domain:login-portal.example", "RESOLVES_TO", "ipv4:203.0.113.10"),
    _rel("domain:secret-c2.example", "RESOLVES_TO", "ipv4:203.0.113.10"),
    _rel("domain:grid-status.example", "RESOLVES_TO", "ipv4:203.0.113.20"),
    _rel("domain:login-portal.example", "RESOLVES_TO", "ipv4:198.51.100.1"),
    _rel("domain:grid-status.example", "RESOLVES_TO", "ipv4:198.51.100.1"),
    _rel("domain:cdn-assets.example", "RESOLVES_TO", "ipv4:198.51.100.1"),
    _rel("domain:panda-news.example", "RESOLVES_TO", "ipv4:198.51.100.1"),
    _rel("ipv4:203.0.113.10", "HOSTED_ON", "asn:AS64500"),
    _rel("ipv4:203.0.113.20", "HOSTED_ON", "asn:AS64500"),
    _rel("asn:AS64500", "HOSTED_ON", "hosting_provider:Evil Hosting Ltd"),
    _rel("ipv4:198.51.100.1", "HOSTED_ON", "asn:AS64501"),
    _rel("asn:AS64501", "HOSTED_ON", "hosting_provider:BigCloud"),
    _rel("domain:mail-update.example", "REGISTERED_WITH", "registrar:namecheap"),
    _rel("domain:grid-status.example", "REGISTERED_WITH", "registrar:namecheap"),
    _rel("domain:login-portal.example", "REGISTERED_WITH", "registrar:regru"),
    _rel("domain:mail-update.example", "USES_NAMESERVER", "name_server:ns1.sharedns.example"),
    _rel("domain:grid-status.example", "USES_NAMESERVER", "name_server:ns1.sharedns.example"),
    _rel("ipv4:203.0.113.10", "PRESENTS_CERT", "x509:" + "ab" * 20),
    _rel("ipv4:203.0.113.20", "PRESENTS_CERT", "x509:" + "ab" * 20),
]

QUERY_WORLD = FixtureGraph(NODES, RELS)

# Parameters that find something in this graph, per query (the YAML examples target the demo data).
FIXTURE_PARAMS: dict[str, dict[str, Any]] = {
    "indicator_to_actors_with_path": {"value": "203.0.113.10"},
    "indicator_to_campaigns_and_malware": {"value": "mail-update.example"},
    "hash_to_malware_and_actors": {"hash": "A" * 64},
    "domain_resolutions_and_hosting": {"domain": "login-portal.example"},
    "ip_reverse_resolution": {"ip": "203.0.113.10"},
    "campaign_indicators": {"campaign": "Operation Fancy Mail"},
    "unattributed_campaigns_sharing": {"campaign": "Operation Fancy Mail"},
    "actor_activity_in_window": {
        "actor": "fancy bear",
        "since": "2021-01-01",
        "until": "2021-12-31",
    },
    "country_activity_in_window": {"country": "ru", "since": "2021-01-01", "until": "2022-12-31"},
    "campaigns_per_year": {"country": ""},
    "campaigns_active_between_epochs": {"since_epoch": 1609459200, "until_epoch": 1672531200},
    "stale_indicators": {"older_than": "2016-01-01"},
    "actor_domains_by_registrar_and_host": {"actor": "APT28", "since": ""},
    "actor_ips_by_hosting_provider": {"actor": "APT28", "since": ""},
    "hypotheses_for_actor": {"actor": "Mustang Panda"},
    "who_uses_technique": {"technique": "T1059"},
    "actors_similar_to_actor": {"actor": "APT41", "min_shared": 2},
    "actor_pairs_by_shared_rare_techniques": {"max_actors": 2},
    "hub_ips_by_domain_fan_out": {"min_domains": 3},
    "low_confidence_predictions": {"max_score": 0.6},
}


def suggest_examples(store: GraphStore, actor: str = "APT28") -> dict[str, Any]:
    """Example values that exist in ``store`` (the demo data), for when a demo-world change breaks
    the examples of the query files: one of ``actor``'s campaigns with its domain, IP, URL and hash.
    """
    q = store.query
    green = int(TLP.GREEN)  # the examples are published: nothing above green
    campaign = q(
        "MATCH (c:Campaign)-[:ATTRIBUTED_TO]->(:ThreatActor {name: $actor}) "
        f"WHERE {visible('c')} "
        "WITH c, size([(i:Indicator)-[:INDICATES]->(c) | i]) AS n WHERE n > 0 "
        "RETURN c.name AS name, c.first_seen AS first_seen ORDER BY n DESC, name LIMIT 1",
        {"actor": actor, "max_tlp": green},
    )
    if not campaign:
        return {}
    name = campaign[0]["name"]
    resolved = q(
        "MATCH (d:Indicator)-[:INDICATES]->(:Campaign {name: $c}) "
        f"WHERE d.kind = 'domain' AND {visible('d')} "
        f"MATCH (d)-[:RESOLVES_TO]->(ip:Indicator) WHERE {visible('ip')} "
        "RETURN d.value AS domain, ip.value AS ip ORDER BY domain, ip LIMIT 1",
        {"c": name, "max_tlp": green},
    )
    by_kind = {
        r["kind"]: r["value"]
        for r in q(
            "MATCH (i:Indicator)-[:INDICATES]->(:Campaign {name: $c}) "
            f"WHERE {visible('i')} "
            "RETURN i.kind AS kind, min(i.value) AS value",
            {"c": name, "max_tlp": green},
        )
    }
    year = int(str(campaign[0]["first_seen"])[:4]) if campaign[0]["first_seen"] else None
    return {
        "campaign": name,
        **(resolved[0] if resolved else {}),
        "url": by_kind.get("url"),
        "sha256": by_kind.get("sha256"),
        "window": (f"{year}-01-01", f"{year + 1}-12-31") if year else None,
    }
