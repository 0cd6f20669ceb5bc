"""What a report covers: one actor found by any of its names, a time window, and the part of
the graph an export shares (an actor's neighbourhood or everything), all within clearance.

A selection is an actor (with its campaigns, the malware, tools, techniques and infrastructure
they use, their targets, origin and indicators, and one to three hops of indicator context:
resolutions, hosting, registrars, name servers, certificates) or the whole graph, narrowed to a
time window and capped at a TLP level. Nothing above the cap is selected: a node or relationship
with ``tlp_level`` above it is dropped, and so is every relationship that touches a dropped node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from actorgraph.graph.errors import NotFound, ValidationError
from actorgraph.graph.formats.provenance import epoch
from actorgraph.graph.schema import label as quote_label
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import visible, visible_all

__all__ = ["Selection", "in_window", "parse_bound", "resolve_actor", "select_actor", "select_all"]

# Relationship types walked from an actor and its campaigns to what they use, target, come from.
_PROFILE_RELS = "USES|TARGETS|ORIGINATES_FROM"
# Indicator context: what a domain resolves to, where an address is hosted, who registered it.
_CONTEXT_RELS = (
    "RESOLVES_TO|HOSTED_ON|REGISTERED_WITH|USES_NAMESERVER|PRESENTS_CERT|SUBTECHNIQUE_OF"
)
_CONTEXT_HOPS = 3
MAX_ROWS = 2_000_000

ACTOR_LOOKUP = f"""
MATCH (a:ThreatActor)
WHERE {visible("a")}
  AND (a.id = $key OR a.name_lc = $key_lc OR $key_lc IN coalesce(a.aliases_lc, [])
       OR toLower(coalesce(a.external_id, '')) = $key_lc)
RETURN a AS actor,
       CASE WHEN a.id = $key THEN 0 WHEN a.name_lc = $key_lc THEN 1
            WHEN toLower(coalesce(a.external_id, '')) = $key_lc THEN 1 ELSE 2 END AS rank
ORDER BY rank, a.name
LIMIT 10
"""

ACTOR_CAMPAIGNS = f"""
MATCH (c:Campaign)-[r:ATTRIBUTED_TO]->(a:ThreatActor {{id: $actor}})
WHERE {visible_all("c", "r")}
RETURN c AS n
LIMIT $limit
"""

# ``str.format`` templates over ``{label}`` (whitelisted and quoted by graph.schema.label())
# and ``{rels}`` (the constants above): hence the doubled braces in these f-strings.
NEIGHBOURS = f"""
MATCH (s:{{label}})-[r:{{rels}}]->(x)
WHERE s.id IN $ids AND {visible_all("r", "x")}
RETURN DISTINCT x AS n
LIMIT $limit
"""

INDICATORS_OF = f"""
MATCH (i:Indicator)-[r:INDICATES]->(t:{{label}})
WHERE t.id IN $ids AND {visible_all("r", "i")}
RETURN DISTINCT i AS n
LIMIT $limit
"""

INFRA_MEMBERS = f"""
MATCH (x:Infrastructure)-[r:CONSISTS_OF]->(i)
WHERE x.id IN $ids AND {visible_all("r", "i")}
RETURN DISTINCT i AS n
LIMIT $limit
"""

REPORTS_OF = f"""
MATCH (s:{{label}})-[r:REPORTED_IN]->(x:Report)
WHERE s.id IN $ids AND {visible_all("r", "x")}
RETURN DISTINCT x AS n
LIMIT $limit
"""

EDGES_FROM = f"""
MATCH (a:{{label}})-[r]->(b)
WHERE a.id IN $ids AND b.id IN $all AND {visible("r")}
RETURN a.id AS src, type(r) AS type, r AS rel, b.id AS dst
LIMIT $limit
"""

ALL_NODES = f"""
MATCH (n)
WHERE {visible("n")}
RETURN n
LIMIT $limit
"""

ALL_EDGES = f"""
MATCH (a)-[r]->(b)
WHERE {visible_all("r", "a")}
  AND {visible("b")}
RETURN a.id AS src, type(r) AS type, r AS rel, b.id AS dst
LIMIT $limit
"""


def resolve_actor(store: GraphStore, key: str, *, max_tlp: int) -> dict[str, Any]:
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
        """The ids of the selected nodes of one label."""
        return [i for i, lab in self.labels.items() if lab == label]


def select_actor(
    store: GraphStore, actor_id: str, *, since: int | None, until: int | None, max_tlp: int
) -> Selection:
    """The actor, its campaigns in the window, what they use and target, and their indicators.

    Raises:
        NotFound: the actor does not exist (or is above clearance).
        ValidationError: an ambiguous actor alias.
    """
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
    """Every node and relationship within clearance; campaigns and indicators narrowed to the
    window."""
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
