"""The neutral form every reader produces and the writer consumes.

A reader (STIX, MISP, ATT&CK) turns its input into an ``IngestBatch``: nodes per label and id,
edges per (source label, type, target label) and (source id, target id), and the values it
refused. Nothing here knows a store or a file format. Adding the same node twice merges it the
way the writer merges into the graph: list properties are unioned, and a copy with an older
``modified`` does not overwrite a newer one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from actorgraph.graph.schema import LABELS as _LABELS
from actorgraph.graph.schema import REL_TYPES as _REL_TYPES

LABELS = frozenset(_LABELS)
# PREDICTED_ACTOR is allowed: readers produce it only from a STIX attributed-to marked
# x_actorgraph_hypothesis (our own export), so a hypothesis read back stays a hypothesis.
REL_TYPES = frozenset(_REL_TYPES)
# Properties that accumulate across sources instead of being replaced.
LIST_PROPS = ("sources", "stix_ids", "aliases", "aliases_lc")

EdgeKey = tuple[str, str, str]


@dataclass(frozen=True)
class Rejected:
    """An input value that was refused and not stored (an invalid indicator)."""

    object_id: str
    value: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class IngestBatch:
    """Validated rows of one input, ready for ``graph.ingest.writer.write_batch``.

    Attributes:
        source: the input's name (a file, ``mitre-attack``, a MISP event).
        nodes: label -> node id -> properties (without ``id``).
        edges: (source label, TYPE, target label) -> (source id, target id) -> properties.
        rejected: values refused (invalid indicators), never stored.
        skipped: reason -> how many objects were left out on purpose (revoked, unsupported).
    """

    source: str
    nodes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    edges: dict[EdgeKey, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def add_node(self, label: str, node_id: str, props: dict[str, Any]) -> dict[str, Any]:
        """Add or merge a node; returns its merged properties.

        Raises:
            ValueError: ``label`` is not a label of the graph model.
        """
        if label not in LABELS:
            raise ValueError(f"unknown node label {label!r} (known: {sorted(LABELS)})")
        by_id = self.nodes.setdefault(label, {})
        existing = by_id.get(node_id)
        if existing is None:
            by_id[node_id] = merged = merge_props({}, props)
            return merged
        return merge_props(existing, props)

    def add_edge(
        self,
        src_label: str,
        rel_type: str,
        dst_label: str,
        src_id: str,
        dst_id: str,
        props: dict[str, Any] | None = None,
    ) -> None:
        """Add or merge the relationship ``(src)-[rel_type]->(dst)``; unique per (src, type, dst).

        Raises:
            ValueError: a label or the type is not part of the graph model.
        """
        for label in (src_label, dst_label):
            if label not in LABELS:
                raise ValueError(f"unknown node label {label!r}")
        if rel_type not in REL_TYPES:
            raise ValueError(f"unknown relationship type {rel_type!r} (known: {sorted(REL_TYPES)})")
        group = self.edges.setdefault((src_label, rel_type, dst_label), {})
        key = (src_id, dst_id)
        if key in group:
            merge_props(group[key], props or {})
        else:
            group[key] = merge_props({}, props or {})

    def reject(self, object_id: str, value: Any, reason: str) -> None:
        self.rejected.append(Rejected(object_id, str(value), reason))

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def node_counts(self) -> dict[str, int]:
        return {label: len(by_id) for label, by_id in sorted(self.nodes.items()) if by_id}

    def edge_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for (_, rel, _), group in self.edges.items():
            counts[rel] = counts.get(rel, 0) + len(group)
        return dict(sorted(counts.items()))

    def counts(self) -> dict[str, dict[str, int]]:
        """``{"nodes": {label: n}, "relationships": {TYPE: n}}`` of this batch."""
        return {"nodes": self.node_counts(), "relationships": self.edge_counts()}

    @property
    def n_nodes(self) -> int:
        return sum(len(by_id) for by_id in self.nodes.values())

    @property
    def n_edges(self) -> int:
        return sum(len(group) for group in self.edges.values())


def merge_props(existing: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Merge ``new`` into ``existing`` in place and return it.

    ``None`` values are dropped (a store would delete the property). List properties in
    ``LIST_PROPS`` are unioned in order. Other properties take the new value unless the new copy
    has an older ``modified`` than the existing one, in which case it only fills gaps.
    """
    older = (
        existing.get("modified") is not None
        and new.get("modified") is not None
        and new["modified"] < existing["modified"]
    )
    for key, value in new.items():
        if value is None:
            continue
        if key in LIST_PROPS:
            union = list(existing.get(key) or [])
            for item in value:
                if item not in union:
                    union.append(item)
            existing[key] = union
        elif not older or key not in existing:
            existing[key] = value
    return existing
