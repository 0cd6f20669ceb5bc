"""STIX relationships <-> graph relationship types: the one rule, read by the STIX reader and
followed by the exporter, so that an exported relationship reads back as the edge it came from.

The other direction's names (graph type -> the STIX verb to write) are
``stix_out.REL_STIX_TYPES``; the exporter checks each of them against :func:`graph_relationship`.
"""

from __future__ import annotations

__all__ = ["STIX_TO_GRAPH", "graph_relationship"]

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
