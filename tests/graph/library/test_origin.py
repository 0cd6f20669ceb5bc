"""An actor's origin (graph/library/origin.py) does not depend on the order its origin edges were
written, nor on the engine: of two claims of one kind, the smaller country code.

Found: the expression took the first of a node's relationships, which the engines list in
different orders; an actor with two stated origins showed one on FalkorDB and possibly the other
on Neo4j, or after a reload.
"""

from __future__ import annotations

import pytest

from actorgraph.graph.library import queries as ql
from actorgraph.graph.library.origin import origin
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP

ACTORS = (
    "CREATE (:ThreatActor {id: 'a1', name: 'Stated Twice'}),"
    " (:ThreatActor {id: 'a2', name: 'Own Country', country: 'IR', country_source: 'galaxy'}),"
    " (:ThreatActor {id: 'a3', name: 'Derived Twice'})"
)
EDGE = (
    "MATCH (a:ThreatActor {id: $actor}) MERGE (c:Country {id: $code}) SET c.code = $code"
    " CREATE (a)-[r:ORIGINATES_FROM]->(c) SET r.country_source = $source"
)


def _write(store: GraphStore, codes: list[str]) -> None:
    store.query(ACTORS)
    for code in codes:
        store.query(EDGE, {"actor": "a1", "code": code, "source": None})  # a stated relationship
        store.query(EDGE, {"actor": "a3", "code": code, "source": "aliases"})
    store.query(EDGE, {"actor": "a2", "code": "RU", "source": None})


@pytest.mark.parametrize("codes", [["RU", "CN"], ["CN", "RU"]], ids=["RU-first", "CN-first"])
def test_the_origin_is_the_same_whatever_order_the_edges_came_in(
    store: GraphStore, codes: list[str]
) -> None:
    _write(store, codes)
    rows = store.query(
        f"MATCH (a:ThreatActor) RETURN a.id AS id, {origin('a')} AS origin ORDER BY id",
        {"max_tlp": int(TLP.RED)},
        read_only=True,
    )
    assert [(r["id"], r["origin"]) for r in rows] == [
        ("a1", {"code": "CN", "source": "stix"}),  # two stated: the smaller code
        ("a2", {"code": "RU", "source": "stix"}),  # a stated origin before the actor's own
        ("a3", {"code": "CN", "source": "aliases"}),  # no stated, no own: the smaller code
    ]
    found = ql.run_query(store, "actor_search", {"text": "Twice"}, tlp_clearance=TLP.RED)
    assert sorted((r["actor"], r["country"]) for r in found) == [
        ("Derived Twice", "CN"),
        ("Stated Twice", "CN"),
    ]
