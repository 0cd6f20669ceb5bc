"""Derived properties follow the marking of what they are derived from (issue 18, finding 3).

One STIX bundle, ingested as the pipeline does: a clear actor whose only origin is a TLP:RED
``located-at`` relationship, and a clear indicator whose only sighting is TLP:RED. Below red,
no read path may show the country or the sighting; at red, all of them do.
"""

from __future__ import annotations

from typing import Any

import pytest

from actorgraph.api import reads
from actorgraph.graph.ingest.pipeline import ingest_object
from actorgraph.graph.library.queries import run_query
from actorgraph.graph.reports.briefing import build_briefing, render_markdown
from actorgraph.graph.tlp import TLP
from tests.helpers.stix import T0, sdo

RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"  # TLP 2.0 RED
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"  # TLP 2.0 CLEAR
ACTOR = "intrusion-set--00000000-0000-4000-8000-000000000001"
INDICATOR_ID = "domain:quiet-host.example"


def _sdo(stix_type: str, n: int, marking: str, **props: Any) -> dict[str, Any]:
    return sdo(stix_type, n, object_marking_refs=[marking], **props)


BUNDLE = {
    "type": "bundle",
    "id": "bundle--00000000-0000-4000-8000-000000000099",
    "objects": [
        # No alias or description that implies an origin: the red relationship is the only one.
        _sdo("intrusion-set", 1, CLEAR, name="Quiet Group", description="A group."),
        _sdo("location", 2, CLEAR, name="China", country="CN"),
        _sdo(
            "relationship",
            3,
            RED,
            relationship_type="located-at",
            source_ref=ACTOR,
            target_ref="location--00000000-0000-4000-8000-000000000002",
        ),
        _sdo(
            "indicator",
            4,
            CLEAR,
            name="quiet host",
            pattern="[domain-name:value = 'quiet-host.example']",
            pattern_type="stix",
            valid_from=T0,
        ),
        _sdo(
            "relationship",
            5,
            CLEAR,
            relationship_type="indicates",
            source_ref="indicator--00000000-0000-4000-8000-000000000004",
            target_ref=ACTOR,
        ),
        _sdo(
            "sighting",
            6,
            RED,
            sighting_of_ref="indicator--00000000-0000-4000-8000-000000000004",
            count=42,
            last_seen="2024-06-01T00:00:00.000Z",
        ),
    ],
}


@pytest.fixture
def graph(store):
    ingest_object(store, BUNDLE, "derived-tlp-test", max_tlp=TLP.RED)
    return store


@pytest.mark.parametrize("level", [TLP.CLEAR, TLP.AMBER_STRICT])
def test_red_origin_is_not_an_actor_country_below_red(graph, level):
    rows, total = reads.search_actors(
        graph, q=None, country="CN", max_tlp=level, limit=10, offset=0
    )
    assert (rows, total) == ([], 0)
    rows, _ = reads.search_actors(graph, q="quiet", country=None, max_tlp=level, limit=10, offset=0)
    assert [(r["id"], r["country"]) for r in rows] == [(ACTOR, None)]
    profile = reads.actor_profile(graph, ACTOR, max_tlp=level)
    assert profile is not None
    assert profile["actor"].get("country") is None
    assert profile["actor"].get("country_source") is None
    assert run_query(graph, "actors_by_country", {"country": "CN"}, tlp_clearance=level) == []
    searched = run_query(graph, "actor_search", {"text": "quiet"}, tlp_clearance=level)
    assert [r["country"] for r in searched] == [None]
    brief = build_briefing(graph, ACTOR, max_tlp=level)
    assert brief.country is None and "Assessed origin: unknown" in render_markdown(brief)
    pivot = reads.indicator_pivot(graph, INDICATOR_ID, max_tlp=level)
    assert pivot is not None and [a["country"] for a in pivot["actors"]] == [None]


def test_red_origin_shows_at_red(graph):
    red = TLP.RED
    rows, total = reads.search_actors(graph, q=None, country="CN", max_tlp=red, limit=10, offset=0)
    assert [(r["id"], r["country"]) for r in rows] == [(ACTOR, "CN")] and total == 1
    profile = reads.actor_profile(graph, ACTOR, max_tlp=red)
    assert profile is not None
    assert (profile["actor"]["country"], profile["actor"]["country_source"]) == ("CN", "stix")
    by_country = run_query(graph, "actors_by_country", {"country": "CN"}, tlp_clearance=red)
    assert [(r["actor"], r["country"]) for r in by_country] == [("Quiet Group", "CN")]
    brief = build_briefing(graph, ACTOR, max_tlp=red)
    assert (brief.country, brief.country_source) == ("CN", "stix")
    pivot = reads.indicator_pivot(graph, INDICATOR_ID, max_tlp=red)
    assert pivot is not None and [a["country"] for a in pivot["actors"]] == ["CN"]


@pytest.mark.parametrize("level", [TLP.CLEAR, TLP.AMBER_STRICT])
def test_red_sighting_is_not_counted_below_red(graph, level):
    pivot = reads.indicator_pivot(graph, INDICATOR_ID, max_tlp=level)
    assert pivot is not None
    indicator = pivot["indicator"]
    assert indicator.get("sighting_count", 0) == 0
    assert indicator.get("last_sighted") is None
    assert "42" not in repr(indicator)
    # The briefing's indicators (and takedown packages, which share the code) are not dated by it.
    brief = build_briefing(graph, ACTOR, max_tlp=level)
    assert [i["last_seen"] for i in brief.indicators] == [None]


def test_red_sighting_is_counted_at_red(graph):
    pivot = reads.indicator_pivot(graph, INDICATOR_ID, max_tlp=TLP.RED)
    assert pivot is not None
    indicator = pivot["indicator"]
    assert indicator["sighting_count"] == 42
    assert indicator["last_sighted"] == "2024-06-01T00:00:00.000Z"
    brief = build_briefing(graph, ACTOR, max_tlp=TLP.RED)
    assert [i["last_seen"] for i in brief.indicators] == ["2024-06-01T00:00:00.000Z"]
