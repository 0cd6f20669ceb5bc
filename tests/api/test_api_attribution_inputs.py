"""POST /v1/attributions with a MISP event, the dates of a stored campaign, and the confidence
scales the console names its bands from; a real (tiny) trained model on the tiny world."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from actorgraph.api.models import (
    MAX_INDICATORS,
    ActivityBody,
    MispEvent,
    SimpleActivity,
    StixBundle,
    activity_format,
)
from actorgraph.graph.confidence import ADMIRALTY, ICD203
from tests.helpers.activity_inputs import EVENT, SIMPLE
from tests.helpers.api_helpers import attribute, auth
from tests.helpers.api_world import ALPHA

pytestmark = pytest.mark.slow  # trains a tiny model (about 10 s with the imports)


@pytest.mark.parametrize(
    ("body", "model"),
    [
        ({"type": "bundle", "id": "bundle--x", "objects": []}, StixBundle),
        ({"Event": EVENT}, MispEvent),
        (EVENT, MispEvent),
        (SIMPLE, SimpleActivity),
    ],
)
def test_a_body_is_validated_as_the_form_the_parsers_tell(body, model):
    # The API's discriminator and ``actorgraph attribute`` read forms by one rule
    # (``gnn.activity.activity_format``, tested with the parsers).
    parsed = TypeAdapter(ActivityBody).validate_python(body)
    assert type(parsed) is model
    assert activity_format(parsed) == activity_format(body)


@pytest.mark.parametrize("wrapped", [True, False], ids=["Event-wrapper", "bare-event"])
def test_a_misp_event_is_attributed_like_the_same_indicators_in_simple_form(
    model_client, keys, wrapped
):
    body = {"Event": EVENT, "top_k": 3} if wrapped else {**EVENT, "top_k": 3}
    misp = attribute(model_client, keys["analyst_red"], body)
    simple = attribute(model_client, keys["analyst_red"], {**SIMPLE, "top_k": 3})
    assert misp["candidates"][0]["actor_id"] == ALPHA
    assert [c["actor_id"] for c in misp["candidates"]] == [
        c["actor_id"] for c in simple["candidates"]
    ]
    assert {e["entity"]["id"] for e in misp["evidence"]} == {
        e["entity"]["id"] for e in simple["evidence"]
    }


def test_a_pasted_indicator_list_is_read_as_the_cli_reads_an_indicator_file(model_client, keys):
    # What the console sends for a pasted list: the first field of each line, comments skipped.
    text = "# from a vendor post\nDomain\tNote\nevil[.]example\tC2\n203.0.113[.]7  staging\n"
    pasted = attribute(model_client, keys["analyst_red"], {"text": text, "top_k": 3})
    simple = attribute(model_client, keys["analyst_red"], {**SIMPLE, "top_k": 3})
    assert [c["actor_id"] for c in pasted["candidates"]] == [
        c["actor_id"] for c in simple["candidates"]
    ]
    assert pasted["candidates"][0]["actor_id"] == ALPHA
    assert [s["value"] for s in pasted["skipped"]] == ["Domain"]


def test_a_pasted_list_may_hold_as_many_values_as_the_list_form():
    # The limit the ``indicators`` list has, counted in values (lines), not characters;
    # comments do not count. (The test app's body limit is below such a body: the model.)
    lines = [f"198.51.{i // 256 % 256}.{i % 256}" for i in range(MAX_INDICATORS + 1)]
    body = TypeAdapter(ActivityBody)
    with pytest.raises(PydanticValidationError, match=f"more than {MAX_INDICATORS} values"):
        body.validate_python({"text": "\n".join(lines)})
    ok = body.validate_python({"text": "\n".join(["# header", *lines[1:]])})
    assert isinstance(ok, SimpleActivity)


def test_a_misp_attribute_pymisp_refuses_is_listed_as_skipped(model_client, keys):
    bad = {"type": "ip-src", "category": "Network activity", "value": "999.1.1.1"}
    body = {"Event": {**EVENT, "Attribute": [*EVENT["Attribute"], bad]}, "top_k": 3}
    result = attribute(model_client, keys["analyst_red"], body)
    assert result["candidates"][0]["actor_id"] == ALPHA
    assert [s["value"] for s in result["skipped"]] == ["999.1.1.1"]
    assert "invalid" in result["skipped"][0]["reason"].lower()


def test_a_misp_event_without_uuid_or_with_nothing_to_read_is_422(model_client, keys):
    no_uuid = {k: v for k, v in EVENT.items() if k != "uuid"}
    only_text = {**EVENT, "Attribute": [{"type": "text", "value": "hello"}]}
    for body in ({"Event": no_uuid}, only_text, {"Event": "not an event"}):
        r = model_client.post("/v1/attributions", json=body, headers=auth(keys["analyst_red"]))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")


def test_a_bundle_with_a_garbage_observation_date_is_422_naming_the_object(model_client, keys):
    observed = "observed-data--00000000-0000-4000-8000-0000000000e1"
    bundle = {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-0000000000e0",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--00000000-0000-4000-8000-0000000000e2",
                "created": "2024-05-03T00:00:00.000Z",
                "modified": "2024-05-03T00:00:00.000Z",
                "valid_from": "2024-05-02T00:00:00Z",
                "pattern": "[domain-name:value = 'evil.example']",
                "pattern_type": "stix",
            },
            {
                "type": "observed-data",
                "spec_version": "2.1",
                "id": observed,
                "created": "2024-05-03T00:00:00.000Z",
                "modified": "2024-05-03T00:00:00.000Z",
                "first_observed": "garbage",
                "last_observed": "2024-05-03T00:00:00.000Z",
                "number_observed": 1,
                "object_refs": ["indicator--00000000-0000-4000-8000-0000000000e2"],
            },
        ],
    }
    r = model_client.post("/v1/attributions", json=bundle, headers=auth(keys["analyst_red"]))
    assert r.status_code == 422, r.text
    assert observed in r.json()["detail"]


def _campaign(client: TestClient, key: str, campaign: str) -> dict:
    r = client.get(f"/v1/campaigns/{campaign}", headers=auth(key))
    assert r.status_code == 200, r.text
    return r.json()["campaign"]


def test_a_stored_stix_activity_is_dated_by_its_objects(model_client, keys):
    bundle = {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-0000000000d1",
        "objects": [
            {
                "type": "marking-definition",  # its date is not the activity's
                "spec_version": "2.1",
                "id": "marking-definition--00000000-0000-4000-8000-0000000000d9",
                "created": "2017-01-20T00:00:00.000Z",
                "definition_type": "statement",
                "definition": {"statement": "dated test"},
            },
            *(
                {
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": f"indicator--00000000-0000-4000-8000-0000000000d{i}",
                    "created": created,
                    "modified": created,
                    "valid_from": valid_from,
                    "pattern": pattern,
                    "pattern_type": "stix",
                }
                for i, created, valid_from, pattern in (
                    (
                        2,
                        "2024-05-03T00:00:00.000Z",
                        "2024-05-02T00:00:00Z",
                        "[domain-name:value = 'evil.example']",
                    ),
                    (
                        3,
                        "2024-06-30T00:00:00.000Z",
                        "2024-06-30T12:00:00Z",
                        "[ipv4-addr:value = '203.0.113.7']",
                    ),
                )
            ),
        ],
        "persist": True,
    }
    stored = attribute(model_client, keys["analyst_red"], bundle)
    campaign = _campaign(model_client, keys["reader_red"], stored["persisted"]["campaign_id"])
    assert (campaign["first_seen"], campaign["last_seen"]) == (
        "2024-05-02T00:00:00.000Z",
        "2024-06-30T12:00:00.000Z",
    )


def test_a_stored_misp_event_is_dated_by_the_event(model_client, keys):
    event = copy.deepcopy(EVENT)
    event["uuid"] = "5e1c1d6a-1b2c-4d5e-9f00-0a0b0c0d0ebb"
    event["Attribute"].append({"type": "domain", "value": "dated-misp.example"})
    stored = attribute(model_client, keys["analyst_red"], {"Event": event, "persist": True})
    campaign = _campaign(model_client, keys["reader_red"], stored["persisted"]["campaign_id"])
    assert campaign["first_seen"].startswith("2024-03-01")
    assert campaign["last_seen"] >= campaign["first_seen"]


def test_a_stored_simple_activity_is_dated_by_the_request(model_client, keys):
    before = datetime.now(UTC).isoformat()
    body = {"indicators": ["evil[.]example", "dated-simple[.]example"], "persist": True}
    stored = attribute(model_client, keys["analyst_red"], body)
    after = datetime.now(UTC).isoformat()
    campaign = _campaign(model_client, keys["reader_red"], stored["persisted"]["campaign_id"])
    assert campaign["first_seen"] == campaign["last_seen"] == campaign["created"]
    assert before[:19] <= campaign["first_seen"][:19] <= after[:19]


def test_the_confidence_scales_are_those_of_graph_confidence(model_client, keys):
    r = model_client.get("/v1/confidence-scales", headers=auth(keys["reader_clear"]))
    assert r.status_code == 200, r.text
    scales = r.json()
    for name, scale in (("admiralty", ADMIRALTY), ("icd203", ICD203)):
        bands = scales[name]
        assert [(b["low"], b["name"]) for b in bands] == list(scale)
        # The bands cover 0-100 without gap or overlap, highest first.
        assert bands[0]["high"] == 100 and bands[-1]["low"] == 0
        assert all(a["low"] == b["high"] + 1 for a, b in pairwise(bands))
    assert scales["admiralty_unjudged"] == "6 - Truth cannot be judged"
    assert "Very Likely" in json.dumps(scales["icd203"])


def test_the_confidence_scales_need_a_key(model_client):
    r = model_client.get("/v1/confidence-scales")
    assert r.status_code == 401
