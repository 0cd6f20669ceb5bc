"""Share out: a selection of the graph as a STIX 2.1 bundle, and attribution results as STIX.

A selection is an actor (with its campaigns, the malware, tools, techniques and infrastructure
they use, their targets, origin and indicators, and one to three hops of indicator context:
resolutions, hosting, registrars, name servers, certificates) or the whole graph, narrowed to a
time window and capped at a TLP level. Nothing above the cap leaves: a node or relationship with
``tlp_level`` above it is dropped, and so is every relationship that touches a dropped node.

The bundle is the inverse of ``graph.stix_reader``: original STIX ids are kept, indicators
become ``indicator`` objects (and the observables they were read from), markings become the
TLP 2.0 marking definitions, provenance sources become ``created_by_ref`` identities. Reading
the bundle into an empty store gives back the same nodes and relationships.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from actorgraph.graph.formats import stix_out as so
from actorgraph.graph.errors import NotFound, ValidationError
from actorgraph.graph.formats.provenance import epoch
from actorgraph.graph.schema import label as quote_label
from actorgraph.graph.store import GraphStore

# Relationship types walked from an actor and its campaigns to what they use, target, come from.
_PROFILE_RELS = "USES|TARGETS|ORIGINATES_FROM"
# Indicator context: what a domain resolves to, where an address is hosted, who registered it.
_CONTEXT_RELS = (
    "RESOLVES_TO|HOSTED_ON|REGISTERED_WITH|USES_NAMESERVER|PRESENTS_CERT|SUBTECHNIQUE_OF"
)
_CONTEXT_HOPS = 3
MAX_ROWS = 2_000_000

ACTOR_LOOKUP = """
MATCH (a:ThreatActor)
WHERE coalesce(a.tlp_level, 0) <= $max_tlp
  AND (a.id = $key OR a.name_lc = $key_lc OR $key_lc IN coalesce(a.aliases_lc, [])
       OR toLower(coalesce(a.external_id, '')) = $key_lc)
RETURN a AS actor,
       CASE WHEN a.id = $key THEN 0 WHEN a.name_lc = $key_lc THEN 1
            WHEN toLower(coalesce(a.external_id, '')) = $key_lc THEN 1 ELSE 2 END AS rank
ORDER BY rank, a.name
LIMIT 10
"""

ACTOR_CAMPAIGNS = """
MATCH (c:Campaign)-[r:ATTRIBUTED_TO]->(a:ThreatActor {id: $actor})
WHERE coalesce(c.tlp_level, 0) <= $max_tlp AND coalesce(r.tlp_level, 0) <= $max_tlp
RETURN c AS n
LIMIT $limit
"""

# Labels are whitelisted and quoted by graph.schema.label() before formatting.
NEIGHBOURS = """
MATCH (s:{label})-[r:{rels}]->(x)
WHERE s.id IN $ids AND coalesce(r.tlp_level, 0) <= $max_tlp AND coalesce(x.tlp_level, 0) <= $max_tlp
RETURN DISTINCT x AS n
LIMIT $limit
"""

INDICATORS_OF = """
MATCH (i:Indicator)-[r:INDICATES]->(t:{label})
WHERE t.id IN $ids AND coalesce(r.tlp_level, 0) <= $max_tlp AND coalesce(i.tlp_level, 0) <= $max_tlp
RETURN DISTINCT i AS n
LIMIT $limit
"""

INFRA_MEMBERS = """
MATCH (x:Infrastructure)-[r:CONSISTS_OF]->(i)
WHERE x.id IN $ids AND coalesce(r.tlp_level, 0) <= $max_tlp AND coalesce(i.tlp_level, 0) <= $max_tlp
RETURN DISTINCT i AS n
LIMIT $limit
"""

REPORTS_OF = """
MATCH (s:{label})-[r:REPORTED_IN]->(x:Report)
WHERE s.id IN $ids AND coalesce(r.tlp_level, 0) <= $max_tlp AND coalesce(x.tlp_level, 0) <= $max_tlp
RETURN DISTINCT x AS n
LIMIT $limit
"""

EDGES_FROM = """
MATCH (a:{label})-[r]->(b)
WHERE a.id IN $ids AND b.id IN $all AND coalesce(r.tlp_level, 0) <= $max_tlp
RETURN a.id AS src, type(r) AS type, r AS rel, b.id AS dst
LIMIT $limit
"""

ALL_NODES = """
MATCH (n)
WHERE coalesce(n.tlp_level, 0) <= $max_tlp
RETURN n
LIMIT $limit
"""

ALL_EDGES = """
MATCH (a)-[r]->(b)
WHERE coalesce(r.tlp_level, 0) <= $max_tlp AND coalesce(a.tlp_level, 0) <= $max_tlp
  AND coalesce(b.tlp_level, 0) <= $max_tlp
RETURN a.id AS src, type(r) AS type, r AS rel, b.id AS dst
LIMIT $limit
"""


def resolve_actor(store: GraphStore, key: str, *, max_tlp: int = 4) -> dict[str, Any]:
    """Find one actor by STIX id, name, alias or ATT&CK id (case-insensitive), within clearance.

    Args:
        store: the graph store.
        key: ``intrusion-set--...``, ``APT28``, ``Fancy Bear``, ``Forest Blizzard``, ``G0007``.
        max_tlp: the requester's clearance; an actor marked above it is not found.

    Returns:
        The actor node (``{"_labels": [...], "id": ..., ...}``).

    Raises:
        NotFound: no actor matches.
        ValidationError: only aliases match, and several actors share the alias.
    """
    text = (key or "").strip()
    if not text:
        raise ValidationError(f"actor {key!r}: give an id, name, alias or ATT&CK id")
    rows = store.query(
        ACTOR_LOOKUP, {"key": text, "key_lc": text.lower(), "max_tlp": max_tlp}, read_only=True
    )
    if not rows:
        raise NotFound(f"no threat actor named {key!r}")
    best = [r for r in rows if r["rank"] == rows[0]["rank"]]
    if len(best) > 1:
        names = ", ".join(f"{r['actor']['name']} ({r['actor']['id']})" for r in best)
        raise ValidationError(f"actor {key!r} is ambiguous: an alias of {names}; use the id")
    return rows[0]["actor"]


@dataclass
class Selection:
    """Nodes (by id, with their label) and relationships picked for an export."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)

    def add(self, node: dict[str, Any]) -> bool:
        """Add a node; False when it was there already."""
        if node["id"] in self.nodes:
            return False
        labels = node.get("_labels") or ["?"]
        self.nodes[node["id"]] = {k: v for k, v in node.items() if k != "_labels"}
        self.labels[node["id"]] = labels[0]
        return True

    def ids(self, label: str) -> list[str]:
        return [i for i, lab in self.labels.items() if lab == label]


def in_window(props: dict[str, Any], since: int | None, until: int | None) -> bool:
    """True when a node's activity (first/last seen, else validity, else creation) meets the window.

    Undated nodes are kept: the window narrows what is dated, it does not hide what is not.
    """
    if since is None and until is None:
        return True
    start = (
        _epoch(props.get("first_seen"))
        or _epoch(props.get("valid_from"))
        or _epoch(props.get("created"))
    )
    end = _epoch(props.get("last_seen")) or _epoch(props.get("valid_until")) or start
    if start is None and end is None:
        return True
    start = start if start is not None else end
    end = end if end is not None else start
    if since is not None and end is not None and end < since:
        return False
    return not (until is not None and start is not None and start > until)


def _epoch(value: Any) -> int | None:
    try:
        return epoch(value)
    except (ValueError, OverflowError, OSError):
        return None


def parse_bound(value: str | None, name: str) -> int | None:
    """Epoch seconds of a ``--since``/``--until`` value (date or ISO timestamp).

    Raises:
        ValidationError: not a date.
    """
    if value is None or value == "":
        return None
    try:
        return epoch(value)
    except (ValueError, OverflowError, OSError) as exc:
        raise ValidationError(f"{name} {value!r} is not a date (use YYYY-MM-DD)") from exc


def select_actor(
    store: GraphStore, actor_id: str, *, since: int | None, until: int | None, max_tlp: int
) -> Selection:
    """The actor, its campaigns in the window, what they use and target, and their indicators."""
    sel = Selection()
    p = {"max_tlp": max_tlp, "limit": MAX_ROWS}
    actor = resolve_actor(store, actor_id, max_tlp=max_tlp)
    sel.add(actor)
    for row in store.query(ACTOR_CAMPAIGNS, {**p, "actor": actor["id"]}, read_only=True):
        if in_window(row["n"], since, until):
            sel.add(row["n"])
    owners = {"ThreatActor": [actor["id"]], "Campaign": sel.ids("Campaign")}
    for label, ids in owners.items():
        q = NEIGHBOURS.format(label=quote_label(label), rels=_PROFILE_RELS)
        for row in store.query(q, {**p, "ids": ids}, read_only=True):
            sel.add(row["n"])
        for row in store.query(
            INDICATORS_OF.format(label=quote_label(label)), {**p, "ids": ids}, read_only=True
        ):
            if in_window(row["n"], since, until):
                sel.add(row["n"])
    for row in store.query(INFRA_MEMBERS, {**p, "ids": sel.ids("Infrastructure")}, read_only=True):
        if in_window(row["n"], since, until):
            sel.add(row["n"])
    frontier = set(sel.nodes)
    for _ in range(_CONTEXT_HOPS):
        found: set[str] = set()
        for label in ("Indicator", "Infrastructure", "Technique"):
            ids = [i for i in frontier if sel.labels[i] == label]
            if not ids:
                continue
            q = NEIGHBOURS.format(label=quote_label(label), rels=_CONTEXT_RELS)
            for row in store.query(q, {**p, "ids": ids}, read_only=True):
                if sel.add(row["n"]):
                    found.add(row["n"]["id"])
        frontier = found
    for label in sorted(set(sel.labels.values()) - {"Report"}):
        q = REPORTS_OF.format(label=quote_label(label))
        for row in store.query(q, {**p, "ids": sel.ids(label)}, read_only=True):
            sel.add(row["n"])
    every = list(sel.nodes)
    for label in sorted(set(sel.labels.values())):
        q = EDGES_FROM.format(label=quote_label(label))
        sel.edges.extend(store.query(q, {**p, "ids": sel.ids(label), "all": every}, read_only=True))
    return sel


def select_all(
    store: GraphStore, *, since: int | None, until: int | None, max_tlp: int
) -> Selection:
    """Every node and relationship within clearance; campaigns and indicators narrowed to the window."""
    sel = Selection()
    p = {"max_tlp": max_tlp, "limit": MAX_ROWS}
    for row in store.query(ALL_NODES, p, read_only=True):
        node = row["n"]
        label = (node.get("_labels") or ["?"])[0]
        if label in ("Campaign", "Indicator") and not in_window(node, since, until):
            continue
        sel.add(node)
    sel.edges = [
        e
        for e in store.query(ALL_EDGES, p, read_only=True)
        if e["src"] in sel.nodes and e["dst"] in sel.nodes
    ]
    return sel


def export_bundle(
    store: GraphStore,
    *,
    actor: str | None = None,
    since: str | None = None,
    until: str | None = None,
    max_tlp: int = 4,
    now: str | None = None,
) -> dict[str, Any]:
    """Export a selection as a STIX 2.1 bundle.

    Args:
        store: the graph store.
        actor: an actor id, name, alias or ATT&CK id; ``None`` exports the whole graph.
        since: keep campaigns and indicators active on or after this date (ISO-8601).
        until: keep campaigns and indicators active on or before this date.
        max_tlp: the requester's clearance (0 clear .. 4 red); nothing above it is exported.
        now: the export timestamp (fills required timestamps the graph lacks); default: now.

    Returns:
        The bundle as a dict (``{"type": "bundle", "id": ..., "objects": [...]}``).

    Raises:
        NotFound: the actor does not exist (or is above clearance).
        ValidationError: a bad date, TLP level, or an ambiguous actor alias.
    """
    if not isinstance(max_tlp, int) or not 0 <= max_tlp <= 4:
        raise ValidationError(f"max_tlp {max_tlp!r} must be a TLP level 0..4")
    lo, hi = parse_bound(since, "since"), parse_bound(until, "until")
    if lo is not None and hi is not None and lo > hi:
        raise ValidationError(f"since {since!r} is after until {until!r}")
    if actor:
        sel = select_actor(store, actor, since=lo, until=hi, max_tlp=max_tlp)
    else:
        sel = select_all(store, since=lo, until=hi, max_tlp=max_tlp)
    return selection_to_bundle(sel, now=now or so.now_stix())


# --------------------------------------------------------------------------- the planner
def selection_to_bundle(sel: Selection, *, now: str) -> dict[str, Any]:
    """Turn selected nodes and relationships into STIX objects (see the module docstring)."""
    return _Planner(sel, now).bundle()


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
                levels.setdefault(int(self.sel.nodes[m].get("tlp_level") or 0), []).append(m)
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
                obj = so.actor_to_stix(
                    node, self.now, country_as_property=node_id in self.derived_country
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
                self._emit(sid, edges[0], src_ref, dst_ref)
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
    ) -> None:
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

    def _stix_type(self, rtype: str, rel: dict[str, Any], src: str, dst: str) -> tuple[str, bool]:
        from actorgraph.graph.formats.stix_reader import _map_relationship  # the reader's own rule, so both agree

        labels = self.sel.labels
        for candidate in (rel.get("relationship_type"), so.REL_STIX_TYPES.get(rtype)):
            if not candidate:
                continue
            mapped = _map_relationship(candidate, labels[src], labels[dst])
            if mapped is not None and mapped[0] == rtype:
                return candidate, mapped[1]
        return so.REL_STIX_TYPES.get(rtype, rtype.lower().replace("_", "-")), False

    def _reports(self, reported: dict[str, list[str]]) -> None:
        for node_id, label in self.sel.labels.items():
            if label != "Report":
                continue
            refs = list(dict.fromkeys(self.ref_of(m) for m in reported.get(node_id, [])))
            if refs:  # a report must name at least one object
                obj = so.report_to_stix(self.sel.nodes[node_id], refs, self.now)
                self.objects[obj["id"]] = obj

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
        return _assemble(self.objects.values(), self.now, sources)


_TYPE_ORDER = (
    "marking-definition", "identity", "intrusion-set", "campaign", "malware", "tool", "attack-pattern",
    "location", "infrastructure", "autonomous-system", "indicator", "ipv4-addr", "ipv6-addr",
    "domain-name", "url", "email-addr", "file", "x509-certificate", "report", "relationship", "note",
)  # fmt: skip


def _assemble(
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


# ------------------------------------------------------------------- attribution results
def attribution_to_stix(
    result: dict[str, Any],
    activity_bundle: dict[str, Any] | None = None,
    *,
    top_k: int = 3,
    now: str | None = None,
) -> dict[str, Any]:
    """An attribution result (``actorgraph attribute --json``) as a STIX 2.1 bundle.

    The activity becomes a ``campaign`` (the bundle's own campaign when it has one), each of the
    ``top_k`` candidates an ``attributed-to`` relationship whose ``confidence`` is the calibrated
    probability in percent, with the model version and rank as ``x_actorgraph_*`` properties and
    ``x_actorgraph_hypothesis: true`` (a model's hypothesis, not an analyst's finding). The
    evidence becomes a ``note`` on the campaign and the relationships, which OpenCTI and MISP show.

    Args:
        result: one result object: ``input``, ``model.version``, ``candidates``, ``evidence``...
        activity_bundle: the STIX bundle that was attributed; its objects are included.
        top_k: how many candidates to state (those with a score of 0 are left out).
        now: the timestamp of the new objects; default: now.

    Returns:
        The bundle as a dict.

    Raises:
        ValidationError: the result has no candidates list or a candidate has no ``actor_id``.
    """
    now = now or so.now_stix()
    _check_result(result)
    candidates = result["candidates"]
    model = result.get("model") or {}
    version = str(model.get("version") or "unknown")
    objects: dict[str, dict[str, Any]] = {}
    activity = [
        o for o in (activity_bundle or {}).get("objects") or [] if isinstance(o, dict) and "id" in o
    ]
    for obj in activity:
        objects[obj["id"]] = obj
    campaign = next((o for o in activity if o.get("type") == "campaign"), None)
    key = str(result.get("input") or "") + "|" + "|".join(sorted(objects))
    if campaign is None:
        campaign = {
            "type": "campaign",
            "spec_version": "2.1",
            "id": so.det_id("campaign", f"activity|{key}"),
            "created": now,
            "modified": now,
            "name": f"Activity {result.get('input') or 'under attribution'}",
            "description": "Unattributed activity submitted to actorgraph for attribution.",
        }
        objects[campaign["id"]] = campaign
    rel_ids: list[str] = []
    for cand in sorted(candidates, key=lambda c: c.get("rank") or 0)[:top_k]:
        actor_id = cand.get("actor_id")
        if not isinstance(actor_id, str) or not actor_id.startswith(
            ("intrusion-set--", "threat-actor--")
        ):
            raise ValidationError(f"candidate without an intrusion-set actor_id: {cand!r}")
        score = float(cand.get("score") or 0.0)
        if score <= 0:
            continue
        if actor_id not in objects:
            objects[actor_id] = _candidate_actor(cand, now)
        rel = {
            "type": "relationship",
            "spec_version": "2.1",
            "id": so.det_id("relationship", f"{campaign['id']}|attributed-to|{actor_id}|{version}"),
            "created": now,
            "modified": now,
            "relationship_type": "attributed-to",
            "source_ref": campaign["id"],
            "target_ref": actor_id,
            "confidence": max(0, min(100, round(score * 100))),
            "description": (
                f"Hypothesis of actorgraph model {version}: rank {cand.get('rank')}, "
                f"calibrated probability {score:.3f}."
            ),
            "x_actorgraph_hypothesis": True,
            "x_actorgraph_model_version": version,
            "x_actorgraph_rank": int(cand.get("rank") or 0),
            "x_actorgraph_score": round(score, 6),
        }
        objects[rel["id"]] = rel
        rel_ids.append(rel["id"])
    note = _evidence_note(result, campaign["id"], rel_ids, version, now)
    objects[note["id"]] = note
    return _assemble(objects.values(), now)


def _check_result(result: Any) -> None:
    """Refuse anything that is not shaped like ``actorgraph attribute --json`` output."""
    if not isinstance(result, dict) or not isinstance(result.get("candidates"), list):
        keys = sorted(result) if isinstance(result, dict) else type(result).__name__
        raise ValidationError(f"attribution result without a candidates list: {keys!r}")

    def number(value: Any) -> bool:
        return value is None or (isinstance(value, int | float) and not isinstance(value, bool))

    for cand in result["candidates"]:
        if (
            not isinstance(cand, dict)
            or not number(cand.get("score"))
            or not number(cand.get("rank"))
        ):
            raise ValidationError(f"candidate needs a numeric score and rank: {cand!r:.200}")
    for country in result.get("countries") or []:
        if not isinstance(country, dict) or not number(country.get("score")):
            raise ValidationError(f"country roll-up needs a numeric score: {country!r:.200}")
    if not number(result.get("unknown")) or not isinstance(result.get("evidence") or [], list):
        raise ValidationError("'unknown' must be a number and 'evidence' a list")
    if not isinstance(result.get("model") or {}, dict):
        raise ValidationError("'model' must be an object with a version")


def _candidate_actor(cand: dict[str, Any], now: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "intrusion-set",
        "spec_version": "2.1",
        "id": cand["actor_id"],
        "created": now,
        "modified": now,
        "name": cand.get("name") or cand["actor_id"],
    }
    aliases = [a for a in cand.get("aliases") or [] if isinstance(a, str)]
    if aliases:
        obj["aliases"] = aliases
    if cand.get("country"):
        obj["x_actorgraph_country"] = cand["country"]
    return obj


def _evidence_note(
    result: dict[str, Any], campaign_id: str, rel_ids: list[str], version: str, now: str
) -> dict[str, Any]:
    names = {c.get("actor_id"): c.get("name") for c in result.get("candidates") or []}
    lines = [f"actorgraph attribution (model {version})", "", "Candidates:"]
    for cand in result.get("candidates") or []:
        score = float(cand.get("score") or 0)
        lines.append(
            f"- #{cand.get('rank')} {cand.get('name')} ({cand.get('country') or '?'}): p={score:.3f}"
        )
    if result.get("unknown") is not None:
        lines.append(f"- unknown actor: p={float(result['unknown']):.3f}")
    for country in result.get("countries") or []:
        lines.append(
            f"- country {country.get('country')}: p={float(country.get('score') or 0):.3f}"
        )
    lines += ["", "Evidence (strongest first per candidate):"]
    for item in result.get("evidence") or []:
        lines.append("- " + _evidence_line(item, names))
    return {
        "type": "note",
        "spec_version": "2.1",
        "id": so.det_id("note", f"{campaign_id}|{version}|evidence"),
        "created": now,
        "modified": now,
        "abstract": f"Attribution evidence (actorgraph model {version})",
        "content": "\n".join(lines),
        "object_refs": [campaign_id, *rel_ids],
    }


def _evidence_line(item: Any, names: dict[Any, Any]) -> str:
    """One evidence item (``gnn.evidence``: kind, entity, path, weight, actors_sharing) as text."""
    if not isinstance(item, dict):
        return str(item)
    who = names.get(item.get("actor_id")) or item.get("actor_id") or "?"
    entity = item.get("entity") if isinstance(item.get("entity"), dict) else {}
    what = entity.get("name") or entity.get("id") or item.get("input") or ""
    path = item.get("path")
    text = " ".join(str(p) for p in path) if isinstance(path, list) else str(path or "")
    facts = [f"weight {item['weight']}" if "weight" in item else None,
             f"shared by {item['actors_sharing']} actors" if item.get("actors_sharing") else None,
             "known hub" if item.get("hub") else None]  # fmt: skip
    extra = ", ".join(f for f in facts if f)
    head = f"{who}: {item.get('kind') or 'evidence'} {what}".rstrip()
    return f"{head}" + (f" ({extra})" if extra else "") + (f": {text}" if text else "")
