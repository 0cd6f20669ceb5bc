"""The schema's relationship types are the ones something writes: the STIX reader's rule
(graph/formats/stix_relationships.py), offline enrichment, and analyst decisions."""

from __future__ import annotations

from actorgraph.graph.enrich import REL as ENRICHMENT_REL
from actorgraph.graph.formats.stix_relationships import (
    EMBEDDED_REFS,
    STIX_TO_GRAPH,
    reference_edges,
)
from actorgraph.graph.schema import LABELS, REL_TYPES

# Written by graph/decisions.py, in its own statement.
DECISION_REL = "DECIDES"


def test_every_relationship_type_is_written_by_something():
    verbs = {*STIX_TO_GRAPH, *EMBEDDED_REFS, "attributed-to", "located-at", "hosts", "related-to"}
    nodes = [(label, f"{label}-1") for label in LABELS]
    written = {ENRICHMENT_REL, DECISION_REL}
    for verb in verbs:
        for hypothesis in (None, {"score": 0.5, "model_version": "v1"}):
            edges, _ = reference_edges(verb, nodes, nodes, {}, hypothesis)
            written |= {rel_type for _, rel_type, *_ in edges}
    assert written == set(REL_TYPES)
