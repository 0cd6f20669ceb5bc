"""Takedown packages and TLP (issue 18, finding 9).

Packages go to registrars and hosters, third parties. They used everything up to red by default
and wrote no marking: a registrar's file held red and amber+strict items, a red campaign name
among them. Now every item states the strictest marking of what its line says (the indicator,
the path to the actor, the hoster or registrar named), every file carries it, counts of actors
use only data within the package's level, and a package is never written with an item above
the level it is written at, nor at a level that may not leave the organisation.
"""

from __future__ import annotations

import csv
import json
import re

import pytest

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.reports.takedown import build_takedown, write_takedown
from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import write_graph
from tests.helpers.share_graph import A28, C3, SHARE_WORLD


@pytest.fixture
def graph(store):
    write_graph(store, SHARE_WORLD)
    return store


def _tlp(pkg) -> dict[str, str]:
    """value -> TLP of every item and exclusion of a package."""
    out = {r.value: r.tlp for r in pkg.items}
    out.update({e["value"]: e["tlp"] for e in pkg.excluded})
    return out


def test_each_item_carries_the_strictest_marking_of_what_it_says(graph):
    pkg = build_takedown(graph, actor=A28, max_tlp=TLP.AMBER)
    tlp = _tlp(pkg)
    assert tlp["mail-gov-ua.example"] == "amber"  # the indicator itself is amber
    assert tlp["owa-mfa.example"] == "amber"  # a clear indicator of the amber campaign
    assert tlp["203.0.113.45"] == "amber"  # resolved from the amber domain
    # A clear indicator of a clear campaign, attributed to the green actor it names.
    assert tlp["old-live.example"] == "green"
    assert pkg.summary()["tlp"] == "amber" and pkg.summary()["max_tlp"] == "amber"


def test_counts_of_actors_use_only_data_within_the_level(graph):
    """At clear, the address's tie to APT28 (through an amber campaign) does not count."""
    clear = build_takedown(graph, campaign=C3, max_tlp=TLP.CLEAR)
    (rec,) = [r for r in clear.items if r.value == "198.51.100.7"]
    assert rec.n_actors == 2 and rec.tlp == "clear"
    assert "3 actors" not in json.dumps([r.__dict__ for r in clear.items] + clear.excluded)
    red = build_takedown(graph, campaign=C3, max_tlp=TLP.RED)
    (excluded,) = red.excluded
    assert excluded["reason"].startswith("shared: tied to 3 actors")
    assert excluded["tlp"] == "amber"  # the third tie runs through the amber campaign


def test_every_file_states_the_marking(graph, tmp_path):
    pkg = build_takedown(graph, actor=A28, max_tlp=TLP.AMBER)
    paths = write_takedown(pkg, tmp_path, max_tlp=TLP.AMBER)
    for path in paths:
        if path.name == "summary.json":
            summary = json.loads(path.read_text())
            assert summary["tlp"] == "amber" and summary["max_tlp"] == "amber"
        elif path.suffix == ".json":
            doc = json.loads(path.read_text())
            assert doc["tlp"] == TLP.strictest(i["tlp"] for i in doc["items"]).label
            assert all(i["tlp"] in ("clear", "green", "amber") for i in doc["items"])
        else:
            with path.open() as fh:
                rows = list(csv.DictReader(fh))
            assert rows and all(r["tlp"] in ("clear", "green", "amber") for r in rows), path
    njalla = json.loads((tmp_path / "registrar-njalla.json").read_text())
    assert njalla["tlp"] == "amber" and njalla["items"][0]["tlp"] == "amber"


def test_items_above_the_level_written_at_are_refused(graph, tmp_path):
    pkg = build_takedown(graph, actor=A28, max_tlp=TLP.AMBER)
    out = tmp_path / "pkg"
    with pytest.raises(ValidationError, match=r"TLP:AMBER.*above TLP:GREEN"):
        write_takedown(pkg, out, max_tlp=TLP.GREEN)
    assert not out.exists()  # nothing written


@pytest.mark.parametrize("level", [TLP.AMBER_STRICT, TLP.RED])
def test_levels_that_may_not_leave_the_organisation_are_refused(graph, tmp_path, level):
    pkg = build_takedown(graph, actor=A28, max_tlp=level)
    out = tmp_path / "pkg"
    with pytest.raises(ValidationError, match=re.escape(f"TLP:{level.label.upper()} data")):
        write_takedown(pkg, out, max_tlp=level)
    assert not out.exists()
