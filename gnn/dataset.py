"""Export the store's graph into an in-memory snapshot, and from there into PyG ``HeteroData``.

The snapshot is plain Python + NumPy (cheap to build, easy to fingerprint and to edit for
leave-one-campaign-out); ``to_hetero_data`` converts it for PyTorch Geometric and imports PyG
lazily because ``import torch_geometric`` alone costs seconds.

A snapshot is exported at one TLP clearance and holds only the nodes and relationships visible
at it: a model trained on it can only ever reflect what a key of that clearance may see
(``export_levels`` exports one per clearance for ``actorgraph train``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actorgraph.graph.decisions import ANALYST_SOURCE
from actorgraph.graph.errors import ModelError
from actorgraph.graph.formats.galaxy import SOURCE as GALAXY_SOURCE
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, visible, visible_all

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

# Every node and every relationship read passes the clearance test: a relationship is exported
# only when it and both its ends are visible. A node its producer revoked (STIX `revoked`, set by
# a later input) is left out with its edges: a withdrawn indicator is no evidence.
EXPORT_NODES = f"""
MATCH (n)
WHERE n.id IS NOT NULL AND {visible("n")} AND coalesce(n.revoked, false) = false
RETURN labels(n) AS labels, n.id AS id, n.name AS name, n.aliases AS aliases,
       n.external_id AS external_id, n.kind AS kind, n.value AS value, n.country AS country,
       n.tlp_level AS tlp_level
"""

# The galaxy's victim lists (every sector and country ever reported for a group, ``TARGETS``
# with only ``misp-galaxy@...`` provenance) are shown to analysts but are not evidence: on the
# demo world they made the held-out top-1 fall from 0.974 to 0.947 and the overlap baseline from
# 0.632 to 0.132, broad real victim lists outweighing an activity's own targets
# (benchmarks/RESULTS.md, stop 15). Targets any other source states are kept.
EXPORT_EDGES = f"""
MATCH (a)-[r]->(b)
WHERE NOT type(r) IN $skipped AND a.id IS NOT NULL AND b.id IS NOT NULL
      AND {visible_all("a", "r", "b")}
      AND NOT (type(r) = 'TARGETS' AND size(coalesce(r.sources, [])) > 0
               AND all(s IN r.sources WHERE s STARTS WITH $metadata_only))
RETURN labels(a) AS src_labels, a.id AS src, type(r) AS rel, labels(b) AS dst_labels, b.id AS dst
"""

# Analyst decisions naming an actor (``graph.decisions``); the newest per (campaign, actor)
# wins. Rejections are hard negatives in training, never features or labels.
EXPORT_DECISIONS = f"""
MATCH (d:Decision)-[r:DECIDES]->(c:Campaign)
WHERE d.actor_id IS NOT NULL AND {visible_all("d", "r", "c")}
RETURN d.campaign_id AS campaign, d.actor_id AS actor, d.decision AS decision,
       d.created AS created, d.id AS id
"""

# Campaigns an analyst attributed (``graph.decisions``): evaluated apart (``gnn.evaluate``).
EXPORT_ANALYST_LABELLED = f"""
MATCH (c:Campaign)-[r:ATTRIBUTED_TO]->(a:ThreatActor)
WHERE r.source = $analyst AND {visible_all("c", "r", "a")}
RETURN DISTINCT c.id AS campaign
"""


@dataclass
class GraphSnapshot:
    """The graph the model sees: typed nodes, typed edges, node properties.

    Attributes:
        nodes: node type -> list of store ids (index in the list = PyG node index).
        props: store id -> properties (``type``, ``name``, ``aliases``, ``external_id``, ``kind``,
            ``value``, ``country``, ``tlp_level``).
        edges: ``(src_type, REL, dst_type)`` -> array of shape (2, E) of node indices.
        max_tlp: the clearance it was exported at: it holds nothing marked above it, and a model
            trained on it may answer only keys cleared for at least this level. A snapshot
            built from rows without a level counts as ``red`` (it may hold anything).
        rejections: (campaign id, actor id) pairs an analyst rejected and no later decision
            reversed (training's hard negatives; not kept in model artefacts).
        analyst_labelled: campaigns whose attribution an analyst decided (evaluated apart).
    """

    nodes: dict[str, list[str]] = field(default_factory=dict)
    props: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)
    max_tlp: TLP = TLP.RED
    rejections: list[tuple[str, str]] = field(default_factory=list)
    analyst_labelled: list[str] = field(default_factory=list)

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
        """SHA-256 over sorted node ids and edges: which data a model was trained on.

        The clearance is not part of it: two levels whose visible graphs are the same have the
        same fingerprint (``export_levels`` relies on that)."""
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
        if self.rejections:  # absent before decisions existed: old fingerprints unchanged
            h.update(b"rejections")
            h.update("\n".join(f"{c}>{a}" for c, a in sorted(self.rejections)).encode())
        return h.hexdigest()

    def without_campaign(self, campaign_id: str) -> GraphSnapshot:
        """A copy in which one campaign's node and all its edges are gone (leave-one-out)."""
        rows = self.to_rows()
        nodes = [n for n in rows[0] if n["id"] != campaign_id]
        edges = [e for e in rows[1] if campaign_id not in (e["src"], e["dst"])]
        snap = GraphSnapshot.from_rows(nodes, edges, max_tlp=self.max_tlp)
        snap.rejections = [(c, a) for c, a in self.rejections if c != campaign_id]
        snap.analyst_labelled = [c for c in self.analyst_labelled if c != campaign_id]
        return snap

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
        cls,
        node_rows: list[dict[str, Any]],
        edge_rows: list[dict[str, Any]],
        max_tlp: int = TLP.RED,
    ) -> GraphSnapshot:
        """Build a snapshot from node rows (``id``, ``type`` or ``labels``, properties) and edge
        rows (``src``, ``rel``, ``dst``). Edges whose ends are unknown are dropped, and so are
        nodes marked above ``max_tlp`` (the snapshot's clearance) with their edges."""
        snap = cls(max_tlp=TLP.parse(max_tlp))
        for row in sorted(node_rows, key=lambda r: str(r["id"])):
            ntype = row.get("type") or _node_type(row.get("labels") or [])
            if ntype is None or row["id"] in snap.props:
                continue
            if int(row.get("tlp_level") or 0) > snap.max_tlp:
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


def export_graph(store: GraphStore, *, max_tlp: int) -> GraphSnapshot:
    """Read every node and relationship the model uses that is visible at one clearance.

    Args:
        store: an open graph store.
        max_tlp: the clearance (0 clear .. 4 red): nodes and relationships marked above it are
            not read. Required: a caller who means everything passes ``TLP.RED``.

    Returns:
        The snapshot, its ``max_tlp`` set to the clearance.

    Raises:
        ModelError: no threat actor is visible at that clearance (nothing to learn from).
        ValidationError: ``max_tlp`` is not a TLP level.
    """
    level = TLP.parse(max_tlp)
    params = {"max_tlp": int(level)}
    nodes = store.query(EXPORT_NODES, params, read_only=True)
    edges = store.query(
        EXPORT_EDGES,
        {**params, "skipped": list(SKIPPED_RELS), "metadata_only": f"{GALAXY_SOURCE}@"},
        read_only=True,
    )
    snap = GraphSnapshot.from_rows(nodes, edges, max_tlp=level)
    snap.rejections = _rejections(store.query(EXPORT_DECISIONS, params, read_only=True))
    labelled = store.query(
        EXPORT_ANALYST_LABELLED, {**params, "analyst": ANALYST_SOURCE}, read_only=True
    )
    snap.analyst_labelled = sorted(str(row["campaign"]) for row in labelled)
    if not snap.num_nodes("actor"):
        raise ModelError(
            f"no ThreatActor visible at TLP:{level.label.upper()}: ingest data first "
            "(actorgraph ingest --attack)"
        )
    return snap


def export_levels(store: GraphStore) -> dict[TLP, GraphSnapshot]:
    """The graph at every clearance, clear to red: what each level's model is trained on.

    A level whose visible graph is the same as the level below (same fingerprint) maps to the
    lower level's snapshot, so the two share one model; a level at which no threat actor is
    visible is left out (keys of that clearance get no model).

    Args:
        store: an open graph store.

    Returns:
        Clearance -> snapshot, for every level that has data; each snapshot's ``max_tlp`` is
        the lowest level it serves.

    Raises:
        ModelError: no threat actor is visible even at ``red``.
    """
    out: dict[TLP, GraphSnapshot] = {}
    below: GraphSnapshot | None = None
    for level in TLP:
        try:
            snap = export_graph(store, max_tlp=level)
        except ModelError:
            if level == TLP.RED:
                raise
            continue
        if below is not None and snap.fingerprint() == below.fingerprint():
            snap = below
        out[level] = below = snap
    return out


def _rejections(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The (campaign, actor) pairs whose newest decision is a rejection."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (str(r.get("created") or ""), str(r.get("id") or ""))):
        newest[(str(row["campaign"]), str(row["actor"]))] = row
    return sorted(pair for pair, row in newest.items() if row.get("decision") == "reject")
