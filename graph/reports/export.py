"""Share out: a selection of the graph (``graph.reports.selection``) as a STIX 2.1 bundle.

The bundle is the inverse of ``graph.formats.stix_reader``: original STIX ids are kept (those
visible at the requester's clearance: each id keeps the marking it came with),
indicators become ``indicator`` objects (and the observables they were read from), markings
become the TLP 2.0 marking definitions, provenance sources become ``created_by_ref`` identities.
Reading the bundle into an empty store gives back the same nodes and relationships. Nothing
above the requester's clearance is selected, so nothing above it leaves.

Each object's time of arrival is the ``added`` stamp of the elements it is made of (the newest,
for an indicator that stands for several nodes; graph/arrival.py): ``dated_export`` and
``dated_bundle`` return it beside the bundle, for TAXII's ``date_added``. An element without
``created`` and ``modified`` (a relationship the project wrote, an enrichment node, an ATT&CK
group of a package without them) is exported with its ``added`` as both, so that its version
does not change from one export to the next.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from actorgraph.graph.arrival import ADDED
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.formats import stix_out as so
from actorgraph.graph.formats.rows import ID_LEVELS, visible_stix_ids
from actorgraph.graph.formats.stix_relationships import graph_relationship
from actorgraph.graph.reports.selection import Selection, parse_bound, select_actor, select_all
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, level_of

__all__ = [
    "assemble_bundle",
    "dated_bundle",
    "dated_export",
    "export_bundle",
    "selection_to_bundle",
]


def export_bundle(
    store: GraphStore,
    *,
    actor: str | None = None,
    since: str | None = None,
    until: str | None = None,
    max_tlp: int,
    now: str | None = None,
) -> dict[str, Any]:
    """Export a selection as a STIX 2.1 bundle.

    Args:
        store: the graph store.
        actor: an actor id, name, alias or ATT&CK id; ``None`` exports the whole graph.
        since: keep campaigns and indicators active on or after this date (ISO-8601).
        until: keep campaigns and indicators active on or before this date.
        max_tlp: the requester's clearance (0 clear .. 4 red); nothing above it is exported.
            Required: a caller who means everything passes ``TLP.RED``.
        now: the export timestamp (fills required timestamps the graph lacks); default: now.

    Returns:
        The bundle as a dict (``{"type": "bundle", "id": ..., "objects": [...]}``).

    Raises:
        NotFound: the actor does not exist (or is above clearance).
        ValidationError: a bad date, TLP level, or an ambiguous actor alias.
    """
    sel = _selected(store, actor=actor, since=since, until=until, max_tlp=max_tlp)
    return selection_to_bundle(sel, now=now or so.now_stix())


def dated_export(
    store: GraphStore, *, max_tlp: int, now: str | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The whole graph within ``max_tlp`` as ``export_bundle`` gives it, and when each of its
    objects was added (``dated_bundle``): what a TAXII collection serves.

    Raises:
        ValidationError: a bad TLP level.
    """
    sel = _selected(store, actor=None, since=None, until=None, max_tlp=max_tlp)
    return dated_bundle(sel, now=now or so.now_stix())


def _selected(
    store: GraphStore, *, actor: str | None, since: str | None, until: str | None, max_tlp: int
) -> Selection:
    """What ``export_bundle`` exports, each node with only the STIX ids visible at ``max_tlp``."""
    if not isinstance(max_tlp, int) or not TLP.CLEAR <= max_tlp <= TLP.RED:
        raise ValidationError(f"max_tlp {max_tlp!r} must be a TLP level 0..4")
    lo, hi = parse_bound(since, "since"), parse_bound(until, "until")
    if lo is not None and hi is not None and lo > hi:
        raise ValidationError(f"since {since!r} is after until {until!r}")
    if actor:
        sel = select_actor(store, actor, since=lo, until=hi, max_tlp=max_tlp)
    else:
        sel = select_all(store, since=lo, until=hi, max_tlp=max_tlp)
    keep_visible_ids(sel, max_tlp)
    return sel


def keep_visible_ids(sel: Selection, max_tlp: int) -> None:
    """Leave each selected node only the STIX ids visible at ``max_tlp``.

    Ids are kept per marking (``graph.formats.rows``): a node visible at clear may hold the id
    of a red object of the same value, which must not be republished under a clear marking.
    """
    for node in sel.nodes.values():
        if node.get("stix_ids"):
            node["stix_ids"] = visible_stix_ids(node, max_tlp)
        node.pop(ID_LEVELS, None)


def selection_to_bundle(sel: Selection, *, now: str) -> dict[str, Any]:
    """Turn selected nodes and relationships into STIX objects (see the module docstring).

    The selection is put in id order first: the stores return rows in the order they walk the
    graph, which differs between backends, and the planner's choices (which node of a pattern
    gives the indicator its name and dates, which edge keeps a relationship's id) follow it.
    """
    return dated_bundle(sel, now=now)[0]


def dated_bundle(sel: Selection, *, now: str) -> tuple[dict[str, Any], dict[str, str]]:
    """``selection_to_bundle``, and when each object was added: object id -> the newest
    ``added`` stamp of the elements it is made of (objects of elements without one, and the
    marking definitions and source identities, are not in it)."""
    planner = _Planner(_in_id_order(sel), now)
    return planner.bundle(), planner.added


def _in_id_order(sel: Selection) -> Selection:
    """The same selection, nodes by id and relationships by (source, type, target)."""
    ordered = Selection(edges=sorted(sel.edges, key=lambda e: (e["src"], e["type"], e["dst"])))
    for node_id in sorted(sel.nodes):
        ordered.nodes[node_id] = sel.nodes[node_id]
        ordered.labels[node_id] = sel.labels[node_id]
    return ordered


class _Planner:
    """Chooses a STIX id for every node, then builds objects and relationships."""

    def __init__(self, sel: Selection, now: str) -> None:
        self.sel = sel
        self.now = now
        self.objects: dict[str, dict[str, Any]] = {}
        # STIX id of an indicator or observable -> the selected nodes it stands for.
        self.groups: dict[str, list[str]] = {}
        self.refs: dict[str, str] = {}  # node id -> its STIX id for relationships
        self.derived_country: set[str] = set()
        self._by_members: dict[tuple[str, ...], str] | None = None
        self.added: dict[str, str] = {}  # STIX id -> its elements' newest ``added``

    def _note_added(self, stix_id: str, elements: Iterable[dict[str, Any]]) -> None:
        stamps = [str(e[ADDED]) for e in elements if e.get(ADDED)]
        if stix_id in self.added:
            stamps.append(self.added[stix_id])
        if stamps:
            self.added[stix_id] = max(stamps)

    # -------------------------------------------------------------- ids
    def _index_observables(self) -> None:
        for node_id, label in self.sel.labels.items():
            node = self.sel.nodes[node_id]
            if label == "Indicator" or (label == "Infrastructure" and node.get("kind") == "asn"):
                for sid in node.get("stix_ids") or []:
                    prefix = sid.partition("--")[0]
                    own_observable = (
                        label == "Indicator" and so.observable_type(node.get("kind", "")) == prefix
                    )
                    if prefix == "indicator" or own_observable:
                        self.groups.setdefault(sid, []).append(node_id)
        self._split_mixed_markings()

    def _split_mixed_markings(self) -> None:
        """One object cannot carry two markings: split a group whose nodes are marked differently.

        The strictest subset keeps the original id; each other level gets an id of its own, so no
        value is shared at a lower level than it is marked, and none is raised on import.
        """
        for sid, members in list(self.groups.items()):
            levels: dict[int, list[str]] = {}
            for m in members:
                levels.setdefault(level_of(self.sel.nodes[m]), []).append(m)
            if len(levels) < 2:
                continue
            top = max(levels)
            self.groups[sid] = levels.pop(top)
            prefix = sid.partition("--")[0]
            for level, subset in levels.items():
                self.groups[so.det_id(prefix, f"{sid}|tlp:{level}")] = subset

    def ref_of(self, node_id: str, *, want: str = "any") -> str:
        """The STIX id standing for exactly this node in a relationship (made when none is)."""
        label = self.sel.labels[node_id]
        node = self.sel.nodes[node_id]
        if label == "Indicator":
            singles = [
                sid for sid in node.get("stix_ids") or [] if self.groups.get(sid) == [node_id]
            ]
            indicators = [s for s in singles if s.startswith("indicator--")]
            observables = [s for s in singles if not s.startswith("indicator--")]
            order = indicators + observables if want == "indicator" else observables + indicators
            if order:
                return order[0]
            sid = so.det_id("indicator", node_id)
            self.groups.setdefault(sid, [node_id])
            return sid
        return self.refs[node_id]

    def _assign_refs(self) -> None:
        used: set[str] = set()
        for node_id, label in self.sel.labels.items():
            node = self.sel.nodes[node_id]
            if label == "Country":
                kept = so.first_id(node.get("stix_ids"), ("location",))
                sid = kept if kept and kept not in used else so.det_id("location", node_id)
            elif label == "Sector":
                kept = so.first_id(node.get("stix_ids"), ("identity",))
                sid = kept if kept and kept not in used else so.det_id("identity", node_id)
            elif label == "Infrastructure" and node.get("kind") == "asn":
                sid = so.asn_sco_id(node)
            elif label == "Infrastructure" and not node_id.startswith("infrastructure--"):
                sid = so.det_id("infrastructure", node_id)
            elif label == "Indicator":
                continue
            else:
                sid = node_id
            used.add(sid)
            self.refs[node_id] = sid

    # -------------------------------------------------------------- objects
    def _node_objects(self) -> None:
        for node_id, label in self.sel.labels.items():
            node = self.sel.nodes[node_id]
            obj: dict[str, Any] | None
            if label == "ThreatActor":
                # A country no STIX relationship states (derived from the description, or
                # from field data such as the MISP galaxy) travels as a property with its source.
                from_field_data = node.get("country_source") not in (None, "stix")
                obj = so.actor_to_stix(
                    node,
                    self.now,
                    country_as_property=node_id in self.derived_country or from_field_data,
                )
            elif label == "Campaign":
                obj = so.campaign_to_stix(node, self.now)
            elif label in ("Malware", "Tool"):
                obj = so.software_to_stix(node, label, self.now)
            elif label == "Technique":
                obj = so.technique_to_stix(node, self.now)
            elif label == "Country":
                obj = so.country_to_stix(node, self.refs[node_id], self.now)
            elif label == "Sector":
                obj = so.sector_to_stix(node, self.refs[node_id], self.now)
            elif label == "Infrastructure" and node.get("kind") == "asn":
                obj = so.asn_to_stix(node, self.refs[node_id])
            elif label == "Infrastructure":
                obj = so.infrastructure_to_stix(node, self.refs[node_id], self.now)
            else:  # Indicators are built from their groups; Reports once their refs are known.
                continue
            self.objects[obj["id"]] = obj
            self._note_added(obj["id"], [node])

    def _indicator_objects(self) -> None:
        covered = {m for members in self.groups.values() for m in members}
        for node_id, label in self.sel.labels.items():
            if label == "Indicator" and node_id not in covered:
                self.ref_of(node_id, want="indicator")
        for sid, members in self.groups.items():
            nodes = [self.sel.nodes[m] for m in members]
            if sid.startswith("indicator--"):
                obj = so.indicator_sdo(sid, nodes, self.now)
            else:
                obj = so.observable_sco(sid, nodes)
            if obj is not None:
                self.objects[sid] = obj
                self._note_added(sid, nodes)

    def _relationships(self) -> dict[str, list[str]]:
        reported: dict[str, list[str]] = {}
        by_rel_id: dict[tuple[str, str], list[dict[str, Any]]] = {}
        loose: list[dict[str, Any]] = []
        for edge in self.sel.edges:
            rtype = edge["type"]
            if edge["src"] not in self.sel.nodes or edge["dst"] not in self.sel.nodes:
                continue
            if rtype == "REPORTED_IN":
                reported.setdefault(edge["dst"], []).append(edge["src"])
            elif rtype in so.NOT_EXPORTED or edge["src"] in self.derived_edges_src(edge):
                continue
            else:
                sid = (edge.get("rel") or {}).get("stix_id") or ""
                if sid.startswith("relationship--"):
                    by_rel_id.setdefault((sid, rtype), []).append(edge)
                else:
                    loose.append(edge)
        for (sid, rtype), edges in by_rel_id.items():
            srcs = sorted({e["src"] for e in edges})
            dsts = sorted({e["dst"] for e in edges})
            src_ref, dst_ref = (
                self._group_ref(srcs, rtype, "src"),
                self._group_ref(dsts, rtype, "dst"),
            )
            if src_ref and dst_ref and len(edges) == len(srcs) * len(dsts):
                self._emit(sid, edges[0], src_ref, dst_ref, group=edges)
            else:
                for i, edge in enumerate(edges):
                    self._emit(sid if i == 0 else None, edge)
        for edge in loose:
            self._emit(None, edge)
        return reported

    def derived_edges_src(self, edge: dict[str, Any]) -> set[str]:
        """Origins derived from aliases/descriptions are re-derived on import, not sent as facts."""
        rel = edge.get("rel") or {}
        if edge["type"] == "ORIGINATES_FROM" and str(rel.get("country_source") or "").startswith(
            "derived"
        ):
            return {edge["src"]}
        return set()

    def _group_ref(self, node_ids: list[str], rtype: str, end: str) -> str | None:
        if len(node_ids) == 1:
            want = "indicator" if rtype == "INDICATES" and end == "src" else "any"
            return self.ref_of(node_ids[0], want=want)
        if self._by_members is None:
            self._by_members = {}
            for sid, members in self.groups.items():
                self._by_members.setdefault(tuple(sorted(members)), sid)
        return self._by_members.get(tuple(node_ids))

    def _emit(
        self,
        sid: str | None,
        edge: dict[str, Any],
        src_ref: str | None = None,
        dst_ref: str | None = None,
        group: list[dict[str, Any]] | None = None,
    ) -> None:
        """One relationship object: of ``edge``, or of every edge of ``group`` (one STIX
        relationship read as several graph edges), which it stands for."""
        rel = edge.get("rel") or {}
        rtype = edge["type"]
        src, dst = edge["src"], edge["dst"]
        stix_type, swap = self._stix_type(rtype, rel, src, dst)
        want = "indicator" if rtype == "INDICATES" else "any"
        src_ref = src_ref or self.ref_of(src, want=want)
        dst_ref = dst_ref or self.ref_of(dst)
        if swap:
            src_ref, dst_ref = dst_ref, src_ref
        sid = sid or so.det_id("relationship", f"{src}|{rtype}|{dst}")
        if sid in self.objects:  # one STIX relationship read as two graph edges of other labels
            sid = so.det_id("relationship", f"{src}|{rtype}|{dst}")
        self.objects[sid] = so.relationship(sid, stix_type, src_ref, dst_ref, rel, self.now)
        self._note_added(sid, [e.get("rel") or {} for e in group or [edge]])

    def _stix_type(self, rtype: str, rel: dict[str, Any], src: str, dst: str) -> tuple[str, bool]:
        labels = self.sel.labels
        for candidate in (rel.get("relationship_type"), so.REL_STIX_TYPES.get(rtype)):
            if not candidate:
                continue
            mapped = graph_relationship(candidate, labels[src], labels[dst])
            if mapped is not None and mapped[0] == rtype:
                return candidate, mapped[1]
        return so.REL_STIX_TYPES.get(rtype, rtype.lower().replace("_", "-")), False

    def _reports(self, reported: dict[str, list[str]]) -> None:
        for node_id, label in self.sel.labels.items():
            if label != "Report":
                continue
            refs = sorted({self.ref_of(m) for m in reported.get(node_id, [])})
            if refs:  # a report must name at least one object
                obj = so.report_to_stix(self.sel.nodes[node_id], refs, self.now)
                self.objects[obj["id"]] = obj
                self._note_added(obj["id"], [self.sel.nodes[node_id]])

    def bundle(self) -> dict[str, Any]:
        for edge in self.sel.edges:
            self.derived_country |= self.derived_edges_src(edge)
        self._index_observables()
        self._assign_refs()
        self._node_objects()
        reported = self._relationships()
        self._reports(reported)
        self._indicator_objects()
        sources = {
            str(props["sources"][0])
            for props in [*self.sel.nodes.values(), *(e.get("rel") or {} for e in self.sel.edges)]
            if props.get("sources")
        }
        return assemble_bundle(self.objects.values(), self.now, sources)


# The order of objects in a bundle: definitions first, then what refers to them.
_TYPE_ORDER = (
    "marking-definition",
    "identity",
    "intrusion-set",
    "campaign",
    "malware",
    "tool",
    "attack-pattern",
    "location",
    "infrastructure",
    "autonomous-system",
    "indicator",
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "url",
    "email-addr",
    "file",
    "x509-certificate",
    "report",
    "relationship",
    "note",
)


def assemble_bundle(
    objects: Iterable[dict[str, Any]], now: str, sources: Iterable[str] = ()
) -> dict[str, Any]:
    """Add the marking definitions and source identities the objects refer to; order; wrap."""
    objs = {o["id"]: o for o in objects}
    identities = {so.source_identity(s)["id"]: so.source_identity(s) for s in sources}
    for obj in list(objs.values()):
        for ref in obj.get("object_marking_refs") or []:
            name = next((n for n, mid in so.TLP2_IDS.items() if mid == ref), None)
            if name and ref not in objs:
                objs[ref] = so.marking_definition(name)
        ref = obj.get("created_by_ref")
        if ref and ref not in objs:
            if ref in identities:
                objs[ref] = identities[ref]
            else:
                obj.pop("created_by_ref")
    rank = {t: i for i, t in enumerate(_TYPE_ORDER)}
    ordered = sorted(objs.values(), key=lambda o: (rank.get(o["type"], len(rank)), o["id"]))
    bundle_id = so.det_id("bundle", "|".join(o["id"] for o in ordered) + now)
    return {"type": "bundle", "id": bundle_id, "objects": ordered}
