"""POST/GET /v1/campaigns/{id}/decisions and GET /v1/audit (issue 19), in process and over HTTP."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from actorgraph.api.main import create_app
from tests.helpers.api_helpers import auth
from tests.helpers.api_world import ALPHA, BRAVO, C_ALPHA, C_RED, RED_ACTOR

STORED = "campaign--activity-api-stored"
STORED_LIVE = "campaign--activity-api-live"
UNATTRIBUTED = "campaign--activity-api-unattributed"

HYPOTHESES = """
UNWIND $campaigns AS cid
CREATE (c:Campaign {id: cid, name: cid, tlp: 'clear', tlp_level: 0,
                    attribution_status: 'predicted'})
WITH c
MATCH (a:ThreatActor {id: $alpha}), (b:ThreatActor {id: $bravo})
CREATE (c)-[:PREDICTED_ACTOR {score: 0.7, rank: 1, model_version: 'v-test', tlp: 'clear',
                              tlp_level: 0}]->(a),
       (c)-[:PREDICTED_ACTOR {score: 0.2, rank: 2, model_version: 'v-test', tlp: 'green',
                              tlp_level: 1}]->(b)
"""


@pytest.fixture(scope="module", autouse=True)
def stored(world):
    """Campaigns as ``persist: true`` writes them (hypotheses only), and one unattributed."""
    world.query(HYPOTHESES, {"campaigns": [STORED, STORED_LIVE], "alpha": ALPHA, "bravo": BRAVO})
    world.query(
        "CREATE (:Campaign {id: $id, name: 'loose', tlp: 'clear', tlp_level: 0})",
        {"id": UNATTRIBUTED},
    )


DECISION_KEYS = {
    "id",
    "campaign_id",
    "decision",
    "actor_id",
    "actor_name",
    "reason",
    "confidence",
    "confidence_scales",
    "decided_by",
    "key_id",
    "created",
    "model_version",
    "model_score",
    "model_rank",
    "tlp",
}


def _post(client, key, campaign, **body):
    body = {"reason": "matches the loader's config format", **body}
    return client.post(f"/v1/campaigns/{quote(campaign)}/decisions", json=body, headers=auth(key))


def test_an_analyst_accepts_the_top_hypothesis(client, keys):
    r = _post(client, keys["analyst_clear"], STORED, decision="accept", confidence=85)
    assert r.status_code == 201, r.text
    d = r.json()
    assert (d["actor_id"], d["model_version"], d["model_score"], d["model_rank"]) == (
        ALPHA,
        "v-test",
        0.7,
        1,
    )
    assert d["decided_by"] == "test-analyst_clear" and d["tlp"] == "clear"
    assert d["confidence_scales"] == {
        "stix": 85,
        "admiralty": "1 - Confirmed by other sources",
        "icd203": "Very Likely / Highly Probable",
    }
    profile = client.get(f"/v1/campaigns/{STORED}", headers=auth(keys["reader_clear"])).json()
    assert [a["id"] for a in profile["attributed_to"]] == [ALPHA]
    history = client.get(
        f"/v1/campaigns/{STORED}/decisions", headers=auth(keys["reader_clear"])
    ).json()
    assert history["count"] == 1 and history["data"][0]["id"] == d["id"]
    # The JSON shape of a decision, the same when recorded and when read back.
    assert set(d) == set(history["data"][0]) == DECISION_KEYS
    assert d["actor_name"] is None and history["data"][0]["actor_name"] == "APT Alpha"


def test_roles_and_validation(client, keys):
    assert (
        _post(
            client, keys["reader_red"], UNATTRIBUTED, decision="attribute", actor_id=ALPHA
        ).status_code
        == 403
    )
    assert (
        _post(
            client, keys["revoked"], UNATTRIBUTED, decision="attribute", actor_id=ALPHA
        ).status_code
        == 401
    )
    for bad in (
        {"decision": "maybe"},
        {"decision": "accept", "confidence": 101},
        {"decision": "accept", "reason": ""},
        {"decision": "accept", "extra": 1},
    ):
        assert _post(client, keys["analyst_red"], UNATTRIBUTED, **bad).status_code == 422
    # A campaign a source attributed is not the analysts' to decide here.
    r = _post(client, keys["analyst_red"], C_ALPHA, decision="attribute", actor_id=BRAVO)
    assert r.status_code == 422 and "attributed by a source" in r.json()["detail"]


def test_hidden_campaigns_and_actors_answer_exactly_like_missing_ones(client, keys):
    key = keys["analyst_clear"]
    hidden = _post(client, key, C_RED, decision="attribute", actor_id=ALPHA)
    missing = _post(client, key, "campaign--nope", decision="attribute", actor_id=ALPHA)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(C_RED, "X") == missing.json()["detail"].replace(
        "campaign--nope", "X"
    )
    hidden = _post(client, key, UNATTRIBUTED, decision="attribute", actor_id=RED_ACTOR)
    missing = _post(client, key, UNATTRIBUTED, decision="attribute", actor_id="intrusion-set--x")
    assert hidden.status_code == missing.status_code == 404
    assert {k: v for k, v in hidden.json().items() if k != "detail"} == {
        k: v for k, v in missing.json().items() if k != "detail"
    }
    # The red analyst may, and its decision is invisible below red.
    ok = _post(
        client,
        keys["analyst_red"],
        UNATTRIBUTED,
        decision="attribute",
        actor_id=RED_ACTOR,
        confidence=40,
    )
    assert ok.status_code == 201 and ok.json()["tlp"] == "red"
    seen = client.get(f"/v1/campaigns/{UNATTRIBUTED}/decisions", headers=auth(keys["reader_amber"]))
    assert seen.json() == {"data": [], "count": 0}


def test_audit_is_for_admins_and_survives_a_restart(client, keys, api_settings, world):
    assert client.get("/v1/audit", headers=auth(keys["analyst_red"])).status_code == 403
    _post(client, keys["analyst_clear"], STORED, decision="reject")
    # A new app on the same data directory: the log is a file, not process state.
    with TestClient(create_app(api_settings, store=world, load_model=False)) as restarted:
        r = restarted.get("/v1/audit?action=decision", headers=auth(keys["admin_red"]))
    assert r.status_code == 200
    events = r.json()["data"]
    newest = events[0]
    assert newest["action"] == "decision" and newest["target"] == STORED
    assert newest["who"].endswith("(test-analyst_clear)") and newest["result"] == "ok"
    assert newest["origin"] == "testclient" and newest["detail"]["decision"] == "reject"
    assert any(e["result"].startswith("refused") for e in events)


def test_a_decision_over_http_on_the_real_server(live_server, keys, client):
    r = httpx.post(
        f"{live_server}/v1/campaigns/{STORED_LIVE}/decisions",
        json={"decision": "attribute", "actor_id": BRAVO, "reason": "over HTTP"},
        headers=auth(keys["analyst_red"]),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["model_rank"], r.json()["tlp"]) == (2, "red")
    audit = httpx.get(f"{live_server}/v1/audit", headers=auth(keys["admin_red"])).json()
    assert (audit["data"][0]["event"], audit["data"][0]["origin"]) == (r.json()["id"], "127.0.0.1")


def test_api_ingest_is_audited(client, keys):
    bundle = {"type": "bundle", "id": "bundle--00000000-0000-4000-8000-0000000000b1", "objects": []}
    assert (
        client.post("/v1/bundles", json=bundle, headers=auth(keys["ingest_red"])).status_code == 200
    )
    bad = {"type": "bundle", "id": "not-a-bundle-id", "objects": []}
    assert client.post("/v1/bundles", json=bad, headers=auth(keys["ingest_red"])).status_code == 422
    events = client.get("/v1/audit?action=ingest", headers=auth(keys["admin_red"])).json()["data"]
    assert [(e["target"], e["result"].split(":")[0], e["origin"]) for e in events[:2]] == [
        ("not-a-bundle-id", "refused", "testclient"),
        (bundle["id"], "ok", "testclient"),
    ]
    assert events[0]["who"].endswith("(test-ingest_red)")
