"""The bulk load writes the graph the batched writer writes, and refuses what it cannot do."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from actorgraph.graph.ingest import ingest_attack, ingest_paths
from actorgraph.graph.ingest.bulk import BulkRefused, bulk_ingest
from actorgraph.graph.tlp import TLP
from actorgraph.world import generate_world
from tests.helpers.graph_snapshot import snapshot
from tests.helpers.paths import FIXTURES

# STIX input with what the demo world lacks: sightings, TLP markings, revocations, relationships
# to objects of earlier files and references no file brings (pending).
STIX_INPUTS = sorted(
    p
    for folder in (
        "oasis-stix20",
        "oasis-stix21",
        "opencti-geography",
        "mitre-cti-enterprise-attack",
    )
    for p in (FIXTURES / "real" / folder).rglob("*.json")
) + sorted((FIXTURES / "stix").glob("*.json"))


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The small demo world's training bundle cut into three consecutive bundles (the later
    ones refer to objects of the earlier ones)."""
    out = tmp_path_factory.mktemp("world")
    meta = generate_world(seed=7, scale="small").write(out)
    objects = [
        o for f in meta["files"]["train"] for o in json.loads((out / f).read_text())["objects"]
    ]
    third = -(-len(objects) // 3)
    paths = []
    for i in range(3):
        path = out / f"part-{i}.json"
        bundle = {
            "type": "bundle",
            "id": f"bundle--{uuid.UUID(int=i + 1)}",
            "objects": objects[i * third : (i + 1) * third],
        }
        path.write_text(json.dumps(bundle))
        paths.append(path)
    return paths


def test_bulk_writes_the_graph_the_writer_writes(two_graphs, shards: list[Path]) -> None:
    batched, bulk = two_graphs
    expected_reports = [ingest_attack(batched)]
    expected_reports += ingest_paths(batched, shards, max_tlp=TLP.RED, enrich=True)
    reports = bulk_ingest(bulk, shards, attack=True, enrich=True)

    def comparable(r):
        return r.to_dict() | {"seconds": 0, "queries": 0}

    assert [comparable(r) for r in reports] == [comparable(r) for r in expected_reports]
    expected, found = snapshot(batched), snapshot(bulk)
    assert sum(expected["counts"]["nodes"].values()) > 3_000
    assert found["counts"] == expected["counts"]
    assert found["nodes"] == expected["nodes"]
    assert found["relationships"] == expected["relationships"]
    # The schema is there: the same indexes as on a graph the writer made.
    assert (
        bulk.query("CALL db.indexes() YIELD label RETURN count(*) AS n")[0]["n"]
        == (batched.query("CALL db.indexes() YIELD label RETURN count(*) AS n")[0]["n"])
    )


def test_bulk_writes_the_same_graph_from_real_input(two_graphs) -> None:
    from actorgraph.graph.errors import IngestError

    batched, bulk = two_graphs
    try:
        expected_reports = ingest_paths(batched, STIX_INPUTS, max_tlp=TLP.RED, enrich=True)
        paths = STIX_INPUTS
    except IngestError as exc:  # fixtures that are refused on purpose stay out of both
        refused = {Path(e.source) for e in exc.errors}
        paths = [p for p in STIX_INPUTS if p not in refused]
        batched.clear()
        batched.ensure_schema()
        expected_reports = ingest_paths(batched, paths, max_tlp=TLP.RED, enrich=True)
    reports = bulk_ingest(bulk, paths, enrich=True)
    assert len(paths) > 10
    assert any(r.pending for r in expected_reports)

    def comparable(r):
        return r.to_dict() | {"seconds": 0, "queries": 0}

    assert [comparable(r) for r in reports] == [comparable(r) for r in expected_reports]
    expected, found = snapshot(batched), snapshot(bulk)
    assert found == expected


@pytest.mark.neo4j
def test_bulk_on_neo4j_writes_the_graph_the_writer_writes(neo4j_store, shards: list[Path]) -> None:
    expected_reports = [ingest_attack(neo4j_store)]
    expected_reports += ingest_paths(neo4j_store, shards, max_tlp=TLP.RED, enrich=True)
    expected = snapshot(neo4j_store)
    neo4j_store.clear()
    neo4j_store.ensure_schema()
    reports = bulk_ingest(neo4j_store, shards, attack=True, enrich=True)

    def comparable(r):
        return r.to_dict() | {"seconds": 0, "queries": 0}

    assert [comparable(r) for r in reports] == [comparable(r) for r in expected_reports]
    found = snapshot(neo4j_store)
    assert sum(expected["counts"]["nodes"].values()) > 3_000
    assert found == expected


def test_bulk_refuses_a_graph_that_holds_anything(two_graphs, shards: list[Path]) -> None:
    store, _ = two_graphs
    ingest_paths(store, shards[:1], max_tlp=TLP.RED)
    before = store.counts()
    with pytest.raises(BulkRefused, match="the graph is not empty"):
        bulk_ingest(store, shards[1:])
    assert store.counts() == before


def test_bulk_refuses_a_bad_file_and_writes_nothing(
    two_graphs, shards: list[Path], tmp_path: Path
) -> None:
    store, _ = two_graphs
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "type": "bundle",
                "id": f"bundle--{uuid.uuid4()}",
                "objects": [{"type": "indicator", "id": "indicator--nope"}],
            }
        )
    )
    with pytest.raises(Exception, match="indicator--nope"):
        bulk_ingest(store, [shards[0], bad])
    assert store.query("MATCH (n) RETURN count(n) AS n")[0]["n"] == 0
