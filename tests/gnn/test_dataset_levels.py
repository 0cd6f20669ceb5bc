"""Two clearance levels share a model only when their graphs cannot be told apart."""

from __future__ import annotations

from actorgraph.gnn.dataset import GraphSnapshot, _same_graph
from actorgraph.graph.tlp import TLP

NODES = [
    {"id": "intrusion-set--a", "type": "actor", "name": "A"},
    {"id": "domain:x.example", "type": "indicator", "kind": "domain", "value": "x.example"},
]
EDGES = [{"src": "domain:x.example", "rel": "INDICATES", "dst": "intrusion-set--a"}]


def test_levels_with_the_same_nodes_and_edges_but_other_properties_are_not_the_same():
    low = GraphSnapshot.from_rows(NODES, EDGES, max_tlp=TLP.CLEAR)
    high = GraphSnapshot.from_rows(NODES, EDGES, max_tlp=TLP.GREEN)
    assert _same_graph(low, high)
    # The same id read from another row at the higher level: another value.
    other = [NODES[0], dict(NODES[1], value="y.example")]
    changed = GraphSnapshot.from_rows(other, EDGES, max_tlp=TLP.GREEN)
    assert changed.nodes == low.nodes and changed.fingerprint() == low.fingerprint()
    assert not _same_graph(low, changed)
