"""`actorgraph evaluate --ablation`: the yardstick's JSON contract from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actorgraph.cli import main


@pytest.fixture
def home(tmp_path: Path):
    h = tmp_path / "home"
    yield h
    main(["--home", str(h), "store", "stop"])


def test_unknown_split_is_refused_before_any_work(home: Path, capsys):
    assert main(["--home", str(home), "evaluate", "--ablation", "--splits", "demo_test,nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert not (home / "world").exists()


def test_unknown_method_is_refused(home: Path, capsys):
    assert main(["--home", str(home), "evaluate", "--ablation", "--methods", "gcn"]) == 2
    assert "gcn" in capsys.readouterr().err


@pytest.mark.slow
def test_ablation_json_on_the_test_world(home: Path, capsys):
    # Every method is covered by tests/gnn/test_ablation.py on a tiny graph; here the command's
    # wiring (scratch graph, test world, splits, JSON) with one baseline and the lightest model.
    splits = "demo_test,infrastructure,infrastructure_control"
    methods = "label_propagation,no_graph"
    args = ["--splits", splits, "--methods", methods, "--scale", "600", "--epochs", "2", "--json"]
    assert main(["--home", str(home), "evaluate", "--ablation", *args]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert "demo_test: done" in captured.err  # progress goes to stderr, JSON alone to stdout
    assert out["world"] == {"seed": 1414, "scale": "600"}
    assert set(out["splits"]) | {s for s in out["skipped"] if "/" not in s} == set(
        splits.split(",")
    )
    assert "demo_test" in out["splits"]
    for rows in out["splits"].values():
        assert set(rows) == set(methods.split(","))
        for row in rows.values():
            assert {"n", "top1", "top3", "mrr", "top1_ci"} <= set(row)
            assert row["n"] > 0 and len(row["top1_ci"]) == 2
            assert "auroc" not in row
