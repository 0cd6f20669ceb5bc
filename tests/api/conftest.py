"""Fixtures for the API tests: the tiny world in a real graph, keys per role and clearance,
an in-process TestClient (with or without a tiny trained model), and a real ``actorgraph serve``
process on a free localhost port.

The world and ``store`` are on each backend (tests/helpers/backends.py): every test that takes
them runs on FalkorDB and on Neo4j."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from actorgraph.api.keys import KeyStore
from actorgraph.api.main import create_app
from actorgraph.graph.store import GraphStore
from actorgraph.settings import Settings
from tests.helpers.api_world import API_WORLD
from tests.helpers.backends import (
    fresh_graph,
    settings_fields,
    store_env,
    store_on_each_backend,  # noqa: F401  (``store`` on both)
)
from tests.helpers.graphs import write_graph
from tests.helpers.server import serve

# name -> (role, tlp); "revoked" is revoked right after creation.
KEY_SPECS = {
    "reader_clear": ("reader", "clear"),
    "reader_green": ("reader", "green"),
    "reader_amber": ("reader", "amber"),
    "reader_red": ("reader", "red"),
    "analyst_clear": ("analyst", "clear"),
    "analyst_red": ("analyst", "red"),
    "ingest_red": ("ingest", "red"),
    "admin_red": ("admin", "red"),
    "revoked": ("admin", "red"),
}


@pytest.fixture(scope="module")
def world(backend_server: GraphStore, request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    """A graph holding the tiny world of tests/helpers/api_world.py, shared by one test module,
    on each backend."""
    with fresh_graph(backend_server, f"world ({request.module.__name__})") as s:
        write_graph(s, API_WORLD)
        yield s


@pytest.fixture(scope="module")
def world_env(world: GraphStore, request: pytest.FixtureRequest) -> dict[str, str]:
    """Environment variables that point a CLI or ``actorgraph serve`` process at ``world``."""
    neo4j = request.getfixturevalue("neo4j_settings") if world.backend == "neo4j" else None
    return store_env(world, neo4j)


@pytest.fixture(scope="module")
def api_settings(server_home: Path, world: GraphStore, request: pytest.FixtureRequest) -> Settings:
    """Settings pointing at the module's graph (on the session server or the Neo4j database),
    with small limits."""
    neo4j = request.getfixturevalue("neo4j_settings") if world.backend == "neo4j" else None
    return Settings(
        home=server_home,
        **settings_fields(world, neo4j),
        env="development",
        cypher_timeout_ms=2000,
        cypher_row_cap=100,
        api_max_body_bytes=64 * 1024,
        api_rate_limit_per_minute=100_000,
    )


@pytest.fixture(scope="module")
def keys(api_settings: Settings) -> dict[str, str]:
    """A key per entry of KEY_SPECS (key text by name)."""
    store = KeyStore(api_settings.home / "keys.sqlite")
    tokens = {}
    for name, (role, tlp) in KEY_SPECS.items():
        record, token = store.create(role, tlp=tlp, name=f"test-{name}")
        tokens[name] = token
        if name == "revoked":
            store.revoke(record.id)
    return tokens


@pytest.fixture(scope="module")
def client(api_settings: Settings, world: GraphStore, keys: dict[str, str]) -> Iterator[TestClient]:
    """The app in process, on the module's graph, without an attribution model."""
    app = create_app(api_settings, store=world, load_model=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def models_dir(world: GraphStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model per clearance trained on the module's world (about 10 s with the imports)."""
    from actorgraph.gnn import artefacts
    from actorgraph.gnn.clearances import train_per_clearance
    from actorgraph.gnn.train import TrainConfig

    out = tmp_path_factory.mktemp("models")
    models = train_per_clearance(world, TrainConfig(epochs=10, episodes=2))
    artefacts.save(list(models.values()), out)
    return out


@pytest.fixture(scope="module")
def model_client(
    api_settings: Settings, world: GraphStore, keys: dict[str, str], models_dir: Path
) -> Iterator[TestClient]:
    """The app in process, on the module's graph, with the models of ``models_dir``."""
    from actorgraph.gnn.attribute import Attributors

    app = create_app(
        api_settings, store=world, load_model=lambda: Attributors.load(models_dir, world)
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def live_server(
    api_settings: Settings, keys: dict[str, str], world_env: dict[str, str]
) -> Iterator[str]:
    """A real ``actorgraph serve`` process on a free port; yields its base URL."""
    env = {
        **world_env,
        "ACTORGRAPH_API_MAX_BODY_BYTES": str(api_settings.api_max_body_bytes),
        "ACTORGRAPH_CYPHER_ROW_CAP": str(api_settings.cypher_row_cap),
        "ACTORGRAPH_CYPHER_TIMEOUT_MS": str(api_settings.cypher_timeout_ms),
        "ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "100000",
    }
    with serve(api_settings.home, "--no-model", env=env) as server:
        yield server.base
