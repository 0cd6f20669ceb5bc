"""TAXII ``date_added`` is when an object arrived, the same at every export: a client polling
with ``added_after`` gets each object once per version, not again at each cache refresh.

Objects with no ``created``/``modified`` of their own (the enrichment networks and their
``BELONGS_TO`` relationships here; relationships the project writes; ATT&CK objects of a package
without timestamps) took the export's time, which changed at every refresh of the collection.
Covers api/routes/taxii.py with graph/reports/export.py (``dated_export``), on both backends.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from actorgraph.api.keys import KeyStore
from actorgraph.api.main import create_app
from actorgraph.api.routes.taxii import COLLECTIONS, TAXII_MEDIA_TYPE, clear_cache
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.tlp import TLP
from actorgraph.settings import Settings
from tests.helpers.backends import settings_fields
from tests.helpers.stix import T0, bundle, sdo

RED = next(cid for cid, (level, _) in COLLECTIONS.items() if level == TLP.RED)
ACTOR = sdo("intrusion-set", 1, name="Quiet Group")
INDICATOR = sdo(
    "indicator", 2, pattern="[ipv4-addr:value = '198.51.100.7']", pattern_type="stix", valid_from=T0
)
USES = sdo(
    "relationship",
    3,
    relationship_type="indicates",
    source_ref=INDICATOR["id"],
    target_ref=ACTOR["id"],
)
NETWORK = "network:198.51.100.0/24"


@pytest.fixture
def client(store, server_home, request) -> Iterator[TestClient]:
    neo4j = request.getfixturevalue("neo4j_settings") if store.backend == "neo4j" else None
    settings = Settings(
        home=server_home, **settings_fields(store, neo4j), api_rate_limit_per_minute=100_000
    )
    _, key = KeyStore(server_home / "keys.sqlite").create("reader", tlp="red", name="taxii-dates")
    app = create_app(settings, store=store, load_model=False)
    clear_cache()
    with TestClient(app) as c:
        c.headers.update({"Authorization": f"Bearer {key}", "Accept": TAXII_MEDIA_TYPE})
        yield c
    clear_cache()


def manifest(client: TestClient, **params: Any) -> dict[str, str]:
    """Object id -> date_added, from a fresh export (the collection cache emptied)."""
    clear_cache()
    resp = client.get(f"/taxii2/api/collections/{RED}/manifest/", params={"limit": 1000, **params})
    assert resp.status_code == 200, resp.text
    return {m["id"]: m["date_added"] for m in resp.json().get("objects", [])}


def objects_after(client: TestClient, seen: str) -> list[dict[str, Any]]:
    """The objects a poll with ``added_after=seen`` gets, from a fresh export."""
    clear_cache()
    resp = client.get(
        f"/taxii2/api/collections/{RED}/objects/", params={"added_after": seen, "limit": 1000}
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["objects"]


def test_date_added_is_the_same_at_every_export(store, client) -> None:
    ingest_object(store, bundle(ACTOR, INDICATOR, USES), "feed", max_tlp=TLP.RED, enrich=True)
    first = manifest(client)
    objects = client.get(f"/taxii2/api/collections/{RED}/objects/").json()["objects"]
    network = next(o for o in objects if o.get("x_actorgraph_id") == NETWORK)
    belongs = next(o for o in objects if o.get("target_ref") == network["id"])
    assert network["created"] == first[network["id"]]  # no timestamp of its own: its arrival
    time.sleep(0.01)  # the export's clock moves on
    again = manifest(client)
    assert again == first
    assert manifest(client, added_after=max(first.values())) == {}
    assert belongs["created"] == first[belongs["id"]]


def test_a_poll_gets_what_was_added_and_new_versions_only(store, client) -> None:
    ingest_object(store, bundle(ACTOR, INDICATOR, USES), "feed", max_tlp=TLP.RED, enrich=True)
    polled = max(manifest(client).values())
    campaign = sdo("campaign", 4, name="Op Quiet")
    renamed = ACTOR | {"modified": "2024-06-01T00:00:00.000Z", "name": "Quiet Group Renamed"}
    ingest_object(store, bundle(campaign, renamed), "feed", max_tlp=TLP.RED)
    newer = manifest(client, added_after=polled)
    assert set(newer) == {campaign["id"], ACTOR["id"]}
    assert all(added > polled for added in newer.values())


def test_a_new_source_identity_arrives_with_the_first_object_it_made(store, client) -> None:
    # A source's identity carries a fixed creation time: dated by it, a client polling with
    # added_after never received a new source's identity, and the objects naming it dangled.
    ingest_object(store, bundle(ACTOR), "vendor-a", max_tlp=TLP.RED)
    seen = max(manifest(client).values())
    time.sleep(0.01)
    other = sdo("intrusion-set", 9, name="Loud Group")
    ingest_object(store, bundle(other), "vendor-b", max_tlp=TLP.RED)
    page = objects_after(client, seen)
    new = next(o for o in page if o["id"] == other["id"])
    assert new["created_by_ref"] in {o["id"] for o in page}
    assert manifest(client)[new["created_by_ref"]] == manifest(client)[other["id"]]
    assert manifest(client, added_after=max(manifest(client).values())) == {}


def test_a_marking_first_used_after_a_poll_arrives_with_its_first_object(store, client) -> None:
    # Marking definitions carry fixed times (2022 for TLP 2.0): a client that polled before any
    # amber object existed never received the amber definition its later objects refer to.
    ingest_object(store, bundle(ACTOR), "vendor-a", max_tlp=TLP.RED)
    seen = max(manifest(client).values())
    time.sleep(0.01)
    amber = sdo(
        "intrusion-set",
        8,
        name="Amber Group",
        object_marking_refs=["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"],
    )
    ingest_object(store, bundle(amber), "vendor-a", max_tlp=TLP.RED)
    page = objects_after(client, seen)
    new = next(o for o in page if o["id"] == amber["id"])
    assert set(new["object_marking_refs"]) <= {o["id"] for o in page}
