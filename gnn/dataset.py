"""Export the store's graph into an in-memory snapshot, and from there into PyG ``HeteroData``.

The snapshot is plain Python + NumPy (cheap to build, easy to fingerprint and to edit for
leave-one-campaign-out); ``to_hetero_data`` converts it for PyTorch Geometric and imports PyG
lazily because ``import torch_geometric`` alone costs seconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actorgraph.graph.errors import ModelError
from actorgraph.graph.store import GraphStore

# Store label -> PyG node type (lowercase nouns, as in the architecture sketch).
NODE_TYPES: dict[str, str] = {
    "ThreatActor": "actor",
    "Campaign": "campaign",
    "Indicator": "indicator",
    "Infrastructure": "infrastructure",
    "Malware": "malware",
    "Tool": "tool",
    "Technique": "technique",
    "Sector": "sector",
    "Country": "country",
}
# Entity types: what an activity can share with an actor (everything but actors and campaigns).
ENTITY_TYPES: tuple[str, ...] = (
    "indicator",
    "infrastructure",
    "malware",
    "tool",
    "technique",
    "sector",
    "country",
)
# Hypotheses and bookkeeping never feed the model (PREDICTED_ACTOR would be training on our own
# output).
SKIPPED_RELS: tuple[str, ...] = ("PREDICTED_ACTOR", "REPORTED_IN", "SIGHTED_IN")

EXPORT_NODES = """
MATCH (n)
WHERE n.id IS NOT NULL
RETURN labels(n) AS labels, n.id AS id, n.name AS name, n.aliases AS aliases,
       n.external_id AS external_id, n.kind AS kind, n.value AS value, n.country AS country,
       n.tlp_level AS tlp_level
"""

EXPORT_EDGES = """
MATCH (a)-[r]->(b)
WHERE NOT type(r) IN $skipped AND a.id IS NOT NULL AND b.id IS NOT NULL
RETURN labels(a) AS src_labels, a.id AS src, type(r) AS rel, labels(b) AS dst_labels, b.id AS dst
"""


@dataclass
class GraphSnapshot:
    """The graph the model sees: typed nodes, typed edges, node properties.

    Attributes:
        nodes: node type -> list of store ids (index in the list = PyG node index).
        props: store id -> properties (``type``, ``name``, ``aliases``, ``external_id``, ``kind``,
            ``value``, ``country``, ``tlp_level``).
        edges: ``(src_type, REL, dst_type)`` -> array of shape (2, E) of node indices.
    """

    nodes: dict[str, list[str]] = field(default_factory=dict)
    props: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index: dict[str, dict[str, int]] = {}

    def index(self, node_type: str) -> dict[str, int]:
        """Store id -> node index for one node type (cached)."""
        if node_type not in self._index:
            self._index[node_type] = {nid: i for i, nid in enumerate(self.nodes.get(node_type, []))}
        return self._index[node_type]

    def num_nodes(self, node_type: str) -> int:
        return len(self.nodes.get(node_type, []))

    def pairs(self, src_type: str, rel: str, dst_type: str) -> np.ndarray:
        """Edge index (2, E) of one edge type; empty when absent."""
        return self.edges.get((src_type, rel, dst_type), np.zeros((2, 0), dtype=np.int64))

    def labels(self) -> dict[str, str]:
        """Campaign id -> actor id from ``ATTRIBUTED_TO`` (the training labels)."""
        ei = self.pairs("campaign", "ATTRIBUTED_TO", "actor")
        camps, actors = self.nodes.get("campaign", []), self.nodes.get("actor", [])
        return {camps[s]: actors[d] for s, d in ei.T}

    def fingerprint(self) -> str:
        """SHA-256 over sorted node ids and edges: which data a model was trained on."""
        h = hashlib.sha256()
        for t in sorted(self.nodes):
            h.update(t.encode())
            for nid in sorted(self.nodes[t]):
                h.update(nid.encode())
        for key in sorted(self.edges):
            h.update("|".join(key).encode())
            src, _, dst = key
            names = sorted(
                f"{self.nodes[src][s]}>{self.nodes[dst][d]}" for s, d in self.edges[key].T
            )
            h.update("\n".join(names).encode())
        return h.hexdigest()

    def without_campaign(self, campaign_id: str) -> GraphSnapshot:
        """A copy in which one campaign's node and all its edges are gone (leave-one-out)."""
        rows = self.to_rows()
        nodes = [n for n in rows[0] if n["id"] != campaign_id]
        edges = [e for e in rows[1] if campaign_id not in (e["src"], e["dst"])]
        return GraphSnapshot.from_rows(nodes, edges)

    def to_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Back to plain node and edge rows (the inverse of ``from_rows``)."""
        nodes = [dict(self.props[nid], id=nid) for t in self.nodes for nid in self.nodes[t]]
        edges = []
        for (st, rel, dt), ei in self.edges.items():
            for s, d in ei.T:
                edges.append({"src": self.nodes[st][s], "rel": rel, "dst": self.nodes[dt][d]})
        return nodes, edges

    @classmethod
    def from_rows(
        cls, node_rows: list[dict[str, Any]], edge_rows: list[dict[str, Any]]
    ) -> GraphSnapshot:
        """Build a snapshot from node rows (``id``, ``type`` or ``labels``, properties) and edge
        rows (``src``, ``rel``, ``dst``). Edges whose ends are unknown are dropped."""
        snap = cls()
        for row in sorted(node_rows, key=lambda r: str(r["id"])):
            ntype = row.get("type") or _node_type(row.get("labels") or [])
            if ntype is None or row["id"] in snap.props:
                continue
            props = {
                "type": ntype,
                "name": row.get("name"),
                "aliases": list(row.get("aliases") or []),
                "external_id": row.get("external_id"),
                "kind": row.get("kind"),
                "value": row.get("value"),
                "country": row.get("country"),
                "tlp_level": int(row.get("tlp_level") or 0),
            }
            snap.props[row["id"]] = props
            snap.nodes.setdefault(ntype, []).append(row["id"])
        buckets: dict[tuple[str, str, str], set[tuple[int, int]]] = {}
        for row in edge_rows:
            sp, dp = snap.props.get(row["src"]), snap.props.get(row["dst"])
            if sp is None or dp is None or row["rel"] in SKIPPED_RELS:
                continue
            key = (sp["type"], row["rel"], dp["type"])
            pair = (snap.index(sp["type"])[row["src"]], snap.index(dp["type"])[row["dst"]])
            buckets.setdefault(key, set()).add(pair)
        for key in sorted(buckets):
            arr = np.array(sorted(buckets[key]), dtype=np.int64).reshape(-1, 2).T
            snap.edges[key] = np.ascontiguousarray(arr)
        _derive_countries(snap)
        return snap

    def to_hetero_data(self) -> Any:
        """A PyG ``HeteroData`` with ``num_nodes`` per type and forward + ``rev_`` edges.

        Node features are left to the model (learned embeddings keyed by node index).
        """
        import torch
        from torch_geometric.data import HeteroData

        data = HeteroData()
        for t, ids in self.nodes.items():
            data[t].num_nodes = len(ids)
        for (st, rel, dt), ei in self.edges.items():
            verb = rel.lower()
            data[st, verb, dt].edge_index = torch.from_numpy(ei)
            data[dt, f"rev_{verb}", st].edge_index = torch.from_numpy(ei[::-1].copy())
        return data


def _node_type(labels: list[str]) -> str | None:
    for lab in labels:
        if lab in NODE_TYPES:
            return NODE_TYPES[lab]
    return None


def _derive_countries(snap: GraphSnapshot) -> None:
    """Fill an actor's missing ``country`` from its ``ORIGINATES_FROM`` edge."""
    ei = snap.pairs("actor", "ORIGINATES_FROM", "country")
    for s, d in ei.T:
        props = snap.props[snap.nodes["actor"][s]]
        if not props.get("country"):
            cprops = snap.props[snap.nodes["country"][d]]
            code = cprops.get("value") or snap.nodes["country"][d].removeprefix("country:")
            props["country"] = code


def export_graph(store: GraphStore) -> GraphSnapshot:
    """Read every node and relationship the model uses from the store.

    Args:
        store: an open graph store.

    Returns:
        The snapshot.

    Raises:
        ModelError: the store holds no threat actor (nothing to learn from).
    """
    nodes = store.query(EXPORT_NODES, read_only=True)
    edges = store.query(EXPORT_EDGES, {"skipped": list(SKIPPED_RELS)}, read_only=True)
    snap = GraphSnapshot.from_rows(nodes, edges)
    if not snap.num_nodes("actor"):
        raise ModelError(
            "the store holds no ThreatActor: ingest data first (actorgraph ingest --attack)"
        )
    return snap
