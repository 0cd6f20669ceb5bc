"""The galaxy's victim lists are shown to analysts but never feed the model."""

from __future__ import annotations

from actorgraph.gnn.dataset import export_graph
from actorgraph.graph.ingest.pipeline import ingest_attack
from actorgraph.graph.tlp import TLP

TARGETS = ("actor", "TARGETS", "country")


def _targets(store) -> int:
    rows = store.query("MATCH (:ThreatActor)-[r:TARGETS]->(:Country) RETURN count(r) AS n")
    return rows[0]["n"]


def test_galaxy_targets_stay_out_of_the_snapshot_and_stated_targets_go_in(store):
    ingest_attack(store)
    assert _targets(store) > 50  # the galaxy's cfr-suspected-victims, stored for analysts
    snapshot = export_graph(store, max_tlp=TLP.RED)
    assert snapshot.edges.get(TARGETS) is None or snapshot.edges[TARGETS].shape[1] == 0

    # The same kind of edge stated by a report is evidence, even beside the galaxy's claim.
    store.query(
        "MATCH (a:ThreatActor {name: 'APT28'})-[r:TARGETS]->(c:Country) "
        "WITH r LIMIT 1 SET r.sources = r.sources + ['report:vendor-x'] RETURN count(r) AS n"
    )
    store.query(
        "MATCH (a:ThreatActor {name: 'APT29'}) MERGE (c:Country {id: 'country:IS'}) "
        "ON CREATE SET c.name = 'Iceland', c.tlp_level = 0 "
        "MERGE (a)-[r:TARGETS]->(c) SET r.sources = ['report:vendor-y'], r.tlp_level = 0"
    )
    snapshot = export_graph(store, max_tlp=TLP.RED)
    assert snapshot.edges[TARGETS].shape[1] == 2
