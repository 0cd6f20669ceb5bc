"""POST /v1/bundles with the project's STIX and MISP fixtures: reports, refusals, idempotency."""

from __future__ import annotations

import json

import pytest

from tests.helpers.api_helpers import auth
from tests.helpers.paths import FIXTURES


def count(store) -> tuple[int, int]:
    nodes = store.query("MATCH (n) RETURN count(n) AS c")[0]["c"]
    rels = store.query("MATCH ()-[r]->() RETURN count(r) AS c")[0]["c"]
    return nodes, rels


def post(client, keys, body, **params):
    return client.post("/v1/bundles", json=body, params=params, headers=auth(keys["ingest_red"]))


def test_stix_bundle_report_and_idempotency(client, keys, world):
    bundle = json.loads((FIXTURES / "stix" / "apt28_campaign.json").read_text())
    before = count(world)
    first = post(client, keys, bundle, source="fixture-upload")
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["source"] == "fixture-upload" and report["format"] == "stix"
    assert sum(report["nodes"].values()) > 0
    after = count(world)
    assert after > before
    assert post(client, keys, bundle).status_code == 200
    assert count(world) == after  # the same input twice changes no count


def test_misp_event_is_ingested(client, keys, world):
    event = json.loads((FIXTURES / "misp" / "apt28_phishing_event.json").read_text())
    r = post(client, keys, event)
    assert r.status_code == 200, r.text
    assert r.json()["format"] == "misp"


def test_dangling_reference_lands_the_rest_and_the_answer_accounts_for_it(client, keys, world):
    body = json.loads((FIXTURES / "stix" / "dangling_ref.json").read_text())
    r = post(client, keys, body)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["nodes"] == {"ThreatActor": 1}
    assert report["objects"] == {"in": 2, "landed": 1, "merged": 0, "pending": 1, "rejected": 0}
    [pending] = report["pending"]
    assert pending["missing"] == "malware--deadbeef-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    "name",
    [
        "stix/bad_pattern.json",
        "stix/malformed_missing_pattern.json",
        "stix/not_a_bundle.json",
        "misp/missing_uuid_event.json",
    ],
)
def test_refused_inputs_write_nothing(client, keys, world, name):
    body = json.loads((FIXTURES / name).read_text())
    before = count(world)
    r = post(client, keys, body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"]
    assert count(world) == before


def test_bundle_format_can_be_forced(client, keys):
    bundle = json.loads((FIXTURES / "stix" / "apt28_campaign.json").read_text())
    assert post(client, keys, bundle, fmt="misp").status_code == 422
    assert post(client, keys, bundle, fmt="nonsense").status_code == 422
