"""Who may call what: no key, bad keys, revoked keys, each role, clearance for ad hoc Cypher."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers.api_helpers import auth
from tests.helpers.api_world import ALPHA, C_ALPHA

ROLE_ORDER = ["reader", "analyst", "ingest", "admin"]
KEY_ROLE = {
    "reader_red": "reader",
    "analyst_red": "analyst",
    "ingest_red": "ingest",
    "admin_red": "admin",
}

# (method, path, json body, least role)
ENDPOINTS = [
    ("GET", "/v1/actors", None, "reader"),
    ("GET", f"/v1/actors/{ALPHA}", None, "reader"),
    ("GET", f"/v1/campaigns/{C_ALPHA}", None, "reader"),
    ("GET", "/v1/indicators/evil[.]example", None, "reader"),
    ("GET", "/v1/queries", None, "reader"),
    ("POST", "/v1/queries/no_such_query", {"params": {}}, "reader"),
    ("POST", "/v1/attributions", {"malware": ["AlphaLoader"]}, "analyst"),
    ("POST", "/v1/cypher", {"query": "MATCH (n) RETURN count(n) AS n"}, "analyst"),
    # An invalid bundle: an allowed caller gets 422 and nothing is written.
    (
        "POST",
        "/v1/bundles",
        {"type": "bundle", "id": "bundle--x", "objects": [{"type": "nope"}]},
        "ingest",
    ),
]


def call(client: TestClient, method: str, path: str, body, headers=None):
    return client.request(method, path, json=body, headers=headers or {})


@pytest.mark.parametrize(("method", "path", "body", "least"), ENDPOINTS)
def test_no_key_is_401_problem(client, method, path, body, least):
    r = call(client, method, path, body)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"].startswith("Bearer")
    problem = r.json()
    assert problem["status"] == 401 and problem["type"].startswith("urn:actorgraph:problem:")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ",
        "Bearer not-a-key",
        "Bearer agk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "Basic dXNlcjpwYXNz",
        "agk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_forged_and_malformed_keys_are_401(client, header):
    r = client.get("/v1/actors", headers={"Authorization": header})
    assert r.status_code == 401, r.text


def test_forged_secret_for_a_real_key_id_is_401(client, keys):
    real = keys["admin_red"]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    assert client.get("/v1/actors", headers=auth(forged)).status_code == 401
    assert client.get("/v1/actors", headers=auth(real)).status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "least"), ENDPOINTS)
def test_revoked_key_is_401(client, keys, method, path, body, least):
    assert call(client, method, path, body, auth(keys["revoked"])).status_code == 401


@pytest.mark.parametrize(("method", "path", "body", "least"), ENDPOINTS)
@pytest.mark.parametrize("key_name", list(KEY_ROLE))
def test_role_matrix(client, keys, method, path, body, least, key_name):
    r = call(client, method, path, body, auth(keys[key_name]))
    allowed = ROLE_ORDER.index(KEY_ROLE[key_name]) >= ROLE_ORDER.index(least)
    if allowed:
        assert r.status_code not in (401, 403), (key_name, path, r.status_code, r.text)
    else:
        assert r.status_code == 403, (key_name, path, r.status_code, r.text)
        assert r.json()["type"] == "urn:actorgraph:problem:forbidden"
        assert least in r.json()["detail"]


def test_cypher_needs_red_clearance_even_for_analysts(client, keys):
    r = client.post(
        "/v1/cypher",
        json={"query": "MATCH (n) RETURN n LIMIT 1"},
        headers=auth(keys["analyst_clear"]),
    )
    assert r.status_code == 403
    assert "red" in r.json()["detail"]
    r = client.post(
        "/v1/cypher",
        json={"query": "MATCH (n) RETURN count(n) AS n"},
        headers=auth(keys["analyst_red"]),
    )
    assert r.status_code == 200, r.text


def test_revocation_takes_effect_at_the_next_request(client, api_settings):
    from actorgraph.api.keys import KeyStore

    store = KeyStore(api_settings.home / "keys.sqlite")
    record, token = store.create("reader", tlp="clear", name="soon-revoked")
    assert client.get("/v1/actors", headers=auth(token)).status_code == 200
    store.revoke(record.id)
    assert client.get("/v1/actors", headers=auth(token)).status_code == 401


def test_operations_endpoints_need_no_key(client):
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/metrics").status_code == 200
    ready = client.get("/readyz")
    # No model in this app: not ready, and it says why.
    assert ready.status_code == 503
    assert ready.json()["checks"]["store"]["ok"] is True
    assert ready.json()["checks"]["model"]["ok"] is False
