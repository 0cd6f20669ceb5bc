"""STIX 2.1 bundles -> graph rows; no store needed.

Covers graph/formats/stix_reader.py and graph/formats/stix_validate.py.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

from actorgraph.graph.errors import IngestError, StixIngestError
from actorgraph.graph.formats.stix_reader import read_stix
from actorgraph.graph.formats.stix_validate import iter_inputs
from actorgraph.graph.tlp import TLP
from tests.helpers import paths
from tests.helpers.stix import T0, bundle, sdo

FIXTURES = paths.FIXTURES / "stix"
APT28 = FIXTURES / "apt28_campaign.json"
ACTOR = "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"
CAMPAIGN = "campaign--83422c77-904c-4dc1-aff5-5c38f3a2c55c"


@pytest.fixture(scope="module")
def batch():
    return read_stix(APT28)


def test_counts_of_the_fixture(batch) -> None:
    assert batch.counts() == {
        "nodes": {
            "Campaign": 1,
            "Country": 2,
            "Indicator": 6,
            "Infrastructure": 2,
            "Malware": 1,
            "Report": 1,
            "Sector": 2,
            "Technique": 2,
            "ThreatActor": 1,
            "Tool": 1,
        },
        "relationships": {
            "ATTRIBUTED_TO": 1,
            "COMMUNICATES_WITH": 1,
            "CONSISTS_OF": 1,
            "HOSTED_ON": 1,
            "INDICATES": 4,
            "ORIGINATES_FROM": 1,
            "REPORTED_IN": 4,
            "RESOLVES_TO": 1,
            "SUBTECHNIQUE_OF": 1,
            "TARGETS": 3,
            "USES": 4,
        },
    }


def test_defanged_pattern_values_are_normalised(batch) -> None:
    ids = set(batch.nodes["Indicator"])
    assert "domain:mail-gov-ua.example" in ids
    assert "url:https://mail-gov-ua.example/owa/login.php" in ids
    assert "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" in ids


def test_one_indicator_per_observable_value_with_stix_ids(batch) -> None:
    domain = batch.nodes["Indicator"]["domain:mail-gov-ua.example"]
    ip = batch.nodes["Indicator"]["ipv4:203.0.113.45"]
    indicator_id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    assert indicator_id in domain["stix_ids"] and indicator_id in ip["stix_ids"]
    # the domain-name observable of the same value merges into the same node
    assert "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5" in domain["stix_ids"]
    assert domain["kind"] == "domain" and domain["value"] == "mail-gov-ua.example"
    indicates = batch.edges[("Indicator", "INDICATES", "Campaign")]
    assert ("domain:mail-gov-ua.example", CAMPAIGN) in indicates
    assert ("ipv4:203.0.113.45", CAMPAIGN) in indicates


def test_invalid_values_are_rejected_not_stored(batch) -> None:
    rejected = {(r.object_id, r.value) for r in batch.rejected}
    assert rejected == {
        ("indicator--6a9b8c7d-5e4f-4a3b-9c2d-1e0f9a8b7c66", "999.1.1.1"),
        (
            "indicator--6a9b8c7d-5e4f-4a3b-9c2d-1e0f9a8b7c66",
            "da39a3ee5e6b4b0d3255bfef95601890afd8070",
        ),
    }
    values = {p["value"] for p in batch.nodes["Indicator"].values()}
    assert "999.1.1.1" not in values
    # the valid MD5 of the same indicator is kept
    assert "md5:d41d8cd98f00b204e9800998ecf8427e" in batch.nodes["Indicator"]


def test_tlp_markings_1_0_and_2_0(batch) -> None:
    assert batch.nodes["ThreatActor"][ACTOR]["tlp"] == "green"  # TLP 1.0 well-known id
    assert batch.nodes["Campaign"][CAMPAIGN]["tlp"] == "amber"  # TLP 2.0 definition in bundle
    assert batch.nodes["Campaign"][CAMPAIGN]["tlp_level"] == 2
    infra = batch.nodes["Infrastructure"]["infrastructure--d09c50cf-5bab-465e-9e2d-543912148b73"]
    assert (infra["tlp"], infra["tlp_level"], infra["kind"]) == ("red", 4, "c2_server")
    assert "tlp" not in batch.nodes["Tool"]["tool--c8e9a3b2-1d4f-4e6a-8b7c-9d0e1f2a3b44"]


def test_actor_country_and_provenance(batch) -> None:
    actor = batch.nodes["ThreatActor"][ACTOR]
    # The actor's own country (from its aliases); the bundle's originates-from stays on its
    # relationship, with that relationship's marking, and is never copied onto the actor.
    assert (actor["country"], actor["country_source"]) == ("RU", "derived:alias")
    assert actor["sources"] == ["Example CERT"]  # the created_by identity's name
    assert actor["external_id"] == "G0007"
    assert "forest blizzard" in actor["aliases_lc"] and "apt28" in actor["aliases_lc"]
    origin = batch.edges[("ThreatActor", "ORIGINATES_FROM", "Country")][(ACTOR, "country:RU")]
    assert origin["relationship_type"] == "originates-from" and "country_source" not in origin


def test_relationship_mapping(batch) -> None:
    attributed = batch.edges[("Campaign", "ATTRIBUTED_TO", "ThreatActor")][(CAMPAIGN, ACTOR)]
    assert attributed["confidence"] == 70
    assert attributed["stix_id"] == "relationship--1a1b1c1d-0000-4000-8000-000000000001"
    assert set(batch.edges[("Campaign", "TARGETS", "Sector")]) == {
        (CAMPAIGN, "sector:government"),
        (CAMPAIGN, "sector:defense"),
    }
    assert (CAMPAIGN, "country:UA") in batch.edges[("Campaign", "TARGETS", "Country")]
    assert ("domain:mail-gov-ua.example", "ipv4:203.0.113.45") in batch.edges[
        ("Indicator", "RESOLVES_TO", "Indicator")
    ]
    assert ("ipv4:203.0.113.45", "asn:AS64500") in batch.edges[
        ("Indicator", "HOSTED_ON", "Infrastructure")
    ]
    assert batch.nodes["Infrastructure"]["asn:AS64500"]["asn"] == 64500
    sub = batch.nodes["Technique"]["attack-pattern--2b742742-28c3-4e1b-bab7-8350d6300fa7"]
    assert (sub["external_id"], sub["is_subtechnique"], sub["parent_external_id"]) == (
        "T1566.002",
        True,
        "T1566",
    )
    assert sub["tactics"] == ["initial-access"]
    reported = batch.edges[("ThreatActor", "REPORTED_IN", "Report")]
    assert (ACTOR, "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3") in reported


def test_revoked_and_non_stix_patterns_are_skipped(batch) -> None:
    assert "attack-pattern--0a3ead4e-6d47-4ccb-854c-a6a4f9d96b22" not in batch.nodes["Technique"]
    assert batch.skipped["revoked"] == 1
    assert batch.skipped["indicator with pattern_type yara"] == 1
    assert batch.skipped["relationship to a revoked or deprecated object"] == 1


def test_sighting_counts(batch) -> None:
    node = batch.nodes["Indicator"]["domain:mail-gov-ua.example"]
    # Per TLP level of the sightings (the fixture's is unmarked: level 0), never one total.
    assert node["sighting_counts"] == [3, 0, 0, 0, 0] and "sighting_count" not in node
    assert node["sighting_last"] == ["2024-03-06T07:30:00.000Z", "", "", "", ""]


def test_x509_fingerprint(batch) -> None:
    assert "x509:" + "0f1e2d3c4b5a69788796a5b4c3d2e1f0" * 2 in batch.nodes["Indicator"]


@pytest.mark.parametrize(
    ("name", "error", "object_id", "reason"),
    [
        ("not_json.json", IngestError, None, "not valid JSON"),
        (
            "not_a_bundle.json",
            StixIngestError,
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "missing required property",
        ),
        (
            "malformed_missing_pattern.json",
            StixIngestError,
            "indicator--3f1c7a0e-9b2d-4e5f-8a6b-7c8d9e0f1a22",
            "missing required property 'pattern'",
        ),
        (
            "bad_pattern.json",
            StixIngestError,
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "invalid STIX pattern",
        ),
    ],
)
def test_refused_files_name_file_and_object(name, error, object_id, reason) -> None:
    with pytest.raises(error, match=reason) as info:
        read_stix(FIXTURES / name)
    assert info.value.source == str(FIXTURES / name)
    assert name in str(info.value)
    if object_id:
        assert info.value.object_id == object_id
        assert object_id in str(info.value)


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        (
            {"id": "malware--00000000-0000-4000-8000-000000000001"},
            "missing required property 'type'",
        ),
        ({"type": "malware"}, "missing required property 'id'"),
        (
            sdo("malware", 1, name="x", is_family=True)
            | {"id": "tool--00000000-0000-4000-8000-000000000001"},
            "id is not 'malware--<uuid>'",
        ),
        (sdo("malware", 1, name="x", is_family=True) | {"id": "malware--not-a-uuid"}, "id is not"),
        ({k: v for k, v in sdo("campaign", 1, name="c").items() if k != "created"}, "'created'"),
        (sdo("intrusion-set", 1), "'name'"),
        (sdo("malware", 1, name="x"), "'is_family'"),
        (
            sdo("indicator", 1, pattern="[ipv4-addr:value = '1.2.3.4']", valid_from=T0),
            "'pattern_type'",
        ),
        (sdo("campaign", 1, name="c", first_seen="last tuesday"), "first_seen is not a timestamp"),
        (
            sdo(
                "relationship",
                1,
                relationship_type="uses",
                source_ref="campaign--00000000-0000-4000-8000-000000000009",
            ),
            "'target_ref'",
        ),
        ("just a string", "not a JSON object"),
    ],
)
def test_invalid_objects_refuse_the_bundle(obj, reason) -> None:
    good = sdo("campaign", 7, name="fine")
    with pytest.raises(StixIngestError, match=reason):
        read_stix(bundle(good, obj), source="inline.json")


def test_dangling_ref_known_to_the_store_is_an_edge_else_pending() -> None:
    target = "malware--deadbeef-0000-4000-8000-000000000000"
    rel = sdo(
        "relationship",
        2,
        relationship_type="uses",
        source_ref="intrusion-set--00000000-0000-4000-8000-000000000001",
        target_ref=target,
    )
    actor = sdo("intrusion-set", 1, name="A")
    asked: list[set[str]] = []

    def known(ids: set[str]) -> set[str]:
        asked.append(ids)
        return ids & {target}

    batch = read_stix(bundle(actor, rel), known_ids=known)
    assert asked == [{target}]
    assert (actor["id"], target) in batch.edges[("ThreatActor", "USES", "Malware")]
    assert batch.pending == []
    batch = read_stix(bundle(actor, rel), known_ids=lambda ids: set())
    assert "USES" not in batch.edge_counts()
    [pending] = batch.pending
    assert (pending.object_id, pending.rel, pending.missing) == (rel["id"], "uses", target)
    assert (pending.src_ref, pending.dst_ref) == (actor["id"], target)
    assert batch.ledger.counts() == {"in": 2, "landed": 1, "merged": 0, "pending": 1, "rejected": 0}


def test_dangling_fixture_keeps_the_actor_and_the_relationship_pending() -> None:
    batch = read_stix(FIXTURES / "dangling_ref.json")
    assert batch.node_counts() == {"ThreatActor": 1}
    assert [p.object_id for p in batch.pending] == [
        "relationship--9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    ]
    assert batch.ledger.named("pending")[0]["reason"].startswith("malware--deadbeef")


def test_report_refs_outside_the_bundle_are_pending_and_the_report_lands() -> None:
    camp = sdo("campaign", 1, name="C")
    gone = "indicator--11111111-1111-4111-8111-111111111111"
    report = sdo(
        "report", 2, name="R", published=T0, report_types=["x"], object_refs=[camp["id"], gone]
    )
    batch = read_stix(bundle(camp, report))
    assert (camp["id"], report["id"]) in batch.edges[("Campaign", "REPORTED_IN", "Report")]
    assert [(p.rel, p.src_ref, p.dst_ref) for p in batch.pending] == [
        ("object_refs", report["id"], gone)
    ]
    assert batch.ledger.counts()["landed"] == 2


def test_an_address_range_is_network_infrastructure() -> None:
    ind = sdo(
        "indicator",
        1,
        pattern="[ipv4-addr:value ISSUBSET '198.51.100.7/24' OR ipv4-addr:value = '10.0.0.0/8']",
        pattern_type="stix",
        valid_from=T0,
    )
    batch = read_stix(bundle(ind))
    nets = batch.nodes["Infrastructure"]
    assert set(nets) == {"network:198.51.100.0/24", "network:10.0.0.0/8"}
    assert nets["network:198.51.100.0/24"]["kind"] == "network"
    assert nets["network:10.0.0.0/8"]["prefix_len"] == 8
    assert batch.rejected == [] and batch.ledger.counts()["landed"] == 1


def test_a_lone_object_reads_as_a_bundle_of_one() -> None:
    camp = sdo("campaign", 1, name="Alone")
    assert read_stix(camp).node_counts() == {"Campaign": 1}
    with pytest.raises(IngestError, match="not a STIX bundle"):
        read_stix({"type": "campaign", "id": "not-an-id"})


def test_every_object_is_accounted_for() -> None:
    batch = read_stix(APT28)
    counts = batch.ledger.counts()
    assert counts["in"] == len(json.loads(APT28.read_text())["objects"])
    assert counts["in"] == sum(counts[k] for k in ("landed", "merged", "pending", "rejected"))
    for entry in batch.ledger.named("rejected"):
        assert entry["reason"] and entry["object_id"]


def test_indicator_without_a_plain_value_is_named() -> None:
    ind = sdo(
        "indicator",
        1,
        pattern="[file:name = 'evil.exe' AND windows-registry-key:key LIKE 'HKLM%']",
        pattern_type="stix",
        valid_from=T0,
    )
    batch = read_stix(bundle(ind))
    [entry] = batch.ledger.named("rejected")
    assert entry["object_id"] == ind["id"]
    assert "file:name =" in entry["reason"] and "windows-registry-key:key LIKE" in entry["reason"]


def test_external_indicator_refs_resolve_through_the_store() -> None:
    ind = "indicator--11111111-1111-4111-8111-111111111111"
    camp = sdo("campaign", 1, name="C")
    rel = sdo(
        "relationship", 2, relationship_type="indicates", source_ref=ind, target_ref=camp["id"]
    )
    batch = read_stix(
        bundle(camp, rel), resolve_ids=lambda ids: {ind: [("Indicator", "ipv4:198.51.100.1")]}
    )
    assert ("ipv4:198.51.100.1", camp["id"]) in batch.edges[("Indicator", "INDICATES", "Campaign")]


def test_newest_version_of_an_object_wins_within_a_bundle() -> None:
    old = sdo("campaign", 1, name="Old name")
    new = dict(old, name="New name", modified="2024-06-01T00:00:00Z")
    for objects in ((old, new), (new, old)):
        batch = read_stix(bundle(*objects))
        assert batch.nodes["Campaign"][old["id"]]["name"] == "New name"


def test_deprecated_objects_and_tlp_definition_type() -> None:
    marking = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        "created": T0,
        "definition_type": "tlp",
        "definition": {"tlp": "amber"},
    }
    dep = sdo("malware", 1, name="Old", is_family=True, x_mitre_deprecated=True)
    tool = sdo(
        "tool",
        2,
        name="T",
        object_marking_refs=[
            marking["id"],
            "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        ],
    )
    batch = read_stix(bundle(marking, dep, tool))
    assert "Malware" not in batch.nodes
    assert batch.skipped["deprecated"] == 1
    assert batch.nodes["Tool"][tool["id"]]["tlp"] == "amber"  # strictest of amber and white


def test_country_is_derived_when_the_bundle_gives_none() -> None:
    a = sdo("intrusion-set", 1, name="A", aliases=["Salt Typhoon"])
    b = sdo("intrusion-set", 2, name="B", description="B is a suspected Iranian threat group.")
    c = sdo("intrusion-set", 3, name="C", description="C has targeted Japanese organizations.")
    batch = read_stix(bundle(a, b, c))
    actors = batch.nodes["ThreatActor"]
    assert (actors[a["id"]]["country"], actors[a["id"]]["country_source"]) == (
        "CN",
        "derived:alias",
    )
    assert (actors[b["id"]]["country"], actors[b["id"]]["country_source"]) == (
        "IR",
        "derived:description",
    )
    assert "country" not in actors[c["id"]]
    assert set(batch.edges[("ThreatActor", "ORIGINATES_FROM", "Country")]) == {
        (a["id"], "country:CN"),
        (b["id"], "country:IR"),
    }


def test_gzip_and_directories(tmp_path: Path) -> None:
    data = json.loads(APT28.read_text())
    gz = tmp_path / "sub" / "apt28.json.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(json.dumps(data).encode()))
    (tmp_path / "notes.txt").write_text("ignored")
    assert list(iter_inputs([tmp_path])) == [gz]
    assert read_stix(gz).counts() == read_stix(APT28).counts()
    with pytest.raises(IngestError, match="no such file"):
        list(iter_inputs([tmp_path / "missing.json"]))
    with pytest.raises(IngestError, match="not a file or a directory"):
        list(iter_inputs(["/dev/null"]))


def test_reading_does_not_modify_the_input() -> None:
    data = json.loads(APT28.read_text())
    before = copy.deepcopy(data)
    read_stix(data)
    assert data == before


def test_registrar_name_server_certificate_links_and_actorgraph_properties() -> None:
    """The custom verbs and ``x_actorgraph_*`` properties that graph/formats/stix_out.py writes."""
    domain = {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": "domain-name--11111111-1111-4111-8111-111111111111",
        "value": "evil.example",
    }
    cert = {
        "type": "x509-certificate",
        "spec_version": "2.1",
        "id": "x509-certificate--22222222-2222-4222-8222-222222222222",
        "hashes": {"SHA-1": "ab" * 20},
    }
    registrar = sdo(
        "infrastructure",
        1,
        name="Namecheap",
        infrastructure_types=["registrar"],
        x_actorgraph_kind="registrar",
        x_actorgraph_id="registrar:namecheap",
        x_actorgraph_value="namecheap",
    )
    ns = sdo("infrastructure", 2, name="ns1.evil.example", x_actorgraph_kind="name_server")
    actor = sdo(
        "intrusion-set",
        3,
        name="A",
        x_actorgraph_country="KP",
        x_actorgraph_country_source="derived:alias",
    )
    rels = [
        sdo(
            "relationship",
            4,
            relationship_type="registered-with",
            source_ref=domain["id"],
            target_ref=registrar["id"],
        ),
        sdo(
            "relationship",
            5,
            relationship_type="uses-name-server",
            source_ref=domain["id"],
            target_ref=ns["id"],
        ),
        sdo(
            "relationship",
            6,
            relationship_type="presents-certificate",
            source_ref=domain["id"],
            target_ref=cert["id"],
        ),
    ]
    batch = read_stix(bundle(domain, cert, registrar, ns, actor, *rels))
    infra = batch.nodes["Infrastructure"]
    assert infra["registrar:namecheap"]["kind"] == "registrar"
    assert infra["registrar:namecheap"]["value"] == "namecheap"
    assert registrar["id"] in infra["registrar:namecheap"]["stix_ids"]
    assert infra[ns["id"]]["kind"] == "name_server"
    d = "domain:evil.example"
    assert (d, "registrar:namecheap") in batch.edges[
        ("Indicator", "REGISTERED_WITH", "Infrastructure")
    ]
    assert (d, ns["id"]) in batch.edges[("Indicator", "USES_NAMESERVER", "Infrastructure")]
    assert (d, "x509:" + "ab" * 20) in batch.edges[("Indicator", "PRESENTS_CERT", "Indicator")]
    a = batch.nodes["ThreatActor"][actor["id"]]
    assert (a["country"], a["country_source"]) == ("KP", "derived:alias")
    assert (actor["id"], "country:KP") in batch.edges[("ThreatActor", "ORIGINATES_FROM", "Country")]


def test_exported_hypothesis_is_read_back_as_a_hypothesis_not_a_fact(store):
    """attribution_to_stix marks attributed-to as a hypothesis: it must become PREDICTED_ACTOR."""
    from actorgraph.graph.attribution import AttributionResult
    from actorgraph.graph.ingest import ingest_object
    from actorgraph.graph.reports.attribution_stix import attribution_to_stix

    actor = "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"
    store.query("CREATE (:ThreatActor {id: $id, name: 'APT28'})", {"id": actor})
    result = {
        "input": "x.json",
        "model": {"version": "v-test"},
        "unknown": 0.1,
        "candidates": [
            {
                "rank": 1,
                "actor_id": actor,
                "name": "APT28",
                "aliases": [],
                "country": "RU",
                "score": 0.8,
            }
        ],
        "countries": [{"country": "RU", "score": 0.8}],
        "evidence": [],
    }
    bundle = attribution_to_stix(AttributionResult.from_dict(result))
    ingest_object(store, bundle, "model-output", max_tlp=TLP.RED)
    rels = store.query("MATCH (:Campaign)-[r]->(:ThreatActor) RETURN type(r) AS t, r.score AS s")
    assert rels == [{"t": "PREDICTED_ACTOR", "s": 0.8}]


def test_a_bundle_without_an_id_is_refused():
    from actorgraph.graph.errors import IngestError
    from actorgraph.graph.formats.stix_reader import read_stix

    with pytest.raises(IngestError, match="bundle 'id'"):
        read_stix({"type": "bundle", "objects": []})


def test_reading_without_provenance_gives_the_same_rows_without_provenance(batch) -> None:
    # Attribution reads input it never writes, without provenance; it must see the same graph.
    light = read_stix(APT28, provenance=False)
    assert light.rejected == batch.rejected
    assert {k: set(v) for k, v in light.nodes.items()} == {
        k: set(v) for k, v in batch.nodes.items()
    }
    assert {k: set(v) for k, v in light.edges.items()} == {
        k: set(v) for k, v in batch.edges.items()
    }
    dropped = {
        "created",
        "modified",
        "confidence",
        "tlp",
        "tlp_level",
        "stix_id",
        "stix_ids",
        "stix_id_levels",
        "sources",
    }
    for label, by_id in batch.nodes.items():
        for node_id, props in by_id.items():
            light_props = light.nodes[label][node_id]
            assert {k: v for k, v in light_props.items() if k not in dropped} == {
                k: v for k, v in props.items() if k not in dropped
            }
            assert "tlp_level" not in light_props and "created" not in light_props
    assert any("tlp_level" in p for by_id in batch.nodes.values() for p in by_id.values())


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"name": "France", "country": "FRA"}, "FR"),  # OpenCTI's datasets: alpha-3
        ({"name": "Côte d'Ivoire", "country": "CI"}, "CI"),
        ({"name": "x", "country": "Iran (Islamic Republic of)"}, "IR"),  # a name in `country`
        ({"name": "Germany"}, "DE"),  # a country location with only a name
        ({"name": "Viet Nam", "country": "VNM", "x_opencti_location_type": "Country"}, "VN"),
        ({"name": "Kosovo", "country": "XKX"}, None),  # no ISO 3166 code
        ({"name": "Luxembourg", "city": "Luxembourg"}, None),  # a city, not the country
        ({"name": "Jordan", "x_opencti_location_type": "City"}, None),
    ],
)
def test_location_country_from_alpha3_code_or_name(props, code) -> None:
    got = read_stix(bundle(sdo("location", 1, **props)))
    if code is None:
        assert "Country" not in got.nodes
        assert got.ledger.named("rejected")[0]["reason"] == "location without a known country"
    else:
        assert list(got.nodes["Country"]) == [f"country:{code}"]


def test_an_individual_is_neither_a_sector_nor_a_target() -> None:
    # The shape of OASIS apt1.json: threat actor "Ugly Gorilla" attributed-to the person.
    person = sdo(
        "identity",
        1,
        name="Wang Dong",
        identity_class="individual",
        sectors=["government-national"],
        contact_information="uglygorilla@163.com",
    )
    actor = sdo("threat-actor", 2, name="Ugly Gorilla", threat_actor_types=["nation-state"])
    link = sdo(
        "relationship",
        3,
        relationship_type="attributed-to",
        source_ref=actor["id"],
        target_ref=person["id"],
    )
    got = read_stix(bundle(person, actor, link))
    assert "Sector" not in got.nodes and not got.edges
    reasons = {e["object_id"]: e["reason"] for e in got.ledger.named("rejected")}
    assert reasons == {
        person["id"]: "identity of an individual: not a sector",
        link["id"]: "relationship attributed-to: identity of an individual: not a sector",
    }
    assert got.ledger.counts() == {"in": 3, "landed": 1, "merged": 0, "pending": 0, "rejected": 2}


def test_modified_before_created_rejects_the_object_not_the_bundle() -> None:
    early = sdo("malware", 1, name="Backdated", is_family=True, modified="2023-12-31T00:00:00Z")
    uses = sdo(
        "relationship",
        2,
        relationship_type="uses",
        source_ref=sdo("intrusion-set", 3)["id"],
        target_ref=early["id"],
    )
    actor = sdo("intrusion-set", 3, name="Keeper")
    got = read_stix(bundle(early, uses, actor))
    assert list(got.nodes) == ["ThreatActor"]
    reasons = {e["object_id"]: e["reason"] for e in got.ledger.named("rejected")}
    assert reasons[early["id"]] == (
        "modified (2023-12-31T00:00:00.000Z) is before created (2024-01-01T00:00:00.000Z)"
    )
    assert reasons[uses["id"]] == "relationship to an invalid object"
    assert got.skipped["invalid object"] == 1
