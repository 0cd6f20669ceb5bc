"""Fuzz the whole OpenAPI contract with schemathesis against a real server with a model: no 5xx."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.helpers.api_helpers import ROOT, free_port
from tests.helpers.api_world import load_world

from actorgraph.api.keys import KeyStore
from actorgraph.graph.store import embedded
from actorgraph.graph.store.falkor import FalkorStore

pytestmark = pytest.mark.slow  # about 20 s: a server with a model and ~1,100 generated requests


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """Its own data directory (store, trained model, key) and `actorgraph serve` on it."""
    from actorgraph.gnn import artefacts
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.train import TrainConfig, train

    home = tmp_path_factory.mktemp("fuzz-home")
    socket_path, _ = embedded.start(home, auto=False)
    store = FalkorStore(socket_path, graph="actorgraph")
    proc = None
    try:
        store.ensure_schema()
        load_world(store)
        artefacts.save(
            train(export_graph(store), TrainConfig(epochs=10, episodes=2)), home / "models"
        )
        _, token = KeyStore(home / "keys.sqlite").create("admin", tlp="red", name="fuzzer")
        port = free_port()
        env = {
            **os.environ,
            "ACTORGRAPH_HOME": str(home),
            "ACTORGRAPH_GRAPH": "actorgraph",
            "ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "1000000",
            "ACTORGRAPH_CYPHER_TIMEOUT_MS": "2000",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "actorgraph.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, "actorgraph serve exited"
            assert time.monotonic() < deadline, "the server was not ready within 90 s"
            time.sleep(0.2)
        yield base, token
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
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
