"""Ingest into the real embedded store (graph/ingest/pipeline.py).

Idempotency, refusals, newer-modified-wins.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from actorgraph.graph.errors import IngestError, StixIngestError
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.ingest import ingest_object, ingest_paths
from actorgraph.graph.ingest.writer import resolve_stix_ids, write_batch
from actorgraph.graph.tlp import TLP
from tests.helpers.cli import ag
from tests.helpers.paths import ROOT
from tests.helpers.stix import bundle, sdo

STIX = ROOT / "tests" / "fixtures" / "stix"
MISP = ROOT / "tests" / "fixtures" / "misp"
APT28 = STIX / "apt28_campaign.json"
REFUSED = [
    "not_json.json",
    "not_a_bundle.json",
    "malformed_missing_pattern.json",
    "bad_pattern.json",
]


def one(store, cypher: str, **params: Any) -> Any:
    rows = store.query(cypher, params)
    assert len(rows) == 1, rows
    return next(iter(rows[0].values()))


def test_ingest_twice_changes_no_count(store) -> None:
    [first] = ingest_paths(store, [APT28], max_tlp=TLP.RED)
    counts = store.counts()
    assert counts == {"nodes": first.nodes, "relationships": first.relationships}
    node = store.query("MATCH (n:Indicator {id: 'domain:mail-gov-ua.example'}) RETURN n")[0]["n"]
    ingest_paths(store, [APT28], max_tlp=TLP.RED)
    assert store.counts() == counts
    again = store.query("MATCH (n:Indicator {id: 'domain:mail-gov-ua.example'}) RETURN n")[0]["n"]
    assert again == node  # lists were unioned, not appended twice


def test_misp_and_stix_twice_changes_no_count(store) -> None:
    ingest_paths(store, [APT28, MISP / "apt28_phishing_event.json"], max_tlp=TLP.RED)
    counts = store.counts()
    ingest_paths(store, [MISP / "apt28_phishing_event.json", APT28], max_tlp=TLP.RED)
    assert store.counts() == counts


def test_report_lists_rejected_values_and_they_are_not_stored(store) -> None:
    [report] = ingest_paths(store, [APT28], max_tlp=TLP.RED)
    assert {r.value for r in report.rejected} == {
        "999.1.1.1",
        "da39a3ee5e6b4b0d3255bfef95601890afd8070",
    }
    assert report.to_dict()["rejected"][0]["object_id"].startswith("indicator--")
    assert (
        one(
            store,
            "MATCH (n:Indicator) WHERE n.value IN $v RETURN count(n) AS c",
            v=["999.1.1.1", "da39a3ee5e6b4b0d3255bfef95601890afd8070"],
        )
        == 0
    )


@pytest.mark.parametrize("name", REFUSED)
def test_refused_bundle_writes_nothing(store, name: str) -> None:
    with pytest.raises(IngestError) as info:
        ingest_paths(store, [STIX / name], max_tlp=TLP.RED)
    assert str(STIX / name) in str(info.value)
    assert store.counts() == {"nodes": {}, "relationships": {}}


def test_other_files_still_ingest_beside_a_refused_one(store, tmp_path: Path) -> None:
    shutil.copy(APT28, tmp_path / "a_good.json")
    shutil.copy(STIX / "bad_pattern.json", tmp_path / "b_bad.json")
    with pytest.raises(StixIngestError, match=re.escape("b_bad.json")) as info:
        ingest_paths(store, [tmp_path], max_tlp=TLP.RED)
    assert [r.source for r in info.value.reports] == ["a_good.json"]
    assert [e.source for e in info.value.errors] == [str(tmp_path / "b_bad.json")]
    assert one(store, "MATCH (a:ThreatActor) RETURN a.name AS n") == "APT28"


def test_newer_modified_wins_and_lists_union(store) -> None:
    old = sdo("campaign", 1, name="Old name", aliases=["a"], modified="2024-01-01T00:00:00Z")
    new = dict(old, name="New name", aliases=["b"], modified="2024-06-01T00:00:00Z")
    ingest_object(store, bundle(new), source="newer.json", max_tlp=TLP.RED)
    ingest_object(store, bundle(old), source="older.json", max_tlp=TLP.RED)
    row = store.query(
        "MATCH (c:Campaign) RETURN c.name AS name, c.aliases AS aliases, c.sources AS sources"
    )[0]
    assert row == {
        "name": "New name",
        "aliases": ["b", "a"],
        "sources": ["newer.json", "older.json"],
    }
    newest = dict(old, name="Newest", modified="2024-07-01T00:00:00Z")
    ingest_object(store, bundle(newest), source="newest.json", max_tlp=TLP.RED)
    assert one(store, "MATCH (c:Campaign) RETURN c.name AS n") == "Newest"
    assert store.counts()["nodes"] == {"Campaign": 1}


def test_newer_modified_wins_on_relationships(store) -> None:
    a, m = sdo("intrusion-set", 1, name="A"), sdo("malware", 2, name="M", is_family=True)
    rel = sdo(
        "relationship",
        3,
        relationship_type="uses",
        source_ref=a["id"],
        target_ref=m["id"],
        confidence=90,
        modified="2024-06-01T00:00:00Z",
    )
    ingest_object(store, bundle(a, m, rel), source="s1", max_tlp=TLP.RED)
    ingest_object(
        store,
        bundle(dict(rel, confidence=10, modified="2024-02-01T00:00:00Z")),
        source="s2",
        max_tlp=TLP.RED,
    )
    assert one(store, "MATCH ()-[r:USES]->() RETURN r.confidence AS c") == 90
    assert store.counts()["relationships"] == {"USES": 1}


def test_references_to_objects_already_in_the_store(store) -> None:
    ingest_paths(store, [APT28], max_tlp=TLP.RED)
    actor = "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"
    indicator = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    camp = sdo("campaign", 5, name="Later wave")
    rels = [
        sdo(
            "relationship",
            6,
            relationship_type="attributed-to",
            source_ref=camp["id"],
            target_ref=actor,
        ),
        sdo(
            "relationship",
            7,
            relationship_type="indicates",
            source_ref=indicator,
            target_ref=camp["id"],
        ),
    ]
    ingest_object(store, bundle(camp, *rels), source="later.json", max_tlp=TLP.RED)
    got = store.query(
        "MATCH (i:Indicator)-[:INDICATES]->(c:Campaign {id: $c})-[:ATTRIBUTED_TO]->(a:ThreatActor) "
        "RETURN i.id AS i, a.id AS a ORDER BY i",
        {"c": camp["id"]},
    )
    assert got == [
        {"i": "domain:mail-gov-ua.example", "a": actor},
        {"i": "ipv4:203.0.113.45", "a": actor},
    ]
    location = "location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64"
    assert resolve_stix_ids(store, {location}, max_tlp=TLP.RED) == {
        location: [("Country", "country:RU")]
    }


def test_misp_claim_attaches_to_the_existing_actor_by_alias(store) -> None:
    ingest_paths(store, [APT28], max_tlp=TLP.RED)
    [report] = ingest_paths(store, [MISP / "apt28_phishing_event.json"], max_tlp=TLP.RED)
    assert report.format == "misp"
    got = store.query(
        "MATCH (c:Campaign {id: 'campaign--5e1c1d6a-1b2c-4d5e-9f00-0a0b0c0d0e0f'})"
        "-[r:ATTRIBUTED_TO]->(a) "
        "RETURN a.id AS a, r.source AS s"
    )
    # "Sofacy" is an alias of the intrusion set: the claim points at it, no new actor is made
    assert got == [{"a": "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c", "s": "CIRCL"}]
    assert store.counts()["nodes"]["ThreatActor"] == 1


def test_one_row_per_query_path_gives_the_same_graph(store, server) -> None:
    from actorgraph.graph.formats.stix_reader import read_stix

    batch = read_stix(APT28)
    report = write_batch(store, batch, batch_size=1, max_tlp=TLP.RED)
    # One more per sighted node: its sightings are added one by one (graph/formats/sightings.py).
    sighted = sum(
        bool(p.get("sightings")) for by_id in batch.nodes.values() for p in by_id.values()
    )
    assert sighted and report.queries == batch.n_nodes + batch.n_edges + sighted
    assert store.counts() == batch.counts()


def test_write_batch_refuses_unknown_labels() -> None:
    batch = IngestBatch(source="x")
    with pytest.raises(IngestError, match="unknown node label"):
        batch.add_node("Actor`) DETACH DELETE (n", "x", {})
    with pytest.raises(IngestError, match="unknown relationship type"):
        batch.add_edge("Campaign", "OWNS", "ThreatActor", "a", "b")


@pytest.mark.slow  # a few seconds; near 10 s on a loaded 2-core machine
def test_cli_ingest_counts_json_and_exit_code(tmp_path: Path) -> None:
    home = tmp_path / "home"
    try:
        out = json.loads(ag(home, "ingest", str(APT28), "--json").stdout)
        assert out["totals"]["nodes"]["Indicator"] == 6 and out["rejected"] == 2
        bad = ag(
            home,
            "ingest",
            str(STIX / "bad_pattern.json"),
            str(MISP / "apt28_phishing_event.json"),
            check=False,
        )
        assert bad.returncode == 2
        assert "bad_pattern.json" in bad.stderr and "indicator--8e2e2d2b" in bad.stderr
        assert "Traceback" not in bad.stderr
        assert "apt28_phishing_event.json (misp" in bad.stdout  # the good file was still ingested
        text = ag(home, "ingest", str(APT28))
        assert "rejected (not stored)" in text.stdout and "999.1.1.1" in text.stdout
        usage = ag(home, "ingest", check=False)
        assert usage.returncode == 2 and "--attack" in usage.stderr
    finally:
        ag(home, "store", "stop", check=False)
