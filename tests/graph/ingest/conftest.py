"""Every test here that takes ``store`` runs on both backends (tests/helpers/backends.py);
``two_graphs`` gives two fresh FalkorDB graphs on the session's server, to compare two ways of
writing the same input."""

import uuid
from collections.abc import Iterator

import pytest

from actorgraph.graph.store.falkor import FalkorStore
from tests.helpers.backends import store_on_each_backend  # noqa: F401  (the ``store`` fixture)


@pytest.fixture
def two_graphs(server: FalkorStore) -> Iterator[tuple[FalkorStore, FalkorStore]]:
    graphs = [server.with_graph(f"t-{uuid.uuid4().hex[:12]}") for _ in range(2)]
    for g in graphs:
        g.ensure_schema()
    yield graphs[0], graphs[1]
    for g in graphs:
        g.clear()
        g.close()
