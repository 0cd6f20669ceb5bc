"""Shared fixtures: one real embedded FalkorDB server per test session, a fresh graph per test;
and, when one is configured, a real Neo4j 5 server (``neo4j_store``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from actorgraph.graph.enrich.warninglists import use_cache_dir
from actorgraph.graph.errors import StoreUnresponsive
from actorgraph.graph.store import GraphStore, StoreConfig, embedded, open_store
from actorgraph.graph.store.falkor import FalkorStore
from actorgraph.graph.store.neo4j import Neo4jStore
from tests.helpers.backends import BACKENDS, NEO4J_DATABASE, fresh_graph

os.environ.setdefault("PYTHONHASHSEED", "0")
# The warninglists index (about 10 s of CPU to build) once per checkout, for this process and
# every CLI or server subprocess, instead of once per temporary home.
CACHE = Path(__file__).resolve().parent.parent / "build" / "cache"
os.environ.setdefault("ACTORGRAPH_CACHE", str(CACHE))
use_cache_dir(Path(os.environ["ACTORGRAPH_CACHE"]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Stop the run at the first test failed by a FalkorDB server that stopped answering.

    The tests share servers (one per session, some per module), so every later test would
    fail the same way, one reply timeout (``ClientTimeouts.reply_s``) at a time.
    """
    report = yield
    stuck = call.excinfo is not None and call.excinfo.errisinstance(StoreUnresponsive)
    if report.failed and stuck:
        item.session.shouldstop = f"an embedded FalkorDB stopped answering: {call.excinfo.value}"
    return report


@pytest.fixture(scope="session")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data directory with a running embedded server, stopped at the end of the session."""
    home = tmp_path_factory.mktemp("ag-home")
    embedded.start(home, auto=False)
    yield home
    embedded.stop(home)


@pytest.fixture(scope="session")
def server(server_home: Path) -> Iterator[FalkorStore]:
    """A session-wide connection; use ``store`` for a per-test graph."""
    base = FalkorStore(embedded.ServerPaths(server_home.resolve()).socket, graph="session-base")
    yield base
    base.close()


@pytest.fixture
def embedded_store(server: FalkorStore) -> Iterator[FalkorStore]:
    """A fresh, empty graph with the schema applied; deleted after the test."""
    s = server.with_graph(f"t-{uuid.uuid4().hex[:12]}")
    s.ensure_schema()
    yield s
    s.clear()
    s.close()


@pytest.fixture
def store(embedded_store: FalkorStore) -> FalkorStore:
    """A fresh embedded graph; folders that run on both backends override this one."""
    return embedded_store


# -- Neo4j: a real Neo4j 5 server, when one is configured --------------------------------------
# `make neo4j-up` writes $ACTORGRAPH_HOME/neo4j/neo4j.env; point ACTORGRAPH_NEO4J_ENV at it (what
# .ci/run does), or set NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD. Without either, every test that
# needs Neo4j is skipped and says why (pytest -ra lists the reason). The NEO4J_* variables are
# taken out of this process's environment here, so that the rest of the suite (Settings(), CLI
# subprocesses) stays on the embedded store.
NEO4J_ENV_FILE = os.environ.get("ACTORGRAPH_NEO4J_ENV")
NEO4J_FROM_ENV = {
    key: os.environ.pop(key)
    for key in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE")
    if key in os.environ
}
for _alias in ("URI", "USER", "PASSWORD", "DATABASE"):
    os.environ.pop(f"ACTORGRAPH_NEO4J_{_alias}", None)
NOT_CONFIGURED = (
    "no Neo4j configured: run `make neo4j-up` and set "
    "ACTORGRAPH_NEO4J_ENV=$ACTORGRAPH_HOME/neo4j/neo4j.env (or NEO4J_URI/USER/PASSWORD)"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "neo4j: needs a Neo4j 5 server (skipped, saying so, when none is configured)"
    )


def neo4j_config() -> StoreConfig | None:
    """The configured Neo4j, or None. A named env file that cannot be read is an error."""
    values = dict(NEO4J_FROM_ENV)
    if NEO4J_ENV_FILE:
        path = Path(NEO4J_ENV_FILE)
        if not path.is_file():
            pytest.fail(
                f"ACTORGRAPH_NEO4J_ENV={NEO4J_ENV_FILE} does not exist: is Neo4j running "
                "(`make neo4j-up`)?",
                pytrace=False,
            )
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip().startswith("NEO4J_"):
                values[key.strip()] = value.strip()
    if not values.get("NEO4J_URI"):
        return None
    return StoreConfig(
        neo4j_uri=values["NEO4J_URI"],
        neo4j_user=values.get("NEO4J_USER", "neo4j"),
        neo4j_password=values.get("NEO4J_PASSWORD", ""),
        neo4j_database=values.get("NEO4J_DATABASE", "neo4j"),
    )


@pytest.fixture(scope="session")
def neo4j_settings() -> StoreConfig:
    """How to reach the configured Neo4j (for tests that start the CLI); skips when none."""
    config = neo4j_config()
    if config is None:
        pytest.skip(NOT_CONFIGURED)
    return config


@pytest.fixture(scope="session")
def neo4j_server(neo4j_settings: StoreConfig) -> Iterator[Neo4jStore]:
    """A session-wide connection to the configured Neo4j, schema applied; skips when none.

    Neo4j Community has one user database, so the Neo4j tests share it and empty it; they refuse
    a database that holds data when the session starts (it is not a throwaway one) unless
    ACTORGRAPH_NEO4J_TESTS_CLEAR=1.
    """
    config = neo4j_settings
    if os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.fail(
            "the Neo4j tests share one database and must run in one process: run pytest "
            "without -n (pytest-xdist)",
            pytrace=False,
        )
    store = open_store(config)
    assert isinstance(store, Neo4jStore)
    nodes = store.query("MATCH (n) RETURN count(n) AS c", read_only=True)[0]["c"]
    if nodes and os.environ.get("ACTORGRAPH_NEO4J_TESTS_CLEAR") != "1":
        store.close()
        pytest.fail(
            f"Neo4j at {config.neo4j_uri} holds {nodes} nodes and the Neo4j tests empty the "
            "database they use: give them a throwaway server (`make neo4j-up` with a fresh "
            "ACTORGRAPH_HOME) or set ACTORGRAPH_NEO4J_TESTS_CLEAR=1",
            pytrace=False,
        )
    store.ensure_schema()
    yield store
    store.clear()
    store.close()


@pytest.fixture
def neo4j_store(neo4j_server: Neo4jStore) -> Iterator[Neo4jStore]:
    """The Neo4j database, empty, with the schema applied; emptied again after the test."""
    with NEO4J_DATABASE.held(neo4j_server, "neo4j_store") as store:
        yield store


# -- Both backends: suites that run on each (tests/helpers/backends.py) -----------------------
@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``falkordb`` or ``neo4j``: the test id says which; the Neo4j half skips without one."""
    if request.param == "neo4j":
        request.getfixturevalue("neo4j_settings")
    return str(request.param)


@pytest.fixture(scope="session")
def backend_server(backend: str, request: pytest.FixtureRequest) -> GraphStore:
    """The session's connection to ``backend``: the FalkorDB server or the Neo4j database."""
    name = "neo4j_server" if backend == "neo4j" else "server"
    store = request.getfixturevalue(name)
    assert isinstance(store, GraphStore)
    return store


@pytest.fixture
def backend_store(backend_server: GraphStore) -> Iterator[GraphStore]:
    """A fresh, empty graph with the schema applied on each backend; emptied after the test.

    A folder runs its tests on both backends by overriding ``store`` with this one.
    """
    with fresh_graph(backend_server, "backend_store") as store:
        yield store
