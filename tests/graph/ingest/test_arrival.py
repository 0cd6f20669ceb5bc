"""Every node and relationship a writer creates carries ``added``, the time it arrived; it moves
only when a newer version (a later ``modified``) is written, never when the same input comes
again. TAXII's ``date_added`` is read from it (tests/api/test_taxii_date_added.py).

Covers graph/arrival.py through the batched writer (graph/ingest/writer.py), the enrichment
statement (graph/ingest/enrichment.py) and the bulk load (graph/ingest/image.py), on both
backends; and the stamp ``actorgraph store migrate`` gives what was stored without one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from actorgraph.graph import arrival
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.ingest.bulk import bulk_ingest
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP
from tests.helpers.stix import T0, bundle, sdo

LATER = "2024-06-01T00:00:00.000Z"
ACTOR = sdo("intrusion-set", 1, name="Quiet Group")
CAMPAIGN = sdo("campaign", 2, name="Op Quiet")
INDICATOR = sdo(
    "indicator",
    3,
    pattern="[ipv4-addr:value = '198.51.100.7']",
    pattern_type="stix",
    valid_from=T0,
)
ATTRIBUTED = sdo(
    "relationship",
    4,
    relationship_type="attributed-to",
    source_ref=CAMPAIGN["id"],
    target_ref=ACTOR["id"],
)
INDICATES = sdo(
    "relationship",
    5,
    relationship_type="indicates",
    source_ref=INDICATOR["id"],
    target_ref=CAMPAIGN["id"],
)
FEED = bundle(ACTOR, CAMPAIGN, INDICATOR, ATTRIBUTED, INDICATES)

STAMPS = """
MATCH (n) WHERE NOT n:Pending RETURN 'node' AS kind, n.id AS id, n.added AS added
UNION ALL
MATCH (a)-[r]->(b) RETURN type(r) AS kind, a.id + '>' + b.id AS id, r.added AS added
"""


def stamps(store: GraphStore) -> dict[tuple[str, str], Any]:
    return {(r["kind"], r["id"]): r["added"] for r in store.query(STAMPS, read_only=True)}


def test_an_ingest_stamps_everything_it_creates_enrichment_included(store) -> None:
    before = arrival.now()
    ingest_object(store, FEED, "feed", max_tlp=TLP.RED, enrich=True)
    after = arrival.now()
    found = stamps(store)
    assert ("BELONGS_TO", "ipv4:198.51.100.7>network:198.51.100.0/24") in found
    assert ("ATTRIBUTED_TO", f"{CAMPAIGN['id']}>{ACTOR['id']}") in found
    assert all(before <= added <= after for added in found.values()), found
    assert len(set(found.values())) == 1  # one write, one time


def test_a_write_of_several_queries_stamps_each_when_it_is_applied(store) -> None:
    """A TAXII poll between two queries of one write saw the first query's objects with the
    write's one time; asked for what came ``added_after`` it, it then missed the rest, stamped
    with the same time. Each query now takes the time the store applies it, later each time."""
    ingest_object(store, FEED, "feed", max_tlp=TLP.RED, batch_size=1)  # one row a query
    found = stamps(store)
    assert len(set(found.values())) == len(found), found  # every query its own time
    nodes = [v for k, v in found.items() if k[0] == "node"]
    edges = [v for k, v in found.items() if k[0] != "node"]
    assert max(nodes) < min(edges)  # in the order the queries were applied


def test_the_same_input_again_moves_no_stamp(store) -> None:
    ingest_object(store, FEED, "feed", max_tlp=TLP.RED, enrich=True)
    first = stamps(store)
    ingest_object(store, FEED, "another-feed", max_tlp=TLP.RED, enrich=True)
    assert stamps(store) == first


def test_a_newer_version_moves_its_own_stamp_only(store) -> None:
    ingest_object(store, FEED, "feed", max_tlp=TLP.RED)
    first = stamps(store)
    older = ACTOR | {"modified": "2023-01-01T00:00:00.000Z", "description": "old"}
    ingest_object(store, bundle(older), "feed", max_tlp=TLP.RED)
    assert stamps(store) == first
    newer = ACTOR | {"modified": LATER, "description": "renamed"}
    resent = ATTRIBUTED | {"modified": LATER}
    ingest_object(store, bundle(newer, CAMPAIGN, resent), "feed", max_tlp=TLP.RED)
    now = stamps(store)
    moved = {key for key in now if now[key] != first[key]}
    assert moved == {
        ("node", ACTOR["id"]),
        ("ATTRIBUTED_TO", f"{CAMPAIGN['id']}>{ACTOR['id']}"),
    }
    assert all(now[key] > first[key] for key in moved)


def test_a_bulk_load_stamps_everything_with_its_time(store, tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(FEED))
    store.clear()  # a bulk load builds a graph that holds nothing, its schema afterwards
    store.ensure_schema()
    before = arrival.now()
    bulk_ingest(store, [path], enrich=True, workers=1)
    found = stamps(store)
    assert ("INDICATES", f"ipv4:198.51.100.7>{CAMPAIGN['id']}") in found
    assert ("BELONGS_TO", "ipv4:198.51.100.7>network:198.51.100.0/24") in found
    (added,) = set(found.values())
    assert before <= added <= arrival.now()


def test_what_was_stored_unstamped_gets_its_own_time_else_the_migration(store) -> None:
    """Elements written before ``added`` existed: ``actorgraph store migrate`` stamps them once
    with their ``modified`` (what TAXII served as their date_added until then), else
    ``created``, else the time of the migration; a stamp already there is never changed. Opening
    the store does not: that would scan the whole graph at every command."""
    ingest_object(store, FEED, "feed", max_tlp=TLP.RED, enrich=True)
    store.query("MATCH (n) WHERE n.id <> $keep REMOVE n.added", {"keep": CAMPAIGN["id"]})
    store.query("MATCH ()-[r]->() REMOVE r.added")
    store.query("MATCH (n {id: $id}) SET n.modified = $later", {"id": ACTOR["id"], "later": LATER})
    kept = stamps(store)[("node", CAMPAIGN["id"])]
    store.ensure_schema()
    unstamped = [k for k, v in stamps(store).items() if v is None]
    assert ("node", ACTOR["id"]) in unstamped
    before = arrival.now()
    counts = arrival.stamp_unstamped(store)
    found = stamps(store)
    assert counts == {
        "nodes": sum(k[0] == "node" for k in unstamped),
        "relationships": sum(k[0] != "node" for k in unstamped),
    }
    assert found[("node", ACTOR["id"])] == LATER
    assert found[("node", CAMPAIGN["id"])] == kept
    assert found[("ATTRIBUTED_TO", f"{CAMPAIGN['id']}>{ACTOR['id']}")] == T0
    network = found[("node", "network:198.51.100.0/24")]  # enrichment: no created, no modified
    assert before <= network <= arrival.now()
    assert arrival.stamp_unstamped(store) == {"nodes": 0, "relationships": 0}
    assert stamps(store) == found
