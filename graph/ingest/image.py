"""The graph an ingest would write into an empty store, built in memory by the writer's rules.

The bulk load (graph/ingest/bulk.py) writes a whole ingest at once, so it cannot let the store
merge input after input. ``GraphImage`` applies, batch after batch in the order they would be
written, what the writer's statements do to a node or relationship (graph/ingest/writer.py:
``NODE_MERGE``, ``EDGE_MERGE``; graph/ingest/enrichment.py: ``NODE_MERGE``): lists unioned in
order, the marking raised to the stricter, the other properties replaced by a copy whose
``modified`` is not older; enrichment nodes lowered to the level of the indicators that make
them, and left alone once an input states them. It also answers the reader's look-ups of STIX
ids (``resolve``) as ``writer.resolve_stix_ids`` would on that store.

It writes as the operator (``TLP.RED``): every stored element is visible to the writer, so the
statements' visibility conditions always hold.
"""

from __future__ import annotations

from typing import Any

from actorgraph.graph.enrich import PREFIX
from actorgraph.graph.enrich import REL as ENRICH_REL
from actorgraph.graph.formats.rows import LIST_PROPS, MARKING_PROPS, IngestBatch
from actorgraph.graph.ingest import enrichment
from actorgraph.graph.ingest.writer import BY_STIX_IDS, DIRECT, split_row
from actorgraph.graph.tlp import NAMES

NodeKey = tuple[str, str]  # (label, id)
EdgeKey = tuple[str, str, str, str, str]  # (source label, source id, TYPE, target label, target id)


class GraphImage:
    """Nodes and relationships with their stored properties, as the writer would leave them."""

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, dict[str, Any]] = {}
        self.edges: dict[EdgeKey, dict[str, Any]] = {}
        self._by_stix_id: dict[NodeKey, list[str]] = {}  # (label, STIX id) -> node ids
        self._relationship_ids: set[str] = set()

    def add(self, batch: IngestBatch, *, enrich: bool) -> dict[str, int]:
        """Apply ``batch`` as ``writer.write_batch`` writes it (its sightings and pending
        references aside: they change nothing this image holds).

        Returns:
            What enrichment added, counted as in the ingest report (empty without ``enrich``).
        """
        for label, by_id in sorted(batch.nodes.items()):
            for node_id, props in by_id.items():
                self._node(label, node_id, split_row(props))
        for (src, rel, dst), group in sorted(batch.edges.items()):
            for (a, b), props in group.items():
                self._edge(src, a, rel, dst, b, split_row(props))
        if not enrich:
            return {}
        rows, edges = enrichment.enrichment_rows(batch)
        for row in rows:
            self._derived(row)
        for (a, b), props in edges.items():
            self._edge("Indicator", a, ENRICH_REL, "Infrastructure", b, split_row(props))
        return enrichment.counts(rows, edges)

    def resolve(self, ids: set[str]) -> dict[str, list[tuple[str, str]]]:
        """``writer.resolve_stix_ids`` on the store this image stands for."""
        out: dict[str, list[tuple[str, str]]] = {}
        for sid in ids:
            prefix = sid.partition("--")[0]
            if prefix in DIRECT:
                if (DIRECT[prefix], sid) in self.nodes:
                    out.setdefault(sid, []).append((DIRECT[prefix], sid))
            elif prefix in BY_STIX_IDS:
                for label in BY_STIX_IDS[prefix]:
                    for node_id in self._by_stix_id.get((label, sid), []):
                        out.setdefault(sid, []).append((label, node_id))
            elif prefix in ("relationship", "sighting") and sid in self._relationship_ids:
                out.setdefault(sid, [])
        return out

    # ------------------------------------------------------------------ the statements
    def _node(self, label: str, node_id: str, row: dict[str, Any]) -> None:
        node = self.nodes.get((label, node_id))
        if node is None:
            node = self.nodes[(label, node_id)] = {"id": node_id}
        known = set(node.get("stix_ids") or [])
        _set(node, row)
        for sid in node.get("stix_ids") or []:
            if sid not in known:
                self._by_stix_id.setdefault((label, sid), []).append(node_id)

    def _edge(self, src: str, a: str, rel: str, dst: str, b: str, row: dict[str, Any]) -> None:
        if (src, a) not in self.nodes or (dst, b) not in self.nodes:
            return  # EDGE_MERGE matches both ends first: no edge onto a missing node
        _set(self.edges.setdefault((src, a, rel, dst, b), {}), row)
        if isinstance(sid := row["props"].get("stix_id"), str):
            self._relationship_ids.add(sid)

    def _derived(self, row: dict[str, Any]) -> None:
        """enrichment.NODE_MERGE: a node made by enrichment alone takes the lowest level of
        the indicators that make it; one an input stated is left as it is."""
        indicator = self.nodes.get(("Indicator", row["src"]))
        if indicator is None:
            return
        level = max(indicator.get("tlp_level") or 0, row.get("tlp_level") or 0)
        node = self.nodes.setdefault(("Infrastructure", row["id"]), {"id": row["id"]})
        if not all(str(s).startswith(PREFIX) for s in node.get("sources") or []):
            return
        if node.get("tlp_level") is None or level < node["tlp_level"]:
            node["tlp"], node["tlp_level"] = NAMES[level], level
        node["sources"] = _union(node.get("sources"), row["sources"])
        node.update(row["props"])


def _set(element: dict[str, Any], row: dict[str, Any]) -> None:
    """The writer's ``SET`` on one node or relationship (writer._union, _stricter, _newer)."""
    for prop in LIST_PROPS:
        if row.get(prop) is not None:
            element[prop] = _union(element.get(prop), row[prop])
    if _level(row.get("tlp_level")) > _level(element.get("tlp_level")):
        for prop in MARKING_PROPS:
            if row.get(prop) is None:
                element.pop(prop, None)  # SET to null removes the property
            else:
                element[prop] = row[prop]
    props = row["props"]
    stored, incoming = element.get("modified"), props.get("modified")
    if stored is None or incoming is None or incoming >= stored:
        element.update(props)


def _union(stored: list[Any] | None, new: list[Any]) -> list[Any]:
    out = list(stored or [])
    for item in new:
        if item not in out:
            out.append(item)
    return out


def _level(value: Any) -> int:
    return -1 if value is None else int(value)
