"""Two clearance levels share a model only when their graphs cannot be told apart; the export
pauses the cyclic garbage collector only while it reads."""

from __future__ import annotations

import gc

import pytest

from actorgraph.gnn.dataset import GraphSnapshot, StoreRows, _same_graph, collector_paused
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


def test_the_collector_is_paused_only_while_the_export_reads(store):
    @collector_paused()
    def inside() -> bool:
        return gc.isenabled()

    @collector_paused()
    def fails() -> None:
        raise ValueError("boom")

    assert gc.isenabled()
    assert inside() is False and gc.isenabled()
    with pytest.raises(ValueError, match="boom"):
        fails()
    assert gc.isenabled()
    gc.disable()
    try:
        inside()
        assert not gc.isenabled()  # a caller's own pause is left as it was
    finally:
        gc.enable()
    StoreRows.read(store, max_tlp=TLP.RED)
    assert gc.isenabled()
