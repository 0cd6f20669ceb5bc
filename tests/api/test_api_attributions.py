"""POST /v1/attributions with a real (tiny) trained model on the tiny world."""

from __future__ import annotations

import json

import pytest

from tests.helpers.api_helpers import auth
from tests.helpers.api_world import ALPHA, RED_ACTOR

pytestmark = pytest.mark.slow  # trains a tiny model (about 10 s with the imports)

CLI_KEYS = {"input", "model", "candidates", "countries", "unknown", "evidence"}
ACTIVITY = {"malware": ["AlphaLoader"], "techniques": ["T1999"], "indicators": ["evil[.]example"]}


def test_simple_json_is_attributed_like_the_cli(model_client, keys):
    r = model_client.post("/v1/attributions", json=ACTIVITY, headers=auth(keys["analyst_red"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= CLI_KEYS
    assert body["candidates"][0]["actor_id"] == ALPHA
    assert body["candidates"][0]["rank"] == 1
    assert 0.0 <= body["unknown"] <= 1.0
    assert body["evidence"], "the top candidate comes with evidence paths"
    assert body.get("persisted") is None


def test_evidence_and_candidates_respect_clearance(model_client, keys):
    low = model_client.post(
        "/v1/attributions", json={**ACTIVITY, "top_k": 10}, headers=auth(keys["analyst_clear"])
    )
    assert low.status_code == 200, low.text
    text = json.dumps(low.json())
    assert "SECRET" not in text and RED_ACTOR not in text
    assert "KP" not in {c["country"] for c in low.json()["countries"]}
    high = model_client.post(
        "/v1/attributions", json={**ACTIVITY, "top_k": 10}, headers=auth(keys["analyst_red"])
    )
    assert RED_ACTOR in json.dumps(high.json())  # the control: red keys do see it


def test_stix_bundle_is_accepted(model_client, keys):
    bundle = {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-0000000000b1",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--00000000-0000-4000-8000-0000000000b2",
                "created": "2024-05-01T00:00:00.000Z",
                "modified": "2024-05-01T00:00:00.000Z",
                "pattern": "[domain-name:value = 'evil.example']",
                "pattern_type": "stix",
                "valid_from": "2024-05-01T00:00:00Z",
            }
        ],
    }
    r = model_client.post("/v1/attributions", json=bundle, headers=auth(keys["analyst_red"]))
    assert r.status_code == 200, r.text
    assert r.json()["candidates"][0]["actor_id"] == ALPHA


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"indicators": ["999.1.1.1"]},
        {"indicators": ["not an indicator at all"]},
        {"malware": "AlphaLoader"},
        {"malware": ["x"], "unexpected": 1},
        {"malware": ["x"], "top_k": 0},
        {"type": "bundle", "id": "bundle--x", "objects": [{"type": "indicator"}]},
        [1, 2, 3],
        "just a string",
    ],
)
def test_malformed_activity_is_422(model_client, keys, body):
    r = model_client.post("/v1/attributions", json=body, headers=auth(keys["analyst_red"]))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_persist_writes_hypotheses_not_attributions(model_client, keys, world):
    r = model_client.post(
        "/v1/attributions",
        json={**ACTIVITY, "persist": True, "name": "api-persist"},
        headers=auth(keys["analyst_red"]),
    )
    assert r.status_code == 200, r.text
    campaign = r.json()["persisted"]["campaign_id"]
    profile = model_client.get(f"/v1/campaigns/{campaign}", headers=auth(keys["reader_red"])).json()
    assert profile["attributed_to"] == []
    assert profile["hypotheses"][0]["id"] == ALPHA
    assert profile["hypotheses"][0]["model_version"]
    rels = world.query(
        "MATCH (c:Campaign {id: $id})-[r]->(:ThreatActor) RETURN DISTINCT type(r) AS t",
        {"id": campaign},
    )
    assert [row["t"] for row in rels] == ["PREDICTED_ACTOR"]


def test_ready_and_counted(model_client, keys):
    assert model_client.get("/readyz").status_code == 200
    metrics = model_client.get("/metrics").text
    assert 'actorgraph_attributions_total{top="candidate",persisted="no"}' in metrics
    assert "actorgraph_store_query_duration_seconds_bucket" in metrics


def test_no_model_is_a_clean_503(client, keys):
    r = client.post("/v1/attributions", json=ACTIVITY, headers=auth(keys["analyst_red"]))
    assert r.status_code == 503
    assert r.json()["type"] == "urn:actorgraph:problem:no-model"
