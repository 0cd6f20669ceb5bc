"""Write the enrichment facts (``graph.enrich``) of a batch's indicators, in the batch's atomic
unit and in the writer's batched ``UNWIND ... MERGE`` style: one statement for the nodes, the
writer's edge statement for the ``BELONGS_TO`` edges.

Markings (docs/SECURITY.md, the TLP model):

- an edge ``(indicator)-[:BELONGS_TO]->(node)`` carries the marking of the indicator it comes from
  (and, being an ordinary edge, is never lowered);
- a node made by enrichment alone (every entry of its ``sources`` is ``enrichment:...``) is
  visible at the lowest level of the indicators that produced it: its content is a function of
  public data and the value, so each indicator justifies it at its own marking, and a node held
  higher would tell a lower reader that a higher-marked indicator sits in that network. A write
  lowers such a node's marking to the level of the indicator it writes (the stricter of the
  indicator as sent and as stored), never raises it;
- a node stated by some input (an ``Infrastructure`` object of a bundle with the same id) keeps
  its marking and properties: enrichment only adds edges to it, and none when the writer may not
  see it (the writer's rule for hidden nodes).
"""

from __future__ import annotations

from typing import Any

from actorgraph.graph.arrival import added_item
from actorgraph.graph.enrich import PREFIX, REL, facts
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.tlp import NAMES, level_of, visible

# ``derived``: made by enrichment alone. The WITH that computes it has no WHERE after the SET
# (see writer.NODE_MERGE); rows whose indicator the writer cannot see are dropped before MERGE.
NODE_MERGE = f"""UNWIND $rows AS row
MATCH (i:Indicator {{id: row.src}})
WHERE {visible("i")}
WITH row, CASE WHEN coalesce(i.tlp_level, 0) > coalesce(row.tlp_level, 0)
    THEN coalesce(i.tlp_level, 0) ELSE coalesce(row.tlp_level, 0) END AS level
MERGE (n:Infrastructure {{id: row.id}})
WITH n, row, level,
    all(s IN coalesce(n.sources, []) WHERE s STARTS WITH '{PREFIX}') AS derived
SET {added_item("n", modified=None)},
    n.tlp = CASE WHEN derived AND (n.tlp_level IS NULL OR level < n.tlp_level)
        THEN $tlp_names[level] ELSE n.tlp END,
    n.tlp_level = CASE WHEN derived AND (n.tlp_level IS NULL OR level < n.tlp_level)
        THEN level ELSE n.tlp_level END,
    n.sources = CASE WHEN derived THEN reduce(acc = coalesce(n.sources, []), x IN row.sources |
        CASE WHEN x IN acc THEN acc ELSE acc + [x] END) ELSE n.sources END,
    n += CASE WHEN derived THEN row.props ELSE {{}} END"""


EdgeGroup = dict[tuple[str, str], dict[str, Any]]


def enrichment_rows(batch: IngestBatch) -> tuple[list[dict[str, Any]], EdgeGroup]:
    """The rows that write the facts of ``batch``'s indicators: node rows for ``NODE_MERGE``,
    one per (indicator, fact) since the statement needs each indicator's marking, and the
    ``BELONGS_TO`` edges as an edge group of the writer ((indicator id, node id) -> props).
    """
    nodes: list[dict[str, Any]] = []
    edges: EdgeGroup = {}
    for ind_id, props in (batch.nodes.get("Indicator") or {}).items():
        found = facts(ind_id)
        mark = {k: props[k] for k in ("tlp", "tlp_level") if props.get(k) is not None}
        for fact in found:
            node_props = {"name": fact.name, "kind": fact.kind, **fact.node_props}
            nodes.append(
                {
                    "src": ind_id,
                    "id": fact.node_id,
                    "tlp_level": level_of(mark),
                    "sources": [fact.source],
                    "props": {k: v for k, v in node_props.items() if v is not None},
                }
            )
            edges[(ind_id, fact.node_id)] = {**mark, "sources": [fact.source], **fact.edge_props}
    return nodes, edges


def counts(nodes: list[dict[str, Any]], edges: EdgeGroup) -> dict[str, int]:
    """What enrichment adds, for the ingest report: distinct nodes per kind, and edges."""
    kinds: dict[str, set[str]] = {}
    for row in nodes:
        kinds.setdefault(row["props"]["kind"], set()).add(row["id"])
    out = {kind: len(ids) for kind, ids in sorted(kinds.items())}
    if edges:
        out[REL] = len(edges)
    return out


# The statement's parameter beside ``$max_tlp``: a level's TLP name, by level.
PARAMS: dict[str, Any] = {"tlp_names": list(NAMES)}
