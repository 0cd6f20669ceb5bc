"""Store an attributed activity: a ``Campaign`` linked to what it showed, its hypotheses as
``PREDICTED_ACTOR``, and the indicators, software and infrastructure the graph did not hold yet.

Everything written carries the requester's clearance as its marking: the hypotheses were
computed from everything the requester may see, so they are marked no lower than that, and
requesters of different clearances never share (or re-mark) a campaign.

The activity's new indicators (values the model's graph did not hold) go through the ingest
writer (``graph.ingest.writer``) with its TLP rules, so that a decided campaign teaches the next
training its domains, addresses and their set-ups (registrar, name servers, resolutions,
enrichment), not only the entities it matched:

- an indicator already in the store is never rewritten (its dates, properties and marking stay
  as its own inputs set them); the campaign is only linked to it, and only when the requester
  may see it: one stored above the clearance is, to the requester, absent, and gets no edge;
- a value the model holds above the requester's clearance is not written at all;
- the activity's own context edges (a new domain's registrar, name servers, addresses) are
  written when one end is new and both ends are visible to the requester.

The input's own malware, tool and infrastructure objects (``Activity.objects``: a STIX bundle's,
a MISP event's, one per software name of the simple form) that the model's graph does not hold,
by id or by any of their names, are stored by the same rules and used by the campaign
(``USES``), so that a decided campaign also teaches its new families and servers: the next
activity that names the family is linked to the actor. An object whose name the graph holds is
that entity, already linked.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from actorgraph.gnn.activity import LinkedActivity, object_names
from actorgraph.gnn.dataset import NODE_TYPES
from actorgraph.graph import arrival
from actorgraph.graph.arrival import added_item
from actorgraph.graph.attribution import AttributionResult
from actorgraph.graph.enrich.warninglists import flag_indicators
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.ingest.writer import write_batch
from actorgraph.graph.schema import label as schema_label
from actorgraph.graph.schema import rel_type as schema_rel
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, level_of, marking, visible

SOURCE = "actorgraph-attribution"
# An entity type of the model's snapshot -> its store label.
LABEL_OF = {t: label for label, t in NODE_TYPES.items() if t not in ("actor", "campaign")}

PERSIST_CAMPAIGN = f"""
MERGE (c:Campaign {{id: $id}})
ON CREATE SET c.created = $created, c.tlp = $tlp, c.tlp_level = $max_tlp
WITH c
WHERE c.tlp_level = $max_tlp
SET {added_item("c", modified="$created")},
    c.name = $name, c.modified = $created, c.sources = ['{SOURCE}'],
    c.attribution_status = 'predicted',
    c.first_seen = CASE WHEN c.first_seen < $first_seen THEN c.first_seen ELSE $first_seen END,
    c.last_seen = CASE WHEN c.last_seen > $last_seen THEN c.last_seen ELSE $last_seen END
RETURN c.id AS id
"""
# The label is whitelisted (graph.schema.label) and formatted in: Cypher cannot take it as a
# parameter.
PERSIST_USES = f"""
UNWIND $rows AS row
MATCH (c:Campaign {{{{id: $campaign}}}})
MATCH (e:{{label}} {{{{id: row.id}}}})
WHERE {visible("e")}
MERGE (c)-[r:{{rel}}]->(e)
ON CREATE SET r.created = $created, r.sources = ['{SOURCE}'], r.tlp = $tlp,
    r.tlp_level = $max_tlp, r.added = $added
"""
PERSIST_PREDICTIONS = f"""
UNWIND $rows AS row
MATCH (c:Campaign {{id: $campaign}})
MATCH (a:ThreatActor {{id: row.actor}})
WHERE {visible("a")}
MERGE (c)-[r:PREDICTED_ACTOR]->(a)
SET {added_item("r", modified=None)},
    r.score = row.score, r.rank = row.rank, r.model_version = $version, r.created = $created,
    r.tlp = $tlp, r.tlp_level = $max_tlp
"""
# Which of the nodes are stored, at any marking: those are linked, never rewritten. The label
# is whitelisted (graph.schema.label) and formatted in.
STORED = "UNWIND $ids AS id MATCH (n:{label} {{id: id}}) RETURN n.id AS id"


def persist_activity(
    store: GraphStore,
    linked: LinkedActivity,
    result: AttributionResult,
    props: dict[str, dict[str, Any]],
    *,
    level: TLP,
    version: str,
    created: str,
    seen: tuple[str, str],
) -> str:
    """Write ``linked`` as a campaign (see the module docstring); returns its id.

    Args:
        store: the store to write to.
        linked: the activity, linked against the model's snapshot.
        result: its attribution, computed at ``level``.
        props: the model snapshot's entity properties (their markings decide what is visible).
        level: the requester's clearance, the marking of everything written.
        version: the model version, recorded on each hypothesis.
        created: the creation time.
        seen: when the activity was first and last seen.

    Raises:
        ValidationError: a campaign with that id exists with another marking.
    """
    matched = sorted(e for e in linked.matched if level_of(props[e]) <= level)
    hidden = {v for e, v in linked.matched.items() if level_of(props[e]) > level}
    unmatched = sorted(set(linked.unmatched) | hidden)
    key = json.dumps([*matched, *unmatched, level.label])
    cid = f"campaign--activity-{hashlib.sha256(key.encode()).hexdigest()[:24]}"
    # ``added``: when this write happened (graph/arrival.py); ``created`` is the caller's.
    mark: dict[str, Any] = {
        "tlp": level.label,
        "max_tlp": int(level),
        "created": created,
        "added": arrival.AT_WRITE,
    }
    made = store.query(
        PERSIST_CAMPAIGN,
        {"id": cid, "name": linked.activity.name, "first_seen": seen[0], "last_seen": seen[1]}
        | mark,
    )
    if not made:
        raise ValidationError(f"campaign {cid!r} exists with another marking")
    by_label: dict[str, list[dict[str, str]]] = {}
    for e in matched:
        if props[e]["type"] != "indicator":
            by_label.setdefault(LABEL_OF[props[e]["type"]], []).append({"id": e})
    for lab, rows_ in by_label.items():
        rel = "TARGETS" if lab in ("Sector", "Country") else "USES"
        query = PERSIST_USES.format(label=schema_label(lab), rel=schema_rel(rel))
        store.write_batches(query, rows_, campaign=cid, **mark)
    known = [e for e in matched if props[e]["type"] == "indicator"]
    batch = activity_rows(store, linked, props, known, campaign=cid, level=level, created=created)
    write_batch(store, batch, max_tlp=level, enrich=True)
    rows = [{"actor": c.actor_id, "score": c.score, "rank": c.rank} for c in result.candidates]
    if rows:
        store.write_batches(PERSIST_PREDICTIONS, rows, campaign=cid, version=version, **mark)
    return cid


def activity_rows(
    store: GraphStore,
    linked: LinkedActivity,
    props: dict[str, dict[str, Any]],
    known: list[str],
    *,
    campaign: str,
    level: TLP,
    created: str,
) -> IngestBatch:
    """The rows that link the activity's indicators and new objects to ``campaign``: an
    ``INDICATES`` edge from each of the ``known`` indicators (matched and visible) and each new
    one, a ``USES`` edge to each new object (``new_objects``), a node for each of those the
    store does not hold, and the activity's context edges that join a new indicator or object
    to a new or visible known entity."""
    batch = IngestBatch(source=SOURCE)
    edge = {"sources": [SOURCE], "created": created, **marking(level)}
    row = {**edge, "modified": created}
    new = linked.new_indicators()  # a value held above the clearance counts as matched
    stored = _stored(store, "Indicator", new)
    batch.edges[("Indicator", "INDICATES", "Campaign")] = {
        (nid, campaign): edge for nid in [*known, *new]
    }
    rows = {}
    for nid in new:
        if nid not in stored:
            kind, _, value = nid.partition(":")
            rows[nid] = {"kind": kind, "value": value, **row}
    flag_indicators(rows)
    for nid, values in rows.items():
        batch.add_node("Indicator", nid, values)
    fresh = dict.fromkeys(new, "Indicator")
    for lab, objects in new_objects(linked, props).items():
        held = _stored(store, lab, list(objects))
        for oid, values in objects.items():
            if oid not in held:
                batch.add_node(lab, oid, {**values, **row})  # our source, not the input's
            fresh[oid] = lab
        batch.edges[("Campaign", "USES", lab)] = {(campaign, oid): edge for oid in objects}

    def label(node_id: str) -> str | None:
        if node_id in fresh:
            return fresh[node_id]
        p = props.get(node_id)
        return LABEL_OF.get(p["type"]) if p is not None and level_of(p) <= level else None

    for src, rel, dst in linked.activity.context:
        src_label, dst_label = label(src), label(dst)
        if (src in fresh or dst in fresh) and src_label and dst_label:
            batch.edges.setdefault((src_label, rel, dst_label), {})[(src, dst)] = edge
    return batch


def new_objects(
    linked: LinkedActivity, props: dict[str, dict[str, Any]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """The activity's own objects (``Activity.objects``) the model's graph holds neither by id
    nor by any of their names (an object named like a known family *is* that family, linked
    as matched; one named like an entity above the clearance is left alone), label -> id ->
    properties as read."""
    named = set(linked.matched.values())
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for lab, objects in linked.activity.objects.items():
        for oid, values in objects.items():
            if oid in props or oid in named or any(n in named for n in object_names(values)):
                continue
            out.setdefault(lab, {})[oid] = values
    return out


def _stored(store: GraphStore, label: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` the store holds as ``label`` nodes, at any marking."""
    if not ids:
        return set()
    query = STORED.format(label=schema_label(label))
    return {r["id"] for r in store.query(query, {"ids": ids})}
