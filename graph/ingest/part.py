"""One input's share of a bulk load, prepared where it was read (a reader worker).

The bulk load (graph/ingest/bulk.py) builds one image of the whole graph in the ingest process
(graph/ingest/image.py). What of that work depends on one input alone is done here, beside the
reading, so the ingest process only joins the inputs: each node and relationship of the input
is applied to an empty element by the writer's rules and packed into its ``GRAPH.BULK`` record
(graph/ingest/records.py); relationships name their ends by position in the input's table of
node keys; the enrichment facts of the input's indicators are computed and gathered per
enrichment node; the report, the STIX ids the input brings, and the writer's statements still
due after the load (sightings, pending references) are made here too.

An element only this input states is then taken as it is; one an earlier input stated too is
merged by ``GraphImage`` from its record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actorgraph.graph.enrich import REL as ENRICH_REL
from actorgraph.graph.formats.rows import IngestBatch, union
from actorgraph.graph.ingest import enrichment
from actorgraph.graph.ingest.image import fresh_state
from actorgraph.graph.ingest.pending import stix_ids_of
from actorgraph.graph.ingest.reading import brought_ids
from actorgraph.graph.ingest.records import pack
from actorgraph.graph.ingest.writer import (
    IngestReport,
    pending_groups,
    report_of,
    sighting_groups,
)
from actorgraph.graph.tlp import level_of

Group = tuple[str, tuple[str, ...]]  # label or type, property names (sorted)


@dataclass
class Derived:
    """What the input's enrichment facts do to one enrichment node (``enrichment.NODE_MERGE``,
    its rows gathered in order): the indicators that make it with their rows' markings, the
    sources and properties the rows bring."""

    node_id: str
    indicators: list[int]  # positions in the part's key table
    levels: list[int]  # each row's own marking level
    sources: list[str]
    props: dict[str, Any]


@dataclass
class BundlePart:
    """One input, prepared for ``GraphImage.add``.

    Node keys come first in ``labels``/``ids`` (``n_nodes`` of them, the input's nodes), then
    the other nodes its relationships name (earlier inputs', ATT&CK's). Relationship ends are
    positions in that table; an enrichment relationship's end ``n_keys + k`` is the ``k``-th
    ``derived`` node. Records are packed with the headers in ``groups``.
    """

    report: IngestReport
    stix_ids: set[str]  # STIX ids of the input's nodes (pending references may wait for them)
    brought: set[str]  # and of its relationships and sightings
    writes: list[tuple[str, list[dict[str, Any]]]]  # statements due after the load
    groups: list[Group] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    n_nodes: int = 0
    node_groups: list[int] = field(default_factory=list)
    node_records: list[bytes] = field(default_factory=list)
    node_stix_ids: list[list[str] | None] = field(default_factory=list)
    node_levels: list[int] = field(default_factory=list)  # -1: no marking
    edge_src: list[int] = field(default_factory=list)
    edge_dst: list[int] = field(default_factory=list)
    edge_rels: list[str] = field(default_factory=list)
    edge_groups: list[int] = field(default_factory=list)
    edge_records: list[bytes] = field(default_factory=list)
    edge_stix_ids: list[str | None] = field(default_factory=list)
    n_input_edges: int = 0  # the input's own; the enrichment relationships follow
    derived: list[Derived] = field(default_factory=list)

    @property
    def n_keys(self) -> int:
        return len(self.ids)


def bundle_part(batch: IngestBatch, *, fmt: str, enrich: bool) -> BundlePart:
    """Prepare ``batch`` for the image (see the module docstring).

    Args:
        batch: a validated input, as the writer would receive it.
        fmt: its format, for the report.
        enrich: also prepare the enrichment of its indicators (``write_batch(enrich=True)``).
    """
    rows, enrich_edges = enrichment.enrichment_rows(batch) if enrich else ([], {})
    stix_ids = stix_ids_of(batch)
    part = BundlePart(
        report=report_of(
            batch, fmt=fmt, enriched=enrichment.counts(rows, enrich_edges) if enrich else {}
        ),
        stix_ids=stix_ids,
        brought=brought_ids(batch, stix_ids),
        writes=sighting_groups(batch) + pending_groups(batch),
    )
    groups: dict[Group, int] = {}
    position: dict[tuple[str, str], int] = {}

    def group_of(name: str, keys: tuple[str, ...]) -> int:
        found = groups.get((name, keys))
        if found is None:
            found = groups[(name, keys)] = len(part.groups)
            part.groups.append((name, keys))
        return found

    def key_of(label: str, node_id: str) -> int:
        found = position.get((label, node_id))
        if found is None:
            found = position[(label, node_id)] = len(part.ids)
            part.labels.append(label)
            part.ids.append(node_id)
        return found

    for label, by_id in sorted(batch.nodes.items()):
        for node_id, props in by_id.items():
            key_of(label, node_id)
            state = fresh_state(props, node_id)
            keys = tuple(sorted(state))
            part.node_groups.append(group_of(label, keys))
            part.node_records.append(pack(state, keys))
            part.node_stix_ids.append(state.get("stix_ids"))
            part.node_levels.append(_level(state))
    part.n_nodes = len(part.ids)
    for (src, rel, dst), group in sorted(batch.edges.items()):
        for (a, b), props in group.items():
            _add_edge(part, key_of(src, a), key_of(dst, b), rel, props, group_of)
    part.n_input_edges = len(part.edge_src)
    if not rows:
        return part
    derived: dict[str, Derived] = {}
    for row in rows:
        found = derived.get(row["id"])
        if found is None:
            found = derived[row["id"]] = Derived(row["id"], [], [], [], {})
        found.indicators.append(position[("Indicator", row["src"])])
        found.levels.append(level_of(row))
        found.sources = union(found.sources, row["sources"])
        found.props.update(row["props"])
    part.derived = list(derived.values())
    beyond = {node_id: part.n_keys + k for k, node_id in enumerate(derived)}
    for (a, b), props in enrich_edges.items():
        _add_edge(part, position[("Indicator", a)], beyond[b], ENRICH_REL, props, group_of)
    return part


def _add_edge(
    part: BundlePart,
    src: int,
    dst: int,
    rel: str,
    props: dict[str, Any],
    group_of: Callable[[str, tuple[str, ...]], int],
) -> None:
    state = fresh_state(props, None)
    keys = tuple(sorted(state))
    part.edge_src.append(src)
    part.edge_dst.append(dst)
    part.edge_rels.append(rel)
    part.edge_groups.append(group_of(rel, keys))
    part.edge_records.append(pack(state, keys))
    sid = state.get("stix_id")
    part.edge_stix_ids.append(sid if isinstance(sid, str) else None)


def _level(state: dict[str, Any]) -> int:
    level = state.get("tlp_level")
    return -1 if level is None else int(level)
