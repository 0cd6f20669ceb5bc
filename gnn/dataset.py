"""Export the store's graph into an in-memory snapshot, and from there into PyG ``HeteroData``.

The snapshot is plain Python + NumPy (cheap to build, easy to fingerprint and to edit for
leave-one-campaign-out); ``to_hetero_data`` converts it for PyTorch Geometric and imports PyG
lazily because ``import torch_geometric`` alone costs seconds.

A snapshot is exported at one TLP clearance and holds only the nodes and relationships visible
at it: a model trained on it can only ever reflect what a key of that clearance may see
(``export_levels`` exports one per clearance for ``actorgraph train``).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from actorgraph.graph.decisions import ANALYST_SOURCE
from actorgraph.graph.errors import ModelError
from actorgraph.graph.formats.galaxy import SOURCE as GALAXY_SOURCE
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, level_of, visible, visible_all

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
SKIPPED_RELS: tuple[str, ...] = ("PREDICTED_ACTOR", "REPORTED_IN")

# Every node and every relationship read passes the clearance test: a relationship is exported
# only when it and both its ends are visible. A node its producer revoked (STIX `revoked`, set by
# a later input) is left out with its edges: a withdrawn indicator is no evidence. The levels
# come back with the rows so that one read at the highest clearance gives every lower level's
# graph too (``export_levels``). ``{page}`` is empty or ``EXPORT_PAGE_RANGE``.
_NODES = f"""
MATCH (n)
WHERE {{page}}n.id IS NOT NULL AND {visible("n")} AND coalesce(n.revoked, false) = false
RETURN labels(n) AS labels, n.id AS id, n.name AS name, n.aliases AS aliases,
       n.external_id AS external_id, n.kind AS kind, n.value AS value, n.country AS country,
       n.tlp_level AS tlp_level
"""

# The galaxy's victim lists (every sector and country ever reported for a group, ``TARGETS``
# with only ``misp-galaxy@...`` provenance) are shown to analysts but are not evidence: on the
# demo world they made the held-out top-1 fall from 0.974 to 0.947 and the overlap baseline from
# 0.632 to 0.132, broad real victim lists outweighing an activity's own targets
# (benchmarks/RESULTS.md, stop 15). Targets any other source states are kept.
_EDGES = f"""
MATCH (a)-[r]->(b)
WHERE {{page}}NOT type(r) IN $skipped AND a.id IS NOT NULL AND b.id IS NOT NULL
      AND {visible_all("a", "r", "b")}
      AND NOT (type(r) = 'TARGETS' AND size(coalesce(r.sources, [])) > 0
               AND all(s IN r.sources WHERE s STARTS WITH $metadata_only))
RETURN a.id AS src, type(r) AS rel, b.id AS dst,
       reduce(top = 0, x IN [a.tlp_level, r.tlp_level, b.tlp_level] |
              CASE WHEN coalesce(x, 0) > top THEN coalesce(x, 0) ELSE top END) AS level
"""
# FalkorDB sends a whole result at once (the engine's reply, then the client's rows): the
# export reads it in pages of internal node ids, which the engine seeks (``NodeByIdSeek``), a
# relationship in the page of its start node. ``id()`` is FalkorDB's; other engines stream
# their results and read the graph in one query.
EXPORT_PAGE_RANGE = "id({var}) >= $lo AND id({var}) < $hi AND "
EXPORT_NODES = _NODES.format(page="")
EXPORT_EDGES = _EDGES.format(page="")
EXPORT_NODES_PAGE = _NODES.format(page=EXPORT_PAGE_RANGE.format(var="n"))
EXPORT_EDGES_PAGE = _EDGES.format(page=EXPORT_PAGE_RANGE.format(var="a"))
EXPORT_TOP_ID = "MATCH (n) RETURN max(id(n)) AS top"
# Internal ids per page: about 50k nodes and their outgoing relationships (a few hundred
# thousand rows, some hundred MB of client rows at most).
EXPORT_PAGE = 50_000

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


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a block that builds millions of objects
    which stay alive until it ends (the export's reply rows and snapshots, a snapshot's JSON
    text): every collection they trigger would traverse all of them again and free nothing.
    At 100k indicators those collections took more CPU than the export's reading itself.
    Usable as a decorator; reference counting still frees everything that is not a cycle."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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
            ei = self.edges[key]
            s_ids, d_ids = self.nodes[src], self.nodes[dst]
            names = sorted(f"{s_ids[s]}>{d_ids[d]}" for s, d in zip(*ei.tolist(), strict=True))
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

    @collector_paused()
    def write_json(self, path: Path, chunk: int = 20_000) -> None:
        """Write ``{"edges": ..., "max_tlp": ..., "nodes": ...}`` with the rows of ``to_rows``
        (what ``from_rows`` reads back), a chunk of rows at a time: the whole list of row dicts
        and its text are never held at once."""
        with path.open("w", encoding="utf-8") as out:
            out.write('{"edges": [')
            sep = ""
            quoted = {t: [json.dumps(nid) for nid in ids] for t, ids in self.nodes.items()}
            for (st, rel, dt), ei in self.edges.items():
                src, dst = quoted[st], quoted[dt]
                verb = json.dumps(rel)
                for lo in range(0, ei.shape[1], chunk):
                    pairs = zip(*ei[:, lo : lo + chunk].tolist(), strict=True)
                    rows = ",".join(
                        [f'{{"dst": {dst[d]}, "rel": {verb}, "src": {src[s]}}}' for s, d in pairs]
                    )
                    out.write(sep + rows)
                    sep = ","
            out.write(f'], "max_tlp": {int(self.max_tlp)}, "nodes": [')
            sep = ""
            ids = [nid for t in self.nodes for nid in self.nodes[t]]
            for lo in range(0, len(ids), chunk):
                chunk_rows = [dict(self.props[nid], id=nid) for nid in ids[lo : lo + chunk]]
                out.write(sep + json.dumps(chunk_rows, sort_keys=True, default=str)[1:-1])
                sep = ","
            out.write("]}")

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
            if level_of(row) > snap.max_tlp:
                continue
            snap.props[row["id"]] = _props(row, ntype)
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


def _props(row: dict[str, Any], ntype: str) -> dict[str, Any]:
    """The properties a snapshot keeps of a node row."""
    return {
        "type": ntype,
        "name": row.get("name"),
        "aliases": list(row.get("aliases") or []),
        "external_id": row.get("external_id"),
        "kind": row.get("kind"),
        "value": row.get("value"),
        "country": row.get("country"),
        "tlp_level": level_of(row),
    }


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
    snap = StoreRows.read(store, max_tlp=level).snapshot(level)
    _add_decisions(store, snap)
    if not snap.num_nodes("actor"):
        raise ModelError(
            f"no ThreatActor visible at TLP:{level.label.upper()}: ingest data first "
            "(actorgraph ingest --attack)"
        )
    return snap


def export_levels(store: GraphStore) -> dict[TLP, GraphSnapshot]:
    """The graph at every clearance, clear to red: what each level's model is trained on.

    The store is read once, at red, with every row's level; each lower level's graph is cut
    from those rows by the same test the query applies (``StoreRows.snapshot``). A level whose
    visible graph is the same as the level below maps to the lower level's snapshot, so the
    two share one model; a level at which no threat actor is visible is left out (keys of that
    clearance get no model).

    Args:
        store: an open graph store.

    Returns:
        Clearance -> snapshot, for every level that has data; each snapshot's ``max_tlp`` is
        the lowest level it serves.

    Raises:
        ModelError: no threat actor is visible even at ``red``.
    """
    rows = StoreRows.read(store, max_tlp=TLP.RED)
    out: dict[TLP, GraphSnapshot] = {}
    below: GraphSnapshot | None = None
    for level in TLP:
        snap = rows.snapshot(level)
        _add_decisions(store, snap)
        if not snap.num_nodes("actor"):
            if level == TLP.RED:
                raise ModelError(
                    "no ThreatActor visible at TLP:RED: ingest data first "
                    "(actorgraph ingest --attack)"
                )
            continue
        if below is not None and _same_graph(snap, below):
            snap = below
        out[level] = below = snap
    return out


def _add_decisions(store: GraphStore, snap: GraphSnapshot) -> None:
    """The analysts' rejections and attributed campaigns visible at the snapshot's level."""
    params = {"max_tlp": int(snap.max_tlp)}
    snap.rejections = _rejections(store.query(EXPORT_DECISIONS, params, read_only=True))
    labelled = store.query(
        EXPORT_ANALYST_LABELLED, {**params, "analyst": ANALYST_SOURCE}, read_only=True
    )
    snap.analyst_labelled = sorted(str(row["campaign"]) for row in labelled)


def _same_graph(a: GraphSnapshot, b: GraphSnapshot) -> bool:
    """Same nodes, edges and rejections (what equal fingerprints mean, without hashing), and
    the same properties on every node: two levels share a model only when the model could
    not tell their graphs apart (an id read from two rows may carry other properties at the
    level whose first visible row is the other one)."""
    if a.nodes != b.nodes or a.edges.keys() != b.edges.keys() or a.rejections != b.rejections:
        return False
    if not all(np.array_equal(a.edges[k], b.edges[k]) for k in a.edges):
        return False
    return all(same_properties(a.props[nid], b.props[nid]) for nid in a.props)


def same_properties(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two snapshots' properties of one node are equal: what a value computed from a
    node's id and properties may be reused on (levels sharing a model, ``gnn.entity_cache``).
    The snapshots of one read share most property dicts, so identity answers first."""
    return a is b or a == b


_TYPES: tuple[str, ...] = tuple(dict.fromkeys(NODE_TYPES.values()))


@dataclass
class StoreRows:
    """The store's graph as read page by page: one entry per node row and per relationship
    row, with its TLP level, in NumPy columns (no list of row dicts of the whole graph).

    Node rows keep their store id and the properties a snapshot holds; a relationship row
    refers to its ends by *slot* (one slot per distinct store id, ``slot_of``), with the level
    of the relationship and of both its ends (the highest of the three). ``snapshot(level)``
    cuts one clearance's graph out of them, exactly as ``GraphSnapshot.from_rows`` over the
    rows that clearance's query returns.
    """

    ids: list[str]
    props: list[dict[str, Any]]
    types: np.ndarray  # (N,) index into _TYPES
    levels: np.ndarray  # (N,) the node's TLP level
    slots: np.ndarray  # (N,) slot of the node's store id
    src: np.ndarray  # (R,) slot of the start node's id
    dst: np.ndarray  # (R,) slot of the end node's id
    rels: np.ndarray  # (R,) index into rel_names
    rel_levels: np.ndarray  # (R,) highest level of the relationship and its two ends
    rel_names: list[str]

    @classmethod
    @collector_paused()
    def read(cls, store: GraphStore, *, max_tlp: TLP, page: int = EXPORT_PAGE) -> StoreRows:
        """Read the nodes, then the relationships, visible at ``max_tlp``, page by page."""
        params = {"max_tlp": int(max_tlp)}
        ids: list[str] = []
        props: list[dict[str, Any]] = []
        types: list[int] = []
        levels: list[int] = []
        type_code = {t: i for i, t in enumerate(_TYPES)}
        for rows in _pages(store, EXPORT_NODES_PAGE, EXPORT_NODES, params, page):
            for row in rows:
                ntype = _node_type(row.get("labels") or [])
                if ntype is None:
                    continue
                ids.append(row["id"])
                props.append(_props(row, ntype))
                types.append(type_code[ntype])
                levels.append(level_of(row))
        slot_of: dict[str, int] = {}
        slots = np.array([slot_of.setdefault(nid, len(slot_of)) for nid in ids], dtype=np.int64)
        rel_code: dict[str, int] = {}
        parts: list[np.ndarray] = []
        edge_params = {
            **params,
            "skipped": list(SKIPPED_RELS),
            "metadata_only": f"{GALAXY_SOURCE}@",
        }
        for rows in _pages(store, EXPORT_EDGES_PAGE, EXPORT_EDGES, edge_params, page):
            cols = [
                (s, d, rel_code.setdefault(row["rel"], len(rel_code)), row["level"])
                for row in rows
                if row["rel"] not in SKIPPED_RELS
                and (s := slot_of.get(row["src"])) is not None
                and (d := slot_of.get(row["dst"])) is not None
            ]
            if cols:
                parts.append(np.array(cols, dtype=np.int64).reshape(-1, 4))
        table = np.concatenate(parts) if parts else np.zeros((0, 4), dtype=np.int64)
        return cls(
            ids=ids,
            props=props,
            types=np.array(types, dtype=np.int64),
            levels=np.array(levels, dtype=np.int64),
            slots=slots,
            src=table[:, 0].copy(),
            dst=table[:, 1].copy(),
            rels=table[:, 2].copy(),
            rel_levels=table[:, 3].copy(),
            rel_names=list(rel_code),
        )

    def snapshot(self, level: TLP) -> GraphSnapshot:
        """The graph visible at ``level``: nodes and relationships marked above it are left out.

        As ``GraphSnapshot.from_rows``: node rows in id order, the first visible row of an id
        wins, nodes grouped by type in that order; relationships whose ends are unknown are
        dropped; pairs unique and sorted per ``(src_type, REL, dst_type)``; actor countries
        derived. Node properties are shared between the snapshots of one read, except the
        actors' (``country`` is derived per level).
        """
        snap = GraphSnapshot(max_tlp=level)
        order = self._id_order()
        vis = order[self.levels[order] <= level]
        first = np.ones(len(vis), dtype=bool)
        first[1:] = self.slots[vis][1:] != self.slots[vis][:-1]
        chosen = vis[first]  # node rows of this level, in id order
        row_of_slot = np.full(len(self.slots), -1, dtype=np.int64)
        row_of_slot[self.slots[chosen]] = chosen
        local = np.zeros(len(self.ids), dtype=np.int64)
        kinds = self.types[chosen]
        _, first_of_kind = np.unique(kinds, return_index=True)
        ids, props = self._object_columns()
        for code in kinds[np.sort(first_of_kind)]:
            members = chosen[kinds == code]
            snap.nodes[_TYPES[code]] = ids[members].tolist()
            local[members] = np.arange(len(members))
        snap.props = dict(zip(ids[chosen].tolist(), props[chosen].tolist(), strict=True))
        for i in chosen[kinds == _TYPES.index("actor")].tolist():
            snap.props[self.ids[i]] = dict(self.props[i])
        keep = self.rel_levels <= level
        s_row, d_row = row_of_slot[self.src[keep]], row_of_slot[self.dst[keep]]
        rels = self.rels[keep]
        known = (s_row >= 0) & (d_row >= 0)
        s_row, d_row, rels = s_row[known], d_row[known], rels[known]
        n_types, n_rels = len(_TYPES), max(len(self.rel_names), 1)
        key = (self.types[s_row] * n_rels + rels) * n_types + self.types[d_row]
        buckets = {}
        for k in np.unique(key):
            st, rest = divmod(int(k), n_rels * n_types)
            rel, dt = divmod(rest, n_types)
            sel = key == k
            width = max(snap.num_nodes(_TYPES[dt]), 1)
            pairs = np.unique(local[s_row[sel]] * width + local[d_row[sel]])
            edge_index = np.stack([pairs // width, pairs % width]).astype(np.int64)
            buckets[(_TYPES[st], self.rel_names[rel], _TYPES[dt])] = edge_index
        for k in sorted(buckets):
            snap.edges[k] = np.ascontiguousarray(buckets[k])
        _derive_countries(snap)
        return snap

    def _object_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """``ids`` and ``props`` as NumPy object arrays, to take a level's rows at once
        (cached)."""
        cached = getattr(self, "_objects", None)
        if cached is None:
            ids = np.array(self.ids, dtype=object)
            props = np.empty(len(self.props), dtype=object)
            props[:] = self.props
            cached = self._objects = (ids, props)
        return cached

    def _id_order(self) -> np.ndarray:
        """Node rows sorted by store id, read order among equal ids (cached)."""
        cached = getattr(self, "_order", None)
        if cached is None:
            cached = np.array(sorted(range(len(self.ids)), key=self.ids.__getitem__), np.int64)
            self._order = cached
        return cached


def _pages(
    store: GraphStore, paged: str, whole: str, params: dict[str, Any], size: int
) -> Iterator[list[dict[str, Any]]]:
    """The rows of a query page by page of internal node ids on FalkorDB, at once elsewhere."""
    if store.backend != "falkordb":
        yield store.query(whole, params, read_only=True)
        return
    top = store.query(EXPORT_TOP_ID, read_only=True)
    last = top[0]["top"] if top and top[0]["top"] is not None else -1
    for lo in range(0, int(last) + 1, size):
        yield store.query(paged, {**params, "lo": lo, "hi": lo + size}, read_only=True)


def _rejections(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The (campaign, actor) pairs whose newest decision is a rejection."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (str(r.get("created") or ""), str(r.get("id") or ""))):
        newest[(str(row["campaign"]), str(row["actor"]))] = row
    return sorted(pair for pair, row in newest.items() if row.get("decision") == "reject")
