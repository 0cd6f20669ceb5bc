"""The share routes in process: ``GET /v1/export`` and ``GET /v1/actors/{id}/briefing``."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from actorgraph.api.keys import KeyStore
from actorgraph.api.main import create_app
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.tlp import TLP
from actorgraph.settings import Settings
from tests.helpers.paths import APT28_BUNDLE as FIXTURE

APT28 = "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"
CAMPAIGN = "campaign--83422c77-904c-4dc1-aff5-5c38f3a2c55c"
RED_C2 = "infrastructure--d09c50cf-5bab-465e-9e2d-543912148b73"


@pytest.fixture(scope="module")
def share_client(server, server_home):
    graph = server.with_graph(f"share-{uuid.uuid4().hex[:12]}")
    graph.ensure_schema()
    bundle = json.loads(FIXTURE.read_text())
    ingest_object(graph, bundle, "apt28_campaign.json", max_tlp=TLP.RED)
    keys = KeyStore(server_home / "keys.sqlite")
    tokens = {
        tlp: keys.create("reader", tlp=tlp, name=f"share-{tlp}")[1]
        for tlp in ("clear", "amber", "red")
    }
    settings = Settings(home=server_home, graph=graph.graph_name, api_rate_limit_per_minute=100_000)
    app = create_app(settings, store=graph, load_model=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}
    graph.clear()
    graph.close()


def test_export_is_capped_at_the_key_clearance(share_client):
    client, auth = share_client
    resp = client.get("/v1/export", params={"actor": "APT28"}, headers=auth["amber"])
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/stix+json;version=2.1"
    ids = {o["id"] for o in resp.json()["objects"]}
    assert APT28 in ids and CAMPAIGN in ids and RED_C2 not in ids
    red = client.get("/v1/export", params={"actor": "APT28"}, headers=auth["red"]).json()
    assert RED_C2 in {o["id"] for o in red["objects"]}
    # A lower max_tlp narrows; a higher one never widens past the key.
    low = client.get(
        "/v1/export", params={"actor": "APT28", "max_tlp": 1}, headers=auth["red"]
    ).json()
    assert CAMPAIGN not in {o["id"] for o in low["objects"]}
    high = client.get("/v1/export", params={"max_tlp": 4}, headers=auth["amber"]).json()
    assert RED_C2 not in {o["id"] for o in high["objects"]}


def test_export_errors_are_problem_details(share_client):
    client, auth = share_client
    assert client.get("/v1/export").status_code == 401
    missing = client.get("/v1/export", params={"actor": "nobody"}, headers=auth["red"])
    assert (
        missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    )
    # APT28 is green: a clear key cannot learn it exists.
    assert (
        client.get("/v1/export", params={"actor": APT28}, headers=auth["clear"]).status_code == 404
    )
    assert (
        client.get("/v1/export", params={"since": "soon"}, headers=auth["red"]).status_code == 422
    )


def test_briefing_in_three_formats(share_client):
    client, auth = share_client
    data = client.get(f"/v1/actors/{APT28}/briefing", headers=auth["amber"]).json()
    assert data["name"] == "APT28" and data["country"] == "RU"
    assert [c["name"] for c in data["campaigns"]] == ["Operation Frozen Inbox"]
    md = client.get(
        "/v1/actors/Fancy Bear/briefing", params={"format": "md"}, headers=auth["amber"]
    )
    assert md.status_code == 200 and md.text.startswith("# APT28")
    assert md.headers["content-type"].startswith("text/markdown")
    page = client.get(
        f"/v1/actors/{APT28}/briefing", params={"format": "html"}, headers=auth["amber"]
    )
    assert page.headers["content-type"].startswith("text/html") and "<style>" in page.text
    assert client.get(f"/v1/actors/{APT28}/briefing", headers=auth["clear"]).status_code == 404
    assert (
        client.get(
            f"/v1/actors/{APT28}/briefing", params={"format": "pdf"}, headers=auth["red"]
        ).status_code
        == 422
    )


def test_attribution_result_to_stix_over_http(share_client):
    client, auth = share_client
    result = {
        "input": "x.json",
        "model": {"version": "m1"},
        "candidates": [{"rank": 1, "actor_id": APT28, "name": "APT28", "score": 0.5}],
        "countries": [],
        "unknown": 0.4,
        "evidence": [],
    }
    # Converting needs the analyst role; readers may not.
    assert (
        client.post(
            "/v1/export/attribution", json={"result": result}, headers=auth["red"]
        ).status_code
        == 403
    )
    keys = KeyStore(client.app.state.actorgraph.settings.home / "keys.sqlite")
    analyst = {
        "Authorization": f"Bearer {keys.create('analyst', tlp='red', name='share-analyst')[1]}"
    }
    resp = client.post("/v1/export/attribution", json={"result": result}, headers=analyst)
    assert (
        resp.status_code == 200
        and resp.headers["content-type"] == "application/stix+json;version=2.1"
    )
    rel = next(o for o in resp.json()["objects"] if o["type"] == "relationship")
    assert rel["confidence"] == 50 and rel["x_actorgraph_hypothesis"] is True
    bad = {**result, "candidates": [{"rank": "first", "actor_id": APT28, "score": "high"}]}
    assert (
        client.post("/v1/export/attribution", json={"result": bad}, headers=analyst).status_code
        == 422
    )
