"""The neutral form every reader produces and the writer consumes.

A reader (STIX, MISP, ATT&CK) turns its input into an ``IngestBatch``: nodes per label and id,
edges per (source label, type, target label) and (source id, target id), and the values it
refused. Nothing here knows a store or a file format. Adding the same node twice merges it the
way the writer merges into the graph: list properties are unioned, the marking is the stricter of
the two whatever ``modified`` says, and a copy with an older ``modified`` does not overwrite the
other properties of a newer one.

STIX ids are kept per marking: beside ``stix_ids`` a node holds ``stix_id_levels``, one entry
``"<tlp_level>:<stix id>"`` per id and marking it came with (an id sent at two markings has two
entries; the stricter counts). An export names only the ids visible at its clearance
(:func:`visible_stix_ids`), so a node never republishes an id at a lower marking than the
object it came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from actorgraph.graph.errors import IngestError
from actorgraph.graph.formats.ledger import ObjectLedger, PendingRef
from actorgraph.graph.schema import LABELS as _LABELS
from actorgraph.graph.schema import REL_TYPES as _REL_TYPES
from actorgraph.graph.tlp import level_of

LABELS = frozenset(_LABELS)
# PREDICTED_ACTOR is allowed: readers produce it only from a STIX attributed-to marked
# x_actorgraph_hypothesis (our own export), so a hypothesis read back stays a hypothesis.
REL_TYPES = frozenset(_REL_TYPES)
# The marking of a node or relationship (graph.tlp.marking): never lowered by a merge.
MARKING_PROPS = ("tlp", "tlp_level")
# Each STIX id with the marking it came with (see the module docstring).
ID_LEVELS = "stix_id_levels"
# Properties that accumulate across sources instead of being replaced.
LIST_PROPS = ("sources", "stix_ids", ID_LEVELS, "aliases", "aliases_lc")

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
        pending: references to objects neither in the input nor in the store, kept for a later
            input to complete (graph/formats/ledger.py).
        ledger: the outcome of every object of the input (graph/formats/ledger.py).
    """

    source: str
    nodes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    edges: dict[EdgeKey, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    pending: list[PendingRef] = field(default_factory=list)
    ledger: ObjectLedger = field(default_factory=ObjectLedger)

    def add_node(self, label: str, node_id: str, props: dict[str, Any]) -> dict[str, Any]:
        """Add or merge a node; returns its merged properties.

        Each of the row's ``stix_ids`` is recorded in ``stix_id_levels`` at the row's marking
        (readers give one row per STIX object), unless the row says ``stix_id_levels: None``
        (input read without its markings, never written).

        Raises:
            IngestError: ``label`` is not a label of the graph model (the input is refused).
        """
        if label not in LABELS:
            raise IngestError(
                f"unknown node label {label!r} (known: {sorted(LABELS)})", self.source
            )
        entries = None
        if props.get("stix_ids") and ID_LEVELS not in props:  # None: markings not read
            level = level_of(props)
            entries = [id_level(level, sid) for sid in props["stix_ids"]]
        by_id = self.nodes.setdefault(label, {})
        existing = by_id.get(node_id)
        if existing is None:
            by_id[node_id] = existing = merge_props({}, props)
        else:
            merge_props(existing, props)
        if entries is not None:  # as if the row had held them: after its own properties
            merge_props(existing, {ID_LEVELS: entries})
        return existing

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
            IngestError: a label or the type is not part of the graph model (the input is
                refused).
        """
        for label in (src_label, dst_label):
            if label not in LABELS:
                raise IngestError(f"unknown node label {label!r}", self.source)
        if rel_type not in REL_TYPES:
            known = sorted(REL_TYPES)
            raise IngestError(
                f"unknown relationship type {rel_type!r} (known: {known})", self.source
            )
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
    ``LIST_PROPS`` are unioned in order. The marking (``MARKING_PROPS``) is the stricter of the
    two, whatever ``modified`` says: nothing merged into a node or relationship lowers it. Other
    properties take the new value unless the new copy has an older ``modified`` than the
    existing one, in which case it only fills gaps.
    """
    if not existing:
        return _first_props(existing, new)
    older = (
        existing.get("modified") is not None
        and new.get("modified") is not None
        and new["modified"] < existing["modified"]
    )
    if new.get("tlp_level") is not None and (
        existing.get("tlp_level") is None or new["tlp_level"] > existing["tlp_level"]
    ):
        existing.update((k, new[k]) for k in MARKING_PROPS if new.get(k) is not None)
    for key, value in new.items():
        if value is None or key in MARKING_PROPS:
            continue
        if key in LIST_PROPS:
            existing[key] = union(existing.get(key), value)
        elif not older or key not in existing:
            existing[key] = value
    return existing


def _first_props(existing: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``merge_props`` into an empty ``existing`` (most rows): the same result in one pass."""
    if new.get("tlp_level") is not None:
        existing.update((k, new[k]) for k in MARKING_PROPS if new.get(k) is not None)
    for key, value in new.items():
        if value is None:
            continue
        if key not in _MERGED_KEYS:
            existing[key] = value
        elif key in _LIST_KEYS:
            existing[key] = union(None, value)
    return existing


def union(stored: list[Any] | None, new: list[Any]) -> list[Any]:
    """The union of two list properties: ``stored`` in its order, then the items of ``new`` it
    lacks, each once. What the writer's statements do to a list (graph/ingest/writer.py)."""
    if not stored:
        try:  # the common case, a fresh list of strings: that list without repeats
            return list(dict.fromkeys(new))
        except TypeError:  # an unhashable item: compared one by one below
            pass
    out = list(stored or [])
    for item in new:
        if item not in out:
            out.append(item)
    return out


_LIST_KEYS = frozenset(LIST_PROPS)
_MERGED_KEYS = _LIST_KEYS | frozenset(MARKING_PROPS)


def id_level(level: int, stix_id: str) -> str:
    """The ``stix_id_levels`` entry of ``stix_id`` marked at ``level``."""
    return f"{int(level)}:{stix_id}"


def visible_stix_ids(props: dict[str, Any], max_tlp: int) -> list[str]:
    """The node's ``stix_ids`` whose marking is at most ``max_tlp``, in their order.

    An id sent at several markings counts at the strictest; an id without an entry (a node
    written before ids were kept per marking) counts at the node's own marking.
    """
    levels: dict[str, int] = {}
    for entry in props.get(ID_LEVELS) or []:
        level, _, stix_id = str(entry).partition(":")
        if level.isdigit():
            levels[stix_id] = max(levels.get(stix_id, 0), int(level))
    own = level_of(props)
    return [sid for sid in props.get("stix_ids") or [] if levels.get(sid, own) <= max_tlp]
