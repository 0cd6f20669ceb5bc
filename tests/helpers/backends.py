"""The same tests on both backends: the embedded FalkorDB and a real Neo4j 5.

A suite runs on both by taking its graph from the ``backend`` fixture (tests/conftest.py), whose
two parameters make every test id end in ``[falkordb]`` or ``[neo4j]``; the Neo4j half skips,
saying why, when no Neo4j is configured. A folder (or a module) opts in by importing
:func:`store_on_each_backend`, which makes its ``store`` one per backend; a module-scoped world
takes its graph from ``backend_server`` with :func:`fresh_graph`.

FalkorDB gives every test a graph of its own on one server. Neo4j Community has one user
database, so a Neo4j test empties it and owns it until it ends: :data:`NEO4J_DATABASE` records
who holds it and fails loudly, naming both, if a second fixture asks for it meanwhile (a
module-scoped world and a per-test ``store`` in one module, say). Tests run in one process, one
at a time (``neo4j_server`` refuses to run under pytest-xdist), so holding is a plain flag.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from actorgraph.graph.store import GraphStore, StoreConfig, open_store
from actorgraph.graph.store.falkor import FalkorStore
from actorgraph.graph.store.neo4j import Neo4jStore

__all__ = [
    "BACKENDS",
    "NEO4J_DATABASE",
    "another_connection",
    "fresh_graph",
    "indexed",
    "neo4j_env",
    "settings_fields",
    "store_env",
    "store_on_each_backend",
]

BACKENDS = ["falkordb", pytest.param("neo4j", marks=pytest.mark.neo4j)]


class _OneDatabase:
    """Who holds the one Neo4j database now (a fixture's name), or nobody."""

    def __init__(self) -> None:
        self.holder: str | None = None

    @contextmanager
    def held(self, store: Neo4jStore, by: str) -> Iterator[Neo4jStore]:
        """Empty the database, hold it for ``by`` for the block, empty it again."""
        if self.holder is not None:
            pytest.fail(
                f"{by} needs the one Neo4j database while {self.holder} holds it: a test "
                "module on Neo4j uses either one world for the module or a graph per test",
                pytrace=False,
            )
        self.holder = by
        try:
            store.clear()
            yield store
            store.clear()
        finally:
            self.holder = None


NEO4J_DATABASE = _OneDatabase()


@contextmanager
def fresh_graph(base: GraphStore, by: str) -> Iterator[GraphStore]:
    """An empty graph with the schema applied on ``base``'s backend, emptied afterwards.

    Args:
        base: the session's connection (``FalkorStore`` server or ``Neo4jStore``).
        by: who asks (a fixture's name), named if the Neo4j database is already held.
    """
    if isinstance(base, Neo4jStore):
        with NEO4J_DATABASE.held(base, by) as store:
            yield store
        return
    assert isinstance(base, FalkorStore)
    store = base.with_graph(f"t-{uuid.uuid4().hex[:12]}")
    store.ensure_schema()
    try:
        yield store
    finally:
        store.clear()
        store.close()


def neo4j_env(config: StoreConfig) -> dict[str, str]:
    """The ``NEO4J_*`` variables that point a CLI or server subprocess at ``config``'s Neo4j."""
    assert config.neo4j_uri
    return {
        "NEO4J_URI": config.neo4j_uri,
        "NEO4J_USER": config.neo4j_user,
        "NEO4J_PASSWORD": config.neo4j_password,
        "NEO4J_DATABASE": config.neo4j_database,
    }


def store_env(store: GraphStore, config: StoreConfig | None) -> dict[str, str]:
    """Environment variables that point a CLI or server process at ``store``.

    Args:
        store: a graph from :func:`fresh_graph`.
        config: the Neo4j configuration when ``store`` is on Neo4j, else None.
    """
    if isinstance(store, Neo4jStore):
        assert config is not None
        return neo4j_env(config)
    assert isinstance(store, FalkorStore)
    return {"ACTORGRAPH_GRAPH": store.graph_name}


def settings_fields(store: GraphStore, config: StoreConfig | None) -> dict[str, Any]:
    """``Settings`` fields that open ``store`` again (in a server process, say).

    Args:
        store: a graph from :func:`fresh_graph`.
        config: the Neo4j configuration when ``store`` is on Neo4j, else None.
    """
    if isinstance(store, Neo4jStore):
        assert config is not None
        return dict(neo4j_env(config))  # Settings reads them by these names
    assert isinstance(store, FalkorStore)
    return {"graph": store.graph_name}


@pytest.fixture(name="store")
def store_on_each_backend(backend_store: GraphStore) -> GraphStore:
    """``store`` on each backend: a folder's conftest.py imports this to run its tests on both."""
    return backend_store


# Each engine lists its indexes its own way: FalkorDB through a procedure, Neo4j through SHOW.
_INDEXES = {
    "falkordb": "CALL db.indexes() YIELD label, properties RETURN label, properties",
    "neo4j": "SHOW INDEXES YIELD labelsOrTypes, properties "
    "RETURN labelsOrTypes[0] AS label, properties",
}


def indexed(store: GraphStore) -> set[tuple[str, str]]:
    """``(label, property)`` of every index the store holds."""
    rows = store.query(_INDEXES[store.backend], read_only=True)
    return {(r["label"], prop) for r in rows if r["label"] for prop in r["properties"] or []}


def another_connection(store: GraphStore, config: StoreConfig | None) -> GraphStore:
    """A second connection to ``store``'s graph, as another process would open it.

    Args:
        store: a graph from :func:`fresh_graph`.
        config: the Neo4j configuration when ``store`` is on Neo4j, else None.
    """
    if isinstance(store, Neo4jStore):
        assert config is not None
        return open_store(config)
    assert isinstance(store, FalkorStore)
    return store.with_graph(store.graph_name)
