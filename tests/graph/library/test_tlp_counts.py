"""Counts and missing rows must not reveal hidden relationships (issue 18, finding 4).

A tiny graph where every node is TLP:CLEAR and the only link that matters is a TLP:RED
relationship. A query that tests for a link with a bare pattern (``NOT (c)-[:ATTRIBUTED_TO]->()``)
or counts through one without its marking answers differently below red, and so tells a clear
reader that the hidden relationship exists. Each query must answer below red exactly as if the
red relationship were not there, and see it at red.
"""

from __future__ import annotations

from typing import Any

import pytest

from actorgraph.graph.library import queries as ql
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP
from tests.helpers.backends import fresh_graph
from tests.helpers.graphs import FixtureGraph, node, rel, write_graph

ACTOR = "intrusion-set--quiet"
OTHER = "intrusion-set--other"
LONE = "campaign--lone"  # its only attribution is red
GUESSED = "campaign--guessed"  # a clear hypothesis, and a red attribution
HIDDEN_USE = "indicator--hidden-use"  # its only INDICATES is red
NEAR = "domain:near.example"  # resolves (red) to an IP that indicates the actor
IP_A = "ipv4:198.51.100.1"
IP_B = "ipv4:198.51.100.2"
HOSTER = "hosting_provider:quiet-hosting"

HIDDEN = FixtureGraph(
    nodes=[
        node("ThreatActor", ACTOR, name="Quiet Group", aliases=["QG"]),
        node("ThreatActor", OTHER, name="Other Group", country="FR", country_source="stix"),
        node("Country", "country:CN", code="CN", name="China"),
        node("Campaign", LONE, name="Lone Campaign", first_seen="2024-01-01"),
        node("Campaign", GUESSED, name="Guessed Campaign", first_seen="2024-02-01"),
        node("Indicator", HIDDEN_USE, kind="domain", value="hidden-use.example"),
        node("Indicator", NEAR, kind="domain", value="near.example"),
        node("Indicator", IP_A, kind="ipv4", value="198.51.100.1"),
        node("Indicator", IP_B, kind="ipv4", value="198.51.100.2"),
        node("Infrastructure", HOSTER, kind="hosting_provider", name="Quiet Hosting"),
    ],
    rels=[
        rel(LONE, "ATTRIBUTED_TO", ACTOR, tlp=TLP.RED),
        rel(GUESSED, "ATTRIBUTED_TO", OTHER, tlp=TLP.RED),
        rel(GUESSED, "PREDICTED_ACTOR", ACTOR, score=0.8, rank=1, model_version="t"),
        rel(ACTOR, "ORIGINATES_FROM", "country:CN", tlp=TLP.RED),
        rel(HIDDEN_USE, "INDICATES", ACTOR, tlp=TLP.RED),
        rel(IP_A, "INDICATES", ACTOR),
        rel(NEAR, "RESOLVES_TO", IP_A, tlp=TLP.RED),
        rel(IP_A, "HOSTED_ON", HOSTER),
        rel(IP_B, "HOSTED_ON", HOSTER, tlp=TLP.RED),
    ],
)


@pytest.fixture(scope="module")
def hidden(backend_server: GraphStore) -> Any:
    with fresh_graph(backend_server, "hidden (test_tlp_counts)") as s:
        write_graph(s, HIDDEN)
        yield s


def run(store: GraphStore, name: str, level: TLP, **params: Any) -> list[dict[str, Any]]:
    return ql.run_query(store, name, params, tlp_clearance=level)


def test_campaign_whose_only_attribution_is_hidden_is_unattributed_below_red(hidden) -> None:
    def campaigns(level: TLP) -> set[str]:
        return {r["campaign"] for r in run(hidden, "campaigns_without_attribution", level)}

    assert campaigns(TLP.AMBER_STRICT) == {"Lone Campaign", "Guessed Campaign"}
    assert campaigns(TLP.RED) == set()


def test_indicator_whose_only_links_are_hidden_is_an_orphan_below_red(hidden) -> None:
    def orphans(level: TLP) -> set[str]:
        return {r["indicator"] for r in run(hidden, "orphan_indicators", level)}

    assert {"hidden-use.example", "near.example"} <= orphans(TLP.CLEAR)
    assert orphans(TLP.RED).isdisjoint({"hidden-use.example", "near.example"})


def test_hypothesis_of_a_campaign_attributed_in_red_counts_below_red(hidden) -> None:
    clear = run(hidden, "unattributed_campaigns_by_best_hypothesis", TLP.CLEAR)
    assert [(r["campaign"], r["best_actor"], r["best_country"]) for r in clear] == [
        ("Guessed Campaign", "Quiet Group", None)
    ]
    assert run(hidden, "unattributed_campaigns_by_best_hypothesis", TLP.RED) == []


def test_actor_whose_only_origin_is_hidden_has_no_country_below_red(hidden) -> None:
    def actors(level: TLP) -> set[str]:
        return {r["actor"] for r in run(hidden, "actors_without_country", level)}

    assert actors(TLP.CLEAR) == {"Quiet Group"}
    assert actors(TLP.RED) == set()


def test_ips_on_a_provider_count_only_visible_hosting(hidden) -> None:
    def on_provider(level: TLP) -> list[tuple[str, int, int]]:
        rows = run(hidden, "actor_ips_by_hosting_provider", level, actor="Quiet Group")
        return [(r["hosting_provider"], r["ip_count"], r["ips_on_provider"]) for r in rows]

    assert on_provider(TLP.CLEAR) == [("Quiet Hosting", 1, 1)]
    assert on_provider(TLP.RED) == [("Quiet Hosting", 1, 2)]


def test_country_of_an_actor_follows_the_visible_origin(hidden) -> None:
    def country(level: TLP) -> list[Any]:
        return [r["country"] for r in run(hidden, "actor_search", level, text="quiet")]

    assert country(TLP.CLEAR) == [None] and country(TLP.RED) == ["CN"]
    by_country = run(hidden, "actors_by_country", TLP.CLEAR, country="CN")
    assert by_country == []
    assert [r["actor"] for r in run(hidden, "actors_by_country", TLP.RED, country="CN")] == [
        "Quiet Group"
    ]


# -- the lint: every relationship pattern passes the TLP filter ----------------------------------

GOOD = ql.load_library()["campaigns_without_attribution"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        (
            "MATCH (c:Campaign) WHERE coalesce(c.tlp_level, 0) <= $max_tlp"
            " AND NOT (c)-[:ATTRIBUTED_TO]->(:ThreatActor) RETURN c.name AS campaign LIMIT 5",
            "-[:ATTRIBUTED_TO]->",
        ),
        (
            "MATCH (c:Campaign)-[r:ATTRIBUTED_TO]->(a:ThreatActor)"
            " WHERE coalesce(c.tlp_level, 0) <= $max_tlp AND coalesce(a.tlp_level, 0) <= $max_tlp"
            " RETURN c.name AS campaign LIMIT 5",
            "-[r:ATTRIBUTED_TO]->",
        ),
        (
            "MATCH (c:Campaign) WHERE coalesce(c.tlp_level, 0) <= $max_tlp"
            " RETURN c.name AS campaign,"
            " size([(i:Indicator)-[x:INDICATES]->(c) WHERE coalesce(i.tlp_level, 0) <= $max_tlp"
            " | i]) AS n LIMIT 5",
            "-[x:INDICATES]->",
        ),
        (
            "MATCH p = (c:Campaign)-[:USES*1..2]->(t)"
            " WHERE all(n IN nodes(p) WHERE coalesce(n.tlp_level, 0) <= $max_tlp)"
            " RETURN c.name AS campaign LIMIT 5",
            "-[:USES*1..2]->",
        ),
        (
            "MATCH (c:Campaign)-[r:USES]->(t) WHERE coalesce(r.tlp_level, 0) <= $max_tlp"
            " AND coalesce(c.tlp_level, 0) <= $max_tlp RETURN c.name AS campaign LIMIT 5",
            "(t)",
        ),
    ],
    ids=["bare-predicate", "unfiltered-variable", "unfiltered-comprehension", "path", "node"],
)
def test_lint_refuses_an_unfiltered_relationship_pattern(query: str, named: str) -> None:
    bad = GOOD.model_copy(update={"query": query, "parameters": []})
    problems = ql.lint_query(bad)
    assert any("TLP" in p and named in p for p in problems), problems


def test_lint_accepts_every_library_query() -> None:
    for q in ql.load_library().values():
        assert [p for p in ql.lint_query(q) if "TLP" in p] == [], q.name


def test_run_query_needs_the_clearance(hidden) -> None:
    with pytest.raises(TypeError, match="tlp_clearance"):
        ql.run_query(hidden, "actor_search", {"text": "quiet"})  # type: ignore[call-arg]  # the point
