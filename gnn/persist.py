"""Store an attributed activity: a ``Campaign`` linked to what it showed, its hypotheses as
``PREDICTED_ACTOR``, and the indicators the graph did not hold yet.

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
  written when one end is a new indicator and both ends are visible to the requester.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from actorgraph.gnn.activity import LinkedActivity
from actorgraph.gnn.dataset import NODE_TYPES
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
SET c.name = $name, c.modified = $created, c.sources = ['{SOURCE}'],
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
    r.tlp_level = $max_tlp
"""
PERSIST_PREDICTIONS = f"""
UNWIND $rows AS row
MATCH (c:Campaign {{id: $campaign}})
MATCH (a:ThreatActor {{id: row.actor}})
WHERE {visible("a")}
MERGE (c)-[r:PREDICTED_ACTOR]->(a)
SET r.score = row.score, r.rank = row.rank, r.model_version = $version, r.created = $created,
    r.tlp = $tlp, r.tlp_level = $max_tlp
"""
# Which of the values are stored, at any marking: those are linked, never rewritten.
STORED_INDICATORS = "UNWIND $ids AS id MATCH (i:Indicator {id: id}) RETURN i.id AS id"


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
    mark: dict[str, Any] = {"tlp": level.label, "max_tlp": int(level), "created": created}
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
    batch = indicator_rows(store, linked, props, known, campaign=cid, level=level, created=created)
    write_batch(store, batch, max_tlp=level, enrich=True)
    rows = [{"actor": c.actor_id, "score": c.score, "rank": c.rank} for c in result.candidates]
    if rows:
        store.write_batches(PERSIST_PREDICTIONS, rows, campaign=cid, version=version, **mark)
    return cid


def indicator_rows(
    store: GraphStore,
    linked: LinkedActivity,
    props: dict[str, dict[str, Any]],
    known: list[str],
    *,
    campaign: str,
    level: TLP,
    created: str,
) -> IngestBatch:
    """The rows that link the activity's indicators to ``campaign``: an ``INDICATES`` edge from
    each of the ``known`` ones (matched and visible) and each new one, a node for each new value
    the store does not hold, and the activity's context edges that join a new indicator to a new
    or visible known entity."""
    batch = IngestBatch(source=SOURCE)
    new = linked.new_indicators()  # a value held above the clearance counts as matched
    stored = {r["id"] for r in store.query(STORED_INDICATORS, {"ids": new})} if new else set()
    edge = {"sources": [SOURCE], "created": created, **marking(level)}
    batch.edges[("Indicator", "INDICATES", "Campaign")] = {
        (nid, campaign): edge for nid in [*known, *new]
    }
    rows = {}
    for nid in new:
        if nid not in stored:
            kind, _, value = nid.partition(":")
            rows[nid] = {"kind": kind, "value": value, **edge, "modified": created}
    flag_indicators(rows)
    for nid, row in rows.items():
        batch.add_node("Indicator", nid, row)
    fresh = set(new)

    def label(node_id: str) -> str | None:
        if node_id in fresh:
            return "Indicator"
        p = props.get(node_id)
        return LABEL_OF.get(p["type"]) if p is not None and level_of(p) <= level else None

    for src, rel, dst in linked.activity.context:
        src_label, dst_label = label(src), label(dst)
        if (src in fresh or dst in fresh) and src_label and dst_label:
            batch.edges.setdefault((src_label, rel, dst_label), {})[(src, dst)] = edge
    return batch
