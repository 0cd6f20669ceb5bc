"""The one way tests build a hand-made graph: nodes and relationships as data, written in batches.

A fixture module lists its graph with :func:`node` and :func:`rel`, wraps the lists in a
:class:`FixtureGraph` (which checks them: known labels and types, unique ids, no dangling
relationship) and a test writes it with :func:`write_graph`::

    WORLD = FixtureGraph(
        nodes=[
            node("ThreatActor", "intrusion-set--a", name="APT A", tlp=TLP.GREEN),
            node("Malware", "malware--m", name="M"),
        ],
        rels=[rel("intrusion-set--a", "USES", "malware--m", tlp_level=TLP.RED)],
    )
    write_graph(store, WORLD)

TLP markings are given as :class:`~actorgraph.graph.tlp.TLP` members: ``tlp=TLP.AMBER`` writes
the whole marking as ingestion does (``tlp="amber"`` and ``tlp_level=2``, in that place among the
properties), ``tlp_level=TLP.AMBER`` only the level, which is what read paths check. Properties
keep the order they are given in, and elements are created in the order first listed, so a graph
is written the same way every time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from actorgraph.graph.schema import label as quote_label
from actorgraph.graph.schema import rel_type as quote_rel_type
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP

__all__ = ["FixtureGraph", "Node", "Rel", "node", "rel", "write_graph"]

# One query per label and one per (start label, type, end label): labels and types cannot be
# parameters, so they are whitelisted and quoted; all values travel in $rows.
_CREATE_NODES = "UNWIND $rows AS row CREATE (n:{label}) SET n = row"
_CREATE_RELS = (
    "UNWIND $rows AS row MATCH (a:{src} {{id: row.s}}) MATCH (b:{dst} {{id: row.d}}) "
    "CREATE (a)-[r:{type}]->(b) SET r = row.p"
)


@dataclass(frozen=True)
class Node:
    """A node of a fixture graph: its label, its ``id`` property and its other properties."""

    label: str
    id: str
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rel:
    """A relationship of a fixture graph between two node ids, with its properties."""

    src: str
    type: str
    dst: str
    props: dict[str, Any] = field(default_factory=dict)


def node(label: str, id_: str, /, **props: Any) -> Node:
    """A node; a ``tlp`` or ``tlp_level`` given as a TLP member becomes a marking (module doc)."""
    return Node(label, id_, _marked(props))


def rel(src: str, type_: str, dst: str, /, **props: Any) -> Rel:
    """A relationship from node id ``src`` to node id ``dst``; markings as for :func:`node`."""
    return Rel(src, type_, dst, _marked(props))


def _marked(props: dict[str, Any]) -> dict[str, Any]:
    """``props`` with TLP members written out as stored values (name and level, or level)."""
    if isinstance(props.get("tlp"), TLP) and "tlp_level" in props:
        raise ValueError(
            f"'tlp' (got {props['tlp']!r}) already sets the level: drop 'tlp_level' "
            f"(got {props['tlp_level']!r})"
        )
    out: dict[str, Any] = {}
    for key, value in props.items():
        if key == "tlp" and isinstance(value, TLP):
            out["tlp"], out["tlp_level"] = value.label, int(value)
        elif isinstance(value, TLP):
            out[key] = int(value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class FixtureGraph:
    """Nodes and relationships to write into an empty graph, checked when built.

    Raises:
        ValidationError: a label or relationship type is not in the schema.
        ValueError: two nodes share an id, or a relationship names an id no node has.
    """

    nodes: Sequence[Node]
    rels: Sequence[Rel] = ()

    def __post_init__(self) -> None:
        labels: dict[str, str] = {}
        for n in self.nodes:
            quote_label(n.label)
            if n.id in labels:
                raise ValueError(f"two nodes have the id {n.id!r} ({labels[n.id]}, {n.label})")
            labels[n.id] = n.label
        for r in self.rels:
            quote_rel_type(r.type)
            for end in (r.src, r.dst):
                if end not in labels:
                    raise ValueError(
                        f"relationship ({r.src})-[:{r.type}]->({r.dst}): no node has the id {end!r}"
                    )


def write_graph(store: GraphStore, graph: FixtureGraph) -> None:
    """Create ``graph``'s nodes, then its relationships, in ``store`` (expected empty).

    Batched and parameterised: one ``UNWIND $rows`` query per label and one per (start label,
    type, end label), in the order each first appears in ``graph``.
    """
    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n in graph.nodes:
        by_label[n.label].append({"id": n.id, **n.props})
    for label, rows in by_label.items():
        store.write_batches(_CREATE_NODES.format(label=quote_label(label)), rows)
    label_of = {n.id: n.label for n in graph.nodes}
    by_shape: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in graph.rels:
        shape = (label_of[r.src], r.type, label_of[r.dst])
        by_shape[shape].append({"s": r.src, "d": r.dst, "p": r.props})
    for (src, type_, dst), rows in by_shape.items():
        cypher = _CREATE_RELS.format(
            src=quote_label(src), type=quote_rel_type(type_), dst=quote_label(dst)
        )
        store.write_batches(cypher, rows)
