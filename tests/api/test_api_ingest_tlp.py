"""POST /v1/bundles with keys below red (issue 18, findings 2 and 11): an ingest key cannot
declassify, overwrite or link to what it may not read, and cannot learn that it exists; a STIX
id is republished only at the marking it came with.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from actorgraph.api.keys import KeyStore
from actorgraph.api.routes.taxii import COLLECTIONS, clear_cache
from actorgraph.graph.formats.stix_out import TLP2_IDS
from actorgraph.graph.tlp import TLP
from tests.helpers.api_helpers import auth
from tests.helpers.api_world import C_RED

T0 = "2024-01-01T00:00:00.000Z"
CLEAR_COLLECTION = next(cid for cid, (level, _) in COLLECTIONS.items() if level == TLP.CLEAR)


@pytest.fixture(scope="module")
def low_keys(api_settings) -> dict[str, str]:
    """Ingest keys cleared below red (conftest's ingest key is red)."""
    store = KeyStore(api_settings.home / "keys.sqlite")
    out = {}
    for tlp in ("clear", "green"):
        _, out[tlp] = store.create("ingest", tlp=tlp, name=f"test-ingest-{tlp}")
    return out


def sdo(stix_type: str, stix_id: str | None = None, level: TLP = TLP.CLEAR, **props: Any):
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": stix_id or f"{stix_type}--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "object_marking_refs": [TLP2_IDS[level.label]],
        **props,
    }


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "bundle",
        "id": "bundle--6b0e3f1c-2d4a-4b5c-9d6e-7f8091a2b3c4",
        "objects": objects,
    }


def post(client, token: str, body: dict[str, Any]):
    return client.post("/v1/bundles", json=body, params={"source": "probe"}, headers=auth(token))


def test_a_clear_ingest_key_cannot_declassify_a_red_campaign(client, keys, low_keys, world):
    """The issue's reproduction: the red campaign's id re-sent marked TLP:CLEAR, modified 2030."""
    resent = sdo(
        "campaign",
        C_RED,
        name="Operation declassified",
        description="now public",
        modified="2030-01-01T00:00:00.000Z",
    )
    r = post(client, low_keys["clear"], bundle(resent))
    assert r.status_code == 200, r.text
    hidden = client.get(f"/v1/campaigns/{C_RED}", headers=auth(keys["reader_clear"]))
    assert hidden.status_code == 404
    red = client.get(f"/v1/campaigns/{C_RED}", headers=auth(keys["reader_red"]))
    campaign = red.json()["campaign"]
    assert (campaign["tlp"], campaign["name"]) == ("red", "Operation SECRET-RED")
    assert "description" not in campaign


def _without(body: dict[str, Any], ref: str) -> str:
    return json.dumps(body, sort_keys=True).replace(ref, "<ref>")


@pytest.mark.parametrize("who", ["clear", "green"])
def test_a_hidden_reference_gets_the_answer_of_an_unknown_one(client, low_keys, world, who):
    """Existence oracle: an existing red id was accepted (200) where an unknown one got 422.
    Now both land with the reference pending, and the answers match but for the timing."""
    answers = []
    for ref in (C_RED, f"campaign--{uuid.uuid4()}"):
        report = sdo(
            "report",
            "report--00000000-0000-4000-8000-0000000000aa",
            name="probe",
            published=T0,
            object_refs=[ref],
        )
        r = post(client, low_keys[who], bundle(report))
        body = r.json()
        body.pop("seconds", None)
        answers.append((r.status_code, r.headers["content-type"], _without(body, ref)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200
    assert '"pending": [{"missing": "<ref>"' in answers[0][2]


def test_no_edge_onto_a_hidden_node_and_the_same_report(client, keys, low_keys, world):
    """The red campaign sent along (so nothing dangles) with a new malware it 'uses': the
    answer equals that for an absent campaign, and the red node gets no edge."""
    answers = []
    for campaign_id in (C_RED, f"campaign--{uuid.uuid4()}"):
        malware = sdo("malware", name="ProbeRAT", is_family=True)
        uses = sdo(
            "relationship",
            relationship_type="uses",
            source_ref=campaign_id,
            target_ref=malware["id"],
        )
        body = bundle(sdo("campaign", campaign_id, name="probe"), malware, uses)
        r = post(client, low_keys["clear"], body)
        assert r.status_code == 200, r.text
        answer = r.json()
        answer.pop("seconds")
        answers.append(answer)
    assert answers[0] == answers[1]
    linked = world.query(
        "MATCH (c:Campaign {id: $id})-[:USES]->(m:Malware {name: 'ProbeRAT'}) RETURN count(m) AS n",
        {"id": C_RED},
    )
    assert linked == [{"n": 0}]


def test_input_above_the_key_clearance_is_refused(client, low_keys, world):
    red = sdo("malware", level=TLP.RED, name="PlantedRAT", is_family=True)
    r = post(client, low_keys["green"], bundle(red))
    assert r.status_code == 422
    assert "above the writer's clearance" in r.json()["detail"]
    assert world.query("MATCH (m:Malware {name: 'PlantedRAT'}) RETURN count(m) AS n") == [{"n": 0}]


def test_a_red_id_is_not_republished_at_clear(client, keys, world):
    """A clear and an older red indicator of one value (finding 11): neither /v1/export nor
    the TAXII CLEAR collection names the red indicator's id."""
    pattern = "[domain-name:value = 'twice-api.example']"
    clear_one = sdo(
        "indicator",
        pattern=pattern,
        pattern_type="stix",
        valid_from=T0,
        modified="2026-01-01T00:00:00.000Z",
    )
    red_one = sdo("indicator", level=TLP.RED, pattern=pattern, pattern_type="stix", valid_from=T0)
    for body in (bundle(clear_one), bundle(red_one)):
        assert post(client, keys["ingest_red"], body).status_code == 200
    clear_cache()
    exported = client.get("/v1/export", headers=auth(keys["reader_clear"]))
    assert exported.status_code == 200
    assert red_one["id"] not in exported.text
    taxii = client.get(
        f"/taxii2/api/collections/{CLEAR_COLLECTION}/objects/",
        headers={**auth(keys["reader_clear"]), "Accept": "application/taxii+json;version=2.1"},
    )
    assert taxii.status_code == 200, taxii.text
    assert red_one["id"] not in taxii.text
    assert red_one["id"] in client.get("/v1/export", headers=auth(keys["reader_red"])).text
