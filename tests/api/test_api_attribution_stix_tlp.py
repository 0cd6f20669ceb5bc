"""POST /v1/export/attribution by clearance: every object of the bundle carries a TLP marking at
least the requester's clearance (an unmarked object reads as TLP:CLEAR to a consumer), an
activity object keeps its own stricter marking, and the bundle holds the TLP 2.0 marking
definitions it refers to."""

from __future__ import annotations

import json

import pytest

from actorgraph.graph.formats.provenance import TLP_MARKING_IDS
from actorgraph.graph.formats.stix_out import TLP2_IDS
from actorgraph.graph.tlp import TLP
from tests.helpers.api_helpers import attribute, auth

pytestmark = pytest.mark.slow  # trains a tiny model (about 10 s with the imports)

# Red evidence for a red key: a red implant and a red indicator of the red campaign.
ACTIVITY = {
    "malware": ["AlphaLoader", "SECRET-RED-implant"],
    "techniques": ["T1999"],
    "indicators": ["evil[.]example", "secret-red[.]example"],
}
AMBER_V1 = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"  # TLP 1.0 AMBER
INDICATOR = "indicator--00000000-0000-4000-8000-0000000000e1"
UNMARKED = "indicator--00000000-0000-4000-8000-0000000000e2"


def _indicator(id_: str, domain: str, marks: list[str] | None) -> dict:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": id_,
        "created": "2024-05-01T00:00:00.000Z",
        "modified": "2024-05-01T00:00:00.000Z",
        "pattern": f"[domain-name:value = '{domain}']",
        "pattern_type": "stix",
        "valid_from": "2024-05-01T00:00:00Z",
    }
    return {**obj, "object_marking_refs": marks} if marks else obj


# The activity as STIX: one indicator its sender marked amber (TLP 1.0), one it left unmarked.
ACTIVITY_BUNDLE = {
    "type": "bundle",
    "id": "bundle--00000000-0000-4000-8000-0000000000e0",
    "objects": [
        _indicator(INDICATOR, "evil.example", [AMBER_V1]),
        _indicator(UNMARKED, "secret-red.example", None),
    ],
}


def _export(client, key: str, result: dict) -> dict:
    body = {"result": result, "activity": ACTIVITY_BUNDLE}
    r = client.post("/v1/export/attribution", json=body, headers=auth(key))
    assert r.status_code == 200, r.text
    return r.json()


def _levels(bundle: dict) -> dict[str, TLP | None]:
    """Each marked object's TLP level (None: no TLP marking), marking definitions aside."""
    return {
        o["id"]: TLP.strictest(TLP_MARKING_IDS.get(m) for m in o.get("object_marking_refs") or [])
        for o in bundle["objects"]
        if o["type"] != "marking-definition"
    }


def _defined_markings(bundle: dict) -> set[str]:
    return {o["id"] for o in bundle["objects"] if o["type"] == "marking-definition"}


def test_a_red_keys_bundle_is_red_throughout(model_client, keys):
    result = attribute(model_client, keys["analyst_red"], {**ACTIVITY, "top_k": 5})
    assert "SECRET" in json.dumps(result["evidence"])  # the control: red evidence went in
    bundle = _export(model_client, keys["analyst_red"], result)
    levels = _levels(bundle)
    assert {"campaign", "relationship", "note", "intrusion-set", "indicator"} <= {
        o["type"] for o in bundle["objects"]
    }
    assert set(levels.values()) == {TLP.RED}, levels
    assert _defined_markings(bundle) == {TLP2_IDS["red"]}


def test_a_clear_keys_bundle_keeps_an_activity_objects_stricter_marking(model_client, keys):
    result = attribute(model_client, keys["analyst_clear"], ACTIVITY)
    bundle = _export(model_client, keys["analyst_clear"], result)
    levels = _levels(bundle)
    assert None not in levels.values(), levels
    # The sender's amber is kept (as TLP 2.0), never lowered to the requester's clear.
    assert levels.pop(INDICATOR) == TLP.AMBER
    assert set(levels.values()) == {TLP.CLEAR}
    marked = next(o for o in bundle["objects"] if o["id"] == INDICATOR)
    assert marked["object_marking_refs"] == [TLP2_IDS["amber"]]
    refs = {m for o in bundle["objects"] for m in o.get("object_marking_refs") or []}
    assert refs == {TLP2_IDS["clear"], TLP2_IDS["amber"]} == _defined_markings(bundle)


def test_a_result_computed_for_a_stricter_clearance_keeps_it(model_client, keys):
    # A red analyst's answer, handed to a clear key for export: the answer says it is red.
    result = attribute(model_client, keys["analyst_red"], ACTIVITY)
    assert result["model"]["clearance"] == "red"
    levels = _levels(_export(model_client, keys["analyst_clear"], result))
    assert set(levels.values()) == {TLP.RED}, levels
