"""MISP events through misp-stix (graph/formats/misp.py): MISP's own test events with objects,
the public bundle function, and the event's TLP on what misp-stix leaves unmarked."""

from __future__ import annotations

import json

from actorgraph.graph.formats.misp import converter_version, misp_event_to_bundle, read_misp
from actorgraph.graph.formats.stix_reader import read_stix
from actorgraph.graph.ingest import ingest_paths
from actorgraph.graph.tlp import TLP
from tests.helpers.paths import FIXTURES

OBJECTS_EVENT = FIXTURES / "real" / "misp-stix" / "test_event_objects.json"
APT28_EVENT = FIXTURES / "misp" / "apt28_phishing_event.json"


def test_event_with_objects_is_converted_and_ingested(store) -> None:
    (report,) = ingest_paths(store, [OBJECTS_EVENT], max_tlp=TLP.RED)
    assert report.format == "misp"
    assert store.counts()["nodes"] == {"Campaign": 1, "Indicator": 6}
    rows = store.query(
        "MATCH (i:Indicator)-[:INDICATES]->(c:Campaign) RETURN i.id AS i, c.sources AS s "
        "ORDER BY i",
        {},
    )
    assert [r["i"] for r in rows] == [
        "domain:circl.lu",  # domain-ip and ip-port objects
        "ipv4:149.13.33.14",
        "md5:8764605c6f388c89096b534d33565802",  # file object
        "sha1:46aba99aa7158e4609aaa72b50990842fd22ae86",
        "sha256:ec5aedf5ecc6bdadd4120932170d1b10f6cfa175cfda22951dfd882928ab279b",
        "x509:5898fc860300e228dcd54c0b1045b5fa0dcda502",  # x509 object
    ]
    assert {tuple(r["s"]) for r in rows} == {("MISP-Project",)}  # the event's creator
    # Which converter read them, with its version (also shown by `actorgraph stats`).
    by = store.query("MATCH (n) RETURN DISTINCT n.converted_by AS by", {})
    assert [r["by"] for r in by] == [converter_version()]
    assert converter_version().startswith("misp-stix@20")
    resolves = store.query("MATCH (d)-[:RESOLVES_TO]->(i) RETURN d.id AS d, i.id AS i", {})
    assert resolves == [{"d": "domain:circl.lu", "i": "ipv4:149.13.33.14"}]
    # What misp-stix makes that the graph model has no place for is named, not dropped unseen.
    assert {r["type"] for r in report.objects_rejected} == {"directory", "network-traffic"}


def test_public_bundle_reads_like_the_ingest_path() -> None:
    event = json.loads(OBJECTS_EVENT.read_text())
    bundle = misp_event_to_bundle(event)
    assert bundle["id"] == "bundle--a6ef17d6-91cb-4a05-b10b-2f045daf874c"
    assert bundle["objects"][0]["id"] == "campaign--a6ef17d6-91cb-4a05-b10b-2f045daf874c"
    assert read_stix(bundle, source="e").counts() == read_misp(event, source="e").counts()
    assert misp_event_to_bundle(event) == bundle  # nothing random, nothing from the clock


def test_event_tlp_covers_attributes_misp_stix_leaves_unmarked() -> None:
    batch = read_misp(json.loads(APT28_EVENT.read_text()))
    indicators = batch.nodes["Indicator"]
    assert indicators["ipv4:198.51.100.7"]["tlp"] == "amber"  # the event's tag
    sha = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert indicators[sha]["tlp"] == "red"  # the attribute's own tag
    # Every STIX id of an indicator (the indicator and its observables) came with a marking:
    # none could be exported as clear.
    levels = [e for props in indicators.values() for e in props["stix_id_levels"]]
    assert levels and not [e for e in levels if e.startswith("0:")]
    edges = batch.edges[("Indicator", "INDICATES", "Campaign")].values()
    assert {e["tlp"] for e in edges} >= {"amber"}


def test_misp_sightings_are_tallied_on_the_indicator() -> None:
    """misp-stix turns MISP's sightings into STIX sightings, which the reader tallies per TLP
    level."""
    event = json.loads(APT28_EVENT.read_text())
    org = {"name": "CERT-X", "uuid": "5e1c1d6a-1b2c-4d5e-9f00-0a0b0c0d0f02"}
    event["Event"]["Attribute"][0]["Sighting"] = [
        {"uuid": f"5e1c1d6a-1b2c-4d5e-9f00-0a0b0c0d0f0{i}", "type": "0", "Organisation": org}
        | {"date_sighting": str(1709300000 + 100000 * i)}
        for i in (1, 3)
    ]
    ip = read_misp(event).nodes["Indicator"]["ipv4:198.51.100.7"]
    amber = int(TLP.AMBER)  # the event's marking covers its sightings
    assert ip["sighting_counts"][amber] == 2 and sum(ip["sighting_counts"]) == 2
    assert ip["sighting_last"][amber] == "2024-03-05T00:53:20.000Z"  # 1709600000, the later
