"""The Cypher behind the read endpoints (actors, campaigns, indicator pivots), and its runners.

Every statement is a module constant with ``$params``. TLP is enforced in the Cypher itself:
each node and relationship a statement returns or walks through is filtered with
``visible("x")`` (``coalesce(x.tlp_level, 0) <= $max_tlp``), so an object above the caller's
clearance is invisible (an actor above it answers 404, exactly like a missing one). Values
derived from marked data are read within the clearance too: an actor's country through its
visible origin (``graph.library.origin``), sightings through their levels
(``graph.formats.sightings``). The runners return plain dicts shaped for ``api.models``; they
return None for "not found" and leave HTTP to the routes.
"""

from __future__ import annotations

from typing import Any

from actorgraph.graph.formats.sightings import visible_sightings
from actorgraph.graph.library.origin import origin, origins
from actorgraph.graph.store import GraphStore, Row
from actorgraph.graph.tlp import visible, visible_all

_HIDDEN_PROPERTIES = frozenset({"name_lc", "aliases_lc"})

# Actors matching $q and, by their origin as the caller sees it, $country.
_MATCH_ACTORS = f"""
MATCH (a:ThreatActor)
WHERE {visible("a")}
  AND ($q IS NULL OR toLower(a.name) CONTAINS $q
       OR any(alias IN coalesce(a.aliases, []) WHERE toLower(alias) CONTAINS $q)
       OR toLower(coalesce(a.external_id, '')) = $q)
WITH a, {origin("a")} AS origin
WHERE $country IS NULL OR origin.code = $country
"""

SEARCH_ACTORS = (
    _MATCH_ACTORS
    + """
RETURN a.id AS id, a.name AS name, coalesce(a.aliases, []) AS aliases,
       origin.code AS country, a.external_id AS external_id
ORDER BY toLower(a.name), a.id
SKIP $offset LIMIT $limit
"""
)

COUNT_ACTORS = _MATCH_ACTORS + "RETURN count(a) AS count\n"

ACTOR = f"""
MATCH (a:ThreatActor {{id: $id}})
WHERE {visible("a")}
RETURN properties(a) AS props, {origin("a")} AS origin, {origins("a")} AS origins
"""

ACTOR_CAMPAIGNS = f"""
MATCH (c:Campaign)-[r:ATTRIBUTED_TO]->(a:ThreatActor {{id: $id}})
WHERE {visible_all("a", "r")}
  AND {visible("c")}
RETURN c.id AS id, c.name AS name, c.external_id AS external_id, c.first_seen AS first_seen,
       c.last_seen AS last_seen, r.confidence AS confidence
ORDER BY coalesce(c.first_seen, '') DESC, c.id
LIMIT $limit
"""

# What the actor uses, directly or through a campaign attributed to it.
ACTOR_USES = f"""
MATCH (a:ThreatActor {{id: $id}})-[u:USES]->(x)
WHERE {visible_all("a", "u")}
  AND {visible("x")} AND (x:Malware OR x:Tool OR x:Infrastructure)
RETURN labels(x)[0] AS label, x.id AS id, x.name AS name, x.external_id AS external_id,
       x.kind AS kind, x.value AS value, 'direct' AS via
UNION ALL
MATCH (a:ThreatActor {{id: $id}})<-[r:ATTRIBUTED_TO]-(c:Campaign)-[u:USES]->(x)
WHERE {visible_all("a", "r")}
  AND {visible_all("c", "u")}
  AND {visible("x")} AND (x:Malware OR x:Tool OR x:Infrastructure)
RETURN labels(x)[0] AS label, x.id AS id, x.name AS name, x.external_id AS external_id,
       x.kind AS kind, x.value AS value, c.id AS via
"""

# Techniques of the actor and its campaigns, rarest first: `actors` counts the visible actors
# that use the technique directly, so a technique only this actor uses comes first.
ACTOR_TECHNIQUES = f"""
MATCH (a:ThreatActor {{id: $id}})
WHERE {visible("a")}
CALL {{
  WITH a
  MATCH (a)-[u:USES]->(t:Technique)
  WHERE {visible_all("u", "t")}
  RETURN t
  UNION
  WITH a
  MATCH (a)<-[r:ATTRIBUTED_TO]-(c:Campaign)-[u:USES]->(t:Technique)
  WHERE {visible_all("r", "c")}
    AND {visible_all("u", "t")}
  RETURN t
}}
WITH DISTINCT t
OPTIONAL MATCH (o:ThreatActor)-[u2:USES]->(t)
WHERE {visible_all("o", "u2")}
WITH t, count(DISTINCT o) AS actors
RETURN t.id AS id, t.external_id AS external_id, t.name AS name, t.tactics AS tactics, actors
ORDER BY actors ASC, t.external_id
LIMIT $limit
"""

# Indicators that point at the actor or at one of its campaigns.
_ACTOR_INDICATORS = f"""
MATCH (a:ThreatActor {{id: $id}})
WHERE {visible("a")}
CALL {{
  WITH a
  MATCH (i:Indicator)-[r:INDICATES]->(a)
  WHERE {visible_all("r", "i")}
  RETURN i, 'direct' AS via
  UNION
  WITH a
  MATCH (i:Indicator)-[r1:INDICATES]->(c:Campaign)-[r2:ATTRIBUTED_TO]->(a)
  WHERE {visible_all("r1", "c")}
    AND {visible_all("r2", "i")}
  RETURN i, c.id AS via
}}
"""

ACTOR_INDICATORS = (
    _ACTOR_INDICATORS
    + """
RETURN i.id AS id, i.kind AS kind, i.value AS value, i.first_seen AS first_seen,
       i.last_seen AS last_seen, via
ORDER BY coalesce(i.last_seen, i.valid_from, i.first_seen, i.created, '') DESC, i.id
LIMIT $limit
"""
)

# Infrastructure behind the actor's indicators (hosting, registrars, name servers). The hop to
# the infrastructure sits inside each branch: FalkorDB 4.16 does not bind a variable returned
# by a CALL {} UNION subquery in a MATCH that follows it, so `CALL {...} MATCH (i)-->(x)`
# silently matched every indicator of the graph (and ignored their TLP).
ACTOR_INFRASTRUCTURE = f"""
MATCH (a:ThreatActor {{id: $id}})
WHERE {visible("a")}
CALL {{
  WITH a
  MATCH (i:Indicator)-[r:INDICATES]->(a)
  MATCH (i)-[h:HOSTED_ON|REGISTERED_WITH|USES_NAMESERVER]->(x:Infrastructure)
  WHERE {visible_all("r", "i")}
    AND {visible_all("h", "x")}
  RETURN i, h, x
  UNION
  WITH a
  MATCH (i:Indicator)-[r1:INDICATES]->(c:Campaign)-[r2:ATTRIBUTED_TO]->(a)
  MATCH (i)-[h:HOSTED_ON|REGISTERED_WITH|USES_NAMESERVER]->(x:Infrastructure)
  WHERE {visible_all("r1", "c")}
    AND {visible_all("r2", "i")}
    AND {visible_all("h", "x")}
  RETURN i, h, x
}}
RETURN x.id AS id, x.kind AS kind, coalesce(x.name, x.value) AS name, type(h) AS relationship,
       count(DISTINCT i) AS indicators
ORDER BY indicators DESC, x.id
LIMIT $limit
"""

ACTOR_REPORTS = f"""
MATCH (a:ThreatActor {{id: $id}})-[r:REPORTED_IN]->(rep:Report)
WHERE {visible_all("a", "r")}
  AND {visible("rep")}
RETURN rep.id AS id, rep.name AS name, rep.published AS published, rep.url AS url
ORDER BY coalesce(rep.published, '') DESC
LIMIT $limit
"""

CAMPAIGN = f"""
MATCH (c:Campaign {{id: $id}})
WHERE {visible("c")}
RETURN properties(c) AS props
"""

# Attributions and the model's hypotheses, side by side.
CAMPAIGN_ACTORS = f"""
MATCH (c:Campaign {{id: $id}})-[r:ATTRIBUTED_TO|PREDICTED_ACTOR]->(a:ThreatActor)
WHERE {visible_all("c", "r")}
  AND {visible("a")}
RETURN type(r) AS relationship, a.id AS id, a.name AS name, ({origin("a")}).code AS country,
       r.confidence AS confidence, r.score AS score, r.rank AS rank,
       r.model_version AS model_version
ORDER BY relationship, coalesce(r.rank, 0), a.name
LIMIT $limit
"""

CAMPAIGN_LINKS = f"""
MATCH (c:Campaign {{id: $id}})-[r:USES|TARGETS]->(x)
WHERE {visible_all("c", "r")}
  AND {visible("x")}
RETURN type(r) AS relationship, labels(x)[0] AS label, x.id AS id,
       coalesce(x.name, x.value) AS name, x.external_id AS external_id, x.kind AS kind
ORDER BY relationship, label, name
LIMIT $limit
"""

CAMPAIGN_INDICATORS = f"""
MATCH (i:Indicator)-[r:INDICATES]->(c:Campaign {{id: $id}})
WHERE {visible_all("c", "r")}
  AND {visible("i")}
RETURN i.id AS id, i.kind AS kind, i.value AS value, i.first_seen AS first_seen,
       i.last_seen AS last_seen
ORDER BY coalesce(i.last_seen, i.first_seen, '') DESC, i.id
LIMIT $limit
"""

# The indicator and what it touches, in one round trip.
INDICATOR = f"""
MATCH (i:Indicator {{id: $id}})
WHERE {visible("i")}
OPTIONAL MATCH (i)-[r]-(n)
WHERE {visible_all("r", "n")}
WITH i, r, n
ORDER BY type(r), labels(n)[0], n.id
WITH i, collect(CASE WHEN n IS NULL THEN NULL ELSE
       {{relationship: type(r), outgoing: startNode(r).id = i.id, label: labels(n)[0],
        id: n.id, name: coalesce(n.name, n.value), kind: n.kind}} END) AS neighbours
RETURN properties(i) AS props, neighbours[0..$limit] AS neighbours
"""


# The ways an indicator leads to an actor, shortest first. Explicit directed patterns rather
# than an undirected variable-length walk: a walk also reaches every actor that shares a
# commodity tool or technique with the indicator's campaign, which is noise, not a pivot, and
# is much slower.
_PIVOT_BRANCHES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("(i)-[r1:INDICATES]->(a:ThreatActor)", ("r1", "a")),
    (
        "(i)-[r1:INDICATES]->(c:Campaign)-[r2:ATTRIBUTED_TO]->(a:ThreatActor)",
        ("r1", "c", "r2", "a"),
    ),
    ("(i)-[r1:INDICATES]->(m:Malware)<-[r2:USES]-(a:ThreatActor)", ("r1", "m", "r2", "a")),
    ("(i)-[r1:RESOLVES_TO]-(j:Indicator)-[r2:INDICATES]->(a:ThreatActor)", ("r1", "j", "r2", "a")),
    (
        "(i)-[r1:RESOLVES_TO]-(j:Indicator)-[r2:INDICATES]->(c:Campaign)-[r3:ATTRIBUTED_TO]->(a:ThreatActor)",
        ("r1", "j", "r2", "c", "r3", "a"),
    ),
    ("(i)<-[r1:CONSISTS_OF]-(x:Infrastructure)<-[r2:USES]-(a:ThreatActor)", ("r1", "x", "r2", "a")),
    (
        "(i)<-[r1:CONSISTS_OF]-(x:Infrastructure)<-[r2:USES]-(c:Campaign)-[r3:ATTRIBUTED_TO]->(a:ThreatActor)",
        ("r1", "x", "r2", "c", "r3", "a"),
    ),
)

INDICATOR_ACTOR_PATHS = (
    "MATCH (i:Indicator {id: $id})\n"
    f"WHERE {visible('i')}\n"
    "CALL {\n"
    + "\n  UNION ALL\n".join(
        f"  WITH i MATCH p = {pattern} WHERE {visible_all(*names)} RETURN p LIMIT $limit"
        for pattern, names in _PIVOT_BRANCHES
    )
    + "\n}\n"
    "WITH p, last(nodes(p)) AS a\n"
    f"RETURN a.id AS actor_id, a.name AS actor_name, ({origin('a')}).code AS country,\n"
    "       length(p) AS hops,\n"
    "       [n IN nodes(p) | {label: labels(n)[0], id: n.id, name: coalesce(n.name, n.value)}]"
    " AS nodes,\n"
    "       [r IN relationships(p) | type(r)] AS relationships\n"
    "LIMIT $limit"
)


def _clean(props: dict[str, Any], max_tlp: int) -> dict[str, Any]:
    """A node's properties as the caller may read them: sightings within clearance only."""
    return {
        k: v for k, v in visible_sightings(props, max_tlp).items() if k not in _HIDDEN_PROPERTIES
    }


def _actor(row: Row, max_tlp: int) -> dict[str, Any]:
    """An actor's properties with its origin as the caller sees it (never the stored one)."""
    actor = _clean(row["props"], max_tlp)
    actor.pop("country", None)
    actor.pop("country_source", None)
    if row["origin"]:
        actor["country"], actor["country_source"] = row["origin"]["code"], row["origin"]["source"]
    # Every visible claim with its source: two countries here are sources that disagree.
    actor["origins"] = sorted(row.get("origins") or [], key=lambda o: o["code"])
    return actor


def _run(store: GraphStore, cypher: str, timeout_ms: int | None, **params: Any) -> list[Row]:
    return store.query(cypher, params, read_only=True, timeout_ms=timeout_ms)


def search_actors(
    store: GraphStore,
    *,
    q: str | None,
    country: str | None,
    max_tlp: int,
    limit: int,
    offset: int,
    timeout_ms: int | None = None,
) -> tuple[list[Row], int]:
    """Actors whose name, alias or ATT&CK id matches ``q`` (case-insensitive substring).

    Returns:
        One page of actor summaries and the total number of matches.
    """
    params = {
        "q": q.strip().lower() if q and q.strip() else None,
        "country": country.strip().upper() if country and country.strip() else None,
        "max_tlp": max_tlp,
    }
    rows = _run(store, SEARCH_ACTORS, timeout_ms, limit=limit, offset=offset, **params)
    total = _run(store, COUNT_ACTORS, timeout_ms, **params)[0]["count"]
    return rows, int(total)


def actor_profile(
    store: GraphStore,
    actor_id: str,
    *,
    max_tlp: int,
    limit: int = 25,
    timeout_ms: int | None = None,
) -> dict[str, Any] | None:
    """Everything an analyst reads first about one actor, or None if not visible."""
    found = _run(store, ACTOR, timeout_ms, id=actor_id, max_tlp=max_tlp)
    if not found:
        return None
    args = {"id": actor_id, "max_tlp": max_tlp, "limit": limit}
    used: dict[str, dict[str, Any]] = {}
    for row in _run(store, ACTOR_USES, timeout_ms, id=actor_id, max_tlp=max_tlp):
        entry = used.setdefault(
            row["id"], {**{k: v for k, v in row.items() if k != "via"}, "via": []}
        )
        if row["via"] not in entry["via"]:
            entry["via"].append(row["via"])
    by_label: dict[str, list[dict[str, Any]]] = {"Malware": [], "Tool": [], "Infrastructure": []}
    for entry in sorted(used.values(), key=lambda e: (-len(e["via"]), str(e.get("name")))):
        by_label[entry.pop("label")].append(entry)
    return {
        "actor": _actor(found[0], max_tlp),
        "campaigns": _run(store, ACTOR_CAMPAIGNS, timeout_ms, **args),
        "malware": by_label["Malware"][:limit],
        "tools": by_label["Tool"][:limit],
        "techniques": _run(store, ACTOR_TECHNIQUES, timeout_ms, **args),
        "infrastructure": by_label["Infrastructure"][:limit]
        + _run(store, ACTOR_INFRASTRUCTURE, timeout_ms, **args),
        "indicators": _run(store, ACTOR_INDICATORS, timeout_ms, **args),
        "reports": _run(store, ACTOR_REPORTS, timeout_ms, **args),
    }


def campaign_profile(
    store: GraphStore,
    campaign_id: str,
    *,
    max_tlp: int,
    limit: int = 50,
    timeout_ms: int | None = None,
) -> dict[str, Any] | None:
    """A campaign with its attributions, hypotheses, what it used and targeted, its indicators."""
    found = _run(store, CAMPAIGN, timeout_ms, id=campaign_id, max_tlp=max_tlp)
    if not found:
        return None
    args = {"id": campaign_id, "max_tlp": max_tlp, "limit": limit}
    actors = _run(store, CAMPAIGN_ACTORS, timeout_ms, **args)
    links = _run(store, CAMPAIGN_LINKS, timeout_ms, **args)
    return {
        "campaign": _clean(found[0]["props"], max_tlp),
        "attributed_to": [r for r in actors if r["relationship"] == "ATTRIBUTED_TO"],
        "hypotheses": [r for r in actors if r["relationship"] == "PREDICTED_ACTOR"],
        "uses": [r for r in links if r["relationship"] == "USES"],
        "targets": [r for r in links if r["relationship"] == "TARGETS"],
        "indicators": _run(store, CAMPAIGN_INDICATORS, timeout_ms, **args),
    }


def indicator_pivot(
    store: GraphStore,
    indicator_id: str,
    *,
    max_tlp: int,
    limit: int = 50,
    timeout_ms: int | None = None,
) -> dict[str, Any] | None:
    """What one indicator touches and the paths from it to actors, or None if not visible."""
    args = {"id": indicator_id, "max_tlp": max_tlp, "limit": limit}
    found = _run(store, INDICATOR, timeout_ms, **args)
    if not found:
        return None
    paths = sorted(
        _run(store, INDICATOR_ACTOR_PATHS, timeout_ms, **args),
        key=lambda p: (p["hops"], p["actor_name"] or "", p["actor_id"]),
    )
    actors: dict[str, dict[str, Any]] = {}
    for path in paths:
        entry = actors.setdefault(
            path["actor_id"],
            {
                "id": path["actor_id"],
                "name": path["actor_name"],
                "country": path["country"],
                "paths": 0,
                "shortest": path["hops"],
            },
        )
        entry["paths"] += 1
        entry["shortest"] = min(entry["shortest"], path["hops"])
    return {
        "indicator": _clean(found[0]["props"], max_tlp),
        "neighbours": found[0]["neighbours"],
        "actors": sorted(
            actors.values(), key=lambda e: (e["shortest"], -e["paths"], e["name"] or "")
        ),
        "paths": paths,
    }
