"""Shared fixtures: one real embedded FalkorDB server per test session, a fresh graph per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from actorgraph.graph.store import embedded
from actorgraph.graph.store.falkor import FalkorStore

os.environ.setdefault("PYTHONHASHSEED", "0")


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
def store(server: FalkorStore) -> Iterator[FalkorStore]:
    """A fresh, empty graph with the schema applied; deleted after the test."""
    s = server.with_graph(f"t-{uuid.uuid4().hex[:12]}")
    s.ensure_schema()
    yield s
    s.clear()
    s.close()
