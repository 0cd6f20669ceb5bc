"""``GET /v1/export`` is computed once per clearance and graph state (issue 18, finding 12).

Every call re-read and re-serialised the whole graph (2 s of CPU on the demo world) for any
reader key. The answer is now cached per (clearance, selection, graph state); any write to the
graph, from this process or another, starts a new state.
"""

from __future__ import annotations

import pytest

from actorgraph.api.export_cache import graph_state
from tests.helpers.api_helpers import auth
from tests.helpers.backends import another_connection


def _reads(client) -> int:
    """Store reads the app has made so far."""
    return client.app.state.actorgraph.metrics.store_latency.count("read")


@pytest.fixture
def cached(world) -> None:
    """Skips, saying why, on a backend whose exports are not cached."""
    if graph_state(world) is None:
        pytest.skip(f"{world.backend} exports are not cached: its server has no write counter")


def test_a_second_export_reads_nothing_from_the_store(client, keys, cached):
    h = auth(keys["reader_red"])
    first = client.get("/v1/export", headers=h)
    assert first.status_code == 200
    before = _reads(client)
    second = client.get("/v1/export", headers=h)
    assert second.status_code == 200 and _reads(client) == before
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]


def test_the_cache_is_per_clearance(client, keys, cached):
    red = client.get("/v1/export", headers=auth(keys["reader_red"]))
    assert "SECRET-RED" in red.text
    for name in ("reader_clear", "reader_green", "reader_amber"):
        r = client.get("/v1/export", headers=auth(keys[name]))
        assert r.status_code == 200 and "SECRET-RED" not in r.text, name
    # A key asking below its clearance gets the lower level's bundle, not its own.
    capped = client.get("/v1/export", params={"max_tlp": 0}, headers=auth(keys["reader_red"]))
    clear = client.get("/v1/export", headers=auth(keys["reader_clear"]))
    assert capped.content == clear.content


def test_a_write_from_anywhere_starts_a_new_state(client, keys, world, request):
    h = auth(keys["reader_red"])
    client.get("/v1/export", headers=h)
    # Another connection, as another process (``actorgraph ingest``) would write.
    neo4j = request.getfixturevalue("neo4j_settings") if world.backend == "neo4j" else None
    other = another_connection(world, neo4j)
    try:
        other.query(
            "MERGE (m:Malware {id: $id}) SET m.name = $name, m.tlp_level = 0, m.tlp = 'clear'",
            {"id": "malware--00000000-0000-4000-8000-0000000000fe", "name": "FreshlyWritten"},
        )
        r = client.get("/v1/export", headers=h)
        assert "FreshlyWritten" in r.text
        other.query(
            "MATCH (m:Malware {id: $id}) DELETE m",
            {"id": "malware--00000000-0000-4000-8000-0000000000fe"},
        )
        assert "FreshlyWritten" not in client.get("/v1/export", headers=h).text
    finally:
        other.close()


def test_selections_are_cached_apart(client, keys, cached):
    h = auth(keys["reader_red"])
    whole = client.get("/v1/export", headers=h)
    alpha = client.get("/v1/export", params={"actor": "APT Alpha"}, headers=h)
    assert alpha.status_code == 200 and alpha.content != whole.content
    assert client.get("/v1/export", params={"actor": "APT Alpha"}, headers=h).content == (
        alpha.content
    )
    missing = client.get("/v1/export", params={"actor": "nobody"}, headers=h)
    assert missing.status_code == 404  # errors are not cached as answers
