"""Write an ``IngestBatch`` into a store: batched, idempotent, newest ``modified`` wins.

Nodes go first, one ``UNWIND $rows AS row MERGE (n:Label {id: row.id})`` query per label and
batch; then edges, one query per (source label, type, target label) group and batch, matching
both ends on the indexed ``id`` (never ``WHERE id(a) = ...``, which FalkorDB runs as a scan).
Labels and types come from the schema whitelist and are backtick-quoted; every value is a
parameter. List properties (``sources``, ``stix_ids``, ``aliases``, ``aliases_lc``) are unioned;
the other properties are only replaced by a copy whose ``modified`` is not older.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from actorgraph.graph.formats.rows import LIST_PROPS, IngestBatch, Rejected
from actorgraph.graph.schema import label as quote_label
from actorgraph.graph.schema import rel_type as quote_rel
from actorgraph.graph.store import GraphStore

DEFAULT_BATCH_SIZE = 5000


def _union(var: str) -> str:
    """``SET`` items that union each list property of ``row`` into ``var``."""
    return ",\n    ".join(
        f"{var}.{p} = CASE WHEN row.{p} IS NULL THEN {var}.{p} ELSE "
        f"reduce(acc = coalesce({var}.{p}, []), x IN row.{p} | "
        f"CASE WHEN x IN acc THEN acc ELSE acc + [x] END) END"
        for p in LIST_PROPS
    )


NODE_MERGE = """UNWIND $rows AS row
MERGE (n:{label} {{id: row.id}})
SET {union}
WITH n, row
WHERE n.modified IS NULL OR row.props.modified IS NULL OR row.props.modified >= n.modified
SET n += row.props"""

EDGE_MERGE = """UNWIND $rows AS row
MATCH (a:{src} {{id: row.src}})
MATCH (b:{dst} {{id: row.dst}})
MERGE (a)-[r:{rel}]->(b)
SET {union}
WITH r, row
WHERE r.modified IS NULL OR row.props.modified IS NULL OR row.props.modified >= r.modified
SET r += row.props"""


@dataclass
class IngestReport:
    """What one ingest did: counts per label and type, refused values, time taken."""

    source: str
    format: str = "stix"
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    queries: int = 0

    @property
    def n_nodes(self) -> int:
        return sum(self.nodes.values())

    @property
    def n_relationships(self) -> int:
        return sum(self.relationships.values())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rejected"] = [r.to_dict() for r in self.rejected]
        out["seconds"] = round(self.seconds, 3)
        return out


def node_query(label: str) -> str:
    """The MERGE statement for one label (label checked against the schema whitelist)."""
    return NODE_MERGE.format(label=quote_label(label), union=_union("n"))


def edge_query(src_label: str, rel: str, dst_label: str) -> str:
    """The MERGE statement for one (source label, type, target label) group."""
    return EDGE_MERGE.format(
        src=quote_label(src_label),
        dst=quote_label(dst_label),
        rel=quote_rel(rel),
        union=_union("r"),
    )


# A bundle up to this many rows goes in ONE query: FalkorDB runs a query as one atomic unit, so
# a bundle interrupted by a crash is absent or complete, never half-written, and one query is
# also faster than batches. Larger inputs fall back to batches.
ATOMIC_MAX_ROWS = 200_000


def write_batch(
    store: GraphStore,
    batch: IngestBatch,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    fmt: str = "stix",
    atomic: bool | None = None,
) -> IngestReport:
    """Write all nodes, then all edges, of ``batch``.

    Args:
        store: the graph store (schema already ensured, so ``id`` is indexed).
        batch: validated rows from a reader.
        batch_size: rows per query on the batched path; 1 gives the one-object-per-query path
            (benchmarks only).
        fmt: the input format, recorded in the report.
        atomic: write the whole batch in one query (all or nothing). Default: when it holds at
            most ``ATOMIC_MAX_ROWS`` rows and ``batch_size`` is above 1.

    Returns:
        The report: counts of what the batch holds per label and type, rejected values, time.
    """
    started = time.perf_counter()
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for label, by_id in sorted(batch.nodes.items()):
        if by_id:
            groups.append((node_query(label), _node_rows(by_id)))
    for (src, rel, dst), group in sorted(batch.edges.items()):
        if group:
            groups.append((edge_query(src, rel, dst), _edge_rows(group)))
    total = sum(len(rows) for _, rows in groups)
    if atomic is None:
        # batch_size governs inputs beyond the atomic limit; 1 keeps the benchmark's
        # one-object-per-query path measurable.
        atomic = total <= ATOMIC_MAX_ROWS and batch_size > 1
    if atomic and groups:
        store.query(*_one_query(groups))
        queries = 1
    else:
        queries = sum(_send(store, cypher, rows, batch_size) for cypher, rows in groups)
    return IngestReport(
        source=batch.source,
        format=fmt,
        nodes=batch.node_counts(),
        relationships=batch.edge_counts(),
        rejected=list(batch.rejected),
        skipped=dict(batch.skipped),
        seconds=time.perf_counter() - started,
        queries=queries,
    )


def _one_query(groups: list[tuple[str, list[dict[str, Any]]]]) -> tuple[str, dict[str, Any]]:
    """Chain every group's statement as a unit ``CALL {}`` subquery of one query."""
    parts, params = [], {}
    for i, (cypher, rows) in enumerate(groups):
        parts.append("CALL {\n" + cypher.replace("$rows", f"$rows{i}") + "\n}")
        params[f"rows{i}"] = rows
    return "\n".join(parts) + "\nRETURN 1 AS done", params


def _send(store: GraphStore, cypher: str, rows: list[dict[str, Any]], batch_size: int) -> int:
    store.write_batches(cypher, rows, batch_size=batch_size)
    return -(-len(rows) // batch_size)


def _split(props: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    lists = {p: props.get(p) for p in LIST_PROPS}
    rest = {k: v for k, v in props.items() if k not in LIST_PROPS and v is not None}
    return lists, rest


def _node_rows(by_id: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for node_id, props in by_id.items():
        lists, rest = _split(props)
        rows.append({"id": node_id, **lists, "props": rest})
    return rows


def _edge_rows(group: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for (src, dst), props in group.items():
        lists, rest = _split(props)
        rows.append({"src": src, "dst": dst, **lists, "props": rest})
    return rows


# --------------------------------------------------------------- references into the store
# STIX types whose graph node id is the STIX id itself.
_DIRECT = {
    "intrusion-set": "ThreatActor",
    "threat-actor": "ThreatActor",
    "campaign": "Campaign",
    "malware": "Malware",
    "tool": "Tool",
    "attack-pattern": "Technique",
    "report": "Report",
}
# STIX types whose nodes carry the STIX id in ``stix_ids`` (one object may make several nodes).
_BY_STIX_IDS = {
    "indicator": ("Indicator", "Infrastructure"),
    "ipv4-addr": ("Indicator",),
    "ipv6-addr": ("Indicator",),
    "domain-name": ("Indicator",),
    "url": ("Indicator",),
    "email-addr": ("Indicator",),
    "file": ("Indicator",),
    "x509-certificate": ("Indicator",),
    "autonomous-system": ("Infrastructure",),
    "infrastructure": ("Infrastructure",),  # exported registrar:/name_server: nodes keep their ids
    "location": ("Country",),
    "identity": ("Sector",),
}


def resolve_stix_ids(store: GraphStore, ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """The ``(label, node id)`` pairs the store holds for each of ``ids`` (absent ids left out).

    Relationship ids are answered with an empty list when some stored edge carries them (they
    exist, but are not nodes).
    """
    wanted = set(ids)
    out: dict[str, list[tuple[str, str]]] = {}
    by_label: dict[str, set[str]] = {}
    scan: dict[str, set[str]] = {}
    rels: set[str] = set()
    for sid in wanted:
        prefix = sid.partition("--")[0]
        if prefix in _DIRECT:
            by_label.setdefault(_DIRECT[prefix], set()).add(sid)
        elif prefix in _BY_STIX_IDS:
            for label in _BY_STIX_IDS[prefix]:
                scan.setdefault(label, set()).add(sid)
        elif prefix in ("relationship", "sighting"):
            rels.add(sid)
    for label, group in by_label.items():
        rows = store.query(
            f"MATCH (n:{quote_label(label)}) WHERE n.id IN $ids RETURN n.id AS id",
            {"ids": sorted(group)},
            read_only=True,
        )
        for row in rows:
            out.setdefault(row["id"], []).append((label, row["id"]))
    for label, group in scan.items():
        # Not indexed (stix_ids is a list): only used for the rare reference to an indicator,
        # observable, location or identity that came in an earlier bundle.
        rows = store.query(
            f"MATCH (n:{quote_label(label)}) WHERE any(s IN n.stix_ids WHERE s IN $ids) "
            "RETURN n.id AS id, [s IN n.stix_ids WHERE s IN $ids] AS sids",
            {"ids": sorted(group)},
            read_only=True,
        )
        for row in rows:
            for sid in row["sids"]:
                out.setdefault(sid, []).append((label, row["id"]))
    if rels:
        rows = store.query(
            "MATCH ()-[r]->() WHERE r.stix_id IN $ids RETURN DISTINCT r.stix_id AS sid",
            {"ids": sorted(rels)},
            read_only=True,
        )
        for row in rows:
            out.setdefault(row["sid"], [])
    return out
