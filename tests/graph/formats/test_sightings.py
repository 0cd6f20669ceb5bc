"""Sightings per TLP level: a reader sees the sightings of their clearance only (issue 18)."""

from __future__ import annotations

import pytest

from actorgraph.graph.formats.sightings import SightingTally, visible_sightings
from actorgraph.graph.tlp import TLP


@pytest.fixture
def props() -> dict[str, object]:
    tally = SightingTally()
    tally.add(None, 1, "2024-01-01T00:00:00Z")  # unmarked reads as clear
    tally.add(TLP.GREEN, 2, "2024-02-01T00:00:00Z")
    tally.add(TLP.RED, 42, "2024-06-01T00:00:00Z")
    return {"id": "domain:x.example", **tally.props()}


@pytest.mark.parametrize(
    ("level", "count", "last"),
    [
        (TLP.CLEAR, 1, "2024-01-01T00:00:00Z"),
        (TLP.GREEN, 3, "2024-02-01T00:00:00Z"),
        (TLP.AMBER_STRICT, 3, "2024-02-01T00:00:00Z"),
        (TLP.RED, 45, "2024-06-01T00:00:00Z"),
    ],
)
def test_a_reader_sees_the_sightings_of_their_clearance(props, level, count, last) -> None:
    seen = visible_sightings(props, level)
    assert (seen["sighting_count"], seen["last_sighted"]) == (count, last)
    assert "sighting_counts" not in seen and "sighting_last" not in seen


def test_no_visible_sighting_reads_as_never_sighted() -> None:
    tally = SightingTally()
    tally.add(TLP.RED, 42, "2024-06-01T00:00:00Z")
    seen = visible_sightings({"id": "x", **tally.props()}, TLP.AMBER)
    assert seen == {"id": "x"}


def test_a_total_of_unknown_levels_is_never_shown() -> None:
    # Graphs written before sightings were kept per level hold one total of every level.
    legacy = {"id": "x", "sighting_count": 42, "last_sighted": "2024-06-01T00:00:00Z"}
    assert visible_sightings(legacy, TLP.RED) == {"id": "x"}
