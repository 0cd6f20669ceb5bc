"""The real server: `actorgraph serve` in its own process, spoken to over HTTP on localhost."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from urllib.parse import quote

import httpx
import pytest

from tests.helpers.api_helpers import auth
from tests.helpers.api_world import ALPHA
from tests.helpers.cli import ag
from tests.helpers.server import serve

INTRUSION_SET = "intrusion-set--11111111-1111-4111-8111-111111111111"
TS = "2024-06-01T00:00:00.000Z"
BUNDLE = {
    "type": "bundle",
    "id": "bundle--11111111-1111-4111-8111-111111111100",
    "objects": [
        {
            "type": "intrusion-set",
            "spec_version": "2.1",
            "id": INTRUSION_SET,
            "created": TS,
            "modified": TS,
            "name": "Live Ingest Group",
            "aliases": ["LIG"],
        },
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--11111111-1111-4111-8111-111111111102",
            "created": TS,
            "modified": TS,
            "pattern": "[domain-name:value = 'live-ingest.example']",
            "pattern_type": "stix",
            "valid_from": TS,
        },
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": "relationship--11111111-1111-4111-8111-111111111103",
            "created": TS,
            "modified": TS,
            "relationship_type": "indicates",
            "source_ref": "indicator--11111111-1111-4111-8111-111111111102",
            "target_ref": INTRUSION_SET,
        },
    ],
}


def test_health_and_auth_over_http(live_server, keys):
    assert httpx.get(f"{live_server}/healthz").json()["status"] == "ok"
    r = httpx.get(f"{live_server}/v1/actors")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    r = httpx.get(f"{live_server}/v1/actors/{ALPHA}", headers=auth(keys["reader_clear"]))
    assert r.status_code == 200 and r.json()["actor"]["name"] == "APT Alpha"
    assert httpx.get(f"{live_server}/v1/actors", headers=auth(keys["revoked"])).status_code == 401
    assert (
        httpx.post(
            f"{live_server}/v1/bundles", json=BUNDLE, headers=auth(keys["analyst_red"])
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("evil[.]example", 200),
        ("EVIL.example.", 200),
        ("203.0.113[.]7", 200),
        ("hxxp://evil[.]example/path?q=1", 404),  # valid but unknown URL
        ("AB" * 32, 200),  # 64 hex: not a known sha256, but a known certificate fingerprint
        ("cd" * 32, 404),
        ("999.1.1.1", 422),
        ("not an indicator", 422),
        ("a" * 39, 422),  # a 39-hex "sha1"
        ("%00%ff", 422),
        ("../../etc/passwd", 422),
    ],
)
def test_defanged_and_garbage_indicators(live_server, keys, value, status):
    r = httpx.get(
        f"{live_server}/v1/indicators/{quote(value, safe='')}", headers=auth(keys["reader_red"])
    )
    assert r.status_code == status, r.text
    if status == 200:
        assert r.json()["query"] == value
    else:
        assert r.json()["status"] == status


def test_ingest_then_read_back(live_server, keys):
    r = httpx.post(f"{live_server}/v1/bundles", json=BUNDLE, headers=auth(keys["ingest_red"]))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["nodes"].get("ThreatActor") == 1
    profile = httpx.get(
        f"{live_server}/v1/actors/{INTRUSION_SET}", headers=auth(keys["reader_clear"])
    )
    assert profile.status_code == 200
    assert [i["id"] for i in profile.json()["indicators"]] == ["domain:live-ingest.example"]
    pivot = httpx.get(
        f"{live_server}/v1/indicators/live-ingest[.]example", headers=auth(keys["reader_clear"])
    )
    assert [a["id"] for a in pivot.json()["actors"]] == [INTRUSION_SET]


def test_bad_bundle_names_the_object_and_writes_nothing(live_server, keys, world):
    before = world.query("MATCH (n) RETURN count(n) AS c")[0]["c"]
    bad = json.loads(json.dumps(BUNDLE))
    bad["objects"][0]["id"] = "intrusion-set--22222222-2222-4222-8222-222222222222"
    bad["objects"][1]["id"] = "indicator--22222222-2222-4222-8222-222222222202"
    bad["objects"][1]["pattern"] = "[ipv4-addr:value = '999.1.1.1'"  # not a pattern
    bad["objects"][2]["target_ref"] = (
        "intrusion-set--33333333-3333-4333-8333-333333333333"  # dangling
    )
    r = httpx.post(f"{live_server}/v1/bundles", json=bad, headers=auth(keys["ingest_red"]))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["object_id"] and problem["reason"]
    assert world.query("MATCH (n) RETURN count(n) AS c")[0]["c"] == before


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b"null", b"[]", b'{"type": "bundle"}', "\u00e9\u00e8".encode("latin-1")],
)
def test_malformed_bodies_are_4xx(live_server, keys, content):
    for path in ("/v1/bundles", "/v1/attributions", "/v1/cypher", "/v1/queries/actor_search"):
        r = httpx.post(
            f"{live_server}{path}",
            content=content,
            headers={**auth(keys["admin_red"]), "content-type": "application/json"},
        )
        assert 400 <= r.status_code < 500, (path, content, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


def test_oversized_body_is_413_whole_or_chunked(live_server, keys, api_settings, world):
    before = world.query("MATCH (n) RETURN count(n) AS c")[0]["c"]
    big = json.loads(json.dumps(BUNDLE))
    big["objects"][0]["description"] = "x" * (api_settings.api_max_body_bytes + 10)
    body = json.dumps(big).encode()
    h = {**auth(keys["ingest_red"]), "content-type": "application/json"}
    r = httpx.post(f"{live_server}/v1/bundles", content=body, headers=h)
    assert r.status_code == 413 and r.json()["limit"] == api_settings.api_max_body_bytes

    def chunks():
        for i in range(0, len(body), 4096):
            yield body[i : i + 4096]

    r = httpx.post(f"{live_server}/v1/bundles", content=chunks(), headers=h)
    assert r.status_code == 413
    assert world.query("MATCH (n) RETURN count(n) AS c")[0]["c"] == before
    assert httpx.get(f"{live_server}/healthz").status_code == 200


def test_key_revoked_with_the_cli_stops_working(live_server, keys, api_settings):
    home = api_settings.home
    out = ag(home, "keys", "create", "--role", "reader", "--name", "cli-test", "--json").stdout
    created = json.loads(out)
    assert created["role"] == "reader" and created["tlp"] == "clear"
    token = created["key"]
    assert httpx.get(f"{live_server}/v1/actors", headers=auth(token)).status_code == 200
    listing = ag(home, "keys", "list", "--json").stdout
    assert token not in listing and created["id"] in listing
    ag(home, "keys", "revoke", created["id"])
    assert httpx.get(f"{live_server}/v1/actors", headers=auth(token)).status_code == 401
    bad = ag(home, "keys", "revoke", "000000000000", check=False)
    assert bad.returncode == 2 and "no API key" in bad.stderr


def test_keys_are_stored_hashed(api_settings, keys):
    # Read the raw files (WAL included) in another process: opening and closing a SQLite file
    # by other means drops this process's POSIX locks on it, which corrupts it under the
    # connections this process still holds (sqlite.org/howtocorrupt.html, 2.2).
    reader = (
        "import sys, pathlib; sys.stdout.buffer.write(b''.join("
        "p.read_bytes() for p in sorted(pathlib.Path(sys.argv[1]).glob('keys.sqlite*'))))"
    )
    raw = subprocess.run(
        [sys.executable, "-c", reader, str(api_settings.home)], capture_output=True, check=True
    ).stdout
    assert len(raw) > 4096
    for token in keys.values():
        assert token.encode() not in raw
        assert token.split("_", 2)[2].encode() not in raw


def test_metrics_over_http(live_server, keys):
    httpx.get(f"{live_server}/v1/indicators/evil[.]example", headers=auth(keys["reader_red"]))
    text = httpx.get(f"{live_server}/metrics").text
    assert 'route="/v1/indicators/{value:path}"' in text
    assert "actorgraph_http_request_duration_seconds_bucket" in text
    assert "evil" not in text  # raw paths never become label values


def test_serve_with_two_workers(api_settings, keys, world_env):
    """Two workers answer, and share one rate limit per key: 25 per minute in total, where
    per-worker buckets would let up to 50 through."""
    from actorgraph.api.keys import KeyStore

    _, limited = KeyStore(api_settings.home / "keys.sqlite").create(
        "reader", tlp="red", name="two-workers"
    )
    env = {**world_env, "ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "25"}
    with serve(api_settings.home, "--workers", "2", "--no-model", env=env) as server:
        base = server.base
        with httpx.Client(base_url=base, headers=auth(keys["reader_red"])) as client:
            statuses = {client.get(f"/v1/actors/{ALPHA}").status_code for _ in range(20)}
        assert statuses == {200}
        # A new connection per request, so both workers take some of them.
        started = time.monotonic()
        codes = [
            httpx.get(f"{base}/v1/actors/{ALPHA}", headers=auth(limited), timeout=10).status_code
            for _ in range(50)
        ]
        refills = (time.monotonic() - started) / 2.4  # one token per 2.4 s at 25 per minute
        assert 25 <= codes.count(200) <= 25 + refills + 1, (codes, refills)
        assert set(codes) == {200, 429}
        # Whichever worker answers a scrape reports both workers' requests (each writes its
        # numbers every second).
        time.sleep(2.5)
        series = 'actorgraph_http_requests_total{method="GET",route="/v1/actors/{actor_id}"'
        want = {"200": 20 + codes.count(200), "429": codes.count(429)}
        for _ in range(6):
            text = httpx.get(f"{base}/metrics", timeout=10).text
            got = {
                status: float(line.rsplit(" ", 1)[1])
                for status in want
                for line in text.splitlines()
                if line.startswith(f'{series},status="{status}"}}')
            }
            assert got == want, text
            assert text.count("actorgraph_process_start_time_seconds{pid=") == 2


def test_sigterm_stops_serve_and_the_store_it_started(tmp_path):
    from actorgraph.graph.store import embedded

    try:
        with serve(tmp_path, "--no-model") as server:
            assert embedded.running(tmp_path)
            assert server.stop() == 0
            assert not embedded.running(tmp_path)
    finally:
        embedded.stop(tmp_path)
