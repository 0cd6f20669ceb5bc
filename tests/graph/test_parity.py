"""Parity: the same graph gives the same answers, whichever engine holds it and in what order.

ATT&CK, then the small demo world (seed 7), loaded into a fresh FalkorDB graph. Every research
query of the library, run with its examples at full clearance and at TLP:GREEN, and the STIX
export must return exactly what they return there (rows and lists in the same order, the same
floats, the same types) on two other copies of that graph:

- ``mirror``: the same nodes and relationships copied into a second FalkorDB graph in reverse
  order, so that the engine walks them the other way round. Always runs: an answer that depends
  on walk order (a ``collect()`` not ordered, an ``ORDER BY`` that is not total) fails here.
- ``neo4j``: the same input loaded into Neo4j, which also loads to identical counts and ranks the
  same top-3 actors with one trained model. Needs a Neo4j server (``neo4j_server``; skipped,
  saying why, without one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from actorgraph.graph.ingest import ingest_attack, ingest_paths
from actorgraph.graph.library import queries as ql
from actorgraph.graph.reports.export import export_bundle
from actorgraph.graph.store import GraphStore
from actorgraph.graph.store.falkor import FalkorStore
from actorgraph.graph.store.neo4j import Neo4jStore
from actorgraph.graph.tlp import TLP
from tests.helpers.backends import NEO4J_DATABASE, fresh_graph
from tests.helpers.graphs import FixtureGraph, Node, Rel, write_graph

pytestmark = pytest.mark.slow

LIBRARY = ql.load_library()
NOW = "2026-01-01T00:00:00.000Z"
OTHERS = ["mirror", pytest.param("neo4j", marks=pytest.mark.neo4j)]

# What `actorgraph attribute --persist` would write, so that the model-hypotheses queries have
# rows to compare (the same stand-ins as tests/graph/library/test_query_library.py).
HYPOTHESES = """
UNWIND $rows AS row
MATCH (c:Campaign {id: row.campaign})
MATCH (a:ThreatActor {name: row.actor})
MERGE (c)-[p:PREDICTED_ACTOR {model_version: $version}]->(a)
SET p.score = row.score, p.rank = row.rank, p.created = $created, p.sources = ['test']
"""
UNATTRIBUTED = """
MATCH (c:Campaign)<-[:INDICATES]-(:Indicator)
WHERE NOT (c)-[:ATTRIBUTED_TO]->() AND coalesce(c.tlp_level, 0) <= 1
RETURN DISTINCT c.id AS id ORDER BY id LIMIT 2
"""
OF_APT28 = """
MATCH (c:Campaign)-[:ATTRIBUTED_TO]->(:ThreatActor {name: 'APT28'})
WHERE coalesce(c.tlp_level, 0) <= 1 RETURN c.id AS id ORDER BY id LIMIT 1
"""
# Each copy is loaded at its own time, which the arrival stamps (``added``) record and an export
# falls back on for an element without ``created``: one time for every copy.
SAME_ARRIVAL = (
    "MATCH (n) WHERE n.added IS NOT NULL SET n.added = $at",
    "MATCH ()-[r]->() WHERE r.added IS NOT NULL SET r.added = $at",
)
# The whole graph, for the mirror; every node has an id and one label.
NODES = "MATCH (n) RETURN labels(n) AS labels, n.id AS id, properties(n) AS props"
RELS = "MATCH (a)-[r]->(b) RETURN a.id AS src, type(r) AS type, b.id AS dst, properties(r) AS props"


@dataclass
class Loaded:
    """One copy of the graph: its store and its counts after ATT&CK and after the demo world."""

    store: GraphStore
    attack: dict[str, dict[str, int]]
    world: dict[str, dict[str, int]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from actorgraph.world import generate_world

    out = tmp_path_factory.mktemp("parity-world")
    generate_world(seed=7, scale="small").write(out)
    return out


@pytest.fixture(scope="module")
def on_falkordb(server: FalkorStore, world: Path) -> Iterator[Loaded]:
    """The reference: the demo data on the embedded FalkorDB, with stand-in hypotheses."""
    with fresh_graph(server, "on_falkordb (test_parity)") as store:
        loaded = _load(store, world)
        _hypothesise(store, _stand_in_hypotheses(store))
        yield loaded


@pytest.fixture(scope="module")
def on_mirror(server: FalkorStore, on_falkordb: Loaded) -> Iterator[Loaded]:
    """The reference graph copied into a second FalkorDB graph, last node and edge first."""
    source = on_falkordb.store
    nodes = []
    for row in source.query(NODES, read_only=True):
        assert len(row["labels"]) == 1 and row["id"], f"cannot copy {row}"
        props = {k: v for k, v in row["props"].items() if k != "id"}
        nodes.append(Node(row["labels"][0], row["id"], props))
    rels = [
        Rel(row["src"], row["type"], row["dst"], row["props"])
        for row in source.query(RELS, read_only=True)
    ]
    with fresh_graph(server, "on_mirror (test_parity)") as store:
        write_graph(store, FixtureGraph(nodes[::-1], rels[::-1]))
        assert store.counts() == source.counts()
        yield Loaded(store, on_falkordb.attack, store.counts())


@pytest.fixture(scope="module")
def on_neo4j(neo4j_server: Neo4jStore, on_falkordb: Loaded, world: Path) -> Iterator[Loaded]:
    """The same input loaded into Neo4j (skipped without one), with the same hypotheses."""
    with NEO4J_DATABASE.held(neo4j_server, "on_neo4j (test_parity)") as store:
        loaded = _load(store, world)
        _hypothesise(store, _stand_in_hypotheses(on_falkordb.store))
        yield loaded


@pytest.fixture(scope="module", params=OTHERS)
def other(request: pytest.FixtureRequest) -> Loaded:
    """Each copy compared with ``on_falkordb``: the test id ends in ``[mirror]`` or ``[neo4j]``."""
    loaded = request.getfixturevalue(f"on_{request.param}")
    assert isinstance(loaded, Loaded)
    return loaded


def _load(store: GraphStore, world: Path) -> Loaded:
    ingest_attack(store)
    attack = store.counts()
    paths = [world / "train.json", *sorted((world / "heldout").glob("*.json"))]
    ingest_paths(store, paths, max_tlp=TLP.RED)
    for stamp in SAME_ARRIVAL:
        store.query(stamp, {"at": NOW})
    return Loaded(store, attack, store.counts())


def _stand_in_hypotheses(store: GraphStore) -> list[dict[str, Any]]:
    """Two unattributed campaigns and one of APT28's, each with two hypotheses."""
    [first, second] = [r["id"] for r in store.query(UNATTRIBUTED, read_only=True)]
    [apt28] = [r["id"] for r in store.query(OF_APT28, read_only=True)]
    return [
        {"campaign": first, "actor": "APT28", "score": 0.81, "rank": 1},
        {"campaign": first, "actor": "Sandworm Team", "score": 0.09, "rank": 2},
        {"campaign": second, "actor": "Kimsuky", "score": 0.38, "rank": 1},
        {"campaign": second, "actor": "APT28", "score": 0.33, "rank": 2},
        {"campaign": apt28, "actor": "Sandworm Team", "score": 0.47, "rank": 1},
        {"campaign": apt28, "actor": "APT28", "score": 0.41, "rank": 2},
    ]


def _hypothesise(store: GraphStore, rows: list[dict[str, Any]]) -> None:
    store.write_batches(HYPOTHESES, rows, version="test-standin", created="2026-01-01T00:00:00Z")


@pytest.mark.neo4j
def test_attack_loads_to_identical_counts(on_falkordb: Loaded, on_neo4j: Loaded) -> None:
    assert on_neo4j.attack == on_falkordb.attack
    assert on_falkordb.attack["nodes"]["Technique"] > 500
    assert on_falkordb.attack["relationships"]["USES"] > 10_000


@pytest.mark.neo4j
def test_demo_world_loads_to_identical_counts(on_falkordb: Loaded, on_neo4j: Loaded) -> None:
    assert on_neo4j.world == on_falkordb.world
    assert on_falkordb.world["nodes"]["Indicator"] > on_falkordb.attack["nodes"].get("Indicator", 0)


@pytest.mark.parametrize("clearance", [TLP.RED, TLP.GREEN], ids=["red", "green"])
@pytest.mark.parametrize("name", list(LIBRARY), ids=list(LIBRARY))
def test_library_query_returns_the_same_rows(
    on_falkordb: Loaded, other: Loaded, name: str, clearance: TLP
) -> None:
    q = LIBRARY[name]
    expected, got = (
        ql.run_query(
            loaded.store,
            q,
            q.example_params(),
            timeout_ms=30_000,
            row_cap=1000,
            tlp_clearance=int(clearance),
        )
        for loaded in (on_falkordb, other)
    )
    assert _exact(got) == _exact(expected)
    if clearance == TLP.RED:
        assert expected, f"{name} returns nothing on the demo data with its examples"


@pytest.mark.parametrize(
    "selection",
    [{"max_tlp": TLP.RED}, {"actor": "APT28", "max_tlp": TLP.GREEN}],
    ids=["everything-red", "apt28-green"],
)
def test_stix_export_is_the_same(
    on_falkordb: Loaded, other: Loaded, selection: dict[str, Any]
) -> None:
    """Objects, their ids and the order of every list in them (pattern hashes, object_refs)."""
    expected, got = (
        export_bundle(loaded.store, now=NOW, **selection) for loaded in (on_falkordb, other)
    )
    assert [json.dumps(o) for o in got["objects"]] == [json.dumps(o) for o in expected["objects"]]
    assert got["id"] == expected["id"]
    assert any(o["type"] == "report" for o in expected["objects"])


@pytest.mark.neo4j
def test_attribution_ranks_the_same_top_3_on_both(
    on_falkordb: Loaded, on_neo4j: Loaded, world: Path, tmp_path: Path
) -> None:
    """One model (trained on the FalkorDB graph), every held-out activity, evidence included."""
    from actorgraph.gnn import artefacts
    from actorgraph.gnn.attribute import Attributor
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.train import TrainConfig, train
    from actorgraph.gnn.world_split import load_heldout

    trained = train(export_graph(on_falkordb.store, max_tlp=TLP.RED), TrainConfig())
    version = artefacts.save(trained, tmp_path / "models")
    held = [activity for activity, _ in load_heldout(world)]
    ranked: dict[str, list[list[str]]] = {}
    evidence: dict[str, list[int]] = {}
    for side, loaded in (("falkordb", on_falkordb), ("neo4j", on_neo4j)):
        attributor = Attributor.load(
            tmp_path / "models", loaded.store, version=version, max_tlp=TLP.RED
        )
        results = [attributor.attribute(a, max_tlp=TLP.RED) for a in held]
        ranked[side] = [[c.actor_id for c in r.candidates[:3]] for r in results]
        evidence[side] = [len(r.evidence) for r in results]
    assert len(held) > 20
    assert ranked["neo4j"] == ranked["falkordb"]
    assert evidence["neo4j"] == evidence["falkordb"] and sum(evidence["falkordb"]) > 0


def _exact(rows: list[dict[str, Any]]) -> list[str]:
    """Rows as JSON texts, one a row: row order, list order, types (1 is not 1.0) and every
    digit of a float count; only the key order of a map does not."""
    return [json.dumps(r, sort_keys=True) for r in rows]
