"""Evidence paths: the concrete graph paths that link an activity's matched entities to a
candidate actor, read from the store with parameterised Cypher and weighted by rarity.

Path kinds (each a query below, all candidates and entities in one round-trip per kind):

- direct:    (actor)-[:USES|TARGETS]->(entity)
- campaign:  (actor)<-[:ATTRIBUTED_TO]-(campaign)-[:USES|TARGETS]->(entity)
- indicator: (indicator)-[:INDICATES]->(actor)  or  ->(campaign)-[:ATTRIBUTED_TO]->(actor)
- infrastructure: (indicator)-[:RESOLVES_TO|HOSTED_ON*1..2]->(shared)<-[...]-(indicator of the
  actor's campaign): shared IPs, ASNs, hosting; known hubs are excluded.
- enrichment: a new indicator's network, AS organisation or registrable domain (graph/enrich)
  <-[:BELONGS_TO]-(the actor's past indicators): how many of them lived there.

Every node and every relationship on a path must be at or below the requester's TLP clearance
(``$max_tlp``), and so must everything a count on the way reads (the fan-out of shared
infrastructure): a path or a count never depends on what the requester may not see. No revoked
node (``revoked: true``, graph/formats/stix_reader.py) is on a path or in a count.

The cost of a look-up is bounded by design, whatever the size of the graph. An attribution
(``gnn.attribute``) passes the model's summaries (``gnn.evidence_index``, built from the
snapshot the model was trained on): every path and its weight are then known in memory, and
the store only confirms, in one round-trip of index look-ups (``KNOWN``), that each node and
relationship on the paths that can be shown (``per_actor`` per candidate, the strongest first:
``gnn.evidence_select``; another round-trip only for a path it refuses) is still there,
visible at the requester's clearance and not revoked; it is asked about at most
``PAIR_CAMPAIGNS`` campaigns per shared entity and ``ENRICH_CONFIRM`` past indicators per
enrichment node. Without summaries, the two walks that start from shared infrastructure
(infrastructure, enrichment) run in the store and first count the node's visible in-links,
stopping at the cap. Either way a node past a cap (``INFRA_MAX_FANOUT``, ``ENRICH_MAX_MEMBERS``:
a CDN's ASN, a cloud provider's AS organisation) is skipped and reported in ``skipped``, at most
``INFRA_PER_VIA`` indicators are followed back from any other shared host (a path then says how
many it followed), and a summary's counts are those of the model's clearance, confirmed at the
requester's.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from actorgraph.gnn.evidence_index import EvidenceIndex
from actorgraph.gnn.evidence_select import PathOption, confirm_best
from actorgraph.graph.schema import label as schema_label
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import visible, visible_all

# Every node and relationship of a variable-length path ``p`` passes the clearance test.
_PATH_VISIBLE = (
    f"all(n IN nodes(p) WHERE {visible('n')}) AND all(q IN relationships(p) WHERE {visible('q')})"
)


def _live(var: str) -> str:
    """``var`` is not revoked (a revoked object's nodes stay in the graph, marked)."""
    return f"coalesce({var}.revoked, false) = false"


def _revoked(*variables: str) -> str:
    """Whether any of ``variables`` is revoked: returned as a column and dropped by the caller,
    since the same test in WHERE moves FalkorDB's plan off the index look-ups (a label scan
    of every campaign: 1-2 s per attribution on a 10k-indicator graph)."""
    return " OR ".join(f"coalesce({v}.revoked, false)" for v in variables)


_PATH_LIVE = f"all(n IN nodes(p) WHERE {_live('n')})"

# Shared by all attributions of the process; the store client is thread-safe (connection pool).
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="evidence")

DIRECT = f"""
UNWIND $actors AS aid
MATCH (a:ThreatActor {{id: aid}})-[r:USES|TARGETS]->(x)
WHERE x.id IN $ids AND {visible_all("a", "r", "x")}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, labels(x)[0] AS label,
       coalesce(x.name, x.value, x.id) AS name, type(r) AS rel, null AS via_id, null AS via_name,
       {_revoked("x")} AS revoked
LIMIT 2000
"""

CAMPAIGN = f"""
UNWIND $actors AS aid
MATCH (a:ThreatActor {{id: aid}})<-[t:ATTRIBUTED_TO]-(c:Campaign)-[r:USES|TARGETS]->(x)
WHERE x.id IN $ids AND {visible_all("a", "t", "c")}
      AND {visible_all("r", "x")}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, labels(x)[0] AS label,
       coalesce(x.name, x.value, x.id) AS name, type(r) AS rel, c.id AS via_id, c.name AS via_name,
       {_revoked("x", "c")} AS revoked
LIMIT 2000
"""

INDICATOR = f"""
UNWIND $actors AS aid
MATCH (a:ThreatActor {{id: aid}})<-[t:ATTRIBUTED_TO]-(c:Campaign)<-[r:INDICATES]-(x:Indicator)
WHERE x.id IN $ids AND {visible_all("a", "t", "c")}
      AND {visible_all("r", "x")}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label, x.value AS name,
       'INDICATES' AS rel, c.id AS via_id, c.name AS via_name, {_revoked("x", "c")} AS revoked
LIMIT 2000
UNION
UNWIND $actors AS aid
MATCH (a:ThreatActor {{id: aid}})<-[r:INDICATES]-(x:Indicator)
WHERE x.id IN $ids AND {visible_all("a", "r", "x")}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label, x.value AS name,
       'INDICATES' AS rel, null AS via_id, null AS via_name, {_revoked("x")} AS revoked
LIMIT 2000
"""


# Shared infrastructure with a large fan-out (a CDN's ASN, a public VPS range, a sinkhole) links
# everything to everything: it is not evidence, and walking back from it costs time in
# proportion to the graph. So each shared node's visible in-links are counted up to one past
# $max_fanout (the LIMIT stops the count: a hub costs no more than a quiet node); a node past it
# comes back with no actors (the caller reports it skipped), and from any other at most
# $per_via indicators are followed to their campaigns. Hidden links are not counted, so they
# cannot suppress a path; revoked nodes are neither counted nor followed. The capped steps are
# ordered by id so that every engine keeps the same subset (tests/graph/test_parity.py).
INFRASTRUCTURE = f"""
MATCH p = (x:Indicator)-[:RESOLVES_TO|HOSTED_ON*1..2]->(y)
WHERE x.id IN $ids AND NOT y.id IN $hubs AND {_PATH_VISIBLE} AND {_PATH_LIVE}
WITH DISTINCT x, y
ORDER BY x.id, y.id
LIMIT 100
CALL {{
    WITH y
    MATCH (y)<-[l:RESOLVES_TO|HOSTED_ON]-(z)
    WHERE {visible_all("l", "z")} AND {_live("z")}
    WITH z LIMIT $probe
    RETURN count(z) AS fanout
}}
CALL {{
    WITH x, y, fanout
    MATCH p = (y)<-[:RESOLVES_TO|HOSTED_ON*1..2]-(i:Indicator)
    WHERE fanout <= $max_fanout AND i.id <> x.id AND {_PATH_VISIBLE} AND {_PATH_LIVE}
    WITH DISTINCT i
    ORDER BY i.id
    LIMIT $per_via
    WITH collect(i) AS hosted
    UNWIND CASE WHEN size(hosted) = 0 THEN [null] ELSE hosted END AS i
    OPTIONAL MATCH (i)-[r:INDICATES]->(c:Campaign)-[t:ATTRIBUTED_TO]->(a:ThreatActor)
    WHERE a.id IN $actors AND {visible_all("r", "c", "t", "a")} AND {_live("c")}
    RETURN size(hosted) AS followed,
           collect(DISTINCT CASE WHEN a IS NULL THEN null ELSE [a.id, a.name] END) AS found
}}
RETURN x.id AS entity, x.value AS name, y.id AS via_id,
       coalesce(y.name, y.value, y.id) AS via_name, fanout, followed, found
LIMIT 500
"""

INFRA_MAX_FANOUT = 50
"""Most visible in-links (RESOLVES_TO, HOSTED_ON) of shared infrastructure that is followed."""
INFRA_PER_VIA = 50
"""Most indicators followed back from one shared node."""
ENRICH_MAX_MEMBERS = 200
"""Most indicators in a network, AS organisation or registrable domain that is followed."""
INFRA_MAX_PAIRS = 100
"""Most (activity indicator, shared host) pairs looked at per attribution."""
ENRICH_CONFIRM = 20
"""Most of an actor's past indicators in one enrichment node confirmed in the store (with a
model's summaries); a path over more says "at least" that many, and the summary's count."""

# How many visible, live indicators each enrichment node holds, counted up to one past the cap
# (the LIMIT stops the count, so a large AS organisation costs no more than a small network).
ENRICH_MEMBERS = f"""
UNWIND $nodes AS xid
MATCH (e:Infrastructure {{id: xid}})
WHERE {visible("e")}
CALL {{
    WITH e
    MATCH (i:Indicator)-[b:BELONGS_TO]->(e)
    WHERE {visible_all("b", "i")} AND {_live("i")}
    WITH i LIMIT $probe
    RETURN count(i) AS members
}}
RETURN e.id AS id, coalesce(e.name, e.id) AS name, members
LIMIT 1000
"""

# The actor's past indicators in a network, AS organisation or registrable domain that a new
# indicator's enrichment names (through the actor's campaigns, or indicating it directly); the
# caller counts distinct indicators per (actor, node). Only nodes under ENRICH_MAX_MEMBERS are
# asked, so each walks at most that many indicators.
ENRICHMENT = f"""
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (e:Infrastructure {{id: p.x}})
MATCH (i:Indicator)-[b:BELONGS_TO]->(e)
MATCH (i)-[r:INDICATES]->(c:Campaign)-[t:ATTRIBUTED_TO]->(a)
WHERE {visible_all("a", "e", "b", "i")} AND {visible_all("r", "c", "t")}
RETURN a.id AS actor, a.name AS actor_name, e.id AS entity, e.name AS name, e.kind AS node_kind,
       i.id AS past, {_revoked("i", "c")} AS revoked
LIMIT 5000
UNION ALL
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (e:Infrastructure {{id: p.x}})
MATCH (i:Indicator)-[b:BELONGS_TO]->(e)
MATCH (i)-[r:INDICATES]->(a)
WHERE {visible_all("a", "e", "b", "i", "r")}
RETURN a.id AS actor, a.name AS actor_name, e.id AS entity, e.name AS name, e.kind AS node_kind,
       i.id AS past, {_revoked("i")} AS revoked
LIMIT 5000
"""

# Shortlisted (actor, entity) pairs, one query per entity label: both ends are index look-ups,
# so the engine only walks the actor's campaigns, not everything it uses (measured on the
# demo graph: 20-40 ms for the open CAMPAIGN query above, a few ms for this). One campaign
# per pair is enough for the path, and the walk stops there: an entity many campaigns share (a
# targeted country) no longer returns a row per campaign.
PAIRS = """
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:{label} {{id: p.x}})
MATCH (a)-[r:USES|TARGETS]->(x)
WHERE {vis_a} AND {vis_x} AND {vis_r}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, '{name}' AS label,
       coalesce(x.name, x.value, x.id) AS name, type(r) AS rel, null AS via_id, null AS via_name,
       'direct' AS path_kind, {revoked_x} AS revoked
UNION ALL
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:{label} {{id: p.x}})
WHERE {vis_a} AND {vis_x}
CALL {{
    WITH a, x
    MATCH (a)<-[t:ATTRIBUTED_TO]-(c:Campaign)
    WHERE {vis_t} AND {vis_c} AND {live_c}
    WITH x, t, c
    MATCH (c)-[r:USES|TARGETS]->(x)
    WHERE {vis_r}
    RETURN c, r
    LIMIT 1
}}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, '{name}' AS label,
       coalesce(x.name, x.value, x.id) AS name, type(r) AS rel, c.id AS via_id, c.name AS via_name,
       'campaign' AS path_kind, {revoked_x} AS revoked
"""
PAIRS_INDICATOR = """
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:Indicator {{id: p.x}})
MATCH (x)-[r:INDICATES]->(c:Campaign)-[t:ATTRIBUTED_TO]->(a)
WHERE {vis_a} AND {vis_x} AND {vis_c} AND {vis_r} AND {vis_t}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label, x.value AS name,
       'INDICATES' AS rel, c.id AS via_id, c.name AS via_name, 'indicator' AS path_kind,
       {revoked_xc} AS revoked
UNION ALL
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:Indicator {{id: p.x}})
MATCH (x)-[r:INDICATES]->(a)
WHERE {vis_a} AND {vis_x} AND {vis_r}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label, x.value AS name,
       'INDICATES' AS rel, null AS via_id, null AS via_name, 'indicator' AS path_kind,
       {revoked_x} AS revoked
"""
_VIS = {
    **{f"vis_{v}": visible(v) for v in ("a", "x", "c", "r", "t")},
    "live_c": _live("c"),
    "revoked_x": _revoked("x"),
    "revoked_xc": _revoked("x", "c"),
}


def pair_query(label: str) -> str:
    """The pair query for one entity label (whitelisted: labels cannot be parameters)."""
    name = label.strip("`")
    if name == "Indicator":
        return PAIRS_INDICATOR.format(**_VIS)
    return PAIRS.format(label=schema_label(name), name=name, **_VIS)


def _campaign_by_id(indicator: str, actor: str, row: str) -> str:
    """A ``CALL`` subquery that yields the first live, visible campaign among ``row.cs`` (the
    summary's, at most ``PAIR_CAMPAIGNS``) that ``indicator`` indicates and that is attributed to
    ``actor``; rendered, so it goes into a query text as a value (``{...}`` of ``str.format``)."""
    return f"""CALL {{
    WITH {actor}, {indicator}, {row}
    UNWIND {row}.cs AS cid
    MATCH (c:Campaign {{id: cid}})
    WITH {actor}, {indicator}, c
    MATCH ({indicator})-[r:INDICATES]->(c)-[t:ATTRIBUTED_TO]->({actor})
    WHERE {visible_all("r", "c", "t")} AND {_live("c")}
    RETURN c
    LIMIT 1
}}"""


# With a model's summaries (``gnn.evidence_index``) every path is known before the store is
# asked: the store only confirms it, from index look-ups of the nodes the summary names (the
# candidate, the entity, the campaign, the past indicator, the shared host), that every node
# and relationship on it is still there, visible at ``$max_tlp`` and not revoked. No branch
# walks a node's neighbourhood: a ``WITH`` after the look-ups makes FalkorDB check the
# relationship between the two nodes found (Expand Into) where it would otherwise walk every
# USES/TARGETS edge of the actor or the campaign (thousands per campaign at 1M indicators,
# benchmarks/RESULTS.md) and filter; the campaign on a path (the pair's, or the one a past
# indicator reaches the actor through) is one of the summary's, at most ``PAIR_CAMPAIGNS``,
# looked up by id, never found by walking every campaign a shared indicator indicates (thousands
# at 1M indicators). All branches go in one round-trip with a fixed text (an
# empty list for a branch with nothing to confirm), so the engine plans it once.
KNOWN_PAIRS = """
UNWIND $direct_{key} AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:{label} {{id: p.x}})
WITH a, x, p
MATCH (a)-[r:USES|TARGETS]->(x)
WHERE {vis_a} AND {vis_x} AND {vis_r}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, '{name}' AS label,
       coalesce(x.name, x.value, x.id) AS name, type(r) AS rel, null AS via_id, null AS via_name,
       'direct' AS path_kind, {revoked_x} AS revoked, null AS past, null AS node_kind, p.k AS k
UNION ALL
UNWIND $campaign_{key} AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:{label} {{id: p.x}})
WHERE {vis_a} AND {vis_x}
CALL {{
    WITH a, x, p
    UNWIND p.cs AS cid
    MATCH (c:Campaign {{id: cid}})
    WITH a, x, c
    MATCH (a)<-[t:ATTRIBUTED_TO]-(c)-[r:USES|TARGETS]->(x)
    WHERE {vis_t} AND {vis_c} AND {live_c} AND {vis_r}
    RETURN c, r
    LIMIT 1
}}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, '{name}' AS label,
       coalesce(x.name, x.value, x.id) AS name, type(r) AS rel, c.id AS via_id, c.name AS via_name,
       'campaign' AS path_kind, {revoked_x} AS revoked, null AS past, null AS node_kind, p.k AS k
"""
KNOWN_INDICATORS = """
UNWIND $campaign_indicator AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:Indicator {{id: p.x}})
WHERE {vis_a} AND {vis_x}
{campaign_of_x}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label, x.value AS name,
       'INDICATES' AS rel, c.id AS via_id, c.name AS via_name, 'indicator' AS path_kind,
       {revoked_x} AS revoked, null AS past, null AS node_kind, p.k AS k
UNION ALL
UNWIND $direct_indicator AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:Indicator {{id: p.x}})
WITH a, x, p
MATCH (x)-[r:INDICATES]->(a)
WHERE {vis_a} AND {vis_x} AND {vis_r}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label, x.value AS name,
       'INDICATES' AS rel, null AS via_id, null AS via_name, 'indicator' AS path_kind,
       {revoked_x} AS revoked, null AS past, null AS node_kind, p.k AS k
"""
# The actor's past indicators in an enrichment node, as the summary lists them: each confirmed
# member of the node and indicating the actor (through a live campaign, or itself) counts.
KNOWN_ENRICHMENT = f"""
UNWIND $enrichment AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (e:Infrastructure {{id: p.x}})
MATCH (i:Indicator {{id: p.i}})
WITH a, e, i, p
MATCH (i)-[b:BELONGS_TO]->(e)
WHERE {visible_all("a", "e", "b", "i")}
{_campaign_by_id("i", "a", "p")}
RETURN a.id AS actor, a.name AS actor_name, e.id AS entity, 'Infrastructure' AS label,
       e.name AS name, null AS rel, null AS via_id, null AS via_name, 'enrichment' AS path_kind,
       {_revoked("i")} AS revoked, i.id AS past, e.kind AS node_kind, p.k AS k
UNION ALL
UNWIND $enrichment AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (e:Infrastructure {{id: p.x}})
MATCH (i:Indicator {{id: p.i}})
WITH a, e, i, p
MATCH (i)-[b:BELONGS_TO]->(e)
MATCH (i)-[r:INDICATES]->(a)
WHERE {visible_all("a", "e", "b", "i", "r")}
RETURN a.id AS actor, a.name AS actor_name, e.id AS entity, 'Infrastructure' AS label,
       e.name AS name, null AS rel, null AS via_id, null AS via_name, 'enrichment' AS path_kind,
       {_revoked("i")} AS revoked, i.id AS past, e.kind AS node_kind, p.k AS k
"""
# Shared hosting as the summary found it: the activity's indicator x reaches the host y, and
# y is reached back from the actor's past indicator i, whose campaign is attributed to the
# actor. Both hosting walks start and end at index look-ups (at most two hops from x or i).
KNOWN_HOSTING = """
UNWIND $hosting_{key} AS h
MATCH (x:Indicator {{id: h.x}})
MATCH (y:{label} {{id: h.y}})
MATCH (i:Indicator {{id: h.i}})
MATCH (a:ThreatActor {{id: h.a}})
WHERE {vis_x} AND {vis_y} AND {vis_i} AND {vis_a}
CALL {{
    WITH x, y
    MATCH p = (x)-[:RESOLVES_TO|HOSTED_ON*1..2]->(y)
    WHERE {path_visible} AND {path_live}
    RETURN 1 AS up
    LIMIT 1
}}
CALL {{
    WITH y, i
    MATCH p = (i)-[:RESOLVES_TO|HOSTED_ON*1..2]->(y)
    WHERE {path_visible} AND {path_live}
    RETURN 1 AS down
    LIMIT 1
}}
{campaign_of_i}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label,
       x.value AS name, null AS rel, y.id AS via_id, coalesce(y.name, y.value, y.id) AS via_name,
       'infrastructure' AS path_kind, {revoked_i} AS revoked, i.id AS past, null AS node_kind,
       h.k AS k
"""
# Entity labels a shortlisted pair may have (``gnn.attribute.LABEL_OF``), and a hosting node's.
PAIR_LABELS = ("Country", "Infrastructure", "Malware", "Sector", "Technique", "Tool")
HOST_LABELS = {"indicator": "Indicator", "infrastructure": "Infrastructure"}
PAIR_CAMPAIGNS = 3
"""Campaigns (from the summary) tried per (actor, entity) pair: the first confirmed is shown."""


def _known_query() -> str:
    vis = {**_VIS, **{f"vis_{v}": visible(v) for v in ("y", "i")}}
    parts = [
        KNOWN_PAIRS.format(key=label.lower(), label=schema_label(label), name=label, **vis)
        for label in PAIR_LABELS
    ]
    parts.append(KNOWN_INDICATORS.format(campaign_of_x=_campaign_by_id("x", "a", "p"), **vis))
    parts.append(KNOWN_ENRICHMENT)
    parts += [
        KNOWN_HOSTING.format(
            key=key,
            label=schema_label(label),
            path_visible=_PATH_VISIBLE,
            path_live=_PATH_LIVE,
            revoked_i=_revoked("i"),
            campaign_of_i=_campaign_by_id("i", "a", "h"),
            **vis,
        )
        for key, label in HOST_LABELS.items()
    ]
    return "\nUNION ALL\n".join(p.strip() for p in parts)


KNOWN = _known_query()
# Each branch of KNOWN with the list it unwinds: a round-trip sends only the branches with
# something to confirm (an empty branch still costs the engine ~0.1 ms to set up).
KNOWN_BRANCHES = [
    (b.split("UNWIND $", 1)[1].split(" ", 1)[0], b) for b in KNOWN.split("\nUNION ALL\n")
]


# Where a branch's rows are read among the answer's: in the text's order, enrichment last (its
# rows are counted per node before they become paths).
_BRANCH_RANK = {
    name: (len(KNOWN_BRANCHES) if name == "enrichment" else k)
    for k, (name, _) in enumerate(KNOWN_BRANCHES)
}
# The summaries leave out the galaxy's victim lists (``gnn.dataset``: not training evidence),
# which the store still shows as the actor's own targets: those are asked without the summary.
_VICTIM_LABELS = ("Country", "Sector")
PATHS_PER_ROUND = 3
"""Paths to one (actor, entity) pair asked about in one round (the strongest first): the store
normally confirms the first, and the rest is asked only if it does not."""


def known_query(params: dict[str, Any]) -> str:
    """The branches of ``KNOWN`` whose lists in ``params`` are not empty (same order, so the
    same lists give the same text and the engine's cached plan)."""
    return "\nUNION ALL\n".join(b for name, b in KNOWN_BRANCHES if params.get(name))


KIND = {
    "Malware": "shared_malware",
    "Tool": "shared_tool",
    "Technique": "shared_technique",
    "Indicator": "shared_indicator",
    "Infrastructure": "shared_infrastructure",
    "Sector": "shared_target",
    "Country": "shared_target",
}
# A path through a campaign or shared hosting says less than the actor's own use of the entity.
PATH_FACTOR = {
    "direct": 1.0,
    "campaign": 0.9,
    "indicator": 1.0,
    "infrastructure": 0.6,
    "enrichment": 0.6,
}


def evidence_paths(
    store: GraphStore,
    actor_ids: list[str],
    matched: dict[str, str],
    rarity: Callable[[str], dict[str, Any]],
    *,
    max_tlp: int,
    per_actor: int = 8,
    shortlist: dict[str, list[tuple[str, str]]] | None = None,
    infra_ids: list[str] | None = None,
    enriched: dict[str, str] | None = None,
    skipped: list[dict[str, Any]] | None = None,
    index: EvidenceIndex | None = None,
) -> list[dict[str, Any]]:
    """Evidence for each candidate actor, strongest first.

    Args:
        store: the graph store.
        actor_ids: candidate actors (STIX ids), in rank order.
        matched: entity id -> the input value that matched it.
        rarity: entity id -> ``{"weight", "actors_sharing", "hub"}`` from the model.
        max_tlp: requester's clearance; paths through anything above it are not returned.
        per_actor: at most this many items per actor.
        shortlist: optional actor id -> [(entity id, label)] already known (from the model's
            profiles) to be shared: only those pairs are looked up (fast path).
        infra_ids: with ``shortlist``, the indicators to try for shared hosting paths.
        enriched: known network / AS organisation / registrable domain id -> the new indicator
            whose enrichment named it (``LinkedActivity.via_enrichment``): each gets a path
            that says how many of the actor's past indicators it holds, counting only what
            the requester may see.
        skipped: when given, receives one ``{"id", "name", "reason"}`` per shared node not
            followed because it is a hub (more in-links than the caps in this module).
        index: with ``shortlist``, the summaries of the model's snapshot
            (``gnn.evidence_index``): the paths come from it and the store only confirms them
            in one round-trip of index look-ups, so the cost does not grow with the graph.
            Without it, the shared-hosting and enrichment paths are walked in the store (within
            the same caps).

    Returns:
        Items ``{"actor_id", "kind", "entity": {"id", "label", "name"}, "input", "path",
        "weight", "actors_sharing", "hub"}``; ``path`` is a readable list of steps.
    """
    params = {"actors": actor_ids, "max_tlp": max_tlp}
    rows: list[tuple[str, dict[str, Any]]] = []
    hubs: list[dict[str, Any]] = []
    indexed = shortlist is not None and index is not None
    if indexed:
        assert shortlist is not None and index is not None
        rows, hubs = _known(
            store,
            index,
            actor_ids,
            shortlist,
            infra_ids or [],
            enriched or {},
            rarity,
            max_tlp,
            per_actor,
        )
        infra = []
    elif shortlist is None:
        params["ids"] = sorted(matched)
        for name, cypher in (("direct", DIRECT), ("campaign", CAMPAIGN), ("indicator", INDICATOR)):
            rows += [(name, r) for r in store.query(cypher, params, read_only=True)]
        infra = [
            i for i in sorted(matched) if i.split(":", 1)[0] in ("ipv4", "ipv6", "domain", "url")
        ]
    else:
        infra = sorted(infra_ids or [])
        # The shared-hosting walk is the slowest lookup: run it beside the pair lookups.
        pending = _POOL.submit(_infrastructure, store, params, infra, rarity) if infra else None
        by_label: dict[str, list[dict[str, str]]] = {}
        for actor, pairs in shortlist.items():
            for entity, label in pairs:
                by_label.setdefault(label, []).append({"a": actor, "x": entity})
        if by_label:
            # One round-trip: the labels' pair queries joined by UNION ALL, each with its own list.
            parts: list[str] = []
            qparams: dict[str, Any] = {"max_tlp": max_tlp}
            for k, label in enumerate(sorted(by_label)):
                parts.append(pair_query(label).replace("$pairs", f"$pairs{k}"))
                qparams[f"pairs{k}"] = by_label[label]
            found = store.query("\nUNION ALL\n".join(parts), qparams, read_only=True)
            rows += [(r["path_kind"], r) for r in found]
        if pending is not None:
            found_rows, found_hubs = pending.result()
            rows, hubs = rows + found_rows, hubs + found_hubs
        infra = []
    if infra:
        found_rows, found_hubs = _infrastructure(store, params, infra, rarity)
        rows, hubs = rows + found_rows, hubs + found_hubs
    if enriched and not indexed:
        found_rows, found_hubs = _enrichment(store, actor_ids, enriched, max_tlp)
        rows, hubs = rows + found_rows, hubs + found_hubs
    if skipped is not None:
        skipped.extend({h["id"]: h for h in hubs}.values())
    inputs = {**(enriched or {}), **matched}
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, r in rows:
        if r.get("revoked"):
            continue
        rar = rarity(r["entity"])
        weight = round(rar["weight"] * PATH_FACTOR[kind], 4)
        key = (r["actor"], r["entity"])
        if key in best and best[key]["weight"] >= weight:
            continue
        best[key] = {
            "actor_id": r["actor"],
            "kind": _KIND_OF_PATH.get(kind) or KIND.get(r["label"], "shared_entity"),
            "entity": {"id": r["entity"], "label": r["label"], "name": r["name"]},
            "input": inputs.get(r["entity"]),
            "path": _path(kind, r),
            "weight": weight,
            "actors_sharing": rar["actors_sharing"],
            "hub": rar["hub"],
        }
    order = {a: i for i, a in enumerate(actor_ids)}
    out: list[dict[str, Any]] = []
    for actor in actor_ids:
        items = sorted(
            (v for (a, _), v in best.items() if a == actor),
            key=lambda v: (-v["weight"], v["entity"]["id"]),
        )
        out += items[:per_actor]
    return sorted(out, key=lambda v: (order[v["actor_id"]], -v["weight"], v["entity"]["id"]))


Rows = list[tuple[str, dict[str, Any]]]
Hubs = list[dict[str, Any]]


def _infrastructure(
    store: GraphStore,
    params: dict[str, Any],
    ids: list[str],
    rarity: Callable[[str], dict[str, Any]],
) -> tuple[Rows, Hubs]:
    """Shared-hosting rows (one per actor, indicator and shared node), and the hubs skipped."""
    found = store.query(
        INFRASTRUCTURE,
        {
            **params,
            "ids": ids,
            "hubs": [i for i in ids if rarity(i).get("hub")],
            "max_fanout": INFRA_MAX_FANOUT,
            "probe": INFRA_MAX_FANOUT + 1,
            "per_via": INFRA_PER_VIA,
        },
        read_only=True,
    )
    rows: Rows = []
    hubs: Hubs = []
    for r in found:
        if r["fanout"] > INFRA_MAX_FANOUT:
            reason = f"more than {INFRA_MAX_FANOUT} indicators resolve to it or are hosted on it"
            hubs.append({"id": r["via_id"], "name": r["via_name"], "reason": reason})
            continue
        for actor, actor_name in r["found"]:
            row = {"actor": actor, "actor_name": actor_name, "label": "Indicator"}
            rows.append(("infrastructure", {**r, **row}))
    return rows, hubs


_KIND_OF_PATH = {"infrastructure": "shared_infrastructure", "enrichment": "enrichment"}


def _enrichment(
    store: GraphStore, actor_ids: list[str], enriched: dict[str, str], max_tlp: int
) -> tuple[Rows, Hubs]:
    """One row per (actor, enrichment node) holding some of the actor's past indicators, with
    how many (``count``) and the new value that reached the node (``new``); and the nodes
    skipped as hubs (more than ``ENRICH_MAX_MEMBERS`` indicators)."""
    sizes = store.query(
        ENRICH_MEMBERS,
        {"nodes": sorted(enriched), "max_tlp": max_tlp, "probe": ENRICH_MAX_MEMBERS + 1},
        read_only=True,
    )
    reason = f"holds more than {ENRICH_MAX_MEMBERS} indicators"
    hubs = [
        {"id": r["id"], "name": r["name"], "reason": reason}
        for r in sizes
        if r["members"] > ENRICH_MAX_MEMBERS
    ]
    small = sorted(r["id"] for r in sizes if 0 < r["members"] <= ENRICH_MAX_MEMBERS)
    pairs = [{"a": a, "x": x} for a in actor_ids for x in small]
    if not pairs:
        return [], hubs
    found = store.query(ENRICHMENT, {"pairs": pairs, "max_tlp": max_tlp}, read_only=True)
    past: dict[tuple[str, str], set[str]] = {}
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for r in found:
        if r["revoked"]:
            continue
        key = (r["actor"], r["entity"])
        past.setdefault(key, set()).add(r["past"])
        first.setdefault(key, r)
    rows: Rows = [
        (
            "enrichment",
            {
                **first[key],
                "label": "Infrastructure",
                "count": len(ids),
                "new": enriched[key[1]],
            },
        )
        for key, ids in sorted(past.items())
    ]
    return rows, hubs


def _known(
    store: GraphStore,
    index: EvidenceIndex,
    actor_ids: list[str],
    shortlist: dict[str, list[tuple[str, str]]],
    infra_ids: list[str],
    enriched: dict[str, str],
    rarity: Callable[[str], dict[str, Any]],
    max_tlp: int,
    per_actor: int,
) -> tuple[Rows, Hubs]:
    """The paths the summaries name (pairs, shared hosting, enrichment) that can be shown,
    confirmed in the store (``KNOWN``, one round-trip unless one is refused:
    ``gnn.evidence_select``); and the hubs not followed."""
    options: list[PathOption] = []

    def add(branch: str, actor: str, entity: str, kind: str, row: dict[str, Any]) -> None:
        weight = round(rarity(entity)["weight"] * PATH_FACTOR[kind], 4)
        options.append(
            PathOption(actor, entity, weight, (_BRANCH_RANK[branch], len(options)), branch, row)
        )

    for actor, pairs in shortlist.items():
        for entity, label in pairs:
            key = label.lower()
            row: dict[str, Any] = {"a": actor, "x": entity}
            if label == "Indicator":
                if cs := index.indicator_campaigns(actor, entity, PAIR_CAMPAIGNS):
                    add("campaign_indicator", actor, entity, "indicator", {**row, "cs": cs})
                if index.indicates_directly(actor, entity):
                    add("direct_indicator", actor, entity, "indicator", row)
                continue
            if label in _VICTIM_LABELS or index.uses_directly(actor, entity):
                add(f"direct_{key}", actor, entity, "direct", row)
            if cs := index.campaigns_of(actor, entity, PAIR_CAMPAIGNS):
                add(f"campaign_{key}", actor, entity, "campaign", {**row, "cs": cs})

    hubs: Hubs = []
    followed: dict[tuple[str, str], int] = {}
    reason = f"more than {INFRA_MAX_FANOUT} indicators resolve to it or are hosted on it"
    pairs_left = INFRA_MAX_PAIRS
    # As in INFRASTRUCTURE: a listed hub among the activity's own indicators is no shared host.
    listed = {i for i in infra_ids if rarity(i).get("hub")}
    for x in sorted(infra_ids):
        hits = index.hosting(
            x,
            actor_ids,
            max_hops=2,
            max_fanout=INFRA_MAX_FANOUT,
            per_via=INFRA_PER_VIA,
            max_hosts=INFRA_MAX_PAIRS,
        )
        # As INFRASTRUCTURE: (indicator, host) pairs in id order, the first INFRA_MAX_PAIRS.
        for hit in sorted(hits, key=lambda h: h.via):
            if hit.via in listed:
                continue
            if pairs_left <= 0:
                break
            pairs_left -= 1
            if hit.hub:
                hubs.append({"id": hit.via, "name": index.name(hit.via), "reason": reason})
                continue
            followed[(x, hit.via)] = hit.followed
            for actor, past in hit.past.items():
                for i in past:
                    row = {"x": x, "y": hit.via, "i": i, "a": actor}
                    add(f"hosting_{hit.via_type}", actor, x, "infrastructure", row)
    reason = f"holds more than {ENRICH_MAX_MEMBERS} indicators"
    small = [node for node in sorted(enriched) if index.member_count(node) <= ENRICH_MAX_MEMBERS]
    hubs += [
        {"id": node, "name": index.name(node), "reason": reason}
        for node in sorted(set(enriched) - set(small))
    ]
    members = index.past_members_of(small, actor_ids, ENRICH_CONFIRM)
    for node in small:
        for actor, (past, total) in members.get(node, {}).items():
            path = {"a": actor, "x": node, "past": past, "in_model": total}
            add("enrichment", actor, node, "enrichment", path)

    def confirm(asked: list[PathOption]) -> list[dict[str, Any] | None]:
        """One round-trip of ``KNOWN`` over the asked paths; per path its row (an enrichment
        path's with the confirmed past indicators), or None."""
        params: dict[str, Any] = {"max_tlp": max_tlp}
        for k, o in enumerate(asked):
            if o.branch == "enrichment":
                rows_ = [
                    {"a": o.actor, "x": o.entity, "i": i, "k": k, "cs": campaigns(o.actor, i)}
                    for i in o.row["past"]
                ]
            elif o.branch.startswith("hosting_"):
                rows_ = [{**o.row, "k": k, "cs": campaigns(o.actor, o.row["i"])}]
            else:
                rows_ = [{**o.row, "k": k}]
            params.setdefault(o.branch, []).extend(rows_)
        found: list[dict[str, Any] | None] = [None] * len(asked)
        past: dict[int, set[str]] = {}
        for r in store.query(known_query(params), params, read_only=True):
            if r["revoked"]:
                continue
            k = r["k"]
            found[k] = found[k] or r
            if r["path_kind"] == "enrichment":
                past.setdefault(k, set()).add(r["past"])
        for k, ids in past.items():
            found[k] = {**(found[k] or {}), "count": len(ids)}
        return found

    def campaigns(actor: str, indicator: str) -> list[str]:
        return index.indicator_campaigns(actor, indicator, PAIR_CAMPAIGNS)

    rows: Rows = []
    for option, r in confirm_best(
        options, actor_ids, confirm, per_actor=per_actor, per_round=PATHS_PER_ROUND
    ):
        kind = r["path_kind"]
        if kind == "enrichment":
            total = option.row["in_model"]
            extra = {
                "new": enriched[option.entity],
                "in_model": total if total > ENRICH_CONFIRM else None,
            }
            rows.append((kind, {**r, **extra}))
        elif kind == "infrastructure":
            rows.append((kind, {**r, "followed": followed[(r["entity"], r["via_id"])]}))
        else:
            rows.append((kind, r))
    return rows, hubs


_NEW_VALUE = {"ipv4": "IP", "ipv6": "IP", "domain": "domain", "url": "URL", "email": "e-mail"}
_NODE_WORDS = {
    "network": "network",
    "as_org": "AS organisation",
    "registrable_domain": "registrable domain",
}


def _past_count(n: int, in_model: int | None) -> str:
    """How many of the actor's past indicators a node holds: ``n`` confirmed in the store, or,
    when only the first ``ENRICH_CONFIRM`` of the model's summary were confirmed, at least ``n``
    and the summary's own count (taken at the model's clearance, so never above the
    requester's)."""
    if in_model is None:
        return f"{n} of the actor's past indicator{'s' if n != 1 else ''}"
    return f"at least {n} of the actor's past indicators ({in_model} in the model's graph)"


def _path(kind: str, r: dict[str, Any]) -> list[str]:
    ent = f"{r['label']}:{r['name']}"
    actor = f"ThreatActor:{r.get('actor_name') or r['actor']}"
    if kind == "enrichment":
        # "new IP 203.0.113.7 -BELONGS_TO-> network 203.0.113.0/24 <-BELONGS_TO- 3 of the
        # actor's past indicators -INDICATES-> ThreatActor:..."
        new_kind, _, new_value = str(r["new"]).partition(":")
        n = r["count"]
        return [
            f"new {_NEW_VALUE.get(new_kind, new_kind)} {new_value}",
            "-BELONGS_TO->",
            f"{_NODE_WORDS.get(r.get('node_kind') or '', 'Infrastructure')} {r['name']}",
            "<-BELONGS_TO-",
            _past_count(n, r.get("in_model")),
            "-INDICATES->",
            actor,
        ]
    if kind == "direct":
        return [ent, f"<-{r['rel']}-", actor]
    if kind == "campaign":
        return [
            ent,
            f"<-{r['rel']}-",
            f"Campaign:{r['via_name'] or r['via_id']}",
            "-ATTRIBUTED_TO->",
            actor,
        ]
    if kind == "indicator":
        if r["via_id"]:
            return [
                ent,
                "-INDICATES->",
                f"Campaign:{r['via_name'] or r['via_id']}",
                "-ATTRIBUTED_TO->",
                actor,
            ]
        return [ent, "-INDICATES->", actor]
    via = str(r["via_name"])
    if r.get("followed", 0) >= INFRA_PER_VIA:
        via += f" (the first {INFRA_PER_VIA} indicators there followed; more not)"
    return [
        ent,
        "-RESOLVES_TO|HOSTED_ON->",
        via,
        "<-RESOLVES_TO|HOSTED_ON-",
        "Indicator",
        "-INDICATES->",
        "Campaign",
        "-ATTRIBUTED_TO->",
        actor,
    ]
