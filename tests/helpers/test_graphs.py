"""The fixture-graph builder: markings, checks, batched writes, and every fixture graph loads."""

from __future__ import annotations

import pytest

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.tlp import TLP
from tests.helpers.api_world import API_WORLD
from tests.helpers.attribution_world import attribution_world
from tests.helpers.graphs import FixtureGraph, node, rel, write_graph
from tests.helpers.query_fixtures import QUERY_WORLD
from tests.helpers.share_graph import SHARE_WORLD


def test_a_tlp_member_writes_the_marking_where_it_stands():
    n = node("Indicator", "domain:x.example", kind="domain", tlp=TLP.AMBER, value="x.example")
    assert list(n.props.items()) == [
        ("kind", "domain"),
        ("tlp", "amber"),
        ("tlp_level", 2),
        ("value", "x.example"),
    ]
    r = rel("a", "USES", "b", confidence=5, tlp_level=TLP.RED)
    assert r.props == {"confidence": 5, "tlp_level": 4}
    assert type(r.props["tlp_level"]) is int
    assert node("Malware", "m", tlp="green").props == {"tlp": "green"}  # plain values as given


def test_a_marking_given_twice_is_refused():
    with pytest.raises(ValueError, match=r"'tlp' .* already sets the level"):
        node("Malware", "m", tlp=TLP.RED, tlp_level=4)


def test_the_graph_is_checked_when_built():
    with pytest.raises(ValidationError, match="unknown label 'Actor'"):
        FixtureGraph([node("Actor", "a")])
    with pytest.raises(ValidationError, match="unknown relationship type 'LIKES'"):
        FixtureGraph([node("Malware", "a"), node("Tool", "b")], [rel("a", "LIKES", "b")])
    with pytest.raises(ValueError, match="two nodes have the id 'a'"):
        FixtureGraph([node("Malware", "a"), node("Tool", "a")])
    with pytest.raises(ValueError, match="no node has the id 'c'"):
        FixtureGraph([node("Malware", "a")], [rel("a", "USES", "c")])


def test_write_graph_creates_nodes_and_relationships_with_their_properties(store):
    graph = FixtureGraph(
        [
            node("ThreatActor", "intrusion-set--a", name="A", tlp=TLP.GREEN),
            node("Malware", "malware--m", name="M", aliases=[]),
            node("Malware", "malware--n", name='N\'s "quoted" `name`'),
        ],
        [
            rel("intrusion-set--a", "USES", "malware--m", tlp_level=TLP.RED),
            rel("intrusion-set--a", "USES", "malware--n"),
        ],
    )
    write_graph(store, graph)
    nodes = store.query("MATCH (n) RETURN labels(n) AS l, properties(n) AS p ORDER BY n.id")
    assert nodes == [
        {
            "l": ["ThreatActor"],
            "p": {"id": "intrusion-set--a", "name": "A", "tlp": "green", "tlp_level": 1},
        },
        {"l": ["Malware"], "p": {"id": "malware--m", "name": "M", "aliases": []}},
        {"l": ["Malware"], "p": {"id": "malware--n", "name": 'N\'s "quoted" `name`'}},
    ]
    rels = store.query(
        "MATCH (a)-[r:USES]->(b) RETURN a.id AS a, b.id AS b, properties(r) AS p ORDER BY b"
    )
    assert rels == [
        {"a": "intrusion-set--a", "b": "malware--m", "p": {"tlp_level": 4}},
        {"a": "intrusion-set--a", "b": "malware--n", "p": {}},
    ]


@pytest.mark.parametrize(
    "graph",
    [SHARE_WORLD, QUERY_WORLD, API_WORLD, attribution_world(), attribution_world(tlp_actor_w=4)],
    ids=["share", "query", "api", "attribution", "attribution-w-red"],
)
def test_every_fixture_graph_loads_whole(store, graph: FixtureGraph):
    write_graph(store, graph)
    counts = store.query(
        "MATCH (n) WITH count(n) AS nodes OPTIONAL MATCH ()-[r]->() RETURN nodes, count(r) AS rels"
    )
    assert counts == [{"nodes": len(graph.nodes), "rels": len(graph.rels)}]
