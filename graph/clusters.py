"""Clusters of activity no known actor confidently explains, for an analyst to name.

The campaigns considered are those without a visible ``ATTRIBUTED_TO`` claim whose best
``PREDICTED_ACTOR`` hypothesis scores below a threshold (or that have none). Two of them are
linked when they share evidence: indicators, the infrastructure those indicators resolve to,
are hosted on or registered with, and the malware, tools and infrastructure they use. A shared
entity weighs ``log(N / df)`` (``N`` visible campaigns, attributed or not, ``df`` of them linked
to it); evidence in more than ``max_df_share`` of all campaigns (a CDN's name servers, a popular
registrar) and software more than ``max_software_users`` known actors use (commodity malware,
public tools) are hubs and link nothing. Two campaigns first seen within ``window_days`` of each
other have their link strengthened, and links below ``min_link`` are dropped. Louvain community
detection (networkx) splits that graph into clusters. Each cluster comes with the evidence its
campaigns share and the known actors whose own evidence overlaps it most.

Everything read is visible at the reader's clearance, ``max_tlp``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from actorgraph.graph.schema import label
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, visible, visible_all

__all__ = ["CANDIDATES", "Cluster", "ClusterConfig", "find_clusters", "score_clusters"]

CANDIDATES = f"""
MATCH (c:Campaign)
WHERE {visible("c")}
OPTIONAL MATCH (c)-[t:ATTRIBUTED_TO]->(a:ThreatActor)
WHERE {visible_all("t", "a")}
WITH c, count(t) AS claims
WHERE claims = 0
OPTIONAL MATCH (c)-[p:PREDICTED_ACTOR]->(x:ThreatActor)
WHERE {visible_all("p", "x")}
WITH c, max(p.score) AS best
WHERE best IS NULL OR best < $threshold
RETURN c.id AS id, c.name AS name, c.first_seen AS first_seen,
       c.first_seen_epoch AS first_seen_epoch, best
ORDER BY id
LIMIT $limit
"""

# Software many known actors use (commodity malware, public tools) says nothing about who.
SOFTWARE_USERS = f"""
MATCH (a:ThreatActor)-[r:USES]->(e)
WHERE (e:Malware OR e:Tool) AND {visible_all("a", "r", "e")}
RETURN e.id AS eid, count(DISTINCT a) AS actors
"""

ALL_CAMPAIGNS = f"""
MATCH (c:Campaign)
WHERE {visible("c")}
RETURN c.id AS id
"""
EVIDENCE_BATCH = 1000

# The evidence of each campaign: what it uses, the indicators of it, and the infrastructure
# one step from those indicators. Each part finds the campaign by its id first (``WITH``):
# written as one pattern, FalkorDB starts from the far end and runs 100-1000 times slower.
EVIDENCE = f"""
UNWIND $ids AS cid
MATCH (c:Campaign {{id: cid}})
WITH c, cid
MATCH (c)-[r:USES]->(e)
WHERE (e:Malware OR e:Tool OR e:Infrastructure) AND {visible_all("r", "e")}
RETURN cid, e.id AS eid, labels(e)[0] AS label, coalesce(e.name, e.value, e.id) AS name
UNION
UNWIND $ids AS cid
MATCH (c:Campaign {{id: cid}})
WITH c, cid
MATCH (c)<-[r:INDICATES]-(e:Indicator)
WHERE {visible_all("r", "e")}
RETURN cid, e.id AS eid, labels(e)[0] AS label, coalesce(e.value, e.id) AS name
UNION
UNWIND $ids AS cid
MATCH (c:Campaign {{id: cid}})
WITH c, cid
MATCH (c)<-[r:INDICATES]-(i:Indicator)
WHERE {visible_all("r", "i")}
WITH cid, i
MATCH (i)-[h:RESOLVES_TO|HOSTED_ON|REGISTERED_WITH|USES_NAMESERVER|PRESENTS_CERT|BELONGS_TO]->(e)
WHERE {visible_all("h", "e")}
RETURN cid, e.id AS eid, labels(e)[0] AS label, coalesce(e.name, e.value, e.id) AS name
"""

# The known actors linked to some of these entities: by their own USES or through a campaign
# attributed to them (the label is whitelisted by graph.schema.label and formatted in: Cypher
# cannot take it as a parameter) ...
ACTORS_USING = f"""
UNWIND $eids AS eid
MATCH (a:ThreatActor)-[r:USES]->(e:{{label}} {{{{id: eid}}}})
WHERE {visible_all("a", "r", "e")}
RETURN eid, a.id AS aid, a.name AS name
UNION
UNWIND $eids AS eid
MATCH (a:ThreatActor)<-[t:ATTRIBUTED_TO]-(c:Campaign)-[r:USES]->(e:{{label}} {{{{id: eid}}}})
WHERE {visible_all("a", "t", "c", "r", "e")}
RETURN eid, a.id AS aid, a.name AS name
"""
# ... and for indicators, through a campaign attributed to them or an indicator of them.
ACTORS_INDICATED = f"""
UNWIND $eids AS eid
MATCH (a:ThreatActor)<-[t:ATTRIBUTED_TO]-(c:Campaign)<-[r:INDICATES]-(e:Indicator {{id: eid}})
WHERE {visible_all("a", "t", "c", "r", "e")}
RETURN eid, a.id AS aid, a.name AS name
UNION
UNWIND $eids AS eid
MATCH (a:ThreatActor)<-[r:INDICATES]-(e:Indicator {{id: eid}})
WHERE {visible_all("a", "r", "e")}
RETURN eid, a.id AS aid, a.name AS name
"""

DAY_S = 86_400


@dataclass(frozen=True)
class ClusterConfig:
    """How clusters are found.

    Attributes:
        threshold: campaigns whose best hypothesis scores below this count as unexplained.
        min_size: smaller groups are not proposed.
        window_days: campaigns first seen this close together have their link strengthened.
        time_boost: the factor applied to such a link.
        max_df_share: evidence found in more than this share of all campaigns is a hub (a
            popular registrar, a CDN's name servers) and links nothing.
        max_software_users: malware or a tool that more known actors use is commodity and
            links nothing.
        min_link: links weaker than this are dropped (about one shared entity that fewer than
            a third of all campaigns have), so a campaign tied only by hubs stays alone.
        resolution: Louvain's resolution (above 1: smaller clusters).
        seed: Louvain's random seed (same seed, same clusters).
        limit: the most campaigns considered.
    """

    threshold: float = 0.5
    min_size: int = 2
    window_days: int = 30
    time_boost: float = 1.5
    max_df_share: float = 0.05
    max_software_users: int = 2
    min_link: float = 1.0
    resolution: float = 1.0
    seed: int = 0
    limit: int = 5000


@dataclass
class Cluster:
    """A proposed cluster: its campaigns, what they share, the nearest known actors."""

    campaigns: list[dict[str, Any]]
    shared: list[dict[str, Any]] = field(default_factory=list)
    nearest_actors: list[dict[str, Any]] = field(default_factory=list)
    first_seen: str | None = None
    last_seen: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "size": len(self.campaigns),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "campaigns": self.campaigns,
            "shared": self.shared,
            "nearest_actors": self.nearest_actors,
        }


def find_clusters(
    store: GraphStore, *, max_tlp: int, config: ClusterConfig | None = None
) -> tuple[list[Cluster], int]:
    """Group the unexplained campaigns visible at ``max_tlp`` into clusters.

    Returns:
        The clusters, largest first, and the number of unexplained campaigns considered.
    """
    config = config or ClusterConfig()
    level = int(TLP.parse(max_tlp))
    rows = store.query(
        CANDIDATES,
        {"max_tlp": level, "threshold": config.threshold, "limit": config.limit},
        read_only=True,
    )
    campaigns = {r["id"]: r for r in rows}
    if len(campaigns) < config.min_size:
        return [], len(campaigns)
    # Rarity is measured over every visible campaign, attributed or not: a registrar that a
    # hundred known campaigns use is a hub even if only two unexplained ones do.
    every = [r["id"] for r in store.query(ALL_CAMPAIGNS, {"max_tlp": level}, read_only=True)]
    evidence: dict[str, set[str]] = defaultdict(set)
    names: dict[str, tuple[str, str]] = {}
    for start in range(0, len(every), EVIDENCE_BATCH):
        ids = every[start : start + EVIDENCE_BATCH]
        for r in store.query(EVIDENCE, {"ids": ids, "max_tlp": level}, read_only=True):
            evidence[r["cid"]].add(r["eid"])
            names[r["eid"]] = (r["label"], str(r["name"]))
    df = Counter(e for ents in evidence.values() for e in ents)
    shared = Counter(e for cid in campaigns for e in evidence.get(cid, ()))
    users = {
        r["eid"]: r["actors"]
        for r in store.query(SOFTWARE_USERS, {"max_tlp": level}, read_only=True)
    }
    most = max(2, config.max_df_share * len(every))
    weight = {
        e: math.log(len(every) / df[e])
        for e, k in shared.items()
        if k > 1 and df[e] <= most and users.get(e, 0) <= config.max_software_users
    }
    n = len(campaigns)
    graph = _link(campaigns, evidence, weight, config)
    groups = nx.community.louvain_communities(
        graph, weight="weight", resolution=config.resolution, seed=config.seed
    )
    clusters = [
        _describe(sorted(g), campaigns, evidence, weight, names)
        for g in groups
        if len(g) >= config.min_size
    ]
    _nearest_actors(store, clusters, evidence, weight, names, level)
    clusters.sort(key=lambda c: (-len(c.campaigns), c.campaigns[0]["id"]))
    return clusters, n


def _link(
    campaigns: dict[str, dict[str, Any]],
    evidence: dict[str, set[str]],
    weight: dict[str, float],
    config: ClusterConfig,
) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(campaigns)
    by_entity: dict[str, list[str]] = defaultdict(list)
    for cid in sorted(campaigns):
        for e in evidence.get(cid, ()):
            if e in weight:
                by_entity[e].append(cid)
    links: dict[tuple[str, str], float] = defaultdict(float)
    for e, cids in by_entity.items():
        for i, a in enumerate(cids):
            for b in cids[i + 1 :]:
                links[(a, b)] += weight[e]
    for (a, b), w in links.items():
        ta, tb = campaigns[a].get("first_seen_epoch"), campaigns[b].get("first_seen_epoch")
        close = ta is not None and tb is not None and abs(ta - tb) <= config.window_days * DAY_S
        w *= config.time_boost if close else 1.0
        if w >= config.min_link:
            graph.add_edge(a, b, weight=w)
    return graph


def _describe(
    members: list[str],
    campaigns: dict[str, dict[str, Any]],
    evidence: dict[str, set[str]],
    weight: dict[str, float],
    names: dict[str, tuple[str, str]],
) -> Cluster:
    counts = Counter(e for cid in members for e in evidence.get(cid, ()) if e in weight)
    shared = [
        {"id": e, "label": names[e][0], "name": names[e][1], "campaigns": k}
        for e, k in sorted(counts.items(), key=lambda x: (-x[1], -weight[x[0]], x[0]))
        if k > 1
    ]
    dates = sorted(d for cid in members if (d := campaigns[cid].get("first_seen")))
    return Cluster(
        campaigns=[
            {"id": cid, "name": campaigns[cid]["name"], "best_score": campaigns[cid]["best"]}
            for cid in members
        ],
        shared=shared[:20],
        first_seen=dates[0] if dates else None,
        last_seen=dates[-1] if dates else None,
    )


def _nearest_actors(
    store: GraphStore,
    clusters: list[Cluster],
    evidence: dict[str, set[str]],
    weight: dict[str, float],
    names: dict[str, tuple[str, str]],
    level: int,
    top: int = 3,
) -> None:
    by_label: dict[str, list[str]] = defaultdict(list)
    for e in sorted({s["id"] for c in clusters for s in c.shared}):
        by_label[names[e][0]].append(e)
    actors_of: dict[str, set[str]] = defaultdict(set)
    actor_names: dict[str, str] = {}
    for lab, eids in by_label.items():
        queries = [ACTORS_USING.format(label=label(lab))]
        if lab == "Indicator":
            queries.append(ACTORS_INDICATED)
        for query in queries:
            for r in store.query(query, {"eids": eids, "max_tlp": level}, read_only=True):
                actors_of[r["eid"]].add(r["aid"])
                actor_names[r["aid"]] = r["name"]
    for cluster in clusters:
        score: dict[str, float] = defaultdict(float)
        via: dict[str, list[str]] = defaultdict(list)
        for s in cluster.shared:
            for aid in sorted(actors_of.get(s["id"], ())):
                # An entity many actors use says little about which one it is.
                score[aid] += weight[s["id"]] / len(actors_of[s["id"]])
                via[aid].append(names[s["id"]][1])
        best = sorted(score, key=lambda a: (-score[a], a))[:top]
        cluster.nearest_actors = [
            {"id": a, "name": actor_names[a], "overlap": round(score[a], 3), "via": via[a][:10]}
            for a in best
        ]


def score_clusters(clusters: list[Cluster], truth: dict[str, str]) -> dict[str, Any]:
    """How proposed clusters match a known grouping (a benchmark's, such as the demo world's).

    Args:
        clusters: as :func:`find_clusters` returns them.
        truth: the true group of each campaign considered whose truth is known; campaigns not
            in it (unknown truth) are left out of every count.

    Returns:
        ``purity``: the share of clustered campaigns that belong to their cluster's largest
        true group; ``completeness``: the share of the campaigns of true groups with two or more
        members that sit in their group's largest share in one cluster (a group left unclustered
        counts 0); ``clustered`` (campaigns of known truth in a cluster), ``clusters`` (clusters
        holding one), ``groups`` (true groups with two or more members), ``groups_clustered``
        (those with two or more members in one cluster).
    """
    members = [[c["id"] for c in k.campaigns if c["id"] in truth] for k in clusters]
    members = [m for m in members if m]
    pure = sum(Counter(truth[c] for c in m).most_common(1)[0][1] for m in members)
    clustered = sum(len(m) for m in members)
    sizes = Counter(truth.values())
    groups = {g for g, n in sizes.items() if n >= 2}
    best: dict[str, int] = defaultdict(int)
    for m in members:
        for g, n in Counter(truth[c] for c in m).items():
            if g in groups and n >= 2:
                best[g] = max(best[g], n)
    in_groups = sum(sizes[g] for g in groups)
    return {
        "purity": pure / clustered if clustered else None,
        "pure": pure,
        "clustered": clustered,
        "clusters": len(members),
        "completeness": sum(best.values()) / in_groups if in_groups else None,
        "groups": len(groups),
        "groups_clustered": len(best),
    }
