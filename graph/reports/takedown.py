"""Takedown packages: an actor's live-looking domains and IPs, grouped per registrar and hoster.

A CERT asks registrars to suspend domains and hosting providers to pull servers. Each of them
gets one file (CSV and JSON) with only what is theirs to act on, and every line says why it is
there: when it was seen, the path in the graph that ties it to the actor, how confident that is.

Live-looking means: not sinkholed, not expired (``valid_until`` in the past), and, with
``since``, last seen on or after it. Hub infrastructure is left out with the reason stated, since
a request against it would hit innocent parties: CDN fronts and sinkholes (Infrastructure
``kind`` ``cdn`` or ``sinkhole``, directly or through the ASN that announces the address), and
anything tied to ``hub_actors`` or more actors (shared hosting, public services).

``collect_indicators`` (the actor's indicators with evidence and hub flags) is shared with the
briefing, which shows the newest of them as "worth blocking".

TLP: a package is built at a level (``max_tlp``) and nothing above it is used, counts of actors
included. Each item states the strictest marking of what its line says: the indicator, every
node and relationship on its path to the actor (the campaign and actor names in its evidence),
the registrar, hoster, resolutions and sightings it names. Every file carries those markings,
and :func:`write_takedown` refuses an item above the level it writes at, and any level above
``SHAREABLE``: recipients are third parties, which TLP:AMBER+STRICT and TLP:RED never reach.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from actorgraph.graph.errors import NotFound, ValidationError
from actorgraph.graph.formats.provenance import epoch, iso
from actorgraph.graph.formats.sightings import visible_sightings
from actorgraph.graph.reports.selection import parse_bound, resolve_actor
from actorgraph.graph.schema import label as quote_label
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP, visible, visible_all

HUB_KINDS = ("cdn", "sinkhole")
TAKEDOWN_KINDS = ("domain", "ipv4", "ipv6")
DEFAULT_HUB_ACTORS = 3
MAX_ROWS = 500_000
# The most restricted level a package for registrars and hosters may carry: TLP:AMBER may go to
# those who need to act on it; TLP:AMBER+STRICT stays in the organisation, TLP:RED with its
# named recipients.
SHAREABLE = TLP.AMBER

# The least restricted attribution first: the package names the actor it can name most openly.
CAMPAIGN_BY_ID = f"""
MATCH (c:Campaign {{id: $id}})
WHERE {visible("c")}
OPTIONAL MATCH (c)-[r:ATTRIBUTED_TO]->(a:ThreatActor)
WHERE {visible_all("r", "a")}
RETURN c, a AS actor, r.tlp_level AS attribution_tlp
ORDER BY coalesce(r.tlp_level, 0), a.name
LIMIT 1
"""

CAMPAIGNS_OF = f"""
MATCH (c:Campaign)-[r:ATTRIBUTED_TO]->(a:ThreatActor {{id: $actor}})
WHERE {visible_all("c", "r")}
RETURN c, r.confidence AS confidence, r.tlp_level AS attribution_tlp
LIMIT $limit
"""

# Indicators an owner (actor or campaign) is indicated by, directly or through infrastructure it
# uses; labels come from a fixed tuple, never from input. Both are ``str.format`` templates over
# ``{label}``: only their TLP lines are f-strings, so the template's own braces stay as written.
INDICATED = (
    "\nMATCH (i:Indicator)-[r:INDICATES]->(o:{label})\n"
    f"WHERE o.id IN $owners AND {visible_all('r', 'i')}\n"
    "RETURN i, o.id AS owner, r.confidence AS confidence, 'INDICATES' AS via,\n"
    "       [r.tlp_level] AS path_tlp\n"
    "LIMIT $limit\n"
)

MEMBERS = (
    "\nMATCH (o:{label})-[u:USES]->(x:Infrastructure)-[m:CONSISTS_OF]->(i:Indicator)\n"
    f"WHERE o.id IN $owners AND {visible_all('u', 'm')}\n"
    f"  AND {visible_all('x', 'i')}\n"
    "RETURN i, o.id AS owner, coalesce(m.confidence, u.confidence) AS confidence, x.name AS via,\n"
    "       [u.tlp_level, x.tlp_level, m.tlp_level] AS path_tlp\n"
    "LIMIT $limit\n"
)

RESOLUTIONS = f"""
MATCH (d:Indicator)-[r:RESOLVES_TO]->(ip:Indicator)
WHERE d.id IN $ids AND {visible_all("r", "ip")}
RETURN d.id AS domain, ip, r.first_seen AS first_seen, r.last_seen AS last_seen,
       r.tlp_level AS link_tlp
LIMIT $limit
"""

# Where an address is hosted: the ASN or provider it sits in, and the provider behind an ASN.
HOSTING = f"""
MATCH (ip:Indicator)-[h:HOSTED_ON]->(x:Infrastructure)
WHERE ip.id IN $ids AND {visible_all("h", "x")}
OPTIONAL MATCH (x)-[h2:HOSTED_ON]->(p:Infrastructure)
WHERE {visible_all("h2", "p")}
RETURN ip.id AS ip, x, p, [h.tlp_level, h2.tlp_level] AS path_tlp
LIMIT $limit
"""

# Infrastructure an address belongs to (a sinkhole's addresses, a C2 server's).
MEMBER_OF = f"""
MATCH (x:Infrastructure)-[m:CONSISTS_OF]->(ip:Indicator)
WHERE ip.id IN $ids AND {visible_all("m", "x")}
RETURN ip.id AS ip, x, m.tlp_level AS link_tlp
LIMIT $limit
"""

# Registrars and name servers: the model's own types, or RELATED_TO where a reader did not know
# the STIX relationship (``registered-with``); the infrastructure's kind decides (infra_kind).
DOMAIN_INFRA = f"""
MATCH (d:Indicator)-[r:REGISTERED_WITH|USES_NAMESERVER|RELATED_TO]->(x:Infrastructure)
WHERE d.id IN $ids AND {visible_all("r", "x")}
RETURN d.id AS domain, type(r) AS type, r.relationship_type AS relationship_type, x,
       r.tlp_level AS link_tlp
LIMIT $limit
"""

# STIX infrastructure_types (and the demo world's vocabulary) -> the model's Infrastructure kind,
# most specific first: a CDN is also a hosting provider.
_TYPE_KINDS = (
    ("sinkhole", "sinkhole"),
    ("cdn", "cdn"),
    ("bulletproof", "bulletproof_hoster"),
    ("registrar", "registrar"),
    ("name-server", "name_server"),
    ("command-and-control", "c2_server"),
    ("hosting-provider", "hosting_provider"),
    ("hosting-malware", "hosting_provider"),
)
_REL_KINDS = {
    "REGISTERED_WITH": "registrar",
    "USES_NAMESERVER": "name_server",
    "registered-with": "registrar",
    "uses-nameserver": "name_server",
    "uses-name-server": "name_server",
}


def infra_kind(node: dict[str, Any] | None) -> str | None:
    """The Infrastructure kind of a node: its ``kind``, else what its STIX types say."""
    if not node:
        return None
    kind = node.get("kind") or node.get("x_actorgraph_kind")
    if kind and kind != "other":
        return kind
    types = {str(t).lower() for t in node.get("infrastructure_types") or []}
    for stix_type, mapped in _TYPE_KINDS:
        if stix_type in types:
            return mapped
    return kind or "other"


def domain_infrastructure(
    store: GraphStore, domain_ids: list[str], *, max_tlp: int
) -> list[tuple[str, str, dict[str, Any]]]:
    """``(domain id, "registrar" | "name_server", infrastructure node)`` for each domain."""
    return [(d, kind, x) for d, kind, x, _ in _domain_infrastructure(store, domain_ids, max_tlp)]


def _domain_infrastructure(
    store: GraphStore, domain_ids: list[str], max_tlp: int
) -> list[tuple[str, str, dict[str, Any], int]]:
    """As :func:`domain_infrastructure`, with the strictest marking of the link and the node."""
    if not domain_ids:
        return []
    out = []
    params = {"ids": domain_ids, "max_tlp": max_tlp, "limit": MAX_ROWS}
    for row in store.query(DOMAIN_INFRA, params, read_only=True):
        kind = infra_kind(row["x"])
        if kind not in ("registrar", "name_server"):
            kind = _REL_KINDS.get(row["type"]) or _REL_KINDS.get(row["relationship_type"] or "")
        if kind in ("registrar", "name_server"):
            out.append((row["domain"], kind, row["x"], tlp_level(row["x"], row["link_tlp"])))
    return out


# How many actors each indicator leads to (directly, through campaigns, through domains pointing
# at an address), counted within clearance: a tie the package may not show may not move its
# count or its exclusions either. Each row is one path with its markings; the count is as
# restricted as the least restricted path to each actor it counts.
FANOUT_DIRECT = f"""
MATCH (i:Indicator)-[r1:INDICATES]->(c:Campaign)-[r2:ATTRIBUTED_TO]->(a:ThreatActor)
WHERE i.id IN $ids AND {visible_all("r1", "c", "r2", "a")}
RETURN i.id AS id, a.id AS actor, [r1.tlp_level, c.tlp_level, r2.tlp_level, a.tlp_level] AS path_tlp
LIMIT $limit
"""
FANOUT_ACTOR = f"""
MATCH (i:Indicator)-[r1:INDICATES]->(a:ThreatActor)
WHERE i.id IN $ids AND {visible_all("r1", "a")}
RETURN i.id AS id, a.id AS actor, [r1.tlp_level, a.tlp_level] AS path_tlp
LIMIT $limit
"""
FANOUT_RESOLVED = f"""
MATCH (d:Indicator)-[r0:RESOLVES_TO]->(i:Indicator)
WHERE i.id IN $ids AND {visible_all("r0", "d")}
MATCH (d)-[r1:INDICATES]->(c:Campaign)-[r2:ATTRIBUTED_TO]->(a:ThreatActor)
WHERE {visible_all("r1", "c", "r2", "a")}
RETURN i.id AS id, a.id AS actor,
       [r0.tlp_level, d.tlp_level, r1.tlp_level, c.tlp_level, r2.tlp_level, a.tlp_level]
       AS path_tlp
LIMIT $limit
"""


def tlp_level(*marked: Any) -> int:
    """The strictest marking among nodes (dicts with ``tlp_level``), levels and lists of levels.

    Unmarked elements (no ``tlp_level``, ``None``) read as clear (0).
    """
    level = 0
    for item in marked:
        value = item.get("tlp_level") if isinstance(item, dict) else item
        if isinstance(value, list):
            value = tlp_level(*value)
        if isinstance(value, int) and not isinstance(value, bool):
            level = max(level, value)
    return level


@dataclass
class IndicatorRecord:
    """One of an actor's indicators, with what ties it to the actor and why it may be a hub."""

    id: str
    kind: str
    value: str
    tlp: str = TLP.CLEAR.label  # the strictest marking of what this record says
    first_seen: str | None = None
    last_seen: str | None = None
    confidence: int | None = None
    evidence: list[str] = field(default_factory=list)
    campaigns: list[str] = field(default_factory=list)
    registrar: str | None = None
    hosting_provider: str | None = None
    asn: str | None = None
    resolves_to: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    n_actors: int = 1
    hub_reason: str | None = None
    stale_reason: str | None = None

    def mark(self, *marked: Any) -> None:
        """Raise the record's TLP to the strictest of ``marked`` (see :func:`tlp_level`)."""
        self.tlp = TLP(max(TLP.parse(self.tlp), tlp_level(*marked))).label

    def to_row(self) -> dict[str, Any]:
        """A flat row for CSV (lists joined with ``; ``)."""
        row = asdict(self)
        for key, value in row.items():
            if isinstance(value, list):
                row[key] = "; ".join(value)
        return row


@dataclass
class Scope:
    """Whose indicators: the actor, the campaigns in scope, and their names for evidence."""

    actor: dict[str, Any] | None
    campaigns: dict[str, dict[str, Any]]
    attribution_confidence: dict[str, int | None]
    whole_actor: bool = True
    # Per campaign, the strictest marking of the campaign, its attribution and the actor named.
    campaign_tlp: dict[str, int] = field(default_factory=dict)


def actor_scope(
    store: GraphStore, *, actor: str | None = None, campaign: str | None = None, max_tlp: int
) -> Scope:
    """Resolve an actor (all its campaigns) or one campaign (and the actor it is attributed to).

    Raises:
        NotFound: the actor or campaign does not exist within clearance.
        ValidationError: neither or both were given.
    """
    if bool(actor) == bool(campaign):
        raise ValidationError("give an actor or a campaign (exactly one)")
    p = {"max_tlp": max_tlp, "limit": MAX_ROWS}
    if campaign:
        rows = store.query(CAMPAIGN_BY_ID, {**p, "id": campaign}, read_only=True)
        if not rows:
            raise NotFound(f"no campaign {campaign!r}")
        row = rows[0]
        return Scope(
            row["actor"],
            {campaign: row["c"]},
            {campaign: None},
            whole_actor=False,
            campaign_tlp={campaign: tlp_level(row["c"], row["actor"], row["attribution_tlp"])},
        )
    node = resolve_actor(store, actor or "", max_tlp=max_tlp)
    rows = store.query(CAMPAIGNS_OF, {**p, "actor": node["id"]}, read_only=True)
    return Scope(
        node,
        {r["c"]["id"]: r["c"] for r in rows},
        {r["c"]["id"]: r["confidence"] for r in rows},
        campaign_tlp={r["c"]["id"]: tlp_level(r["c"], r["attribution_tlp"], node) for r in rows},
    )


def collect_indicators(
    store: GraphStore,
    scope: Scope,
    *,
    max_tlp: int,
    hub_actors: int = DEFAULT_HUB_ACTORS,
    with_resolutions: bool = True,
) -> list[IndicatorRecord]:
    """The scope's indicators (and addresses its domains resolve to), with evidence and hub flags.

    Args:
        store: the graph store.
        scope: from :func:`actor_scope`.
        max_tlp: the requester's clearance.
        hub_actors: an indicator tied to this many actors or more is shared infrastructure.
        with_resolutions: add the addresses the scope's domains resolve to.

    Returns:
        One record per indicator, hub ones included (``hub_reason`` set).
    """
    p = {"max_tlp": max_tlp, "limit": MAX_ROWS}
    owners = {"Campaign": list(scope.campaigns)}
    if scope.whole_actor and scope.actor is not None:
        owners["ThreatActor"] = [scope.actor["id"]]
    records: dict[str, IndicatorRecord] = {}
    names = {cid: c.get("name") or cid for cid, c in scope.campaigns.items()}
    actor_name = (scope.actor or {}).get("name")
    for label, ids in owners.items():
        if not ids:
            continue
        for query in (INDICATED, MEMBERS):
            cypher = query.format(label=quote_label(label))
            for row in store.query(cypher, {**p, "owners": ids}, read_only=True):
                rec = _record(records, row["i"], max_tlp)
                owner = row["owner"]
                rec.mark(
                    row["path_tlp"],
                    scope.campaign_tlp.get(owner, 0) if label == "Campaign" else scope.actor,
                )
                conf = [row["confidence"], row["i"].get("confidence")]
                if label == "Campaign":
                    conf.append(scope.attribution_confidence.get(owner))
                    rec.campaigns.append(names[owner]) if names[
                        owner
                    ] not in rec.campaigns else None
                    _seen_from(rec, scope.campaigns[owner])
                hop = "INDICATES" if row["via"] == "INDICATES" else f"part of {row['via']} used by"
                tail = (
                    f" -ATTRIBUTED_TO-> {actor_name}" if label == "Campaign" and actor_name else ""
                )
                target = names[owner] if label == "Campaign" else actor_name
                rec.evidence.append(f"{rec.id} -{hop}-> {target}{tail}")
                rec.confidence = _best(rec.confidence, _weakest(conf))
    if with_resolutions:
        _add_resolutions(store, records, p)
    _add_hosting(store, records, p)
    _add_registrars(store, records, p)
    _add_fanout(store, records, p, hub_actors)
    return sorted(records.values(), key=lambda r: (r.last_seen or "", r.id), reverse=True)


def _record(
    records: dict[str, IndicatorRecord], node: dict[str, Any], max_tlp: int
) -> IndicatorRecord:
    rec = records.get(node["id"])
    if rec is None:
        rec = IndicatorRecord(
            id=node["id"], kind=node.get("kind") or "?", value=str(node.get("value"))
        )
        rec.mark(node)
        rec.first_seen = iso(node.get("first_seen") or node.get("valid_from"))
        # Only sightings within clearance date an indicator (graph/formats/sightings.py).
        sighted = visible_sightings(node, max_tlp).get("last_sighted")
        rec.last_seen = iso(node.get("last_seen") or sighted)
        if sighted and not node.get("last_seen"):
            # The date is that of the least restricted level of sightings holding it.
            dates = node.get("sighting_last") or []
            rec.mark(next((n for n, d in enumerate(dates) if d == sighted), 0))
        until = iso(node.get("valid_until"))
        if until and until < (iso(datetime.now(UTC)) or ""):
            rec.stale_reason = f"expired (valid until {until[:10]})"
        records[node["id"]] = rec
    return rec


def _seen_from(rec: IndicatorRecord, campaign: dict[str, Any]) -> None:
    """Without its own sightings, an indicator was last seen when its campaign was."""
    first, last = iso(campaign.get("first_seen")), iso(campaign.get("last_seen"))
    if first and (rec.first_seen is None or first < rec.first_seen):
        rec.first_seen = first
    if last and (rec.last_seen is None or last > rec.last_seen):
        rec.last_seen = last


def _weakest(values: list[Any]) -> int | None:
    """A path is as sure as its weakest link (None when no link states a confidence)."""
    nums = [int(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return min(nums) if nums else None


def _best(current: int | None, path: int | None) -> int | None:
    """Across several paths to the actor, the strongest one counts."""
    if path is None:
        return current
    return path if current is None else max(current, path)


def _add_resolutions(
    store: GraphStore, records: dict[str, IndicatorRecord], p: dict[str, Any]
) -> None:
    domains = [r.id for r in records.values() if r.kind == "domain"]
    if not domains:
        return
    for row in store.query(RESOLUTIONS, {**p, "ids": domains}, read_only=True):
        dom = records[row["domain"]]
        ip = row["ip"]
        dom.resolves_to.append(ip["value"]) if ip["value"] not in dom.resolves_to else None
        new = ip["id"] not in records
        rec = _record(records, ip, p["max_tlp"])
        # The domain now names the address and the address the domain (and its evidence).
        dom.mark(ip, row["link_tlp"])
        rec.mark(TLP.parse(dom.tlp), row["link_tlp"])
        if dom.value not in rec.domains:
            rec.domains.append(dom.value)
        rec.evidence.append(
            f"{rec.id} <-RESOLVES_TO- {dom.evidence[0] if dom.evidence else dom.id}"
        )
        if new:
            rec.confidence = dom.confidence
            rec.campaigns = list(dom.campaigns)
            rec.first_seen = iso(row["first_seen"]) or dom.first_seen
            rec.last_seen = iso(row["last_seen"]) or dom.last_seen


def _add_hosting(store: GraphStore, records: dict[str, IndicatorRecord], p: dict[str, Any]) -> None:
    ips = [r.id for r in records.values() if r.kind in ("ipv4", "ipv6")]
    if not ips:
        return
    for row in store.query(HOSTING, {**p, "ids": ips}, read_only=True):
        rec, x, prov = records[row["ip"]], row["x"], row["p"]
        rec.mark(x, prov, row["path_tlp"])
        if infra_kind(x) == "asn":
            rec.asn = x.get("value") or f"AS{x.get('asn')}"
            if prov:
                rec.hosting_provider = prov.get("name") or prov["id"]
            elif x.get("name") and not rec.hosting_provider:
                rec.hosting_provider = x["name"]
        else:
            rec.hosting_provider = x.get("name") or x["id"]
        for infra in (x, prov):
            if infra and infra_kind(infra) in HUB_KINDS and rec.hub_reason is None:
                rec.hub_reason = f"{infra_kind(infra)} address ({infra.get('name') or infra['id']})"
    for row in store.query(MEMBER_OF, {**p, "ids": ips}, read_only=True):
        x = row["x"]
        if infra_kind(x) in HUB_KINDS:
            records[row["ip"]].hub_reason = f"{infra_kind(x)} address ({x.get('name') or x['id']})"
            records[row["ip"]].mark(x, row["link_tlp"])
    # A domain resolving into a sinkhole has been taken down already; behind a CDN, the
    # domain can still be suspended by its registrar, only the address is shared.
    for rec in records.values():
        if rec.kind != "domain":
            continue
        for value in rec.resolves_to:
            ip = records.get(f"ipv4:{value}") or records.get(f"ipv6:{value}")
            if ip and ip.hub_reason and ip.hub_reason.startswith("sinkhole"):
                rec.stale_reason = f"sinkholed (resolves to {value}, {ip.hub_reason})"
                rec.mark(TLP.parse(ip.tlp))


def _add_registrars(
    store: GraphStore, records: dict[str, IndicatorRecord], p: dict[str, Any]
) -> None:
    domains = [r.id for r in records.values() if r.kind == "domain"]
    for domain, kind, node, level in _domain_infrastructure(store, domains, p["max_tlp"]):
        if kind == "registrar":
            records[domain].registrar = node.get("name") or node["id"]
            records[domain].mark(level)


def _add_fanout(
    store: GraphStore, records: dict[str, IndicatorRecord], p: dict[str, Any], hub_actors: int
) -> None:
    ids = list(records)
    # indicator -> actor -> the marking of the least restricted path between them
    actors: dict[str, dict[str, int]] = {i: {} for i in ids}
    for query in (FANOUT_DIRECT, FANOUT_ACTOR, FANOUT_RESOLVED):
        for row in store.query(query, {**p, "ids": ids}, read_only=True):
            ties, level = actors[row["id"]], tlp_level(row["path_tlp"])
            ties[row["actor"]] = min(level, ties.get(row["actor"], level))
    for rec in records.values():
        rec.n_actors = max(1, len(actors[rec.id]))
        if rec.n_actors > 1:  # one actor is the scope's own, already marked; more are a count
            rec.mark(list(actors[rec.id].values()))
        if rec.n_actors >= hub_actors and rec.hub_reason is None:
            rec.hub_reason = (
                f"shared: tied to {rec.n_actors} actors (shared hosting or a public service)"
            )


# --------------------------------------------------------------------------- the package
@dataclass
class Takedown:
    """A takedown package: what to ask whom, and what was left out and why."""

    actor: dict[str, Any] | None
    campaign: str | None
    since: str | None
    generated: str
    items: list[IndicatorRecord]
    excluded: list[dict[str, str]]
    max_tlp: TLP  # the level it was built at: nothing above it was used

    def tlp(self) -> TLP:
        """The strictest marking of anything in the package (clear when empty)."""
        marks = [r.tlp for r in self.items] + [e["tlp"] for e in self.excluded]
        return TLP.strictest(marks) or TLP.CLEAR

    def by_registrar(self) -> dict[str, list[IndicatorRecord]]:
        """Domains per registrar (``unknown registrar`` when the graph does not say)."""
        out: dict[str, list[IndicatorRecord]] = {}
        for rec in self.items:
            if rec.kind == "domain":
                out.setdefault(rec.registrar or "unknown registrar", []).append(rec)
        return dict(sorted(out.items()))

    def by_hosting(self) -> dict[str, list[IndicatorRecord]]:
        """Addresses per hosting provider (the ASN when the provider is unknown)."""
        out: dict[str, list[IndicatorRecord]] = {}
        for rec in self.items:
            if rec.kind in ("ipv4", "ipv6"):
                key = rec.hosting_provider or rec.asn or "unknown hosting"
                out.setdefault(key, []).append(rec)
        return dict(sorted(out.items()))

    def summary(self) -> dict[str, Any]:
        """Counts per recipient and the exclusions, for the cover note."""
        reasons: dict[str, int] = {}
        for ex in self.excluded:
            head = ex["reason"].split(" (")[0].split(":")[0]
            reasons[head] = reasons.get(head, 0) + 1
        return {
            "actor": {"id": self.actor["id"], "name": self.actor.get("name")}
            if self.actor
            else None,
            "campaign": self.campaign,
            "since": self.since,
            "generated": self.generated,
            "max_tlp": self.max_tlp.label,
            "tlp": self.tlp().label,
            "domains": sum(1 for r in self.items if r.kind == "domain"),
            "addresses": sum(1 for r in self.items if r.kind in ("ipv4", "ipv6")),
            "registrars": {k: len(v) for k, v in self.by_registrar().items()},
            "hosting": {k: len(v) for k, v in self.by_hosting().items()},
            "excluded": len(self.excluded),
            "excluded_by_reason": dict(sorted(reasons.items())),
        }


def build_takedown(
    store: GraphStore,
    actor: str | None = None,
    campaign: str | None = None,
    since: str | None = None,
    *,
    max_tlp: int,
    hub_actors: int = DEFAULT_HUB_ACTORS,
) -> Takedown:
    """Build the takedown package of an actor (all its campaigns) or of one campaign.

    Args:
        store: the graph store.
        actor: an actor id, name, alias or ATT&CK id.
        campaign: a campaign STIX id (instead of ``actor``).
        since: keep what was last seen on or after this date (ISO-8601).
        max_tlp: the level of the package; nothing above it is used, shown or counted.
        hub_actors: tied to this many actors or more = shared infrastructure, left out.

    Returns:
        The package: live-looking domains and addresses, and the exclusions with reasons,
        each with its TLP.

    Raises:
        NotFound: unknown actor or campaign.
        ValidationError: bad arguments (both or neither of actor/campaign, a bad date).
    """
    if hub_actors < 2:
        raise ValidationError(f"hub_actors {hub_actors!r} must be at least 2")
    cutoff = parse_bound(since, "since")
    scope = actor_scope(store, actor=actor, campaign=campaign, max_tlp=max_tlp)
    records = collect_indicators(store, scope, max_tlp=max_tlp, hub_actors=hub_actors)
    items: list[IndicatorRecord] = []
    excluded: list[dict[str, str]] = []
    for rec in records:
        if rec.kind not in TAKEDOWN_KINDS:
            continue
        reason = rec.hub_reason or rec.stale_reason
        if reason is None and cutoff is not None:
            last = epoch(rec.last_seen) if rec.last_seen else None
            if last is None or last < cutoff:
                reason = f"not seen since {since} (last seen {(rec.last_seen or 'never')[:10]})"
        if reason:
            excluded.append(
                {
                    "id": rec.id,
                    "kind": rec.kind,
                    "value": rec.value,
                    "tlp": rec.tlp,
                    "reason": reason,
                }
            )
        else:
            items.append(rec)
    return Takedown(
        actor=scope.actor,
        campaign=campaign,
        since=since,
        generated=iso(datetime.now(UTC)) or "",
        items=items,
        excluded=excluded,
        max_tlp=TLP.parse(max_tlp),
    )


# ------------------------------------------------------------------------------ files
CSV_FIELDS = (
    "kind",
    "value",
    "tlp",
    "first_seen",
    "last_seen",
    "confidence",
    "registrar",
    "hosting_provider",
    "asn",
    "resolves_to",
    "domains",
    "campaigns",
    "evidence",
)


def to_csv(records: list[IndicatorRecord]) -> str:
    """CSV text of records (one line each, the columns of ``CSV_FIELDS``)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow(rec.to_row())
    return buf.getvalue()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "unknown"


def check_shareable(package: Takedown, max_tlp: TLP | int | str) -> TLP:
    """The level to write ``package`` at, once it is sure nothing in it goes above that.

    Raises:
        ValidationError: ``max_tlp`` is above ``SHAREABLE`` (third parties may not receive
            it), or an item or exclusion of the package is marked above ``max_tlp``.
    """
    level = TLP.parse(max_tlp)
    if level > SHAREABLE:
        raise ValidationError(
            f"a takedown package goes to third parties (registrars, hosters), which "
            f"TLP:{level.label.upper()} data may not reach: build and write it at "
            f"TLP:{SHAREABLE.label.upper()} or below"
        )
    marks = [r.tlp for r in package.items] + [e["tlp"] for e in package.excluded]
    above = [m for m in marks if TLP.parse(m) > level]
    if above:
        strictest = TLP.strictest(above) or level
        raise ValidationError(
            f"{len(above)} items of the package are marked up to "
            f"TLP:{strictest.label.upper()}, above TLP:{level.label.upper()}, the level it is "
            f"written at: build it at TLP:{level.label.upper()} instead"
        )
    return level


def write_takedown(package: Takedown, out_dir: Path, *, max_tlp: TLP | int | str) -> list[Path]:
    """Write one CSV and one JSON per recipient, plus ``summary.json`` and ``excluded.csv``.

    Files: ``registrar-<name>.csv|json``, ``hosting-<name>.csv|json``, ``summary.json``,
    ``excluded.csv``. Every item and exclusion states its TLP (a ``tlp`` column or field), and
    each JSON file the strictest of its items. Nothing is written when :func:`check_shareable`
    refuses.

    Args:
        package: from :func:`build_takedown`.
        out_dir: the folder to write into (created).
        max_tlp: the most restricted marking the recipients may receive; at most
            ``SHAREABLE``.

    Returns:
        The paths written.

    Raises:
        ValidationError: see :func:`check_shareable`.
    """
    level = check_shareable(package, max_tlp)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    groups = [("registrar", k, v) for k, v in package.by_registrar().items()]
    groups += [("hosting", k, v) for k, v in package.by_hosting().items()]
    actor = package.actor or {}
    for role, name, records in groups:
        stem = out_dir / f"{role}-{_slug(name)}"
        doc = {
            "recipient": name,
            "role": role,
            "actor": {"id": actor.get("id"), "name": actor.get("name")} if actor else None,
            "campaign": package.campaign,
            "generated": package.generated,
            "tlp": (TLP.strictest(r.tlp for r in records) or TLP.CLEAR).label,
            "items": [asdict(r) for r in records],
        }
        for path, text in (
            (stem.with_suffix(".json"), json.dumps(doc, indent=2)),
            (stem.with_suffix(".csv"), to_csv(records)),
        ):
            path.write_text(text, encoding="utf-8")
            written.append(path)
    summary = out_dir / "summary.json"
    summary.write_text(
        json.dumps(
            {**package.summary(), "written_at": level.label, "files": [p.name for p in written]},
            indent=2,
        ),
        encoding="utf-8",
    )
    excluded = out_dir / "excluded.csv"
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf,
        fieldnames=("kind", "value", "tlp", "reason"),
        extrasaction="ignore",
        lineterminator="\n",
    )
    writer.writeheader()
    writer.writerows(package.excluded)
    excluded.write_text(buf.getvalue(), encoding="utf-8")
    return [*written, summary, excluded]
