"""Issue 18, findings 1, 5 and 6: an attribution depends only on what the key may see.

Two homes, each with its own embedded store, trained by ``actorgraph train``: ``full`` holds the
Remexi world of tests/helpers/remexi_world.py (clear and red data), ``clear_only`` the same world
without anything marked above clear. A clear key's answer from ``full`` must be the answer of
``clear_only``: same scores, ranks, counts, evidence and unknown score. A red key still sees the
red data.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import ExitStack, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from actorgraph.api.keys import KeyStore
from actorgraph.api.main import create_app
from actorgraph.cli import main
from actorgraph.graph.store import StoreConfig, open_store
from actorgraph.settings import Settings
from tests.helpers.api_helpers import auth
from tests.helpers.graphs import write_graph
from tests.helpers.remexi_world import (
    CLEAR_INDICATOR,
    MAGIC_HOUND,
    MISSING_VALUES,
    RED_ACTOR,
    RED_CAMPAIGN,
    RED_INDICATOR,
    RED_VALUES,
    clear_part,
    remexi_world,
)

pytestmark = pytest.mark.slow  # trains three small models (about 20 s)

REMEXI = {"malware": ["Remexi"], "top_k": 10}


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """``full`` and ``clear_only``, each stored and trained with the same seed."""
    out: dict[str, Path] = {}
    try:
        for name, graph in (("full", remexi_world()), ("clear_only", clear_part(remexi_world()))):
            home = tmp_path_factory.mktemp(name) / "home"
            out[name] = home
            store = open_store(StoreConfig(home=home))
            store.ensure_schema()
            write_graph(store, graph)
            store.close()
            with redirect_stdout(io.StringIO()):
                args = ["--home", str(home), "train", "--seed", "2", "--epochs", "30", "--json"]
                assert main(args) == 0
        yield out
    finally:
        for home in out.values():
            with redirect_stdout(io.StringIO()):
                main(["--home", str(home), "store", "stop"])


@pytest.fixture(scope="module")
def api(homes: dict[str, Path]) -> Iterator[dict[str, Any]]:
    """A client per home, and an analyst key per clearance per home."""
    with ExitStack() as stack:
        out: dict[str, Any] = {}
        for name, home in homes.items():
            settings = Settings(home=home, env="development", api_rate_limit_per_minute=100_000)
            keys = KeyStore(home / "keys.sqlite")
            out[name] = {
                "client": stack.enter_context(TestClient(create_app(settings))),
                "clear": keys.create("analyst", tlp="clear", name="clear")[1],
                "red": keys.create("analyst", tlp="red", name="red")[1],
            }
        yield out


def _post(api: dict[str, Any], home: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    side = api[home]
    r = side["client"].post("/v1/attributions", json=body, headers=auth(side[key]))
    assert r.status_code == 200, r.text
    return r.json()


def _comparable(result: dict[str, Any]) -> Any:
    """The answer without its input name, model version and the clearance it states it is for,
    floats to 4 places."""
    data = {k: v for k, v in result.items() if k not in ("input", "persisted")}
    data["model"] = {k: v for k, v in data["model"].items() if k not in ("version", "clearance")}
    return _rounded(data)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def test_a_clear_key_gets_the_answer_of_a_model_trained_on_clear_data_only(api):
    got = _post(api, "full", "clear", REMEXI)
    want = _post(api, "clear_only", "clear", REMEXI)
    assert _comparable(got) == _comparable(want)
    text = json.dumps(got)
    assert "SECRET" not in text and RED_ACTOR not in text and RED_CAMPAIGN not in text
    hound = [e for e in got["evidence"] if e["actor_id"] == MAGIC_HOUND]
    assert all("Campaign:SECRET Op Sandstorm" not in e["path"] for e in hound)


def test_a_red_key_still_sees_the_red_data(api):
    red = _post(api, "full", "red", REMEXI)
    assert RED_ACTOR in {c["actor_id"] for c in red["candidates"]}
    assert _comparable(red) != _comparable(_post(api, "full", "clear", REMEXI))
    assert _post(api, "full", "red", {"indicators": ["secret-red.example"]})["model"] == {
        "version": red["model"]["version"],
        "matched": 1,
        "via_context": 0,
        "unmatched": 0,
        "via_enrichment": 0,
        "clearance": "red",
    }


def test_a_hidden_value_counts_as_unmatched_like_one_that_does_not_exist(api):
    # Finding 5: a red value answered matched 0, unmatched 0; a missing one unmatched 1.
    for key in RED_VALUES:
        hidden = _post(api, "full", "clear", {key: RED_VALUES[key]})
        missing = _post(api, "full", "clear", {key: MISSING_VALUES[key]})
        assert hidden["model"]["unmatched"] == missing["model"]["unmatched"] == 1
        # The same value where it was never stored: an unmatched value still counts by its
        # name (naming habits), so the comparison is with the same text, not another one.
        absent = _post(api, "clear_only", "clear", {key: RED_VALUES[key]})
        assert _comparable(hidden) == _comparable(absent)
    both = {"malware": ["Remexi", *RED_VALUES["malware"]]}
    assert _comparable(_post(api, "full", "clear", both)) == _comparable(
        _post(api, "full", "clear", {"malware": ["Remexi", *MISSING_VALUES["malware"]]})
    )


def test_the_cli_answers_for_clear_unless_told_otherwise(homes, tmp_path: Path, capsys):
    activity = tmp_path / "remexi.json"
    activity.write_text(json.dumps({"malware": ["Remexi"]}))

    def attribute(home: str, *extra: str) -> dict[str, Any]:
        args = ["--home", str(homes[home]), "attribute", str(activity), "--json", "--top-k", "10"]
        assert main([*args, *extra]) == 0
        return json.loads(capsys.readouterr().out.splitlines()[0])

    default = attribute("full")
    assert _comparable(default) == _comparable(attribute("clear_only"))
    assert RED_ACTOR not in json.dumps(default)
    red = attribute("full", "--max-tlp", "red")
    assert RED_ACTOR in {c["actor_id"] for c in red["candidates"]}
    assert _comparable(attribute("full", "--max-tlp", "green")) == _comparable(default)


def test_persist_marks_with_the_key_clearance_and_links_only_what_it_sees(api, homes):
    # Finding 6: a clear analyst's campaign got INDICATES edges from red indicators, unmarked.
    body = {
        "malware": ["Remexi"],
        "indicators": ["secret-red.example", "apt39-c2.example"],
        "persist": True,
        "name": "persisted by clear",
    }
    links = (
        "MATCH (c:Campaign {id: $id})-[r]-(x) RETURN c.tlp AS ctlp, c.tlp_level AS clevel, "
        "type(r) AS type, r.tlp AS tlp, r.tlp_level AS level, x.id AS other, r.score AS score "
        "ORDER BY type, other"
    )
    clear = _post(api, "full", "clear", body)
    cid = clear["persisted"]["campaign_id"]
    store = open_store(StoreConfig(home=homes["full"]))
    try:
        rows = store.query(links, {"id": cid})
        found = {(r["type"], r["other"]) for r in rows}
        assert ("INDICATES", RED_INDICATOR) not in found
        assert ("INDICATES", CLEAR_INDICATOR) in found
        assert {(r["ctlp"], r["clevel"]) for r in rows} == {("clear", 0)}
        assert {(r["tlp"], r["level"]) for r in rows} == {("clear", 0)}
        hypotheses = {r["other"]: r["score"] for r in rows if r["type"] == "PREDICTED_ACTOR"}
        # The hypotheses are the clear model's answer, nothing learnt from red data.
        assert hypotheses == {c["actor_id"]: c["score"] for c in clear["candidates"]}
        assert RED_ACTOR not in hypotheses

        red = _post(api, "full", "red", {**body, "name": "persisted by red"})
        rid = red["persisted"]["campaign_id"]
        assert rid != cid  # keys of different clearances never share (or re-mark) a campaign
        rows = store.query(links, {"id": rid})
        assert {(r["ctlp"], r["clevel"], r["tlp"], r["level"]) for r in rows} == {
            ("red", 4, "red", 4)
        }
        assert ("INDICATES", RED_INDICATOR) in {(r["type"], r["other"]) for r in rows}
        again = store.query(links, {"id": cid})
        assert {(r["clevel"], r["level"]) for r in again} == {(0, 0)}  # still clear
    finally:
        store.close()
    side = api["full"]
    reader = side["client"].get(f"/v1/campaigns/{rid}", headers=auth(side["clear"]))
    assert reader.status_code == 404


def test_readyz_names_the_clearances_served(api):
    checks = api["full"]["client"].get("/readyz").json()["checks"]["model"]
    assert checks["ok"] and checks["clearances"] == [
        "clear",
        "green",
        "amber",
        "amber+strict",
        "red",
    ]
