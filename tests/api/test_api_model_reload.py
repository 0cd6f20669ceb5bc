"""A running API picks up a newly trained model version without a restart, and keeps serving
the current one when a new version cannot be loaded."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from actorgraph.api.keys import KeyStore
from actorgraph.api.main import create_app
from actorgraph.api.state import ModelHolder
from actorgraph.graph.errors import ModelError
from actorgraph.graph.store import embedded
from actorgraph.settings import Settings
from tests.helpers.api_helpers import auth
from tests.helpers.cli import ag


def _wait(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


# ------------------------------------------------------------------ the holder on its own
class _Versions:
    """A fake models directory: ``newest`` is what ``latest`` reports and the loader loads."""

    def __init__(self, newest: str) -> None:
        self.newest = newest
        self.broken: set[str] = set()
        self.loads: list[str] = []
        self.checks = 0
        self.gate = threading.Event()
        self.gate.set()

    def loader(self) -> Any:
        self.gate.wait(10)
        self.loads.append(self.newest)
        if self.newest in self.broken:
            raise ModelError(f"{self.newest}: model.pt is corrupt")
        return SimpleNamespace(version=self.newest)

    def latest(self) -> str:
        self.checks += 1
        return self.newest


def test_a_new_version_is_loaded_in_the_background_and_swapped_in():
    v = _Versions("v1")
    holder = ModelHolder(v.loader, latest=v.latest, check_s=0.0)
    assert holder.load().version == "v1"
    v.newest, v.gate = "v2", threading.Event()  # the v2 load blocks until the gate opens
    assert holder.get().version == "v1"  # starts the load, answers with the current model
    assert holder.get().version == "v1"  # still loading: no second load is started
    v.gate.set()
    assert _wait(lambda: holder.get().version == "v2")
    assert v.loads == ["v1", "v2"]


def test_a_version_that_fails_to_load_is_skipped_and_the_current_one_serves():
    v = _Versions("v1")
    holder = ModelHolder(v.loader, latest=v.latest, check_s=0.0)
    holder.load()
    v.newest = "v2"
    v.broken.add("v2")
    holder.get()
    assert _wait(lambda: holder.reload_error is not None)
    assert "corrupt" in holder.reload_error
    for _ in range(20):
        assert holder.get().version == "v1"
    time.sleep(0.2)
    assert v.loads == ["v1", "v2"]  # v2 was tried once, not on every request
    v.newest = "v3"  # a later, good version is still picked up
    assert _wait(lambda: holder.get().version == "v3")
    assert holder.reload_error is None


def test_a_loader_that_falls_back_to_an_older_version_marks_the_newest_failed():
    """The default loader skips a version that does not load and returns the previous one:
    the holder keeps the current model, reports the newest as failed and stops trying it."""
    loads = []

    def loader() -> Any:
        loads.append(1)
        return SimpleNamespace(version="v1")  # v2 is broken: the loader falls back to v1

    holder = ModelHolder(loader, latest=lambda: "v2", check_s=0.0)
    first = holder.load()
    holder.get()
    assert _wait(lambda: holder.reload_error is not None)
    assert holder.reload_error == "v2: could not be loaded; serving v1"
    assert all(holder.get() is first for _ in range(20))  # not swapped for an equal copy
    time.sleep(0.2)
    assert len(loads) == 2  # start-up, and one try of v2


def test_checks_are_rate_limited():
    v = _Versions("v1")
    holder = ModelHolder(v.loader, latest=v.latest, check_s=3600.0)
    holder.load()
    for _ in range(100):
        holder.get()
    assert v.checks == 1


def test_without_latest_the_first_model_serves_until_restart():
    v = _Versions("v1")
    holder = ModelHolder(v.loader)
    holder.load()
    v.newest = "v2"
    assert all(holder.get().version == "v1" for _ in range(5))
    assert v.loads == ["v1"]


# ------------------------------------------------------------------ the real app
@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A home holding the attribution tests' small world and one trained model version."""
    from actorgraph.graph.store import StoreConfig, open_store
    from tests.helpers.attribution_world import build_world

    home = tmp_path_factory.mktemp("reload") / "home"
    embedded.start(home, auto=False)
    store = open_store(StoreConfig(home=home))
    store.ensure_schema()
    build_world(store)
    store.close()
    out = ag(home, "train", "--seed", "2", "--epochs", "20", "--json", timeout=600)
    yield {"home": home, "v1": json.loads(out.stdout)["version"]}
    embedded.stop(home)


def _copy_version(models: Path, source: str, name: str, created: str) -> None:
    """A new version with the same weights: what `actorgraph train` leaves, without the wait."""
    shutil.copytree(models / source, models / f".{name}.partial")
    meta = json.loads((models / f".{name}.partial" / "meta.json").read_text())
    meta.update(version=name, created=created)
    (models / f".{name}.partial" / "meta.json").write_text(json.dumps(meta))
    (models / f".{name}.partial").rename(models / name)  # appears whole, as save() does


def _corrupt(version: Path) -> None:
    """Damage every model of a version (one folder per TLP clearance)."""
    for weights in version.glob("*/model.pt"):
        weights.write_bytes(b"not a model")


def test_the_running_api_swaps_in_a_new_version_and_survives_a_corrupt_one(trained):
    home, v1 = trained["home"], trained["v1"]
    settings = Settings(
        home=home, env="development", api_model_check_s=0.2, api_rate_limit_per_minute=100_000
    )
    _, token = KeyStore(home / "keys.sqlite").create("analyst", tlp="red", name="reload")
    activity = {"malware": ["WiperY"], "techniques": ["T1015", "T1016"]}

    def version(c: TestClient) -> str:
        r = c.post("/v1/attributions", json=activity, headers=auth(token))
        assert r.status_code == 200, r.text
        return r.json()["model"]["version"]

    def ready(c: TestClient) -> dict[str, Any]:
        return c.get("/readyz").json()["checks"]["model"]

    with TestClient(create_app(settings)) as c:
        assert version(c) == v1
        models = home / "models"
        _copy_version(models, v1, "29990101T000000000000Z-newer000", "2999-01-01T00:00:00Z")
        assert _wait(lambda: version(c) == "29990101T000000000000Z-newer000")
        assert ready(c)["version"] == "29990101T000000000000Z-newer000"

        _copy_version(models, v1, "29990202T000000000000Z-corrupt0", "2999-02-02T00:00:00Z")
        _corrupt(models / "29990202T000000000000Z-corrupt0")
        assert _wait(lambda: ready(c).get("reload_error") is not None)
        assert "29990202T000000000000Z-corrupt0" in ready(c)["reload_error"]
        assert version(c) == "29990101T000000000000Z-newer000"  # still answering, same model
        assert c.get("/readyz").status_code == 200


def test_a_corrupt_newest_version_at_start_up_serves_the_previous_one(trained):
    from actorgraph.gnn.artefacts import list_versions

    home, models = trained["home"], trained["home"] / "models"
    previous = [m["version"] for m in list_versions(models) if "corrupt" not in m["version"]][-1]
    _copy_version(models, trained["v1"], "30000101T000000000000Z-corrupt1", "3000-01-01T00:00:00Z")
    _corrupt(models / "30000101T000000000000Z-corrupt1")
    settings = Settings(
        home=home, env="development", api_model_check_s=0.2, api_rate_limit_per_minute=100_000
    )
    _, token = KeyStore(home / "keys.sqlite").create("analyst", tlp="red", name="fallback")
    with TestClient(create_app(settings)) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["model"]["version"] == previous
        r = c.post("/v1/attributions", json={"malware": ["WiperY"]}, headers=auth(token))
        assert r.status_code == 200 and r.json()["model"]["version"] == previous
        assert _wait(
            lambda: (
                "corrupt1" in (c.get("/readyz").json()["checks"]["model"].get("reload_error") or "")
            )
        )


def test_a_loaded_model_is_kept_out_of_the_cyclic_collector():
    # A full collection walks every object of the model (benchmarks/RESULTS.md has the cost),
    # pausing the worker's requests; frozen objects are skipped. A swap unfreezes the earlier model.
    import gc

    def loader() -> Any:
        return SimpleNamespace(version="v1", parts=[[i] for i in range(50_000)])

    gc.unfreeze()
    try:
        holder = ModelHolder(loader)
        model = holder.load()
        assert model is not None
        assert gc.get_freeze_count() >= 50_000
        # Frozen objects are no longer among those a collection visits.
        assert not any(o is model.parts[0] for o in gc.get_objects())
    finally:
        gc.unfreeze()
