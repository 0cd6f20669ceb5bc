"""What real producers send, against the real embedded store (issue 21, items 6-8).

Revoking a stored indicator marks it revoked; a sighting sent twice is counted once; an
object whose timestamps contradict each other is rejected alone; OpenCTI's country locations
and OASIS apt1's individuals land as the graph model says.
"""

from __future__ import annotations

import json
from typing import Any

from actorgraph.graph.ingest import ingest_object, ingest_paths
from actorgraph.graph.tlp import TLP
from tests.helpers.paths import FIXTURES
from tests.helpers.stix import T0, bundle, sdo

REAL = FIXTURES / "real"
T1 = "2024-03-01T00:00:00.000Z"
IOC = "ipv4:198.51.100.7"


def indicator(**props: Any) -> dict[str, Any]:
    return sdo(
        "indicator",
        1,
        pattern="[ipv4-addr:value = '198.51.100.7']",
        pattern_type="stix",
        valid_from=T0,
        **props,
    )


def sighting(n: int, count: int) -> dict[str, Any]:
    return sdo("sighting", n, sighting_of_ref=indicator()["id"], count=count, last_seen=T1)


def node(store, node_id: str) -> dict[str, Any]:
    rows = store.query("MATCH (n {id: $id}) RETURN properties(n) AS p", {"id": node_id})
    assert len(rows) == 1, rows
    return rows[0]["p"]


def test_revoking_a_stored_indicator_marks_it_revoked_and_training_drops_it(store) -> None:
    from actorgraph.gnn.dataset import export_graph

    actor = sdo("intrusion-set", 8, name="Fancy Example")
    indicates = sdo(
        "relationship",
        9,
        relationship_type="indicates",
        source_ref=indicator()["id"],
        target_ref=actor["id"],
    )
    ingest_object(store, bundle(indicator(), actor, indicates), "feed", max_tlp=TLP.RED)
    assert not node(store, IOC).get("revoked")
    assert IOC in export_graph(store, max_tlp=TLP.RED).props
    revoked = indicator(modified=T1, revoked=True)
    report = ingest_object(store, bundle(revoked), "feed", max_tlp=TLP.RED)
    assert node(store, IOC)["revoked"] is True
    assert report.objects == {"in": 1, "landed": 1, "merged": 0, "pending": 0, "rejected": 0}
    snapshot = export_graph(store, max_tlp=TLP.RED)
    assert IOC not in snapshot.props and actor["id"] in snapshot.props


def test_revoking_an_unknown_object_is_rejected_as_revoked(store) -> None:
    report = ingest_object(store, bundle(indicator(revoked=True)), "feed", max_tlp=TLP.RED)
    assert report.objects["rejected"] == 1
    assert report.objects_rejected[0]["reason"] == "revoked"
    assert store.query("MATCH (n:Indicator) RETURN n.id AS id") == []


def test_a_sighting_sent_twice_is_counted_once(store) -> None:
    first = bundle(indicator(), sighting(2, 3))
    ingest_object(store, first, "feed", max_tlp=TLP.RED)
    ingest_object(store, first, "feed", max_tlp=TLP.RED)  # the same sighting id again
    assert node(store, IOC)["sighting_counts"][0] == 3
    # A later, different sighting adds to the stored count.
    ingest_object(store, bundle(sighting(3, 2)), "feed", max_tlp=TLP.RED)
    assert node(store, IOC)["sighting_counts"][0] == 5
    ingest_object(store, bundle(sighting(3, 2)), "feed", max_tlp=TLP.RED)
    assert node(store, IOC)["sighting_counts"][0] == 5


def test_modified_before_created_is_rejected_alone(store) -> None:
    actor = sdo("intrusion-set", 5, name="Early Bird", modified="2023-01-01T00:00:00.000Z")
    report = ingest_object(store, bundle(indicator(), actor), "feed", max_tlp=TLP.RED)
    assert report.objects["rejected"] == 1 and report.objects["landed"] == 1
    (entry,) = report.objects_rejected
    assert entry["object_id"] == actor["id"]
    assert (
        entry["reason"].startswith("modified (2023-01-01") and "before created" in entry["reason"]
    )
    assert store.query("MATCH (a:ThreatActor) RETURN a.id AS id") == []


def test_opencti_country_locations_land(store) -> None:
    (report,) = ingest_paths(store, [REAL / "opencti-geography"], max_tlp=TLP.RED)
    codes = store.query("MATCH (c:Country) RETURN c.code AS code ORDER BY code")
    # alpha-3 DZA and FRA, and Germany by its name alone; Kosovo's XKX is no ISO code.
    assert [r["code"] for r in codes] == ["DE", "DZ", "FR"]
    reasons = {e["object_id"][-2:]: e["reason"] for e in report.objects_rejected}
    assert reasons["01"] == reasons["05"] == "location without a known country"


def test_apt1_individuals_are_no_sector(store) -> None:
    (report,) = ingest_paths(store, [REAL / "oasis-stix21" / "apt1.json"], max_tlp=TLP.RED)
    assert store.query("MATCH (s:Sector) RETURN s.id AS id") == []
    reasons = {e["object_id"]: e["reason"] for e in report.objects_rejected}
    wang_dong = "identity--e88ab115-7768-4630-baa3-3d49a7d946ea"
    attributed = "relationship--a20b8626-a15e-41f0-bcb1-c05321e126f0"
    assert reasons[wang_dong] == "identity of an individual: not a sector"
    assert (
        reasons[attributed] == "relationship attributed-to: identity of an individual: not a sector"
    )
    assert report.skipped["identity of an individual: not a sector"] == 4
    ugly_gorilla = "threat-actor--6d179234-61fc-40c4-ae86-3d53308d8e65"
    edges = store.query(
        "MATCH (a {id: $id})-[r]->(b) RETURN type(r) AS t, labels(b) AS l", {"id": ugly_gorilla}
    )
    assert edges and all("Sector" not in e["l"] for e in edges)


def attack_node(stix_type: str, n: int, name: str, attack_id: str, **props: Any) -> dict[str, Any]:
    ref = {"source_name": "mitre-attack", "external_id": attack_id}
    return sdo(stix_type, n, name=name, external_references=[ref], **props)


ATTACK = bundle(
    attack_node("attack-pattern", 11, "Spearphishing Attachment", "T1566.001"),
    attack_node("attack-pattern", 12, "Command and Scripting Interpreter", "T1059"),
    attack_node("tool", 13, "Mimikatz", "S0002"),
    attack_node("intrusion-set", 14, "APT28", "G0007", aliases=["Sofacy"]),
)
GALAXY_EVENT = REAL / "misp-galaxy-tags" / "galaxy_tags_event.json"


def uses_of_event(store) -> list[str]:
    rows = store.query("MATCH (c:Campaign)-[:USES]->(x) RETURN x.external_id AS x ORDER BY x", {})
    return [r["x"] for r in rows]


def test_misp_galaxy_clusters_map_to_stored_attack_nodes(store) -> None:
    ingest_object(store, ATTACK, "mitre", max_tlp=TLP.RED)
    (report,) = ingest_paths(store, [GALAXY_EVENT], max_tlp=TLP.RED)
    assert uses_of_event(store) == ["S0002", "T1059", "T1566.001"]
    claims = store.query(
        "MATCH (c:Campaign)-[r:ATTRIBUTED_TO]->(a) RETURN a.name AS a, r.source AS s", {}
    )
    assert claims == [{"a": "APT28", "s": "actorgraph test fixtures"}]  # the event's provenance
    assert store.counts()["nodes"]["ThreatActor"] == 1  # a claim, never a merge
    assert not [e for e in report.objects_rejected if "galaxy" in e["reason"]]


def test_misp_galaxy_tags_alone_map_and_the_unmapped_are_named(store) -> None:
    ingest_object(store, ATTACK, "mitre", max_tlp=TLP.RED)
    event = json.loads(GALAXY_EVENT.read_text())
    del event["Event"]["Galaxy"]  # vendors often send only the tags
    event["Event"]["Tag"] += [
        {"name": 'misp-galaxy:mitre-malware="Imaginary - S9999"'},
        {"name": 'misp-galaxy:threat-actor="Nobody Known"'},
    ]
    report = ingest_object(store, event, "vendor", max_tlp=TLP.RED)
    assert uses_of_event(store) == ["S0002", "T1059", "T1566.001"]
    assert store.query("MATCH (:Campaign)-[:ATTRIBUTED_TO]->(a) RETURN a.name AS a", {}) == [
        {"a": "APT28"}
    ]
    reasons = sorted(e["reason"] for e in report.objects_rejected if "galaxy" in e["reason"])
    assert reasons == [
        "MISP galaxy mitre-malware 'Imaginary - S9999': not mapped (no stored Malware)",
        "MISP galaxy tag threat-actor 'Nobody Known': no single stored actor of that name",
    ]
    o = report.objects
    assert o["in"] == o["landed"] + o["merged"] + o["pending"] + o["rejected"]
