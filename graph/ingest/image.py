"""The graph an ingest would write into an empty store, built in memory by the writer's rules.

The bulk load (graph/ingest/bulk.py) writes a whole ingest at once, so it cannot let the store
merge input after input. ``GraphImage`` applies, input after input in the order they would be
written, what the writer's statements do to a node or relationship (graph/ingest/writer.py:
``NODE_MERGE``, ``EDGE_MERGE``; graph/ingest/enrichment.py: ``NODE_MERGE``): lists unioned in
order, the marking raised to the stricter, the other properties replaced by a copy whose
``modified`` is not older; enrichment nodes lowered to the level of the indicators that make
them, and left alone once an input states them. It also answers the reader's look-ups of STIX
ids (``resolve``) as ``writer.resolve_stix_ids`` would on that store.

Each input comes prepared by the process that read it (graph/ingest/part.py): every element
applied to an empty one and packed into its ``GRAPH.BULK`` record. An element no earlier input
holds is kept as that record; one that is already held is read back from its record and merged
here (``first_state`` and ``row_of`` are inverse: applying a first state's row does what
applying the input's row does). So the image holds records, not Python objects, except for the
few elements several inputs state and the enrichment nodes.

It writes as the operator (``TLP.RED``): every stored element is visible to the writer, so the
statements' visibility conditions always hold. Every element gets the load's time as ``added``
(graph/arrival.py) as it goes out, appended to its record: one load, one arrival time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from actorgraph.graph.arrival import ADDED
from actorgraph.graph.enrich import PREFIX
from actorgraph.graph.formats.rows import LIST_PROPS, MARKING_PROPS, union
from actorgraph.graph.formats.sightings import RECORDS, STORED
from actorgraph.graph.ingest.records import Token, header, pack, pack_ends, tokens, unpack
from actorgraph.graph.ingest.writer import BY_STIX_IDS, DIRECT
from actorgraph.graph.tlp import NAMES

if TYPE_CHECKING:
    from actorgraph.graph.ingest.part import BundlePart, Derived

NodeKey = tuple[str, str]  # (label, id)
Group = tuple[str, tuple[str, ...]]  # label or type, property names (sorted)
Packed = tuple[int, bytes]  # (group number, record)
_OWN_KEYS = frozenset((*LIST_PROPS, *MARKING_PROPS))
_LIST_KEYS = frozenset(LIST_PROPS)
_MARKING_KEYS = frozenset(MARKING_PROPS)
_SIGHTING_KEYS = frozenset((*STORED, RECORDS))  # the writer's sighting statement writes these
_SPECIAL_KEYS = _LIST_KEYS | _MARKING_KEYS | _SIGHTING_KEYS
_ENDS = 32  # bits of a node number in a relationship's key
_TYPE_BITS = 8


def first_state(row: dict[str, Any], node_id: str | None) -> dict[str, Any]:
    """The element the writer's statements make of ``row`` (``writer.split_row``'s form) when
    nothing is stored yet; ``node_id`` for a node, None for a relationship."""
    element: dict[str, Any] = {} if node_id is None else {"id": node_id}
    apply_row(element, row)
    return element


def fresh_state(props: dict[str, Any], node_id: str | None) -> dict[str, Any]:
    """``first_state(writer.split_row(props), node_id)`` in one pass over a reader's row."""
    element: dict[str, Any] = {} if node_id is None else {"id": node_id}
    marked = props.get("tlp_level") is not None
    for key, value in props.items():
        if value is None:
            continue
        if key not in _SPECIAL_KEYS:  # most properties: one set look-up
            element[key] = value
        elif key in _LIST_KEYS:
            element[key] = union(None, value)
        elif key in _MARKING_KEYS and marked:
            element[key] = value
    return element


def row_of(state: dict[str, Any]) -> dict[str, Any]:
    """A row that does to a stored element what the row that made ``state`` (a first state)
    does: its lists, its marking, and the rest as ``props``."""
    return {
        **{k: state[k] for k in _OWN_KEYS if k in state},
        "props": {k: v for k, v in state.items() if k not in _OWN_KEYS},
    }


def apply_row(element: dict[str, Any], row: dict[str, Any]) -> None:
    """The writer's ``SET`` on one node or relationship (writer._union, _stricter, _newer)."""
    for prop in LIST_PROPS:
        if row.get(prop) is not None:
            element[prop] = union(element.get(prop), row[prop])
    if _level(row.get("tlp_level")) > _level(element.get("tlp_level")):
        for prop in MARKING_PROPS:
            if row.get(prop) is None:
                element.pop(prop, None)  # SET to null removes the property
            else:
                element[prop] = row[prop]
    props = row["props"]
    stored, incoming = element.get("modified"), props.get("modified")
    if stored is None or incoming is None or incoming >= stored:
        element.update(props)


class GraphImage:
    """Nodes and relationships with their stored properties, as the writer would leave them."""

    def __init__(self, added: str | None = None) -> None:
        """``added``: the arrival time every element goes out with (None: none)."""
        self.added = added
        self.keys: list[NodeKey] = []  # node number -> (label, id)
        self._index: dict[NodeKey, int] = {}
        self._nodes: list[Packed | dict[str, Any]] = []
        self._levels: list[int] = []  # each node's marking level, -1 for none
        # A relationship's key: its source and target node numbers and its type's code, in one
        # int: smaller than a tuple of three per relationship, of which there are millions.
        self._edges: dict[int, Packed | dict[str, Any]] = {}
        self._types: dict[str, int] = {}
        self._type_names: list[str] = []
        self._groups: dict[Group, int] = {}
        self.groups: list[Group] = []
        self._by_stix_id: dict[str, list[int]] = {}  # STIX id -> nodes that carry it
        self._relationship_ids: set[str] = set()

    def __len__(self) -> int:
        return len(self.keys) + len(self._edges)

    def add(self, part: BundlePart) -> None:
        """Apply one input as ``writer.write_batch`` writes it (its sightings and pending
        references aside: they change nothing this image holds)."""
        groups = [self._group(g) for g in part.groups]
        at: list[int] = []  # the part's key positions -> node numbers (-1: not held)
        for i in range(part.n_nodes):
            key = (part.labels[i], part.ids[i])
            node = self._index.get(key)
            if node is None:
                node = self._new_node(key, (groups[part.node_groups[i]], part.node_records[i]))
                self._levels.append(part.node_levels[i])
                for sid in part.node_stix_ids[i] or ():
                    self._by_stix_id.setdefault(sid, []).append(node)
            else:
                self._merge_node(node, groups[part.node_groups[i]], part.node_records[i])
            at.append(node)
        for i in range(part.n_nodes, part.n_keys):
            at.append(self._index.get((part.labels[i], part.ids[i]), -1))
        for j in range(part.n_input_edges):
            self._edge(part, j, at, groups)
        for derived in part.derived:
            at.append(self._derived(derived, at))
        for j in range(part.n_input_edges, len(part.edge_src)):
            self._edge(part, j, at, groups)

    def resolve(self, ids: set[str]) -> dict[str, list[tuple[str, str]]]:
        """``writer.resolve_stix_ids`` on the store this image stands for."""
        out: dict[str, list[tuple[str, str]]] = {}
        for sid in ids:
            prefix = sid.partition("--")[0]
            if prefix in DIRECT:
                if (DIRECT[prefix], sid) in self._index:
                    out.setdefault(sid, []).append((DIRECT[prefix], sid))
            elif prefix in BY_STIX_IDS:
                carriers = [self.keys[n] for n in self._by_stix_id.get(sid, ())]
                for label in BY_STIX_IDS[prefix]:
                    for key in carriers:
                        if key[0] == label:
                            out.setdefault(sid, []).append(key)
            elif prefix in ("relationship", "sighting") and sid in self._relationship_ids:
                out.setdefault(sid, [])
        return out

    # ------------------------------------------------------------------ records out
    def node_tokens(self, number: list[int]) -> Iterator[Token]:
        """The nodes' ``GRAPH.BULK`` tokens, one header per (label, property names); fills
        ``number`` (node -> its number in the order sent) before the first token."""
        members = self._members(enumerate(self._nodes), lambda node: self.keys[node][0])
        number.extend([0] * len(self._nodes))
        sent = 0
        for nodes in members.values():
            for node in nodes:
                number[node] = sent
                sent += 1
        for gid, nodes in members.items():
            name, keys = self.groups[gid]
            head, tail = self._stamped(name, keys)
            yield from tokens(head, (self._record(n, keys) + tail for n in nodes))

    def edge_tokens(self, number: list[int]) -> Iterator[Token]:
        """The relationships' tokens, their ends named by ``number``."""
        members = self._members(
            self._edges.items(), lambda key: self._type_names[key & ((1 << _TYPE_BITS) - 1)]
        )
        mask = (1 << _ENDS) - 1
        for gid, edges in members.items():
            name, keys = self.groups[gid]
            head, tail = self._stamped(name, keys)
            records = (
                pack_ends(number[key >> (_ENDS + _TYPE_BITS)], number[(key >> _TYPE_BITS) & mask])
                + self._edge_record(key, keys)
                + tail
                for key in edges
            )
            yield from tokens(head, records)

    def _stamped(self, name: str, keys: tuple[str, ...]) -> tuple[bytes, bytes]:
        """The header of a group of records, and what each record gets appended: the arrival
        time, as one more property (a record is its values in the header's order)."""
        if self.added is None or ADDED in keys:
            return header(name, keys), b""
        return header(name, (*keys, ADDED)), pack({ADDED: self.added}, (ADDED,))

    def nodes(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every node as (label, properties), read back from its record where packed."""
        for node, entry in enumerate(self._nodes):
            label = self.keys[node][0]
            yield (
                label,
                self._with_added(entry if isinstance(entry, dict) else self._unpacked(entry)),
            )

    def edges(self) -> Iterator[tuple[NodeKey, str, NodeKey, dict[str, Any]]]:
        """Every relationship as (source key, type, target key, properties)."""
        mask = (1 << _ENDS) - 1
        for key, entry in self._edges.items():
            src, dst = key >> (_ENDS + _TYPE_BITS), (key >> _TYPE_BITS) & mask
            rel = self._type_names[key & ((1 << _TYPE_BITS) - 1)]
            props = entry if isinstance(entry, dict) else self._unpacked(entry)
            yield self.keys[src], rel, self.keys[dst], self._with_added(props)

    def _with_added(self, props: dict[str, Any]) -> dict[str, Any]:
        return props if self.added is None else {**props, ADDED: self.added}

    def _unpacked(self, entry: Packed) -> dict[str, Any]:
        return unpack(self.groups[entry[0]][1], entry[1])

    def _members(
        self, entries: Iterable[tuple[int, Packed | dict[str, Any]]], name: Callable[[int], str]
    ) -> dict[int, list[int]]:
        """Elements by record header (group number), in the order held."""
        out: dict[int, list[int]] = {}
        for key, entry in entries:
            if isinstance(entry, dict):
                gid = self._group((name(key), tuple(sorted(entry))))
            else:
                gid = entry[0]
            out.setdefault(gid, []).append(key)
        return out

    def _record(self, node: int, keys: tuple[str, ...]) -> bytes:
        entry = self._nodes[node]
        return pack(entry, keys) if isinstance(entry, dict) else entry[1]

    def _edge_record(self, key: int, keys: tuple[str, ...]) -> bytes:
        entry = self._edges[key]
        return pack(entry, keys) if isinstance(entry, dict) else entry[1]

    # ------------------------------------------------------------------ the statements
    def _new_node(self, key: NodeKey, entry: Packed | dict[str, Any]) -> int:
        node = self._index[key] = len(self.keys)
        self.keys.append(key)
        self._nodes.append(entry)
        return node

    def _state(self, node: int) -> dict[str, Any]:
        entry = self._nodes[node]
        if isinstance(entry, dict):
            return entry
        state = self._nodes[node] = unpack(self.groups[entry[0]][1], entry[1])
        return state

    def _merge_node(self, node: int, gid: int, record: bytes) -> None:
        """writer.NODE_MERGE of a node already held."""
        state = self._state(node)
        known = set(state.get("stix_ids") or ())
        apply_row(state, row_of(unpack(self.groups[gid][1], record)))
        for sid in state.get("stix_ids") or ():
            if sid not in known:
                self._by_stix_id.setdefault(sid, []).append(node)
        self._levels[node] = _level(state.get("tlp_level"))

    def _edge(self, part: BundlePart, j: int, at: list[int], groups: list[int]) -> None:
        """writer.EDGE_MERGE: both ends must be held (no edge onto a missing node)."""
        src, dst = at[part.edge_src[j]], at[part.edge_dst[j]]
        if src < 0 or dst < 0:
            return
        rel = part.edge_rels[j]
        code = self._types.get(rel)
        if code is None:
            code = self._types[rel] = len(self._type_names)
            self._type_names.append(rel)
        key = (((src << _ENDS) | dst) << _TYPE_BITS) | code
        gid, record = groups[part.edge_groups[j]], part.edge_records[j]
        entry = self._edges.get(key)
        if entry is None:
            self._edges[key] = (gid, record)
        else:
            state = entry if isinstance(entry, dict) else unpack(self.groups[entry[0]][1], entry[1])
            apply_row(state, row_of(unpack(self.groups[gid][1], record)))
            self._edges[key] = state
        if (sid := part.edge_stix_ids[j]) is not None:
            self._relationship_ids.add(sid)

    def _derived(self, derived: Derived, at: list[int]) -> int:
        """enrichment.NODE_MERGE, the input's rows for one node at once: a node made by
        enrichment alone takes the lowest level of the indicators that make it (each at the
        stricter of its stored marking and the row's); one an input stated is left as it is."""
        key = ("Infrastructure", derived.node_id)
        node = self._index.get(key)
        if node is None:
            node = self._new_node(key, {"id": derived.node_id})
            self._levels.append(-1)
        state = self._state(node)
        if not all(str(s).startswith(PREFIX) for s in state.get("sources") or []):
            return node
        low = min(
            max(self._levels[at[i]], level, 0)
            for i, level in zip(derived.indicators, derived.levels, strict=True)
        )
        if state.get("tlp_level") is None or low < state["tlp_level"]:
            state["tlp"], state["tlp_level"] = NAMES[low], low
        state["sources"] = union(state.get("sources"), derived.sources)
        state.update(derived.props)
        self._levels[node] = _level(state.get("tlp_level"))
        return node

    def _group(self, group: Group) -> int:
        found = self._groups.get(group)
        if found is None:
            found = self._groups[group] = len(self.groups)
            self.groups.append(group)
        return found


def _level(value: Any) -> int:
    return -1 if value is None else int(value)
