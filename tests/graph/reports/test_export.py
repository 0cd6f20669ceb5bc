"""STIX 2.1 export: valid against the specification, round-trips through ingest, honours TLP."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_instance

from actorgraph.graph.attribution import AttributionResult
from actorgraph.graph.errors import NotFound, ValidationError
from actorgraph.graph.formats.stix_out import TLP2_IDS
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.reports.attribution_stix import attribution_to_stix
from actorgraph.graph.reports.export import export_bundle
from actorgraph.graph.reports.selection import resolve_actor
from actorgraph.graph.tlp import TLP
from tests.helpers.paths import APT28_BUNDLE as FIXTURE

NOW = "2026-01-01T00:00:00.000Z"
APT28 = "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"
CAMPAIGN = "campaign--83422c77-904c-4dc1-aff5-5c38f3a2c55c"

# Properties a round trip must keep, per label (the analyst-facing ones).
KEY_PROPS = {
    "ThreatActor": (
        "name",
        "aliases",
        "country",
        "country_source",
        "description",
        "external_id",
        "tlp_level",
    ),
    "Campaign": ("name", "first_seen", "last_seen", "tlp_level", "confidence"),
    "Malware": ("name", "aliases", "is_family", "external_id"),
    "Tool": ("name", "external_id"),
    "Technique": ("name", "external_id", "tactics", "is_subtechnique"),
    "Indicator": ("kind", "value", "tlp_level", "valid_from"),
    "Infrastructure": ("kind", "name", "asn", "tlp_level"),
    "Country": ("code", "name"),
    "Sector": ("name",),
    "Report": ("name", "published"),
}


def validate(bundle: dict[str, Any]) -> Any:
    """Run the OASIS validator with its default (non-strict) checks; return its results."""
    return validate_instance(bundle, ValidationOptions(version="2.1"))


def graph_facts(store) -> tuple[dict, dict, set]:
    """Counts, key properties of every node, and every (src, type, dst) triple."""
    nodes = {}
    for row in store.query("MATCH (n) RETURN labels(n)[0] AS l, n"):
        keep = KEY_PROPS.get(row["l"], ())
        nodes[row["n"]["id"]] = (row["l"], {k: row["n"].get(k) for k in keep})
    edges = {
        (r["a"], r["t"], r["b"])
        for r in store.query("MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS t, b.id AS b")
    }
    return store.counts(), nodes, edges


@pytest.fixture
def apt28(store):
    bundle = json.loads(FIXTURE.read_text())
    ingest_object(store, bundle, "apt28_campaign.json", max_tlp=TLP.RED)
    return store


def test_whole_graph_export_is_valid_stix(apt28):
    bundle = export_bundle(apt28, max_tlp=TLP.RED, now=NOW)
    results = validate(bundle)
    assert results.is_valid, [str(e) for e in results.errors]
    ids = [o["id"] for o in bundle["objects"]]
    assert len(ids) == len(set(ids))
    # Original ids kept: the intrusion-set, the campaign, the first indicator of a pattern.
    assert APT28 in ids and CAMPAIGN in ids
    assert "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" in ids
    assert "relationship--1a1b1c1d-0000-4000-8000-000000000001" in ids


def test_round_trip_into_an_empty_store_reproduces_the_graph(apt28, server):
    before = graph_facts(apt28)
    bundle = export_bundle(apt28, max_tlp=TLP.RED, now=NOW)
    # Always an embedded graph: on Neo4j (one database) the round trip crosses backends.
    other = server.with_graph(f"rt-{uuid.uuid4().hex[:12]}")
    other.ensure_schema()
    try:
        ingest_object(other, bundle, "export", max_tlp=TLP.RED)
        after = graph_facts(other)
        assert after[0] == before[0]  # node and relationship counts per label/type
        assert after[1] == before[1]  # key properties of every node
        assert after[2] == before[2]  # every relationship, by its ends and type
        # Exporting the re-ingested graph gives the same objects again (stable ids).
        again = export_bundle(other, max_tlp=TLP.RED, now=NOW)
        assert {o["id"] for o in again["objects"]} - {o["id"] for o in bundle["objects"]} <= {
            o["id"] for o in again["objects"] if o["type"] == "identity"
        }
    finally:
        other.clear()
        other.close()


def test_tlp_ceiling_drops_objects_and_relationships_above_clearance(apt28):
    full = export_bundle(apt28, max_tlp=TLP.RED, now=NOW)
    green = export_bundle(apt28, max_tlp=1, now=NOW)
    assert validate(green).is_valid
    ids = {o["id"] for o in green["objects"]}
    # The campaign is amber, the C2 infrastructure red: neither leaves at green.
    assert CAMPAIGN not in ids
    assert "infrastructure--d09c50cf-5bab-465e-9e2d-543912148b73" not in ids
    assert APT28 in ids  # green actor stays
    for obj in green["objects"]:
        for ref in obj.get("object_marking_refs") or []:
            assert ref in (TLP2_IDS["clear"], TLP2_IDS["green"]), obj["id"]
        if obj["type"] == "relationship":
            assert obj["source_ref"] in ids and obj["target_ref"] in ids
    assert len(green["objects"]) < len(full["objects"])
    # Markings carried over: the amber campaign is marked amber in the full export.
    campaign = next(o for o in full["objects"] if o["id"] == CAMPAIGN)
    assert campaign["object_marking_refs"] == [TLP2_IDS["amber"]]
    assert TLP2_IDS["amber"] in {o["id"] for o in full["objects"]}


def test_actor_selection_holds_its_campaigns_malware_techniques_and_indicators(apt28):
    bundle = export_bundle(apt28, actor="fancy bear", max_tlp=TLP.RED, now=NOW)
    assert validate(bundle).is_valid
    types = {o["type"] for o in bundle["objects"]}
    assert {
        "intrusion-set",
        "campaign",
        "malware",
        "attack-pattern",
        "indicator",
        "relationship",
    } <= types
    patterns = " ".join(o["pattern"] for o in bundle["objects"] if o["type"] == "indicator")
    assert "mail-gov-ua.example" in patterns and "203.0.113.45" in patterns


def test_time_window_excludes_campaigns_outside_it(apt28):
    inside = export_bundle(apt28, actor=APT28, since="2020-01-01", max_tlp=TLP.RED, now=NOW)
    outside = export_bundle(apt28, actor=APT28, since="2099-01-01", max_tlp=TLP.RED, now=NOW)
    assert CAMPAIGN in {o["id"] for o in inside["objects"]}
    assert CAMPAIGN not in {o["id"] for o in outside["objects"]}
    with pytest.raises(ValidationError, match="not a date"):
        export_bundle(apt28, since="last tuesday", max_tlp=TLP.RED)


def test_unknown_actor_and_actor_above_clearance_are_not_found(apt28):
    with pytest.raises(NotFound, match="nobody"):
        resolve_actor(apt28, "nobody", max_tlp=TLP.RED)
    with pytest.raises(NotFound):
        export_bundle(apt28, actor=APT28, max_tlp=0)  # APT28 is green


def test_attribution_result_as_stix(apt28):
    result = {
        "input": "activity.json",
        "model": {"version": "2026-01-01T00-00-00_abc123"},
        "candidates": [
            {
                "rank": 1,
                "actor_id": APT28,
                "name": "APT28",
                "aliases": ["Fancy Bear"],
                "country": "RU",
                "score": 0.8134,
            },
            {
                "rank": 2,
                "actor_id": "intrusion-set--0000aaaa-0000-4000-8000-000000000002",
                "name": "APT29",
                "aliases": [],
                "country": "RU",
                "score": 0.07,
            },
        ],
        "countries": [{"country": "RU", "score": 0.88}],
        "unknown": 0.05,
        "evidence": [
            {
                "actor_id": APT28,
                "kind": "shared_indicator",
                "entity": {
                    "id": "domain:mail-gov-ua.example",
                    "label": "Indicator",
                    "name": "mail-gov-ua.example",
                },
                "input": "mail-gov-ua[.]example",
                "weight": 0.6,
                "actors_sharing": 1,
                "hub": None,
                "path": [
                    "domain:mail-gov-ua.example",
                    "-INDICATES->",
                    "Campaign:Operation Frozen Inbox",
                    "-ATTRIBUTED_TO->",
                    "APT28",
                ],
            }
        ],
    }
    bundle = attribution_to_stix(AttributionResult.from_dict(result), now=NOW)
    assert validate(bundle).is_valid
    by_type: dict[str, list] = {}
    for obj in bundle["objects"]:
        by_type.setdefault(obj["type"], []).append(obj)
    campaign = by_type["campaign"][0]
    rels = sorted(by_type["relationship"], key=lambda r: -r["confidence"])
    assert [r["relationship_type"] for r in rels] == ["attributed-to", "attributed-to"]
    assert rels[0]["source_ref"] == campaign["id"] and rels[0]["target_ref"] == APT28
    assert rels[0]["confidence"] == 81 and rels[1]["confidence"] == 7
    assert rels[0]["x_actorgraph_model_version"] == "2026-01-01T00-00-00_abc123"
    note = by_type["note"][0]
    assert rels[0]["id"] in note["object_refs"] and campaign["id"] in note["object_refs"]
    assert (
        "- APT28: shared_indicator mail-gov-ua.example (weight 0.6, shared by 1 actors): "
        "domain:mail-gov-ua.example -INDICATES-> Campaign:Operation Frozen Inbox "
        "-ATTRIBUTED_TO-> APT28"
    ) in note["content"]
    # The same result gives the same ids (a re-export updates, never duplicates, downstream).
    again = attribution_to_stix(AttributionResult.from_dict(result), now=NOW)
    assert again["objects"] == bundle["objects"]


@pytest.mark.slow
def test_round_trip_of_attack_and_the_demo_world(server, tmp_path):
    """The real demo data: every node, relationship and key property survives export + ingest."""
    from actorgraph.graph.ingest import ingest_attack, ingest_paths
    from actorgraph.world import generate_world

    src = server.with_graph(f"rt-world-{uuid.uuid4().hex[:8]}")
    dst = server.with_graph(f"rt-world-{uuid.uuid4().hex[:8]}")
    try:
        for g in (src, dst):
            g.ensure_schema()
        ingest_attack(src)
        generate_world(seed=3, scale=600).write(tmp_path / "world")
        ingest_paths(src, sorted((tmp_path / "world").glob("train*.json")), max_tlp=TLP.RED)
        before = graph_facts(src)
        bundle = export_bundle(src, max_tlp=TLP.RED, now=NOW)
        ingest_object(dst, bundle, "export", max_tlp=TLP.RED)
        after = graph_facts(dst)
        assert after[0] == before[0]
        assert after[1] == before[1]
        assert after[2] == before[2]
        # One actor's share, checked against the specification (the whole graph takes minutes).
        apt28 = export_bundle(src, actor="APT28", since="2020-01-01", max_tlp=2, now=NOW)
        assert any(o["type"] == "campaign" for o in apt28["objects"])
        results = validate(apt28)
        assert results.is_valid, [str(e) for e in results.errors][:5]
    finally:
        for g in (src, dst):
            g.clear()
            g.close()
