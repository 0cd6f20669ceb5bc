"""Fuzz the whole OpenAPI contract with schemathesis against a real server with a model: no 5xx."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from actorgraph.api.keys import KeyStore
from actorgraph.graph.store import embedded
from actorgraph.graph.store.falkor import FalkorStore
from tests.helpers.api_world import API_WORLD
from tests.helpers.graphs import write_graph
from tests.helpers.server import serve

pytestmark = pytest.mark.slow  # about 20 s: a server with a model and ~1,100 generated requests


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """Its own data directory (store, trained model, key) and `actorgraph serve` on it."""
    from actorgraph.gnn import artefacts
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.train import TrainConfig, train
    from actorgraph.graph.tlp import TLP

    home = tmp_path_factory.mktemp("fuzz-home")
    socket_path, _ = embedded.start(home, auto=False)
    store = FalkorStore(socket_path, graph="actorgraph")
    try:
        store.ensure_schema()
        write_graph(store, API_WORLD)
        artefacts.save(
            train(export_graph(store, max_tlp=TLP.RED), TrainConfig(epochs=10, episodes=2)),
            home / "models",
        )
        _, token = KeyStore(home / "keys.sqlite").create("admin", tlp="red", name="fuzzer")
        env = {
            "ACTORGRAPH_GRAPH": "actorgraph",
            "ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "1000000",
            "ACTORGRAPH_CYPHER_TIMEOUT_MS": "2000",
        }
        with serve(home, env=env, ready_within=90) as server:
            ready = httpx.get(f"{server.base}/readyz", timeout=10)
            assert ready.status_code == 200, ready.text  # the model is loaded
            yield server.base, token
    finally:
        store.close()
        embedded.stop(home)


def test_openapi_contract_has_no_server_errors(fuzz_target, tmp_path):
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if st is None:
        pytest.fail("schemathesis is not installed (pip install 'schemathesis>=4')")
    base, token = fuzz_target
    result = subprocess.run(
        [
            st,
            "run",
            f"{base}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "40",
            "--seed",
            "7",
            "--generation-database",
            "none",
            "--request-timeout",
            "10",
        ],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    print(result.stdout[-2500:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Tested:" in result.stdout and "Server error" not in result.stdout, result.stdout[-3000:]
