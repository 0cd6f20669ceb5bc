"""The ``actorgraph serve`` helper: it answers, stops cleanly, and says why it could not start."""

from __future__ import annotations

import httpx
import pytest

from actorgraph import __version__
from tests.helpers.server import serve
from tests.helpers.staged import staged_package


def test_serve_answers_and_stops_cleanly(server_home, store):
    with serve(server_home, "--no-model", env={"ACTORGRAPH_GRAPH": store.graph_name}) as server:
        assert httpx.get(f"{server.base}/healthz").json()["status"] == "ok"
        assert server.stop() == 0
        assert server.proc.poll() == 0


def test_a_server_that_cannot_start_fails_with_its_output(tmp_path):
    failed = pytest.raises(pytest.fail.Exception, match=r"exited with 2:(.|\n)*--workers must be")
    with failed, serve(tmp_path, "--workers", "0"):
        pass  # never reached


def test_an_error_inside_the_block_carries_the_server_output(server_home, store):
    env = {"ACTORGRAPH_GRAPH": store.graph_name}
    with pytest.raises(AssertionError) as info, serve(server_home, "--no-model", env=env):
        raise AssertionError("the test failed")
    assert any("actorgraph serve output" in note for note in info.value.__notes__)


def test_a_staged_package_on_pythonpath_is_what_serves(server_home, store, tmp_path):
    staged = f"{__version__}+staged"
    env = {
        "ACTORGRAPH_GRAPH": store.graph_name,
        "PYTHONPATH": str(staged_package(tmp_path / "stage", staged)),
    }
    with serve(server_home, "--no-model", env=env) as server:
        assert httpx.get(f"{server.base}/openapi.json").json()["info"]["version"] == staged
