"""The paged export (``gnn.dataset.StoreRows``): one read at red, cut per clearance, gives
exactly the graph each clearance's own query gives, whatever the page size."""

from __future__ import annotations

import json

import numpy as np
import pytest

from actorgraph.gnn.dataset import (
    EXPORT_EDGES,
    EXPORT_NODES,
    SKIPPED_RELS,
    GraphSnapshot,
    StoreRows,
    export_graph,
    export_levels,
)
from actorgraph.graph.formats.galaxy import SOURCE as GALAXY_SOURCE
from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import FixtureGraph, node, rel, write_graph
from tests.helpers.remexi_world import APT39, MAGIC_HOUND, remexi_world


def _world() -> FixtureGraph:
    """The Remexi world (clear and red parts) plus what the export must leave out or mark:
    a revoked indicator, a green one behind an amber relationship, a report, an actor
    country known only from an amber ORIGINATES_FROM edge, a galaxy-only victim list."""
    base = remexi_world()
    return FixtureGraph(
        [
            *base.nodes,
            node(
                "Indicator", "indicator--revoked", kind="domain", value="old.example", revoked=True
            ),
            node("Indicator", "indicator--green", kind="domain", value="g.example", tlp=TLP.GREEN),
            node("Report", "report--r", name="A report"),
            node("Country", "country:IR", name="Iran", value="IR"),
            node("ThreatActor", "intrusion-set--nocountry", name="No country"),
            node("Sector", "identity--energy", name="Energy"),
        ],
        [
            *base.rels,
            rel("indicator--revoked", "INDICATES", APT39),
            rel("indicator--green", "INDICATES", MAGIC_HOUND, tlp_level=TLP.AMBER),
            rel("intrusion-set--nocountry", "ORIGINATES_FROM", "country:IR", tlp_level=TLP.AMBER),
            rel("intrusion-set--nocountry", "USES", "indicator--green"),
            rel(APT39, "TARGETS", "identity--energy", sources=[f"{GALAXY_SOURCE}@1"]),
        ],
    )


def _per_level_query(store, level: TLP) -> GraphSnapshot:
    """The graph a clearance's own query returns (the export before paging)."""
    params = {"max_tlp": int(level)}
    nodes = store.query(EXPORT_NODES, params, read_only=True)
    edges = store.query(
        EXPORT_EDGES,
        {**params, "skipped": list(SKIPPED_RELS), "metadata_only": f"{GALAXY_SOURCE}@"},
        read_only=True,
    )
    return GraphSnapshot.from_rows(nodes, edges, max_tlp=level)


def _edges(snap: GraphSnapshot) -> set[tuple[str, str, str]]:
    return {(e["src"], e["rel"], e["dst"]) for e in snap.to_rows()[1]}


def _same(a: GraphSnapshot, b: GraphSnapshot) -> None:
    assert a.max_tlp == b.max_tlp
    assert a.nodes == b.nodes
    assert list(a.edges) == list(b.edges)
    for key in a.edges:
        np.testing.assert_array_equal(a.edges[key], b.edges[key])
    assert a.props == b.props
    assert a.fingerprint() == b.fingerprint()


@pytest.mark.parametrize("page", [1, 3, 50_000])
def test_each_level_cut_from_one_read_equals_its_own_query(store, page):
    write_graph(store, _world())
    rows = StoreRows.read(store, max_tlp=TLP.RED, page=page)
    for level in TLP:
        _same(rows.snapshot(level), _per_level_query(store, level))


def test_what_the_paged_export_leaves_out_and_derives(store):
    write_graph(store, _world())
    clear, amber = export_graph(store, max_tlp=TLP.CLEAR), export_graph(store, max_tlp=TLP.AMBER)
    assert "indicator--revoked" not in amber.props and "report--r" not in amber.props
    assert "indicator--green" not in clear.props and "indicator--green" in amber.props
    green = ("indicator--green", "INDICATES", MAGIC_HOUND)  # a green node, an amber relationship
    assert green in _edges(amber) and green not in _edges(export_graph(store, max_tlp=TLP.GREEN))
    assert ("indicator--revoked", "INDICATES", APT39) not in _edges(amber)
    assert (APT39, "TARGETS", "identity--energy") not in _edges(amber)  # a galaxy victim list
    # The country from an amber edge reaches the amber snapshot's actor, not the clear one's.
    assert amber.props["intrusion-set--nocountry"]["country"] == "IR"
    assert clear.props["intrusion-set--nocountry"]["country"] is None


def test_levels_share_snapshots_only_when_their_graphs_are_equal(store):
    write_graph(store, _world())
    levels = export_levels(store)
    assert levels[TLP.AMBER_STRICT] is levels[TLP.AMBER]
    assert levels[TLP.AMBER] is not levels[TLP.GREEN] is not levels[TLP.CLEAR]
    for level, snap in levels.items():
        if snap.max_tlp == level:
            _same(snap, _per_level_query(store, level))


def test_the_snapshot_written_in_chunks_reads_back_as_the_same_graph(store, tmp_path):
    write_graph(store, _world())
    snap = export_graph(store, max_tlp=TLP.RED)
    path = tmp_path / "snapshot.json"
    snap.write_json(path, chunk=2)
    rows = json.loads(path.read_text())
    assert rows["max_tlp"] == int(TLP.RED)
    nodes, edges = snap.to_rows()
    assert sorted(rows["nodes"], key=lambda r: r["id"]) == sorted(nodes, key=lambda r: r["id"])
    assert rows["edges"] == edges
    _same(GraphSnapshot.from_rows(rows["nodes"], rows["edges"], max_tlp=TLP.RED), snap)
