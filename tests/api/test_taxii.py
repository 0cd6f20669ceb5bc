"""TAXII 2.1: ``taxii2-client`` against a real server process, and edge cases in process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
import requests
from fastapi.testclient import TestClient
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from actorgraph.api.keys import KeyStore
from actorgraph.api.main import create_app
from actorgraph.api.routes.taxii import COLLECTIONS, TAXII_MEDIA_TYPE, clear_cache
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.reports.export import export_bundle
from actorgraph.graph.store import StoreConfig
from actorgraph.graph.tlp import TLP
from actorgraph.settings import Settings
from tests.helpers.backends import fresh_graph, settings_fields, store_env
from tests.helpers.paths import APT28_BUNDLE as FIXTURE
from tests.helpers.server import serve
from tests.helpers.stix import bundle as stix_bundle
from tests.helpers.stix import sdo

CAMPAIGN = "campaign--83422c77-904c-4dc1-aff5-5c38f3a2c55c"
LEVEL_IDS = {level: cid for cid, (level, _) in COLLECTIONS.items()}


class Bearer(requests.auth.AuthBase):
    """``Authorization: Bearer <key>`` for taxii2-client (which speaks ``requests``)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@pytest.fixture(scope="module")
def feed_graph(backend_server):
    """The APT28 fixture bundle, ingested on each backend."""
    with fresh_graph(backend_server, "feed_graph (test_taxii)") as g:
        bundle = json.loads(FIXTURE.read_text())
        ingest_object(g, bundle, "apt28_campaign.json", max_tlp=TLP.RED)
        # A later write, so that the collection holds two arrival times to poll between.
        time.sleep(0.01)
        later = [
            sdo("intrusion-set", 91, name="Later Group"),
            sdo("malware", 92, name="LaterLoader", is_family=True),
            sdo(
                "relationship",
                93,
                relationship_type="uses",
                source_ref="intrusion-set--00000000-0000-4000-8000-000000000091",
                target_ref="malware--00000000-0000-4000-8000-000000000092",
            ),
        ]
        ingest_object(g, stix_bundle(*later), "later.json", max_tlp=TLP.RED)
        yield g


@pytest.fixture(scope="module")
def neo4j_config(feed_graph, request) -> StoreConfig | None:
    """The Neo4j configuration when the feed is on Neo4j, else None."""
    return request.getfixturevalue("neo4j_settings") if feed_graph.backend == "neo4j" else None


@pytest.fixture(scope="module")
def taxii_keys(server_home) -> dict[str, str]:
    store = KeyStore(server_home / "keys.sqlite")
    out = {}
    for tlp in ("clear", "amber", "red"):
        _, out[tlp] = store.create("reader", tlp=tlp, name=f"taxii-{tlp}")
    return out


@pytest.fixture(scope="module")
def taxii_server(server_home, feed_graph, neo4j_config, taxii_keys) -> Iterator[str]:
    """A real ``actorgraph serve`` process (the share routers included) on a free port."""
    env = {
        **store_env(feed_graph, neo4j_config),
        "ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "100000",
    }
    with serve(server_home, "--no-model", env=env) as server:
        yield server.base


def test_discovery_api_root_and_collections_per_clearance(taxii_server, taxii_keys):
    server = Server(f"{taxii_server}/taxii2/", auth=Bearer(taxii_keys["amber"]))
    assert server.title == "actorgraph TAXII 2.1"
    (root,) = server.api_roots
    assert root.url == f"{taxii_server}/taxii2/api/"
    assert TAXII_MEDIA_TYPE in root.versions
    titles = [c.title for c in root.collections]
    assert titles == ["actorgraph TLP:CLEAR", "actorgraph TLP:GREEN", "actorgraph TLP:AMBER"]
    assert all(c.can_read and not c.can_write for c in root.collections)
    clear_root = ApiRoot(f"{taxii_server}/taxii2/api/", auth=Bearer(taxii_keys["clear"]))
    assert [c.title for c in clear_root.collections] == ["actorgraph TLP:CLEAR"]
    red_root = ApiRoot(f"{taxii_server}/taxii2/api/", auth=Bearer(taxii_keys["red"]))
    assert len(red_root.collections) == 5


def test_objects_paginate_and_match_the_export(taxii_server, taxii_keys, feed_graph):
    url = f"{taxii_server}/taxii2/api/collections/{LEVEL_IDS[2]}/"
    coll = Collection(url, auth=Bearer(taxii_keys["amber"]))
    pages = list(as_pages(coll.get_objects, per_request=7))
    assert len(pages) >= 3
    got = [o for page in pages for o in page.get("objects", [])]
    expected = export_bundle(feed_graph, max_tlp=2)["objects"]
    assert sorted(o["id"] for o in got) == sorted(o["id"] for o in expected)
    assert len({o["id"] for o in got}) == len(got)  # no object twice across pages
    # Red objects never reach an amber collection.
    assert "infrastructure--d09c50cf-5bab-465e-9e2d-543912148b73" not in {o["id"] for o in got}
    # The manifest lists the same objects with their date_added, oldest first.
    manifest = [
        m for page in as_pages(coll.get_manifest, per_request=50) for m in page.get("objects", [])
    ]
    added = [m["date_added"] for m in manifest]
    assert added == sorted(added) and len(manifest) == len(got)


def test_added_after_returns_only_newer_objects(taxii_server, taxii_keys):
    coll = Collection(
        f"{taxii_server}/taxii2/api/collections/{LEVEL_IDS[4]}/", auth=Bearer(taxii_keys["red"])
    )
    manifest = coll.get_manifest(limit=1000)["objects"]
    pivot = sorted({m["date_added"] for m in manifest})[-2]
    newer = coll.get_objects(added_after=pivot, limit=1000)
    expected = {m["id"] for m in manifest if m["date_added"] > pivot}
    assert expected and {o["id"] for o in newer["objects"]} == expected
    resp = httpx.get(
        f"{taxii_server}/taxii2/api/collections/{LEVEL_IDS[4]}/objects/",
        params={"added_after": pivot, "match[type]": "relationship"},
        headers={"Authorization": f"Bearer {taxii_keys['red']}", "Accept": TAXII_MEDIA_TYPE},
    )
    assert resp.status_code == 200 and resp.headers["content-type"] == TAXII_MEDIA_TYPE
    assert resp.headers["X-TAXII-Date-Added-First"] > pivot
    assert {o["type"] for o in resp.json()["objects"]} == {"relationship"}


def test_keys_only_reach_collections_at_or_below_clearance(taxii_server, taxii_keys):
    coll = Collection(
        f"{taxii_server}/taxii2/api/collections/{LEVEL_IDS[2]}/", auth=Bearer(taxii_keys["clear"])
    )
    with pytest.raises(requests.HTTPError) as err:
        coll.get_objects()
    assert err.value.response.status_code == 404
    with pytest.raises((requests.HTTPError, TAXIIServiceException)):
        Server(f"{taxii_server}/taxii2/").refresh()  # no key at all
    # HTTP Basic with the key as password works too (what many TAXII clients offer).
    basic = Collection(
        f"{taxii_server}/taxii2/api/collections/{LEVEL_IDS[0]}/",
        user="cert",
        password=taxii_keys["clear"],
    )
    assert basic.get_objects(limit=2)["more"] is True


def test_bad_tokens_and_media_types_in_process(server_home, feed_graph, neo4j_config, taxii_keys):
    settings = Settings(
        home=server_home,
        **settings_fields(feed_graph, neo4j_config),
        api_rate_limit_per_minute=100_000,
    )
    app = create_app(settings, store=feed_graph, load_model=False)
    clear_cache()
    headers = {"Authorization": f"Bearer {taxii_keys['red']}", "Accept": TAXII_MEDIA_TYPE}
    with TestClient(app, raise_server_exceptions=False) as client:
        base = f"/taxii2/api/collections/{LEVEL_IDS[4]}"
        assert (
            client.get(f"{base}/objects/", params={"next": "%%%"}, headers=headers).status_code
            == 400
        )
        assert (
            client.get(
                f"{base}/objects/", params={"added_after": "yesterday"}, headers=headers
            ).status_code
            == 400
        )
        assert (
            client.get(f"{base}/objects/", headers={**headers, "Accept": "text/html"}).status_code
            == 406
        )
        assert client.get("/taxii2/other/", headers=headers).status_code == 404
        one = client.get(
            f"{base}/objects/intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c/", headers=headers
        )
        assert one.status_code == 200 and one.json()["objects"][0]["name"] == "APT28"
        assert (
            client.get(f"{base}/objects/intrusion-set--nope/", headers=headers).status_code == 404
        )
        versions = client.get(f"{base}/objects/{CAMPAIGN}/versions/", headers=headers).json()
        assert versions == {"more": False, "versions": ["2024-03-05T12:00:00.000Z"]}
        for bad in ({"match[version]": "garbage"}, {"added_after": "99999999999999999"}):
            assert client.get(f"{base}/objects/", params=bad, headers=headers).status_code == 400
