"""References kept pending until a later input brings their other end.

Real feeds reference objects that arrive later or never: a relationship file sorted before the
objects it links, a playbook naming an indicator it does not carry. Such a reference does not
refuse its input. The reader keeps it (``IngestBatch.pending``); the writer stores it as a
``PendingRelationship`` node in the same atomic write as the rest of the input; and after each
input (or each set of files given together) :func:`complete_pending` turns every stored one
whose two ends are now known into the edges the reader would have made, then deletes it.

Pending records are kept as records, not as stub nodes of the missing end: the missing end's
label and node id are unknown until it arrives (an identity becomes a ``Sector`` keyed by its
sector's name, an indicator one node per value), so a stub could not be completed by a later
object, and a stub actor or malware without a name would reach readers and the model.

A pending record is bookkeeping, not intelligence: it is stored with ``tlp_level``
``HIDDEN_LEVEL``, above every clearance, so that no read path that tests ``graph.tlp.visible``
(the query library, exports, the model's export) ever returns it; it has no ``id`` either.
Its relationship's own marking is ``marking_level``. It is completed only by a writer cleared for
that marking, and at the lower of that writer's clearance and the clearance of the writer who
sent it (``writer_tlp``): a reference to an object hidden from its sender never becomes an
edge onto it, whoever later writes that object.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from actorgraph.graph.formats.ledger import PendingRef
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.formats.stix_relationships import reference_edges
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, level_of, marking

PENDING_LABEL = "PendingRelationship"
# Above every clearance (TLP.RED is the highest a reader holds): never visible to a reader.
HIDDEN_LEVEL = int(TLP.RED) + 1

# The same reference sent again: one held at a marking above the writer's clearance is left as it
# is (like a hidden relationship, graph/ingest/writer.py); else the stricter marking and the lower
# sender clearance win.
PENDING_MERGE = f"""UNWIND $rows AS row
MERGE (p:`{PENDING_LABEL}` {{pending_id: row.pending_id}})
WITH p, row
WHERE p.marking_level IS NULL OR p.marking_level <= $max_tlp
SET p.tlp_level = {HIDDEN_LEVEL},
    p.object_id = row.object_id,
    p.rel = row.rel,
    p.src_ref = row.src_ref,
    p.dst_ref = row.dst_ref,
    p.missing = row.missing,
    p.source = row.source,
    p.edge_props = row.edge_props,
    p.marking_level = CASE WHEN p.marking_level IS NULL OR row.marking_level > p.marking_level
                           THEN row.marking_level ELSE p.marking_level END,
    p.writer_tlp = CASE WHEN p.writer_tlp IS NULL OR $max_tlp < p.writer_tlp
                        THEN $max_tlp ELSE p.writer_tlp END"""

FIND_PENDING = f"""MATCH (p:`{PENDING_LABEL}`)
WHERE (p.src_ref IN $ids OR p.dst_ref IN $ids) AND p.marking_level <= $max_tlp
RETURN p.pending_id AS pending_id, p.object_id AS object_id, p.rel AS rel,
       p.src_ref AS src_ref, p.dst_ref AS dst_ref, p.missing AS missing, p.source AS source,
       p.edge_props AS edge_props, p.writer_tlp AS writer_tlp, p.marking_level AS marking_level"""

DELETE_PENDING = f"""UNWIND $ids AS pid
MATCH (p:`{PENDING_LABEL}` {{pending_id: pid}})
DELETE p"""

COUNT_PENDING = f"MATCH (p:`{PENDING_LABEL}`) RETURN count(p) AS n"


def pending_id(ref: PendingRef) -> str:
    """A stable key: the same reference sent twice is stored once."""
    key = "|".join((ref.object_id, ref.rel, ref.src_ref, ref.dst_ref))
    return "pending--" + hashlib.sha256(key.encode()).hexdigest()[:32]


def pending_rows(batch: IngestBatch) -> list[dict[str, Any]]:
    """The rows ``PENDING_MERGE`` writes for a batch's pending references."""
    return [
        {
            "pending_id": pending_id(ref),
            "object_id": ref.object_id,
            "rel": ref.rel,
            "src_ref": ref.src_ref,
            "dst_ref": ref.dst_ref,
            "missing": ref.missing,
            "source": batch.source,
            "edge_props": json.dumps(ref.props, sort_keys=True, default=str),
            "marking_level": level_of(ref.props),
        }
        for ref in batch.pending
    ]


def stix_ids_of(batch: IngestBatch) -> set[str]:
    """Every STIX id a batch's nodes carry: the ids a pending reference may have waited for."""
    return {
        sid
        for by_id in batch.nodes.values()
        for props in by_id.values()
        for sid in props.get("stix_ids") or []
    }


def complete_pending(
    store: GraphStore, stix_ids: Iterable[str], *, max_tlp: TLP | int
) -> list[dict[str, Any]]:
    """Turn stored pending references that wait for any of ``stix_ids`` into edges.

    A reference is completed when both its ends now resolve in the store (at the lower of the
    two writers' clearances); its edges follow the reader's rule (``reference_edges``), and it
    is deleted. One whose ends resolve to nodes the graph model does not relate is deleted
    with no edge.

    Args:
        store: the graph store.
        stix_ids: the STIX ids just written.
        max_tlp: the clearance of the writer who wrote them.

    Returns:
        The completed references: ``object_id``, ``rel``, ``missing``, ``source``.
    """
    ids = sorted(set(stix_ids))
    if not ids:
        return []
    clearance = int(TLP.parse(max_tlp))
    records = store.query(FIND_PENDING, {"ids": ids, "max_tlp": clearance}, read_only=True)
    by_level: dict[int, list[dict[str, Any]]] = {}
    for rec in records:
        by_level.setdefault(min(clearance, int(rec["writer_tlp"])), []).append(rec)
    done: list[dict[str, Any]] = []
    for level, group in sorted(by_level.items()):
        done.extend(_complete_at(store, group, level))
    if done:
        store.query(DELETE_PENDING, {"ids": [rec["pending_id"] for rec in done]})
    return [{k: rec[k] for k in ("object_id", "rel", "missing", "source")} for rec in done]


def _complete_at(store: GraphStore, records: list[dict[str, Any]], level: int) -> list[dict]:
    from actorgraph.graph.ingest.writer import resolve_stix_ids, write_batch

    refs = {r for rec in records for r in (rec["src_ref"], rec["dst_ref"])}
    nodes = resolve_stix_ids(store, refs, max_tlp=level)
    batch = IngestBatch(source="pending")
    done = []
    for rec in records:
        if rec["src_ref"] not in nodes or rec["dst_ref"] not in nodes:
            continue
        props = json.loads(rec["edge_props"])
        if level_of(props) < int(rec["marking_level"]):  # sent again, stricter
            props.update(marking(TLP(int(rec["marking_level"]))))
        hypothesis = props.pop("hypothesis", None)
        edges, _ = reference_edges(
            rec["rel"], nodes[rec["src_ref"]], nodes[rec["dst_ref"]], props, hypothesis
        )
        for src_label, rel_type, dst_label, src_id, dst_id, edge in edges:
            batch.add_edge(src_label, rel_type, dst_label, src_id, dst_id, edge)
        done.append(rec)
    if batch.edges:
        write_batch(store, batch, max_tlp=level)
    return done


def count_pending(store: GraphStore) -> int:
    """How many references the store holds pending (operator's statistics)."""
    return int(store.query(COUNT_PENDING, read_only=True)[0]["n"])
