"""The API's small parts on their own: key store, rate limiter, metrics, TLP names, body limit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from actorgraph.api.keys import ROLES, KeyStore
from actorgraph.api.main import create_app
from actorgraph.api.metrics import Histogram, Metrics
from actorgraph.api.ratelimit import RateLimiter, SharedRateLimiter
from actorgraph.graph.errors import NotFound, ValidationError
from actorgraph.graph.tlp import TLP
from tests.helpers.api_helpers import auth


def test_key_store_round_trip(tmp_path):
    store = KeyStore(tmp_path / "keys.sqlite")
    record, token = store.create("analyst", tlp="amber+strict", name="alice")
    assert token.startswith(f"agk_{record.id}_")
    key = store.authenticate(token)
    assert (
        key is not None
        and key.role == "analyst"
        and key.tlp == "amber+strict"
        and key.tlp_level == 3
    )
    assert key.has_role("reader") and key.has_role("analyst") and not key.has_role("ingest")
    assert store.authenticate(token + "x") is None
    assert store.authenticate(token.replace(record.id, "0" * 12)) is None
    # Only the hash is stored.
    rows = sqlite3.connect(tmp_path / "keys.sqlite").execute("SELECT * FROM api_keys").fetchall()
    assert token not in repr(rows)
    assert (tmp_path / "keys.sqlite").stat().st_mode & 0o077 == 0
    store.revoke(record.id)
    assert store.authenticate(token) is None
    assert store.list()[0].revoked is not None
    with pytest.raises(NotFound, match="no API key"):
        store.revoke("nope")


@pytest.mark.parametrize(("role", "tlp"), [("root", "red"), ("reader", "purple")])
def test_key_store_refuses_unknown_roles_and_levels(tmp_path, role, tlp):
    with pytest.raises(ValidationError, match=role if role == "root" else tlp):
        KeyStore(tmp_path / "keys.sqlite").create(role, tlp=tlp)


def test_roles_are_ordered():
    assert ROLES == ("reader", "analyst", "ingest", "admin")


def test_tlp_names():
    assert [
        TLP.parse(n) for n in ("CLEAR", "white", "TLP:GREEN", "amber", "amber+strict", "red")
    ] == [0, 0, 1, 2, 3, 4]
    assert TLP.parse(3).label == "amber+strict"
    with pytest.raises(ValidationError, match="'orange'"):
        TLP.parse("orange")


def test_token_bucket_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one per second, bursts of 60
    assert all(limiter.acquire("k") == 0.0 for _ in range(60))
    wait = limiter.acquire("k")
    assert 0.9 < wait <= 1.0
    assert limiter.acquire("other") == 0.0  # per key
    now[0] += 1.0
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("k") > 0


def test_shared_bucket_is_one_bucket_for_every_limiter_on_the_file(tmp_path):
    """Two limiters on one file (two workers) draw from the same bucket; refill and waits as
    the in-memory one."""
    KeyStore(tmp_path / "keys.sqlite")
    now = [1000.0]
    a, b = (SharedRateLimiter(60, tmp_path / "keys.sqlite", clock=lambda: now[0]) for _ in "ab")
    assert all(x.acquire("k") == 0.0 for x in [a, b] * 30)  # 60 between them
    assert 0.9 < a.acquire("k") <= 1.0 and 0.9 < b.acquire("k") <= 1.0
    assert b.acquire("other") == 0.0  # per key
    now[0] += 1.0
    assert a.acquire("k") == 0.0
    assert b.acquire("k") > 0
    now[0] += 3600.0  # a long idle time refills to the burst size, not beyond
    assert sum(a.acquire("k") == 0.0 for _ in range(100)) == 60
    assert SharedRateLimiter(0, tmp_path / "keys.sqlite").acquire("k") == 0.0  # disabled


def _frozen_clock() -> float:
    return 1000.0  # no refill while the processes start at different times


def _take_many(job: tuple[str, int]) -> int:
    path, n = job
    limiter = SharedRateLimiter(40, Path(path), clock=_frozen_clock)
    return sum(limiter.acquire("shared-key") == 0.0 for _ in range(n))


def test_shared_bucket_holds_across_processes(tmp_path):
    """Three processes asking 30 times each against 40 per minute: 40 pass in total, not 90
    (with the in-memory limiter each process would pass its 30)."""
    import multiprocessing

    KeyStore(tmp_path / "keys.sqlite")
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        allowed = pool.map(_take_many, [(str(tmp_path / "keys.sqlite"), 30)] * 3)
    assert sum(allowed) == 40, allowed


def test_histogram_buckets_are_cumulative():
    h = Histogram("x_seconds", "help", ("route",), buckets=(0.1, 1.0))
    for v in (0.05, 0.5, 5.0):
        h.observe(v, "/a")
    text = "\n".join(h.render())
    assert 'x_seconds_bucket{route="/a",le="0.1"} 1' in text
    assert 'x_seconds_bucket{route="/a",le="1"} 2' in text
    assert 'x_seconds_bucket{route="/a",le="+Inf"} 3' in text
    assert 'x_seconds_count{route="/a"} 3' in text


def test_metric_labels_are_escaped():
    m = Metrics()
    m.requests.inc("GET", 'a"b\\c\nd', "200")
    assert 'route="a\\"b\\\\c\\nd"' in m.render()


def test_workers_sharing_a_directory_report_the_sum(tmp_path):
    """Two registries on one directory (two workers): each renders both, counters and
    histogram buckets summed; a lone registry renders its own."""
    a, b = (Metrics(share_dir=tmp_path, flush_s=3600, worker=w) for w in "ab")
    a.requests.inc("GET", "/v1/actors", "200", amount=3)
    b.requests.inc("GET", "/v1/actors", "200", amount=4)
    b.requests.inc("GET", "/v1/actors", "429")
    a.latency.observe(0.002, "GET", "/v1/actors")
    b.latency.observe(0.2, "GET", "/v1/actors")
    a.flush()
    b.flush()
    for m in (a, b):
        text = m.render()
        assert 'route="/v1/actors",status="200"} 7' in text
        assert 'route="/v1/actors",status="429"} 1' in text
        assert 'duration_seconds_bucket{method="GET",route="/v1/actors",le="0.0025"} 1' in text
        assert 'duration_seconds_count{method="GET",route="/v1/actors"} 2' in text
    a.requests.inc("GET", "/v1/actors", "200")  # not flushed yet: a sees it, b does not
    assert 'status="200"} 8' in a.render() and 'status="200"} 7' in b.render()
    alone = Metrics()
    alone.requests.inc("GET", "/x", "200")
    assert 'status="200"} 1' in alone.render()


def test_rate_limit_answers_429_with_retry_after(api_settings, world, keys):
    settings = api_settings.model_copy(update={"api_rate_limit_per_minute": 3})
    with TestClient(create_app(settings, store=world, load_model=False)) as c:
        h = auth(keys["reader_red"])
        assert [c.get("/v1/actors", headers=h).status_code for _ in range(3)] == [200] * 3
        r = c.get("/v1/actors", headers=h)
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert r.json()["type"] == "urn:actorgraph:problem:rate-limited"
        assert c.get("/v1/actors", headers=auth(keys["reader_clear"])).status_code == 200
        assert "actorgraph_rate_limited_total 1" in c.get("/metrics").text


def test_production_refuses_a_key_file_readable_by_others(api_settings, tmp_path):
    keys = tmp_path / "keys.sqlite"
    KeyStore(keys)
    keys.chmod(0o644)
    settings = api_settings.model_copy(update={"env": "production", "home": tmp_path})
    with pytest.raises(ValidationError, match="chmod 600"):
        create_app(settings, load_model=False)
    keys.chmod(0o600)
    create_app(settings, load_model=False)


def test_openapi_documents_auth_and_problems(client):
    spec = client.get("/openapi.json").json()
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert "red" in spec["info"]["description"]
    actor = spec["paths"]["/v1/actors/{actor_id}"]["get"]
    assert {"401", "403", "404", "429"} <= set(actor["responses"])


def test_store_down_is_503_not_500(api_settings, keys, tmp_path):
    from actorgraph.graph.store import embedded
    from actorgraph.graph.store.falkor import FalkorStore

    socket_path, _ = embedded.start(tmp_path, auto=False)
    store = FalkorStore(socket_path, graph="soon-gone")
    store.ensure_schema()
    try:
        with TestClient(create_app(api_settings, store=store, load_model=False)) as c:
            assert c.get("/v1/actors", headers=auth(keys["reader_red"])).status_code == 200
            embedded.stop(tmp_path)  # the store goes away under a running server
            r = c.get("/v1/actors", headers=auth(keys["reader_red"]))
            assert r.status_code == 503, r.text
            assert r.json()["type"] == "urn:actorgraph:problem:store-unavailable"
            ready = c.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["store"]["ok"] is False
            assert c.get("/healthz").status_code == 200
    finally:
        store.close()
        embedded.stop(tmp_path)


def test_model_holder_retries_until_a_model_appears():
    from actorgraph.api.state import ModelHolder
    from actorgraph.graph.errors import ModelError

    available = []

    def loader():
        if not available:
            raise ModelError("no trained model under models/")
        return "model"

    holder = ModelHolder(loader, retry_s=0.0)
    assert holder.load() is None and "no trained model" in holder.reason
    available.append(True)
    assert holder.get() == "model" and holder.loaded


def test_the_server_hands_the_gil_over_every_millisecond(api_settings, world):
    # The event loop waits for the GIL between compute threads; see SWITCH_INTERVAL_S.
    import sys

    from actorgraph.api.main import SWITCH_INTERVAL_S

    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        with TestClient(create_app(api_settings, store=world, load_model=False)):
            assert (
                sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S) == pytest.approx(0.001)
            )
    finally:
        sys.setswitchinterval(before)
