"""STIX relationships <-> graph relationship types: the one rule, read by the STIX reader and
followed by the exporter, so that an exported relationship reads back as the edge it came from.

The other direction's names (graph type -> the STIX verb to write) are
``stix_out.REL_STIX_TYPES``; the exporter checks each of them against :func:`graph_relationship`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EMBEDDED_REFS", "STIX_TO_GRAPH", "graph_relationship", "reference_edges"]

# A node as the reader and the store name it: (label, node id).
Node = tuple[str, str]
# An edge to add: (source label, TYPE, target label, source id, target id, properties).
Edge = tuple[str, str, str, str, str, dict[str, Any]]

# Reference properties that make edges: property -> (graph type, reverse). The referencing
# object is the source, unless reverse: (referenced object)-[:REPORTED_IN]->(report).
EMBEDDED_REFS: dict[str, tuple[str, bool]] = {
    "resolves_to_refs": ("RESOLVES_TO", False),
    "belongs_to_refs": ("HOSTED_ON", False),
    "object_refs": ("REPORTED_IN", True),
}

# STIX relationship_type -> graph type, for relationships between modelled nodes.
STIX_TO_GRAPH: dict[str, str] = {
    "uses": "USES",
    "indicates": "INDICATES",
    "resolves-to": "RESOLVES_TO",
    "belongs-to": "HOSTED_ON",
    "hosted-on": "HOSTED_ON",
    "communicates-with": "COMMUNICATES_WITH",
    "beacons-to": "COMMUNICATES_WITH",
    "exfiltrates-to": "COMMUNICATES_WITH",
    "targets": "TARGETS",
    "originates-from": "ORIGINATES_FROM",
    "subtechnique-of": "SUBTECHNIQUE_OF",
    "variant-of": "VARIANT_OF",
    "consists-of": "CONSISTS_OF",
    # STIX 2.1 has no verbs for these; graph/formats/stix_out.py and the demo world use these names.
    "registered-with": "REGISTERED_WITH",
    "uses-name-server": "USES_NAMESERVER",
    "uses-nameserver": "USES_NAMESERVER",
    "presents-certificate": "PRESENTS_CERT",
    "presents-cert": "PRESENTS_CERT",
}


def graph_relationship(rel: str, src_label: str, dst_label: str) -> tuple[str, bool] | None:
    """The graph type of a STIX relationship between nodes of two labels.

    Args:
        rel: the STIX ``relationship_type`` (``uses``, ``attributed-to``, ``hosts``...).
        src_label: the graph label of the source (``Campaign``, ``ThreatActor``...).
        dst_label: the graph label of the target.

    Returns:
        ``(graph type, reverse)``, where ``reverse`` says the edge runs target -> source
        (``hosts`` is read as ``HOSTED_ON``); None when the relationship is not kept.
    """
    if rel == "indicates" and src_label != "Indicator":
        return "RELATED_TO", False  # an AS number in a pattern is Infrastructure, not Indicator
    if rel == "hosts":
        return "HOSTED_ON", True
    if rel == "attributed-to":
        if src_label == "Campaign" and dst_label == "ThreatActor":
            return "ATTRIBUTED_TO", False
        return "RELATED_TO", False  # intrusion-set -> threat-actor and other pairs
    if rel == "located-at":
        if src_label == "ThreatActor" and dst_label == "Country":
            return "ORIGINATES_FROM", False
        return "RELATED_TO", False
    if rel == "targets" and dst_label not in ("Sector", "Country"):
        return "RELATED_TO", False
    if rel == "originates-from" and dst_label != "Country":
        return None
    return STIX_TO_GRAPH.get(rel, "RELATED_TO"), False


def reference_edges(
    rel: str,
    sources: list[Node],
    targets: list[Node],
    props: dict[str, Any],
    hypothesis: dict[str, Any] | None = None,
) -> tuple[list[Edge], list[str]]:
    """The edges one relationship or embedded reference makes between resolved ends.

    The one rule for both a reference resolved while reading and a pending one completed by a
    later input (graph/ingest/pending.py).

    Args:
        rel: a STIX ``relationship_type``, or a property of ``EMBEDDED_REFS``.
        sources: the nodes of the source end (the referencing object for an embedded one).
        targets: the nodes of the target end.
        props: the properties every edge carries (provenance, marking, times).
        hypothesis: ``{"score": .., "model_version": ..}`` for an ``attributed-to`` marked
            ``x_actorgraph_hypothesis`` (our own export): it becomes ``PREDICTED_ACTOR``, never
            an attribution fact.

    Returns:
        The edges, and a reason per pair of labels the graph model does not relate.
    """
    edges: list[Edge] = []
    left_out: list[str] = []
    for src_label, src_id in sources:
        for dst_label, dst_id in targets:
            if rel in EMBEDDED_REFS:
                mapped: tuple[str, bool] | None = EMBEDDED_REFS[rel]
            else:
                mapped = graph_relationship(rel, src_label, dst_label)
            if mapped is None:
                left_out.append(f"relationship {rel} {src_label}->{dst_label}")
                continue
            rel_type, swap = mapped
            a, b = (
                ((dst_label, dst_id), (src_label, src_id))
                if swap
                else (
                    (src_label, src_id),
                    (dst_label, dst_id),
                )
            )
            edge = dict(props)
            if rel_type == "ATTRIBUTED_TO" and hypothesis is not None:
                rel_type = "PREDICTED_ACTOR"
                edge.update(hypothesis)
            elif rel_type == "ATTRIBUTED_TO":
                edge["source"] = (props.get("sources") or [None])[0]
            edges.append((a[0], rel_type, b[0], a[1], b[1], edge))
    return edges, left_out
