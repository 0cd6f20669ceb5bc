"""MISP events -> STIX 2.1 (misp-stix) -> graph rows and into the store (graph/formats/misp.py)."""

from __future__ import annotations

import copy
import json

import pytest

from actorgraph.graph.errors import IngestError, StixIngestError
from actorgraph.graph.formats.misp import read_misp
from actorgraph.graph.ingest import detect_format, ingest_object, ingest_paths
from actorgraph.graph.tlp import TLP
from tests.helpers import paths

MISP = paths.FIXTURES / "misp"
EVENT = MISP / "apt28_phishing_event.json"
CAMPAIGN = "campaign--5e1c1d6a-1b2c-4d5e-9f00-0a0b0c0d0e0f"


@pytest.fixture
def event() -> dict:
    return json.loads(EVENT.read_text())


def test_event_becomes_campaign_with_indicators(event) -> None:
    batch = read_misp(event, source="event.json")
    # The cluster's country is the actor's own origin, with its edge, as from any reader.
    assert batch.counts() == {
        "nodes": {"Campaign": 1, "Country": 1, "Indicator": 6, "ThreatActor": 1},
        "relationships": {
            "ATTRIBUTED_TO": 1,
            "INDICATES": 6,
            "ORIGINATES_FROM": 1,
            "RESOLVES_TO": 1,
        },
    }
    campaign = batch.nodes["Campaign"][CAMPAIGN]
    assert campaign["name"].startswith("Spear-phishing") and campaign["sources"] == ["CIRCL"]
    assert campaign["tlp"] == "amber" and campaign["first_seen"] == "2024-03-01T00:00:00.000Z"
    ids = set(batch.nodes["Indicator"])
    assert {
        "ipv4:198.51.100.7",
        "url:http://update-mil-check.example/login",
        "email:press@mod-gov.example",
        "domain:update-mil-check.example",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
    } <= ids
    assert all(dst == CAMPAIGN for _, dst in batch.edges[("Indicator", "INDICATES", "Campaign")])
    # the domain-ip object's two attributes
    assert ("domain:update-mil-check.example", "ipv4:198.51.100.7") in batch.edges[
        ("Indicator", "RESOLVES_TO", "Indicator")
    ]


def test_attribute_tlp_tag_overrides_event_tlp(event) -> None:
    batch = read_misp(event)
    sha = batch.nodes["Indicator"][
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    ]
    assert (sha["tlp"], sha["tlp_level"]) == ("red", 4)


def test_invalid_attributes_rejected_and_unsupported_skipped(event) -> None:
    batch = read_misp(event)
    assert {r.value for r in batch.rejected} == {
        "999.1.1.1",
        "da39a3ee5e6b4b0d3255bfef95601890afd8070",
    }
    assert batch.rejected[0].object_id == "indicator--5e1c1d6a-1b2c-4d5e-9f00-0a0b0c0d0e14"
    # misp-stix keeps the comment as a custom object, which the graph model has no place for.
    comment = "x-misp-attribute--5e1c1d6a-1b2c-4d5e-9f00-0a0b0c0d0e17"
    assert batch.ledger.outcomes[comment] == (
        "x-misp-attribute",
        "rejected",
        "unsupported type x-misp-attribute",
    )


def test_galaxy_cluster_is_an_attribution_claim(event) -> None:
    batch = read_misp(event)
    actor_id = "threat-actor--5b4ee3ea-eee3-4c8e-8323-85ae32658754"
    actor = batch.nodes["ThreatActor"][actor_id]
    assert actor["name"] == "Sofacy" and "apt28" in actor["aliases_lc"] and actor["country"] == "RU"
    claim = batch.edges[("Campaign", "ATTRIBUTED_TO", "ThreatActor")][(CAMPAIGN, actor_id)]
    assert claim["source"] == "CIRCL"
    known = read_misp(
        event, actor_lookup=lambda names: {"apt28": "intrusion-set--x"} if "apt28" in names else {}
    )
    assert "ThreatActor" not in known.nodes
    assert (CAMPAIGN, "intrusion-set--x") in known.edges[
        ("Campaign", "ATTRIBUTED_TO", "ThreatActor")
    ]


def test_list_of_events_and_missing_attribute_uuids_are_stable(event) -> None:
    second = copy.deepcopy(event)
    second["Event"]["uuid"] = "6f2d2e7b-2c3d-4e5f-8a01-1b2c3d4e5f60"
    for attr in second["Event"]["Attribute"]:
        attr.pop("uuid")
    a, b = read_misp([event, second]), read_misp([event, second])
    assert a.nodes == b.nodes  # uuids MISP left out are derived, not random
    assert a.counts()["nodes"]["Campaign"] == 2


@pytest.mark.parametrize(
    ("mutate", "error", "reason"),
    [
        (lambda e: e["Event"].pop("uuid"), StixIngestError, "without a valid 'uuid'"),
        (lambda e: e["Event"].pop("info"), StixIngestError, "without 'info'"),
        (
            lambda e: e["Event"]["Attribute"][0].pop("value"),
            StixIngestError,
            "without 'type' and 'value'",
        ),
        (lambda e: e.pop("Event"), IngestError, "not a MISP event"),
    ],
)
def test_refused_events(event, mutate, error, reason) -> None:
    mutate(event)
    with pytest.raises(error, match=reason):
        read_misp(event, source="bad.json")


def test_misp_into_store_idempotent_and_refusal_writes_nothing(store, event) -> None:
    ingest_paths(store, [EVENT], max_tlp=TLP.RED)
    counts = store.counts()
    assert counts["nodes"] == {"Campaign": 1, "Country": 1, "Indicator": 6, "ThreatActor": 1}
    ingest_object(store, event, source="again", max_tlp=TLP.RED)
    assert store.counts() == counts
    broken = copy.deepcopy(event)
    broken["Event"]["uuid"] = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    broken["Event"]["Attribute"].append({"type": "ip-dst"})
    with pytest.raises(StixIngestError):
        ingest_object(store, broken, source="broken", max_tlp=TLP.RED)
    assert store.counts() == counts


def test_bare_event_reads_like_a_wrapped_one(event) -> None:
    wrapped = read_misp(copy.deepcopy(event), source="e.json")
    bare = read_misp(copy.deepcopy(event["Event"]), source="e.json")
    assert bare.counts() == wrapped.counts()
    assert read_misp([copy.deepcopy(event["Event"])], source="e.json").counts() == wrapped.counts()
    assert detect_format(event["Event"]) == "misp"


def test_every_attribute_and_cluster_is_accounted_for(event) -> None:
    batch = read_misp(copy.deepcopy(event), source="e.json")
    counts = batch.ledger.counts()
    assert counts["in"] == sum(counts[k] for k in ("landed", "merged", "pending", "rejected"))
    # The ledger counts misp-stix's STIX objects: each attribute, object and cluster is there
    # under its own uuid (an attribute pymisp refused as indicator--<uuid>).
    accounted = {oid.rpartition("--")[2] for oid in batch.ledger.outcomes}
    ev = event["Event"]
    uuids = [a["uuid"] for a in ev["Attribute"]]
    uuids += [o["uuid"] for o in ev["Object"]]
    uuids += [c["uuid"] for g in ev["Galaxy"] for c in g["GalaxyCluster"]]
    assert set(uuids) <= accounted
    reasons = {e["reason"] for e in batch.ledger.named("rejected")}
    assert all(reasons)
