"""``actorgraph serve --workers N`` loads the model once, in the parent, before it forks the
workers: each worker (and each replacement of a worker that died) answers with the models the
parent loaded, one per clearance, through a store connection of its own.

A home with the Remexi world of tests/helpers/remexi_world.py (clear and red data), trained by
``actorgraph train``, so that a clear key and a red key are served by different models.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient

from actorgraph.api.keys import KeyStore
from actorgraph.api.main import create_app
from actorgraph.cli import main
from actorgraph.graph.store import StoreConfig, open_store
from actorgraph.settings import Settings
from tests.helpers.api_helpers import auth
from tests.helpers.graphs import write_graph
from tests.helpers.remexi_world import RED_ACTOR, remexi_world
from tests.helpers.server import serve

pytestmark = pytest.mark.slow  # trains two small models (about 10 s)

REMEXI = {"malware": ["Remexi"], "top_k": 10}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home holding the Remexi world, trained with a fixed seed; its store left running."""
    path = tmp_path_factory.mktemp("preload") / "home"
    try:
        store = open_store(StoreConfig(home=path))
        store.ensure_schema()
        write_graph(store, remexi_world())
        store.close()
        with redirect_stdout(io.StringIO()):
            args = ["--home", str(path), "train", "--seed", "2", "--epochs", "30", "--json"]
            assert main(args) == 0
        yield path
    finally:
        with redirect_stdout(io.StringIO()):
            main(["--home", str(path), "store", "stop"])


def _comparable(result: dict[str, Any]) -> Any:
    """The answer without its input name, floats to 4 places."""
    return _rounded({k: v for k, v in result.items() if k != "input"})


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _workers(server_pid: int, home: Path) -> set[int]:
    """The server's worker processes: its children other than the embedded store."""
    store = int((home / "falkordb.pid").read_text())
    return {c.pid for c in psutil.Process(server_pid).children() if c.pid != store}


def _wait(predicate: Any, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_workers_and_their_replacements_serve_the_models_the_parent_loaded(
    home: Path, tmp_path: Path
) -> None:
    keys = KeyStore(home / "keys.sqlite")
    tokens = {level: keys.create("analyst", tlp=level, name=level)[1] for level in ("clear", "red")}
    settings = Settings(home=home, env="development", api_rate_limit_per_minute=100_000)
    with TestClient(create_app(settings)) as client:
        want = {
            level: client.post("/v1/attributions", json=REMEXI, headers=auth(token)).json()
            for level, token in tokens.items()
        }
    assert RED_ACTOR in {c["actor_id"] for c in want["red"]["candidates"]}
    assert RED_ACTOR not in str(want["clear"])

    env = {"ACTORGRAPH_API_RATE_LIMIT_PER_MINUTE": "100000"}
    with serve(home, "--workers", "2", env=env) as server:
        ready = httpx.get(f"{server.base}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["model"]["version"] == want["red"]["model"]["version"]
        # /readyz answers once one worker is up; the master forks the second one beside it.
        assert _wait(lambda: len(_workers(server.pid, home)) >= 2), server.output()
        first = _workers(server.pid, home)
        assert len(first) >= 2
        # From now on no process can load the model from disk: a worker that answers with it
        # holds the copy its parent loaded before forking it.
        shutil.move(home / "models", tmp_path / "models")
        try:
            for pid in first:
                os.kill(pid, signal.SIGKILL)
            assert _wait(lambda: len(_workers(server.pid, home) - first) >= 2), server.output()
            for _ in range(6):  # a new connection each time, so both replacements answer
                for level, token in tokens.items():
                    r = httpx.post(
                        f"{server.base}/v1/attributions", json=REMEXI, headers=auth(token)
                    )
                    assert r.status_code == 200, r.text
                    assert _comparable(r.json()) == _comparable(want[level])
        finally:
            shutil.move(tmp_path / "models", home / "models")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_no_model_reaches_every_worker(home: Path, workers: str) -> None:
    """``--no-model`` serves without the model the home holds, in one process and in each
    forked worker alike."""
    _, token = KeyStore(home / "keys.sqlite").create("analyst", tlp="red", name=f"w{workers}")
    with serve(home, "--workers", workers, "--no-model") as server:
        for _ in range(4):  # a new connection each time: whichever worker takes it
            ready = httpx.get(f"{server.base}/readyz", timeout=10)
            assert ready.status_code == 503, ready.text
            assert ready.json()["checks"]["model"]["ok"] is False
            r = httpx.post(f"{server.base}/v1/attributions", json=REMEXI, headers=auth(token))
            assert r.status_code == 503, r.text
            assert r.json()["type"] == "urn:actorgraph:problem:no-model"
