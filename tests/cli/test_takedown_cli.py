"""``actorgraph takedown`` and TLP (issue 18, finding 9), through a real subprocess and store.

The fixture bundle marks APT28 green, its campaign and indicators amber and its C2 red. The
command used everything up to red unless told otherwise, and wrote packages for registrars and
hosters with red items and no marking. Now it uses clear data unless told otherwise, marks every
item, and refuses to write a package above TLP:AMBER.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli.test_share_cli import ag
from tests.helpers.paths import APT28_BUNDLE


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    h = tmp_path_factory.mktemp("takedown-cli") / "home"
    ag(h, "store", "start")
    ag(h, "ingest", str(APT28_BUNDLE))
    yield h
    ag(h, "store", "stop", check=False)


def test_the_default_level_is_clear(home):
    """APT28 is marked green: at the default level it is not there to build a package for."""
    proc = ag(home, "takedown", "APT28", "--json", check=False)
    assert proc.returncode == 2, proc.stdout
    assert "no threat actor named" in proc.stderr
    green = json.loads(ag(home, "takedown", "APT28", "--max-tlp", "green", "--json").stdout)
    assert green["max_tlp"] == "green" and green["domains"] == 0  # its campaign is amber


def test_a_package_states_each_items_marking(home, tmp_path: Path):
    out = tmp_path / "pkg"
    summary = json.loads(
        ag(home, "takedown", "APT28", "--max-tlp", "amber", "--out", str(out), "--json").stdout
    )
    assert summary["domains"] == 1 and summary["tlp"] == "amber"
    for path in out.glob("*.csv"):
        with path.open() as fh:
            assert all(row["tlp"] in ("clear", "green", "amber") for row in csv.DictReader(fh))
    for path in out.glob("registrar-*.json"):
        doc = json.loads(path.read_text())
        assert doc["tlp"] == "amber" and all(i["tlp"] for i in doc["items"])
    text = ag(home, "takedown", "APT28", "--max-tlp", "amber").stdout
    assert "TLP:AMBER" in text.splitlines()[0]


@pytest.mark.parametrize("level", ["amber+strict", "red"])
def test_a_package_above_amber_is_not_written(home, tmp_path: Path, level: str):
    out = tmp_path / "pkg"
    proc = ag(home, "takedown", "APT28", "--max-tlp", level, "--out", str(out), check=False)
    assert proc.returncode == 2
    assert f"TLP:{level.upper()}" in proc.stderr and "third parties" in proc.stderr
    assert not out.exists()
    # Read on the analyst's own screen, it may hold what it holds.
    assert ag(home, "takedown", "APT28", "--max-tlp", level).returncode == 0
