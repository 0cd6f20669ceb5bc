"""Briefing rarity and origin count only what the reader may see (issue 18, findings 3 and 4).

All nodes are TLP:CLEAR; the links that would make X-Agent shared, and the actor's origin, are
TLP:RED relationships. A clear reader's briefing must read as if they were not there ("unique to
this actor", origin unknown); a red reader's shows them.
"""

from __future__ import annotations

import pytest

from actorgraph.graph.reports.briefing import build_briefing, render_markdown
from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import FixtureGraph, node, rel, write_graph

QUIET = "intrusion-set--quiet"
OTHER = "intrusion-set--other"
THIRD = "intrusion-set--third"
MALWARE = "malware--x-agent"
TECHNIQUE = "attack-pattern--t1566"
C_OTHER = "campaign--other"
C_THIRD = "campaign--third"

WORLD = FixtureGraph(
    nodes=[
        node("ThreatActor", QUIET, name="Quiet Group", name_lc="quiet group"),
        node("ThreatActor", OTHER, name="Other Group", name_lc="other group"),
        node("ThreatActor", THIRD, name="Third Group", name_lc="third group"),
        node("Malware", MALWARE, name="X-Agent"),
        node("Technique", TECHNIQUE, name="Spearphishing", external_id="T1566"),
        node("Campaign", C_OTHER, name="Other Campaign"),
        node("Campaign", C_THIRD, name="Third Campaign"),
        node("Country", "country:CN", code="CN", name="China"),
    ],
    rels=[
        rel(QUIET, "USES", MALWARE),
        rel(QUIET, "USES", TECHNIQUE),
        rel(QUIET, "ORIGINATES_FROM", "country:CN", tlp=TLP.RED),
        # Other Group: directly, through a red USES.
        rel(OTHER, "USES", MALWARE, tlp=TLP.RED),
        rel(OTHER, "USES", TECHNIQUE, tlp=TLP.RED),
        # Other Group again, through a clear campaign whose USES is red.
        rel(C_OTHER, "ATTRIBUTED_TO", OTHER),
        rel(C_OTHER, "USES", MALWARE, tlp=TLP.RED),
        # Third Group: through a clear campaign whose attribution is red.
        rel(C_THIRD, "ATTRIBUTED_TO", THIRD, tlp=TLP.RED),
        rel(C_THIRD, "USES", MALWARE),
        rel(C_THIRD, "USES", TECHNIQUE),
    ],
)


@pytest.fixture
def graph(store):
    write_graph(store, WORLD)
    return store


def _rarity(level: TLP, graph) -> dict[str, tuple[int, str]]:
    b = build_briefing(graph, QUIET, max_tlp=level)
    return {m["name"]: (m["n_actors"], m["rarity"]) for m in [*b.malware, *b.techniques]}


@pytest.mark.parametrize("level", [TLP.CLEAR, TLP.AMBER_STRICT])
def test_rarity_ignores_hidden_users_below_red(graph, level):
    assert _rarity(level, graph) == {
        "X-Agent": (1, "unique to this actor"),
        "Spearphishing": (1, "unique to this actor"),
    }


def test_rarity_counts_every_user_at_red(graph):
    assert _rarity(TLP.RED, graph) == {
        "X-Agent": (3, "shared: 3 of 3 actors"),
        "Spearphishing": (3, "shared: 3 of 3 actors"),
    }


def test_origin_comes_from_the_visible_relationship(graph):
    clear = build_briefing(graph, QUIET, max_tlp=TLP.CLEAR)
    assert clear.country is None and "Assessed origin: unknown" in render_markdown(clear)
    red = build_briefing(graph, QUIET, max_tlp=TLP.RED)
    assert (red.country, red.country_name, red.country_source) == ("CN", "China", "stix")
