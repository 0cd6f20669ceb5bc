"""Write an ``IngestBatch`` into a store: batched, idempotent, within the writer's clearance.

Nodes go first, one ``UNWIND $rows AS row MERGE (n:Label {id: row.id})`` query per label and
batch; then edges, one query per (source label, type, target label) group and batch, matching
both ends on the indexed ``id`` (never ``WHERE id(a) = ...``, which FalkorDB runs as a scan).
Labels and types come from the schema whitelist and are backtick-quoted; every value is a
parameter.

The TLP rules (docs/SECURITY.md, finding 2), inside the same queries, as conditions on the
stored ``tlp_level`` against the writer's clearance ``$max_tlp``:

- a node or relationship stored above the writer's clearance is left exactly as it is (no
  property, list or marking changes) and gets no new edge: to the writer it is absent;
- a marking is never lowered: the stored marking becomes the stricter of stored and incoming,
  whatever ``modified`` says;
- list properties (``sources``, ``stix_ids``, ``stix_id_levels``, ``aliases``, ``aliases_lc``)
  are unioned; the other properties are only replaced by a copy whose ``modified`` is not older.

Every node and relationship the statements create gets the write's time as ``added``, and so
does one they bring a newer ``modified`` to (graph/arrival.py: TAXII's ``date_added``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from actorgraph.graph.arrival import AT_WRITE, added_item
from actorgraph.graph.enrich import REL as ENRICH_REL
from actorgraph.graph.formats.rows import (
    LIST_PROPS,
    MARKING_PROPS,
    IngestBatch,
    Rejected,
    visible_stix_ids,
)
from actorgraph.graph.formats.sightings import RECORDS, STORED, sightings_query
from actorgraph.graph.ingest import enrichment
from actorgraph.graph.ingest.pending import PENDING_MERGE, pending_rows
from actorgraph.graph.schema import label as quote_label
from actorgraph.graph.schema import rel_type as quote_rel
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, visible, visible_all

DEFAULT_BATCH_SIZE = 5000


def _union(var: str) -> str:
    """``SET`` items that union each list property of ``row`` into ``var``."""
    return ",\n    ".join(
        f"{var}.{p} = CASE WHEN row.{p} IS NULL THEN {var}.{p} ELSE "
        f"reduce(acc = coalesce({var}.{p}, []), x IN row.{p} | "
        f"CASE WHEN x IN acc THEN acc ELSE acc + [x] END) END"
        for p in LIST_PROPS
    )


def _stricter(var: str) -> str:
    """``SET`` items that raise ``var``'s marking to the row's when the row's is stricter.

    ``tlp`` comes first: both items compare with the stored ``tlp_level``, which only the second
    changes, whether the engine applies the items one by one or all at the end.
    """
    stricter = f"coalesce(row.tlp_level, -1) > coalesce({var}.tlp_level, -1)"
    return ",\n    ".join(
        f"{var}.{p} = CASE WHEN {stricter} THEN row.{p} ELSE {var}.{p} END" for p in MARKING_PROPS
    )


def _newer(var: str) -> str:
    """``SET`` item that copies the row's other properties unless the stored copy is newer."""
    return (
        f"{var} += CASE WHEN {var}.modified IS NULL OR row.props.modified IS NULL "
        f"OR row.props.modified >= {var}.modified THEN row.props ELSE {{}} END"
    )


# One SET clause, and no WHERE after it: FalkorDB 4 moves a WHERE that follows ``WITH`` below
# an earlier SET, so a condition placed after a SET would also skip that SET's writes. The WHERE
# after MERGE drops rows whose node is stored above the writer's clearance: nothing of them is
# written, as if the node were absent (it cannot be created: the id is taken).
NODE_MERGE = """UNWIND $rows AS row
MERGE (n:{label} {{id: row.id}})
WITH n, row
WHERE {visible_n}
SET {added},
    {union},
    {stricter},
    {newer}"""

# Both ends must be visible to the writer (no edge onto a hidden node), and so must an existing
# relationship of the same type between them (a hidden one is left as it is).
EDGE_MERGE = """UNWIND $rows AS row
MATCH (a:{src} {{id: row.src}})
WHERE {visible_a}
MATCH (b:{dst} {{id: row.dst}})
WHERE {visible_b}
MERGE (a)-[r:{rel}]->(b)
WITH r, row
WHERE {visible_r}
SET {added},
    {union},
    {stricter},
    {newer}"""


@dataclass
class IngestReport:
    """What one ingest did: counts per label and type, refused values, time taken.

    ``objects`` accounts for every object of the input (``in = landed + merged + pending +
    rejected``, graph/formats/ledger.py); ``objects_rejected`` names each object not kept with
    its reason, ``objects_noted`` each one kept otherwise than it came (stored red for a marking
    no definition resolves), ``pending`` each reference kept for a later input
    (graph/ingest/pending.py), and ``completed`` the pending references of earlier inputs that
    this one completed.
    """

    source: str
    format: str = "stix"
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    queries: int = 0
    enriched: dict[str, int] = field(default_factory=dict)
    objects: dict[str, int] = field(default_factory=dict)
    objects_rejected: list[dict[str, str]] = field(default_factory=list)
    objects_noted: list[dict[str, str]] = field(default_factory=list)
    pending: list[dict[str, str]] = field(default_factory=list)
    completed: int = 0
    pending_objects: set[str] = field(default_factory=set, repr=False)  # pending outcomes

    def resolve_pending(self, done: list[dict[str, str]]) -> None:
        """Drop the pending references in ``done`` (completed by files given together with this
        one); an object none of whose references is still pending now counts as landed."""
        key = ("object_id", "rel", "missing")
        gone = {tuple(d[k] for k in key) for d in done}
        self.pending = [p for p in self.pending if tuple(p[k] for k in key) not in gone]
        still = self.pending_objects & {p["object_id"] for p in self.pending}
        moved = len(self.pending_objects) - len(still)
        self.pending_objects = still
        if moved:
            self.objects["pending"] -= moved
            self.objects["landed"] += moved

    @property
    def n_nodes(self) -> int:
        return sum(self.nodes.values())

    @property
    def n_relationships(self) -> int:
        return sum(self.relationships.values())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["pending_objects"]
        out["rejected"] = [r.to_dict() for r in self.rejected]
        out["seconds"] = round(self.seconds, 3)
        return out


def node_query(label: str) -> str:
    """The MERGE statement for one label (label checked against the schema whitelist)."""
    return NODE_MERGE.format(
        label=quote_label(label),
        visible_n=visible("n"),
        added=added_item("n"),
        union=_union("n"),
        stricter=_stricter("n"),
        newer=_newer("n"),
    )


def edge_query(src_label: str, rel: str, dst_label: str) -> str:
    """The MERGE statement for one (source label, type, target label) group."""
    return EDGE_MERGE.format(
        src=quote_label(src_label),
        dst=quote_label(dst_label),
        rel=quote_rel(rel),
        visible_a=visible("a"),
        visible_b=visible("b"),
        visible_r=visible("r"),
        added=added_item("r"),
        union=_union("r"),
        stricter=_stricter("r"),
        newer=_newer("r"),
    )


# A bundle up to this many rows is written as ONE atomic unit (``store.write_atomic``: one query on
# FalkorDB, one transaction on Neo4j), so a bundle interrupted by a crash is absent or complete,
# never half-written, and it is also faster than batches. Larger inputs fall back to batches.
ATOMIC_MAX_ROWS = 200_000


def write_batch(
    store: GraphStore,
    batch: IngestBatch,
    *,
    max_tlp: TLP | int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    fmt: str = "stix",
    atomic: bool | None = None,
    enrich: bool = False,
) -> IngestReport:
    """Write all nodes, then all edges, of ``batch``, within the writer's clearance.

    What is stored above ``max_tlp`` is left as it is and gets no edge, and the report is the
    same as if it were absent (it counts what the batch holds, not what was changed).

    Args:
        store: the graph store (schema already ensured, so ``id`` is indexed).
        batch: validated rows from a reader.
        max_tlp: the writer's clearance (an API key's; ``TLP.RED`` for the operator's CLI).
            Required: a caller who means everything passes ``TLP.RED``.
        batch_size: rows per query on the batched path; 1 gives the one-object-per-query path
            (benchmarks only).
        fmt: the input format, recorded in the report.
        atomic: write the whole batch as one atomic unit (all or nothing). Default: when it holds at
            most ``ATOMIC_MAX_ROWS`` rows and ``batch_size`` is above 1.
        enrich: also write the offline enrichment facts of the batch's indicators (networks,
            AS organisations, registrable domains; graph/ingest/enrichment.py), in the same
            unit, after the batch's own rows.

    Returns:
        The report: counts of what the batch holds per label and type, rejected values, time.
    """
    started = time.perf_counter()
    # Each query is stamped with the time the store applies it (graph/arrival.py).
    params: dict[str, Any] = {"max_tlp": int(TLP.parse(max_tlp)), "added": AT_WRITE}
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for label, by_id in sorted(batch.nodes.items()):
        if by_id:
            groups.append((node_query(label), _node_rows(by_id)))
    groups.extend(sighting_groups(batch))  # after every node: they may be new
    for (src, rel, dst), group in sorted(batch.edges.items()):
        if group:
            groups.append((edge_query(src, rel, dst), _edge_rows(group)))
    enriched: dict[str, int] = {}
    if enrich:
        enrich_nodes, enrich_edges = enrichment.enrichment_rows(batch)
        if enrich_nodes:
            edge_rows = _edge_rows(enrich_edges)
            groups.append((enrichment.NODE_MERGE, enrich_nodes))
            groups.append((edge_query("Indicator", ENRICH_REL, "Infrastructure"), edge_rows))
            params.update(enrichment.PARAMS)
        enriched = enrichment.counts(enrich_nodes, enrich_edges)
    groups.extend(pending_groups(batch))  # in the same atomic write as the rest of the input
    total = sum(len(rows) for _, rows in groups)
    if atomic is None:
        # batch_size governs inputs beyond the atomic limit; 1 keeps the benchmark's
        # one-object-per-query path measurable.
        atomic = total <= ATOMIC_MAX_ROWS and batch_size > 1
    if atomic and groups:
        queries = store.write_atomic(groups, **params)
    else:
        queries = sum(_send(store, cypher, rows, batch_size, params) for cypher, rows in groups)
    report = report_of(batch, fmt=fmt, enriched=enriched)
    report.seconds, report.queries = time.perf_counter() - started, queries
    return report


def report_of(batch: IngestBatch, *, fmt: str, enriched: dict[str, int]) -> IngestReport:
    """The report of writing ``batch``: what it holds, not what the write changed."""
    return IngestReport(
        source=batch.source,
        format=fmt,
        nodes=batch.node_counts(),
        relationships=batch.edge_counts(),
        rejected=list(batch.rejected),
        skipped=dict(batch.skipped),
        enriched=enriched,
        objects=batch.ledger.counts(),
        objects_rejected=batch.ledger.named("rejected"),
        objects_noted=batch.ledger.noted(),
        pending=[ref.to_dict() for ref in batch.pending],
        pending_objects={o["object_id"] for o in batch.ledger.named("pending")},
    )


def sighting_groups(batch: IngestBatch) -> list[tuple[str, list[dict[str, Any]]]]:
    """The statements, with their rows, that add the batch's sightings to their nodes."""
    groups = []
    for label, by_id in sorted(batch.nodes.items()):
        sighted = [{"id": i, RECORDS: p[RECORDS]} for i, p in by_id.items() if p.get(RECORDS)]
        if sighted:
            groups.append((sightings_query(label), sighted))
    return groups


def pending_groups(batch: IngestBatch) -> list[tuple[str, list[dict[str, Any]]]]:
    """The statement, with its rows, that keeps the batch's pending references."""
    return [(PENDING_MERGE, pending_rows(batch))] if batch.pending else []


def _send(
    store: GraphStore,
    cypher: str,
    rows: list[dict[str, Any]],
    batch_size: int,
    params: dict[str, Any],
) -> int:
    store.write_batches(cypher, rows, batch_size=batch_size, **params)
    return -(-len(rows) // batch_size)


# Row keys the statements read beside ``props``: the lists to union and the marking to raise.
_OWN_KEYS = frozenset((*LIST_PROPS, *MARKING_PROPS))
# Written by SIGHTINGS_MERGE, sighting by sighting, never copied over the stored tally.
_SIGHTING_KEYS = frozenset((*STORED, RECORDS))


def split_row(props: dict[str, Any]) -> dict[str, Any]:
    """A node's or relationship's properties as the statements read them: the lists to union
    and the marking at the top, the rest (``None`` left out) under ``props``."""
    # Absent keys read as null in Cypher, so None values are left out: the client spends most of
    # an ingest turning parameters into text, and a smaller row is a faster one.
    own = {k: v for k, v in props.items() if k in _OWN_KEYS and v is not None}
    rest = {
        k: v
        for k, v in props.items()
        if k not in _OWN_KEYS and k not in _SIGHTING_KEYS and v is not None
    }
    return {**own, "props": rest}


def _node_rows(by_id: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": node_id, **split_row(props)} for node_id, props in by_id.items()]


def _edge_rows(group: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"src": src, "dst": dst, **split_row(props)} for (src, dst), props in group.items()]


# --------------------------------------------------------------- references into the store
# STIX types whose graph node id is the STIX id itself.
DIRECT = {
    "intrusion-set": "ThreatActor",
    "threat-actor": "ThreatActor",
    "campaign": "Campaign",
    "malware": "Malware",
    "tool": "Tool",
    "attack-pattern": "Technique",
    "report": "Report",
}
# STIX types whose nodes carry the STIX id in ``stix_ids`` (one object may make several nodes).
BY_STIX_IDS = {
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


# A reference resolves only to what the writer may see: a hidden id answers like an unknown one.
RESOLVE_BY_ID = """MATCH (n:{label})
WHERE n.id IN $ids AND {visible_n}
RETURN n.id AS id"""
# Not indexed (stix_ids is a list): only used for the rare reference to an indicator,
# observable, location or identity that came in an earlier bundle.
RESOLVE_BY_STIX_IDS = """MATCH (n:{label})
WHERE any(s IN n.stix_ids WHERE s IN $ids) AND {visible_n}
RETURN n.id AS id, n.stix_ids AS stix_ids, n.stix_id_levels AS stix_id_levels,
       n.tlp_level AS tlp_level"""
RESOLVE_RELATIONSHIPS = f"""MATCH (a)-[r]->(b)
WHERE r.stix_id IN $ids AND {visible_all("r", "a", "b")}
RETURN DISTINCT r.stix_id AS sid"""


def resolve_stix_ids(
    store: GraphStore, ids: Iterable[str], *, max_tlp: TLP | int
) -> dict[str, list[tuple[str, str]]]:
    """The ``(label, node id)`` pairs the store holds for each of ``ids`` (absent ids left out),
    among what a writer of clearance ``max_tlp`` may see.

    An id held above the clearance (on a hidden node, or kept at a stricter marking than its
    node's: ``stix_id_levels``) is left out like an absent one. Relationship ids are answered
    with an empty list when some visible stored edge carries them (they exist, but are not
    nodes).
    """
    params = {"max_tlp": int(TLP.parse(max_tlp))}
    wanted = set(ids)
    out: dict[str, list[tuple[str, str]]] = {}
    by_label: dict[str, set[str]] = {}
    scan: dict[str, set[str]] = {}
    rels: set[str] = set()
    for sid in wanted:
        prefix = sid.partition("--")[0]
        if prefix in DIRECT:
            by_label.setdefault(DIRECT[prefix], set()).add(sid)
        elif prefix in BY_STIX_IDS:
            for label in BY_STIX_IDS[prefix]:
                scan.setdefault(label, set()).add(sid)
        elif prefix in ("relationship", "sighting"):
            rels.add(sid)
    for label, group in by_label.items():
        cypher = RESOLVE_BY_ID.format(label=quote_label(label), visible_n=visible("n"))
        for row in store.query(cypher, {"ids": sorted(group), **params}, read_only=True):
            out.setdefault(row["id"], []).append((label, row["id"]))
    for label, group in scan.items():
        cypher = RESOLVE_BY_STIX_IDS.format(label=quote_label(label), visible_n=visible("n"))
        for row in store.query(cypher, {"ids": sorted(group), **params}, read_only=True):
            for sid in visible_stix_ids(row, params["max_tlp"]):
                if sid in group:
                    out.setdefault(sid, []).append((label, row["id"]))
    if rels:
        rows = store.query(RESOLVE_RELATIONSHIPS, {"ids": sorted(rels), **params}, read_only=True)
        for row in rows:
            out.setdefault(row["sid"], [])
    return out
