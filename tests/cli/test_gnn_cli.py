"""`actorgraph train`, `attribute --json` and `evaluate` against a real embedded store (issue 3)."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from actorgraph.cli import main
from actorgraph.graph.attribution import AttributionResult, Candidate
from actorgraph.graph.store import StoreConfig, open_store
from tests.helpers.attribution_world import build_world


@pytest.fixture
def home(tmp_path: Path):
    h = tmp_path / "home"
    store = open_store(StoreConfig(home=h))
    store.ensure_schema()
    build_world(store)
    store.close()
    yield h
    main(["--home", str(h), "store", "stop"])


def test_train_then_attribute_json_lines_in_input_order(home: Path, tmp_path: Path, capsys):
    assert main(["--home", str(home), "train", "--seed", "2", "--epochs", "30", "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["version"] and trained["n_actors"] == 4
    a = tmp_path / "a.json"
    a.write_text(json.dumps({"malware": ["SunSpotX"], "indicators": ["hxxp://evil-x[.]example/x"]}))
    b = tmp_path / "b.json"
    b.write_text(json.dumps({"malware": ["WiperY"], "techniques": ["T1015", "T1016"]}))
    assert main(["--home", str(home), "attribute", str(a), str(b), "--top-k", "2", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["input"] for x in lines] == [str(a), str(b)]
    for x in lines:
        # The shape of the one result definition (pinned in tests/graph/test_attribution.py).
        assert list(x) == [f.name for f in fields(AttributionResult)]
        assert x["model"]["version"] == trained["version"]
        assert len(x["candidates"]) == 2
        assert list(x["candidates"][0]) == [f.name for f in fields(Candidate)]
    assert lines[1]["candidates"][0]["name"] == "Actor Y"
    assert main(["--home", str(home), "attribute", str(b)]) == 0
    assert "Actor Y" in capsys.readouterr().out


def test_attribute_errors_are_clean(home: Path, tmp_path: Path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"indicators": ["999.1.1.1"]}))
    assert main(["--home", str(home), "attribute", str(bad)]) == 2
    assert "999.1.1.1" in capsys.readouterr().err
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"malware": ["PlugX"]}))
    assert main(["--home", str(home), "attribute", str(good)]) == 2  # no model trained yet
    assert "actorgraph train" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_prints_model_and_baselines_side_by_side(home: Path, capsys):
    assert main(["--home", str(home), "evaluate", "--epochs", "15", "--jobs", "2", "--json"]) == 0
    (loco,) = json.loads(capsys.readouterr().out)
    assert loco["split"] == "attack-loco" and len(loco["folds"]) == 8
    assert set(loco["metrics"]) == {"model", "tfidf", "overlap"}
    for m in loco["metrics"].values():
        assert m["n"] == 8 and 0 <= m["top1"] <= m["top3"] <= 1
    assert 0 <= loco["metrics"]["model"]["ece"] <= 1
    assert loco["unknown"]["mean_when_actor_removed"] is not None


def test_train_with_the_evidence_encoder_reports_its_learned_weight(home: Path, capsys):
    assert main(["--home", str(home), "train", "--encoder", "evidence", "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert isinstance(trained["encoder_weight"], float)
    assert (
        main(["--home", str(home), "train", "--encoder", "evidence", "--no-graph", "--json"]) == 0
    )
    assert "encoder_weight" not in json.loads(capsys.readouterr().out)


def test_attribute_reads_misp_events_and_indicator_lists_like_the_simple_form(
    home: Path, tmp_path: Path, capsys
):
    assert main(["--home", str(home), "train", "--seed", "2", "--epochs", "30"]) == 0
    capsys.readouterr()
    event = {
        "uuid": "0f6c2a5e-9b1d-4c3e-8a7f-1e2d3c4b5a69",
        "info": "X again",
        "date": "2025-02-03",
        "Attribute": [
            {"type": "domain", "category": "Network activity", "value": "evil-x.example"}
        ],
    }
    files = {
        "simple.json": json.dumps({"indicators": ["evil-x.example"]}),
        "event.json": json.dumps({"Event": event}),
        "iocs.txt": "# from a vendor post\nevil-x[.]example\tC2\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    paths = [str(tmp_path / n) for n in files]
    args = ["--home", str(home), "attribute", *paths, "--top-k", "4", "--json", "--max-tlp", "red"]
    assert main(args) == 0
    results = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    ranked = [[(c["actor_id"], c["score"]) for c in r["candidates"]] for r in results]
    assert ranked[0][0][0] == "intrusion-set--X"
    assert ranked[1] == ranked[0] and ranked[2] == ranked[0]
    assert [r["model"]["matched"] for r in results] == [1, 1, 1]

    # Stored, the event keeps its own date, as the API stores it, and the campaign to decide
    # on is named, in JSON as the API names it.
    assert main([*args[:3], paths[1], "--max-tlp", "red", "--persist"]) == 0
    printed = capsys.readouterr().out
    assert main([*args[:3], paths[1], "--max-tlp", "red", "--persist", "--json"]) == 0
    campaign = json.loads(capsys.readouterr().out)["persisted"]["campaign_id"]
    assert f"stored as {campaign}: decide with `actorgraph decide {campaign}" in printed
    store = open_store(StoreConfig(home=home))
    try:
        rows = store.query(
            "MATCH (c:Campaign) WHERE c.attribution_status = 'predicted' "
            "RETURN c.id AS id, c.first_seen AS first, c.last_seen AS last"
        )
    finally:
        store.close()
    assert [(r["id"], r["first"][:10], r["last"][:10]) for r in rows] == [
        (campaign, "2025-02-03", "2025-02-03")
    ]

    # A CSV list reads its first field; an empty file among several is named.
    (tmp_path / "iocs.csv").write_text("indicator,type\nevil-x.example,domain,c2\n")
    assert main([*args[:3], str(tmp_path / "iocs.csv"), "--json", "--max-tlp", "red"]) == 0
    assert json.loads(capsys.readouterr().out)["model"]["matched"] == 1
    (tmp_path / "empty.json").write_text("{}")
    assert main([*args[:3], paths[0], str(tmp_path / "empty.json")]) == 2
    assert f"{tmp_path / 'empty.json'}: activity is empty" in capsys.readouterr().err
