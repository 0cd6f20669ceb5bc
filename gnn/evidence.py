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
infrastructure): a path or a count never depends on what the requester may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from actorgraph.graph.schema import label as schema_label
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import visible, visible_all

# Every node and relationship of a variable-length path ``p`` passes the clearance test.
_PATH_VISIBLE = (
    f"all(n IN nodes(p) WHERE {visible('n')}) AND all(q IN relationships(p) WHERE {visible('q')})"
)

# Shared by all attributions of the process; the store client is thread-safe (connection pool).
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="evidence")

DIRECT = f"""
UNWIND $actors AS aid
MATCH (a:ThreatActor {{id: aid}})-[r:USES|TARGETS]->(x)
WHERE x.id IN $ids AND {visible_all("a", "r", "x")}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, labels(x)[0] AS label,
       coalesce(x.name, x.value, x.id) AS name, type(r) AS rel, null AS via_id, null AS via_name
LIMIT 2000
"""

CAMPAIGN = f"""
UNWIND $actors AS aid
MATCH (a:ThreatActor {{id: aid}})<-[t:ATTRIBUTED_TO]-(c:Campaign)-[r:USES|TARGETS]->(x)
WHERE x.id IN $ids AND {visible_all("a", "t", "c")}
      AND {visible_all("r", "x")}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, labels(x)[0] AS label,
       coalesce(x.name, x.value, x.id) AS name, type(r) AS rel, c.id AS via_id, c.name AS via_name
LIMIT 2000
"""

INDICATOR = f"""
UNWIND $actors AS aid
MATCH (a:ThreatActor {{id: aid}})<-[t:ATTRIBUTED_TO]-(c:Campaign)<-[r:INDICATES]-(x:Indicator)
WHERE x.id IN $ids AND {visible_all("a", "t", "c")}
      AND {visible_all("r", "x")}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label, x.value AS name,
       'INDICATES' AS rel, c.id AS via_id, c.name AS via_name
LIMIT 2000
UNION
UNWIND $actors AS aid
MATCH (a:ThreatActor {{id: aid}})<-[r:INDICATES]-(x:Indicator)
WHERE x.id IN $ids AND {visible_all("a", "r", "x")}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label, x.value AS name,
       'INDICATES' AS rel, null AS via_id, null AS via_name
LIMIT 2000
"""

# Shared infrastructure with a large fan-out (a CDN's ASN, a public VPS range, a sinkhole) links
# everything to everything: it is not evidence, and walking back from it cost ~1 s per
# attribution on a 30k-indicator graph. Nodes above $max_fanout inbound links are skipped; the
# fan-out counts only visible links, so hidden ones cannot suppress a path.
INFRASTRUCTURE = f"""
MATCH p = (x:Indicator)-[:RESOLVES_TO|HOSTED_ON*1..2]->(y)
WHERE x.id IN $ids AND NOT y.id IN $hubs AND {_PATH_VISIBLE}
WITH DISTINCT x, y
WITH x, y, size([(y)<-[l:RESOLVES_TO|HOSTED_ON]-(z) WHERE {visible_all("l", "z")} | z]) AS fanout
WHERE fanout <= $max_fanout
MATCH p = (y)<-[:RESOLVES_TO|HOSTED_ON*1..2]-(i:Indicator),
      (i)-[r:INDICATES]->(c:Campaign)-[t:ATTRIBUTED_TO]->(a:ThreatActor)
WHERE a.id IN $actors AND i.id <> x.id AND {_PATH_VISIBLE}
      AND {visible_all("r", "c", "t", "a")}
RETURN DISTINCT a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label,
       x.value AS name, 'SHARES_INFRASTRUCTURE' AS rel, y.id AS via_id,
       coalesce(y.name, y.value, y.id) AS via_name
LIMIT 500
"""

INFRA_MAX_FANOUT = 50

# The actor's past indicators in a network, AS organisation or registrable domain that a new
# indicator's enrichment names (through the actor's campaigns, or indicating it directly); the
# caller counts distinct indicators per (actor, node).
ENRICHMENT = f"""
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (e:Infrastructure {{id: p.x}})
MATCH (i:Indicator)-[b:BELONGS_TO]->(e)
MATCH (i)-[r:INDICATES]->(c:Campaign)-[t:ATTRIBUTED_TO]->(a)
WHERE {visible_all("a", "e", "b", "i")} AND {visible_all("r", "c", "t")}
RETURN a.id AS actor, a.name AS actor_name, e.id AS entity, e.name AS name, e.kind AS node_kind,
       i.id AS past
LIMIT 5000
UNION ALL
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (e:Infrastructure {{id: p.x}})
MATCH (i:Indicator)-[b:BELONGS_TO]->(e)
MATCH (i)-[r:INDICATES]->(a)
WHERE {visible_all("a", "e", "b", "i", "r")}
RETURN a.id AS actor, a.name AS actor_name, e.id AS entity, e.name AS name, e.kind AS node_kind,
       i.id AS past
LIMIT 5000
"""

# Shortlisted (actor, entity) pairs, one query per entity label: both ends are index look-ups,
# so the engine only walks the actor's campaigns, not everything it uses (measured on the
# demo graph: 20-40 ms for the open CAMPAIGN query above, a few ms for this).
PAIRS = """
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:{label} {{id: p.x}})
MATCH (a)-[r:USES|TARGETS]->(x)
WHERE {vis_a} AND {vis_x} AND {vis_r}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, '{name}' AS label,
       coalesce(x.name, x.value, x.id) AS name, type(r) AS rel, null AS via_id, null AS via_name,
       'direct' AS path_kind
UNION ALL
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:{label} {{id: p.x}})
MATCH (a)<-[t:ATTRIBUTED_TO]-(c:Campaign)-[r:USES|TARGETS]->(x)
WHERE {vis_a} AND {vis_x} AND {vis_c} AND {vis_r} AND {vis_t}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, '{name}' AS label,
       coalesce(x.name, x.value, x.id) AS name, type(r) AS rel, c.id AS via_id, c.name AS via_name,
       'campaign' AS path_kind
"""
PAIRS_INDICATOR = """
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:Indicator {{id: p.x}})
MATCH (x)-[r:INDICATES]->(c:Campaign)-[t:ATTRIBUTED_TO]->(a)
WHERE {vis_a} AND {vis_x} AND {vis_c} AND {vis_r} AND {vis_t}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label, x.value AS name,
       'INDICATES' AS rel, c.id AS via_id, c.name AS via_name, 'indicator' AS path_kind
UNION ALL
UNWIND $pairs AS p
MATCH (a:ThreatActor {{id: p.a}})
MATCH (x:Indicator {{id: p.x}})
MATCH (x)-[r:INDICATES]->(a)
WHERE {vis_a} AND {vis_x} AND {vis_r}
RETURN a.id AS actor, a.name AS actor_name, x.id AS entity, 'Indicator' AS label, x.value AS name,
       'INDICATES' AS rel, null AS via_id, null AS via_name, 'indicator' AS path_kind
"""
_VIS = {f"vis_{v}": visible(v) for v in ("a", "x", "c", "r", "t")}


def pair_query(label: str) -> str:
    """The pair query for one entity label (whitelisted: labels cannot be parameters)."""
    name = label.strip("`")
    if name == "Indicator":
        return PAIRS_INDICATOR.format(**_VIS)
    return PAIRS.format(label=schema_label(name), name=name, **_VIS)


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

    Returns:
        Items ``{"actor_id", "kind", "entity": {"id", "label", "name"}, "input", "path",
        "weight", "actors_sharing", "hub"}``; ``path`` is a readable list of steps.
    """
    params = {"actors": actor_ids, "max_tlp": max_tlp}
    rows: list[tuple[str, dict[str, Any]]] = []
    if shortlist is None:
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
            rows += pending.result()
        infra = []
    if infra:
        rows += _infrastructure(store, params, infra, rarity)
    if enriched:
        rows += _enrichment(store, actor_ids, enriched, max_tlp)
    inputs = {**(enriched or {}), **matched}
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, r in rows:
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


def _infrastructure(
    store: GraphStore,
    params: dict[str, Any],
    ids: list[str],
    rarity: Callable[[str], dict[str, Any]],
) -> list[tuple[str, dict[str, Any]]]:
    hubs = [i for i in ids if rarity(i).get("hub")]
    found = store.query(
        INFRASTRUCTURE,
        {**params, "ids": ids, "hubs": hubs, "max_fanout": INFRA_MAX_FANOUT},
        read_only=True,
    )
    return [("infrastructure", r) for r in found]


_KIND_OF_PATH = {"infrastructure": "shared_infrastructure", "enrichment": "enrichment"}


def _enrichment(
    store: GraphStore, actor_ids: list[str], enriched: dict[str, str], max_tlp: int
) -> list[tuple[str, dict[str, Any]]]:
    """One row per (actor, enrichment node) holding some of the actor's past indicators, with
    how many (``count``) and the new value that reached the node (``new``)."""
    pairs = [{"a": a, "x": x} for a in actor_ids for x in sorted(enriched)]
    found = store.query(ENRICHMENT, {"pairs": pairs, "max_tlp": max_tlp}, read_only=True)
    past: dict[tuple[str, str], set[str]] = {}
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for r in found:
        key = (r["actor"], r["entity"])
        past.setdefault(key, set()).add(r["past"])
        first.setdefault(key, r)
    return [
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


_NEW_VALUE = {"ipv4": "IP", "ipv6": "IP", "domain": "domain", "url": "URL", "email": "e-mail"}
_NODE_WORDS = {
    "network": "network",
    "as_org": "AS organisation",
    "registrable_domain": "registrable domain",
}


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
            f"{n} of the actor's past indicator{'s' if n != 1 else ''}",
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
    return [
        ent,
        "-RESOLVES_TO|HOSTED_ON->",
        f"{r['via_name']}",
        "<-RESOLVES_TO|HOSTED_ON-",
        "Indicator",
        "-INDICATES->",
        "Campaign",
        "-ATTRIBUTED_TO->",
        actor,
    ]
