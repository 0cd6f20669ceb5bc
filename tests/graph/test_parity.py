"""Parity: the same input on the embedded FalkorDB and on Neo4j gives the same graph and answers.

ATT&CK, then the small demo world (seed 7), loaded into a fresh FalkorDB graph and into Neo4j:
identical node counts per label and relationship counts per type after each step, and every
research query of the library returns the same rows with its examples (order aside, at full
clearance and at TLP:GREEN), and one trained model ranks the same top-3 actors for every held-out
activity through either store. Needs a Neo4j server (``neo4j_server``; skipped, saying why, without
one).
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
from actorgraph.graph.store import GraphStore
from actorgraph.graph.store.falkor import FalkorStore
from actorgraph.graph.store.neo4j import Neo4jStore
from actorgraph.graph.tlp import TLP
from tests.helpers.backends import NEO4J_DATABASE, fresh_graph

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

LIBRARY = ql.load_library()
BACKENDS = ("falkordb", "neo4j")

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


@dataclass
class Loaded:
    """One backend after the load: the store and its counts after each step."""

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
def backends(
    server: FalkorStore, neo4j_server: Neo4jStore, world: Path
) -> Iterator[dict[str, Loaded]]:
    paths = [world / "train.json", *sorted((world / "heldout").glob("*.json"))]
    with (
        fresh_graph(server, "backends (test_parity)") as falkor,
        NEO4J_DATABASE.held(neo4j_server, "backends (test_parity)"),
    ):
        yield _load_both(falkor, neo4j_server, paths)


def _load_both(falkor: GraphStore, neo4j: GraphStore, paths: list[Path]) -> dict[str, Loaded]:
    loaded = {}
    for name, store in zip(BACKENDS, (falkor, neo4j), strict=True):
        ingest_attack(store)
        attack = store.counts()
        ingest_paths(store, paths, max_tlp=TLP.RED)
        loaded[name] = Loaded(store, attack, store.counts())
    unattributed = [r["id"] for r in falkor.query(UNATTRIBUTED)]
    [apt28] = [r["id"] for r in falkor.query(OF_APT28)]
    hypotheses = [
        {"campaign": unattributed[0], "actor": "APT28", "score": 0.81, "rank": 1},
        {"campaign": unattributed[0], "actor": "Sandworm Team", "score": 0.09, "rank": 2},
        {"campaign": unattributed[1], "actor": "Kimsuky", "score": 0.38, "rank": 1},
        {"campaign": unattributed[1], "actor": "APT28", "score": 0.33, "rank": 2},
        {"campaign": apt28, "actor": "Sandworm Team", "score": 0.47, "rank": 1},
        {"campaign": apt28, "actor": "APT28", "score": 0.41, "rank": 2},
    ]
    for side in loaded.values():
        side.store.write_batches(
            HYPOTHESES, hypotheses, version="test-standin", created="2026-01-01T00:00:00Z"
        )
    return loaded


def test_attack_loads_to_identical_counts(backends: dict[str, Loaded]) -> None:
    falkor, neo4j = backends["falkordb"].attack, backends["neo4j"].attack
    assert falkor == neo4j
    assert falkor["nodes"]["Technique"] > 500 and falkor["relationships"]["USES"] > 10_000


def test_demo_world_loads_to_identical_counts(backends: dict[str, Loaded]) -> None:
    falkor, neo4j = backends["falkordb"].world, backends["neo4j"].world
    assert falkor == neo4j
    assert falkor["nodes"]["Indicator"] > backends["falkordb"].attack["nodes"].get("Indicator", 0)


@pytest.mark.parametrize("clearance", [TLP.RED, TLP.GREEN], ids=["red", "green"])
@pytest.mark.parametrize("name", list(LIBRARY), ids=list(LIBRARY))
def test_library_query_returns_the_same_rows(
    backends: dict[str, Loaded], name: str, clearance: TLP
) -> None:
    q = LIBRARY[name]
    rows = {
        side: ql.run_query(
            backends[side].store,
            q,
            q.example_params(),
            timeout_ms=30_000,
            row_cap=1000,
            tlp_clearance=int(clearance),
        )
        for side in BACKENDS
    }
    assert _bag(rows["neo4j"]) == _bag(rows["falkordb"])
    if clearance == TLP.RED:
        assert rows["falkordb"], f"{name} returns nothing on the demo data with its examples"


def test_attribution_ranks_the_same_top_3_on_both(
    backends: dict[str, Loaded], world: Path, tmp_path: Path
) -> None:
    """One model (trained on the FalkorDB graph), every held-out activity, evidence included."""
    from actorgraph.gnn import artefacts
    from actorgraph.gnn.attribute import Attributor
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.train import TrainConfig, train
    from actorgraph.gnn.world_split import load_heldout

    trained = train(export_graph(backends["falkordb"].store, max_tlp=TLP.RED), TrainConfig())
    version = artefacts.save(trained, tmp_path / "models")
    held = [activity for activity, _ in load_heldout(world)]
    ranked: dict[str, list[list[str]]] = {}
    evidence: dict[str, list[int]] = {}
    for side in BACKENDS:
        attributor = Attributor.load(
            tmp_path / "models", backends[side].store, version=version, max_tlp=TLP.RED
        )
        results = [attributor.attribute(a, max_tlp=TLP.RED) for a in held]
        ranked[side] = [[c.actor_id for c in r.candidates[:3]] for r in results]
        evidence[side] = [len(r.evidence) for r in results]
    assert len(held) > 20
    assert ranked["neo4j"] == ranked["falkordb"]
    assert evidence["neo4j"] == evidence["falkordb"] and sum(evidence["falkordb"]) > 0


def _bag(rows: list[dict[str, Any]]) -> list[str]:
    """Rows as a sorted list of canonical JSON texts: row order and list order aside.

    Lists are compared as multisets because ``collect()`` gathers in whatever order the engine
    walked the graph; floats are rounded to 9 places (the engines sum in different orders).
    """
    return sorted(json.dumps(_canonical(r), sort_keys=True) for r in rows)


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value
