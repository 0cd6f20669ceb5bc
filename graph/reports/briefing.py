"""One-page actor briefings for readers who are not threat-intelligence specialists.

``build_briefing`` gathers the facts from the store (within the reader's clearance) into a
``Briefing``; ``render_markdown`` and ``render_html`` lay them out. The HTML is one
self-contained file (inline CSS, no scripts, no external fonts or images) that prints on one page.

Signature malware and techniques are ranked by rarity (how few known actors use them), not by
how often this actor uses them: that a group uses PowerShell says nothing, that it is one of two
groups using X-Agent says a lot. Indicators are shown defanged.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from actorgraph.graph.formats.countries import country_name
from actorgraph.graph.formats.indicators import defang
from actorgraph.graph.formats.provenance import iso
from actorgraph.graph.library.origin import origin
from actorgraph.graph.reports.selection import resolve_actor
from actorgraph.graph.reports.takedown import Scope, collect_indicators, domain_infrastructure
from actorgraph.graph.schema import label as quote_label
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import visible, visible_all

MAX_ROWS = 100_000

# Microsoft's 2023 naming: a weather family per origin (and Storm-#### for groups in development).
WEATHER_FAMILIES = {
    "Blizzard": "Russia",
    "Typhoon": "China",
    "Sandstorm": "Iran",
    "Sleet": "North Korea",
    "Hail": "South Korea",
    "Dust": "Turkey",
    "Cyclone": "Vietnam",
    "Rain": "Lebanon",
    "Tempest": "financially motivated",
    "Flood": "influence operations",
    "Tsunami": "private-sector offensive actor",
}
# CrowdStrike's animals per origin.
CROWDSTRIKE_ANIMALS = {
    "Bear": "Russia",
    "Panda": "China",
    "Kitten": "Iran",
    "Chollima": "North Korea",
    "Spider": "eCrime",
    "Tiger": "India",
    "Leopard": "Pakistan",
    "Buffalo": "Vietnam",
    "Jackal": "hacktivist",
    "Crane": "South Korea",
    "Ocelot": "Colombia",
}

# Microsoft's earlier names were chemical elements (STRONTIUM, NOBELIUM); Secureworks names a
# group by a metal family per origin plus a word (IRON TWILIGHT, BRONZE PRESIDENT).
_ELEMENTS_NOT_IUM = {
    "LEAD",
    "MERCURY",
    "NICKEL",
    "ZINC",
    "SILICON",
    "PHOSPHORUS",
    "CARBON",
    "BORON",
    "MANGANESE",
    "PLATINUM",
    "TUNGSTEN",
    "ARSENIC",
    "BROMINE",
    "KRYPTON",
    "NEON",
}
_SECUREWORKS = {
    "IRON",
    "BRONZE",
    "COBALT",
    "NICKEL",
    "GOLD",
    "TIN",
    "COPPER",
    "ZINC",
    "PLATINUM",
    "TUNGSTEN",
}

COUNTRY_SURENESS = {
    "stix": "stated by the source intelligence (an explicit origin in the reporting)",
    "misp": "stated by the MISP galaxy cluster that names the actor",
    "derived:alias": "inferred from the names vendors give it (their names encode an origin)",
    "derived:description": "inferred from the public description; treat as indicative only",
}

# The next three are ``str.format`` templates over ``{label}`` (a whitelisted label, see
# ``quote_label``); only their TLP lines are f-strings, so the template's own braces stay as
# written.
USED = (
    "\nMATCH (a:ThreatActor {{id: $actor}})-[r:USES]->(x:{label})\n"
    f"WHERE {visible_all('r', 'x')}\n"
    "RETURN x, 1 AS direct\n"
    "LIMIT $limit\n"
    "UNION ALL\n"
    "MATCH (c:Campaign)-[t:ATTRIBUTED_TO]->(a:ThreatActor {{id: $actor}})\n"
    "MATCH (c)-[r:USES]->(x:{label})\n"
    f"WHERE {visible_all('c', 't')}\n"
    f"  AND {visible_all('r', 'x')}\n"
    "RETURN x, 0 AS direct\n"
    "LIMIT $limit\n"
)

# How many actors (within clearance) use each item, directly or through attributed campaigns.
# Every relationship on the way is filtered as well as every node: a user linked only by a
# relationship above clearance would turn "unique to this actor" into "2 of N actors" and so
# tell the reader that the hidden relationship exists.
USERS_DIRECT = (
    "\nMATCH (o:ThreatActor)-[u:USES]->(x:{label})\n"
    f"WHERE x.id IN $ids AND {visible_all('o', 'u')}\n"
    "RETURN x.id AS id, collect(DISTINCT o.id) AS actors\n"
    "LIMIT $limit\n"
)
USERS_VIA_CAMPAIGN = (
    "\nMATCH (c:Campaign)-[u:USES]->(x:{label})\n"
    f"WHERE x.id IN $ids AND {visible_all('c', 'u')}\n"
    "MATCH (c)-[t:ATTRIBUTED_TO]->(o:ThreatActor)\n"
    f"WHERE {visible_all('o', 't')}\n"
    "RETURN x.id AS id, collect(DISTINCT o.id) AS actors\n"
    "LIMIT $limit\n"
)
ACTOR_COUNT = f"""
MATCH (o:ThreatActor) WHERE {visible("o")} RETURN count(o) AS n
"""

# The origin as this reader sees it: from a visible relationship or the actor's own data, never
# from a relationship above clearance (graph/library/origin.py).
ORIGIN = f"""
MATCH (a:ThreatActor {{id: $actor}})
WHERE {visible("a")}
RETURN {origin("a")} AS origin
"""

TARGETS = f"""
MATCH (s)-[r:TARGETS]->(t)
WHERE s.id IN $ids AND {visible_all("r", "t")}
RETURN s.id AS source, labels(t)[0] AS kind, coalesce(t.name, t.code, t.id) AS name
LIMIT $limit
"""

PREDICTIONS = f"""
MATCH (c:Campaign)-[p:PREDICTED_ACTOR]->(a:ThreatActor {{id: $actor}})
WHERE {visible_all("c", "p")}
OPTIONAL MATCH (c)-[t:ATTRIBUTED_TO]->(known:ThreatActor)
WHERE {visible_all("t", "known")}
RETURN c.id AS campaign_id, c.name AS campaign, c.first_seen AS first_seen, p.score AS score,
       p.rank AS rank, p.model_version AS model_version, p.created AS created,
       collect(known.name) AS attributed_to
ORDER BY score DESC
LIMIT $limit
"""


@dataclass
class Briefing:
    """Everything a one-page briefing says about an actor (plain data: JSON-serialisable)."""

    actor_id: str
    name: str
    external_id: str | None
    description: str | None
    motivation: str | None
    aliases: dict[str, list[str]]
    country: str | None
    country_name: str | None
    country_source: str | None
    country_sureness: str
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    n_campaigns: int = 0
    targets: list[dict[str, Any]] = field(default_factory=list)
    malware: list[dict[str, Any]] = field(default_factory=list)
    techniques: list[dict[str, Any]] = field(default_factory=list)
    infrastructure: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    n_actors: int = 0
    max_tlp: int = field(kw_only=True)  # the clearance it was built for: never assumed
    generated: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the API and ``--format json``."""
        from dataclasses import asdict

        return asdict(self)


def classify_aliases(name: str, aliases: list[str]) -> dict[str, list[str]]:
    """Group an actor's names by who coined them (Microsoft, CrowdStrike, Mandiant, others)."""
    groups: dict[str, list[str]] = {
        "Microsoft": [],
        "CrowdStrike": [],
        "Mandiant": [],
        "Secureworks": [],
        "Other names": [],
    }
    for alias in aliases:
        if alias == name:
            continue
        words = alias.split()
        last = words[-1] if words else ""
        element = (
            alias.isupper()
            and alias.isalpha()
            and (alias.endswith("IUM") or alias in _ELEMENTS_NOT_IUM)
        )
        if (
            (last in WEATHER_FAMILIES and len(words) >= 2)
            or re.fullmatch(r"Storm-\d{4}", alias)
            or element
        ):
            groups["Microsoft"].append(alias)  # weather names, Storm-####, legacy element names
        elif len(words) == 2 and alias.isupper() and words[0] in _SECUREWORKS:
            groups["Secureworks"].append(alias)
        elif last in CROWDSTRIKE_ANIMALS and len(words) >= 2:
            groups["CrowdStrike"].append(alias)
        elif re.fullmatch(r"(APT|UNC|FIN|TEMP\.)\s?\w+", alias):
            groups["Mandiant"].append(alias)
        else:
            groups["Other names"].append(alias)
    return {k: v for k, v in groups.items() if v}


def rarity_label(n_actors: int, total: int) -> str:
    """How telling an item is: unique, rare (a handful of the known actors), or shared."""
    if n_actors <= 1:
        return "unique to this actor"
    if n_actors <= 3 and n_actors * 4 <= total:
        return f"rare: {n_actors} of {total} actors"
    return f"shared: {n_actors} of {total} actors"


def build_briefing(
    store: GraphStore,
    actor_id_or_name: str,
    *,
    max_tlp: int,
    top: int = 8,
    hub_actors: int = 3,
) -> Briefing:
    """Gather a one-page briefing on an actor, within the reader's clearance.

    Args:
        store: the graph store.
        actor_id_or_name: STIX id, name, alias (any vendor's) or ATT&CK id.
        max_tlp: the reader's clearance; nothing above it is used.
        top: how many items per list (campaigns, malware, techniques, indicators).
        hub_actors: an indicator tied to this many actors is shared infrastructure, not worth
            blocking.

    Returns:
        The briefing data.

    Raises:
        NotFound: no such actor within clearance.
        ValidationError: an ambiguous alias.
    """
    actor = resolve_actor(store, actor_id_or_name, max_tlp=max_tlp)
    aid = actor["id"]
    p = {"max_tlp": max_tlp, "limit": MAX_ROWS, "actor": aid}
    found = store.query(ORIGIN, p, read_only=True)
    assessed = found[0]["origin"] if found else None
    code = assessed["code"] if assessed else None
    source = assessed["source"] if assessed else None
    brief = Briefing(
        actor_id=aid,
        name=actor.get("name") or aid,
        external_id=actor.get("external_id"),
        description=_first_paragraph(actor.get("description")),
        motivation=actor.get("motivation"),
        aliases=classify_aliases(actor.get("name") or "", list(actor.get("aliases") or [])),
        country=code,
        country_name=country_name(code) if code else None,
        country_source=source,
        country_sureness=COUNTRY_SURENESS.get(source or "", "no assessed country of origin")
        if code
        else "no assessed country of origin",
        max_tlp=max_tlp,
        generated=iso(datetime.now(UTC)) or "",
    )
    brief.n_actors = store.query(ACTOR_COUNT, p, read_only=True)[0]["n"]
    from actorgraph.graph.reports.takedown import actor_scope

    scope: Scope = actor_scope(store, actor=aid, max_tlp=max_tlp)
    _campaigns(store, brief, scope, p, top)
    _signature(store, brief, p, top)
    records = collect_indicators(store, scope, max_tlp=max_tlp, hub_actors=hub_actors)
    _infrastructure(store, brief, records, p)
    worth = [r for r in records if not r.hub_reason and not r.stale_reason]
    worth.sort(key=lambda r: (r.last_seen or r.first_seen or "", r.id), reverse=True)
    brief.indicators = [
        {
            "kind": r.kind,
            "value": r.value,
            "defanged": defang(r.value)
            if r.kind in ("domain", "url", "ipv4", "ipv6", "email")
            else r.value,
            "first_seen": r.first_seen,
            "last_seen": r.last_seen,
            "confidence": r.confidence,
            "campaigns": r.campaigns,
        }
        for r in worth[:top]
    ]
    brief.predictions = [
        {**row, "score": float(row["score"] or 0.0)}
        for row in store.query(PREDICTIONS, {**p, "limit": top}, read_only=True)
    ]
    return brief


def _first_paragraph(text: str | None, limit: int = 600) -> str | None:
    if not text:
        return None
    para = text.strip().split("\n\n")[0]
    para = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", para)  # Markdown links -> their text
    para = re.sub(r"\(Citation:[^)]*(\)|$)", "", para).strip()  # ATT&CK citations, cut ones too
    return para if len(para) <= limit else para[: limit - 1].rsplit(" ", 1)[0] + "…"


def _campaigns(
    store: GraphStore, brief: Briefing, scope: Scope, p: dict[str, Any], top: int
) -> None:
    camps = sorted(
        scope.campaigns.values(),
        key=lambda c: (iso(c.get("last_seen") or c.get("first_seen")) or "", c["id"]),
        reverse=True,
    )
    ids = [c["id"] for c in camps]
    targets: dict[str, list[str]] = {}
    counts: dict[tuple[str, str], int] = {}
    for row in store.query(TARGETS, {**p, "ids": [brief.actor_id, *ids]}, read_only=True):
        targets.setdefault(row["source"], []).append(row["name"])
        key = (row["kind"], row["name"])
        counts[key] = counts.get(key, 0) + 1
    brief.n_campaigns = len(camps)
    brief.campaigns = [
        {
            "id": c["id"],
            "name": c.get("name") or c["id"],
            "first_seen": iso(c.get("first_seen")),
            "last_seen": iso(c.get("last_seen")),
            "targets": sorted(targets.get(c["id"], [])),
        }
        for c in camps[:top]
    ]
    brief.targets = [
        {"kind": kind.lower(), "name": name, "campaigns": n}
        for (kind, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ][: top * 2]


def _signature(store: GraphStore, brief: Briefing, p: dict[str, Any], top: int) -> None:
    for label, target in (("Malware", "malware"), ("Tool", "malware"), ("Technique", "techniques")):
        items: dict[str, dict[str, Any]] = {}
        for row in store.query(USED.format(label=quote_label(label)), p, read_only=True):
            node = row["x"]
            entry = items.setdefault(node["id"], {"node": node, "uses": 0})
            entry["uses"] += 1
        if not items:
            continue
        users: dict[str, set[str]] = {i: set() for i in items}
        for query in (USERS_DIRECT, USERS_VIA_CAMPAIGN):
            cypher = query.format(label=quote_label(label))
            for row in store.query(cypher, {**p, "ids": list(items)}, read_only=True):
                users[row["id"]].update(row["actors"])
        out = getattr(brief, target)
        for item_id, entry in items.items():
            node = entry["node"]
            n = max(1, len(users[item_id]))
            out.append(
                {
                    "id": item_id,
                    "kind": label.lower(),
                    "name": node.get("name") or item_id,
                    "external_id": node.get("external_id"),
                    "tactics": node.get("tactics") or [],
                    "n_actors": n,
                    "rarity": rarity_label(n, brief.n_actors),
                }
            )
    for target in ("malware", "techniques"):
        items_list = getattr(brief, target)
        items_list.sort(key=lambda x: (x["n_actors"], x["name"]))
        del items_list[top if target == "malware" else top + 2 :]


def _infrastructure(
    store: GraphStore, brief: Briefing, records: list[Any], p: dict[str, Any]
) -> None:
    def tally(values: list[str | None]) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for v in values:
            if v:
                counts[v] = counts.get(v, 0) + 1
        return [
            {"name": k, "count": n}
            for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ][:6]

    addresses = [r for r in records if r.kind in ("ipv4", "ipv6")]
    domains = [r for r in records if r.kind == "domain"]
    brief.infrastructure = {
        "hosting providers": tally([r.hosting_provider for r in addresses]),
        "ASNs": tally([r.asn for r in addresses]),
        "registrars": tally([r.registrar for r in domains]),
        "name servers": tally(
            [
                node.get("name") or node["id"]
                for _, kind, node in domain_infrastructure(
                    store, [d.id for d in domains], max_tlp=p["max_tlp"]
                )
                if kind == "name_server"
            ]
        ),
        "indicator kinds": tally([r.kind for r in records]),
    }


# ------------------------------------------------------------------------------ rendering
def _date(value: str | None) -> str:
    return value[:10] if value else "?"


def _span(item: dict[str, Any]) -> str:
    first, last = _date(item.get("first_seen")), _date(item.get("last_seen"))
    return first if last in ("?", first) else f"{first} to {last}"


def _country_line(b: Briefing) -> str:
    if not b.country:
        return (
            "Assessed origin: unknown"
            " (no source states it, and no vendor name or description implies it)."
        )
    return f"Assessed origin: {b.country_name} ({b.country}), {b.country_sureness}."


def render_markdown(b: Briefing) -> str:
    """The briefing as Markdown (one page when printed)."""
    lines = [f"# {b.name}" + (f" ({b.external_id})" if b.external_id else ""), ""]
    if b.aliases:
        lines.append(
            "**Also known as:** "
            + "; ".join(f"{who}: {', '.join(names)}" for who, names in b.aliases.items())
        )
        lines.append("")
    lines += [_country_line(b), ""]
    if b.motivation:
        lines += [f"Motivation: {b.motivation}.", ""]
    if b.description:
        lines += [b.description, ""]
    lines += ["## Recent campaigns", ""]
    if b.campaigns:
        for c in b.campaigns:
            target = f" (targets: {', '.join(c['targets'])})" if c["targets"] else ""
            lines.append(f"- **{c['name']}**, {_span(c)}{target}")
    else:
        lines.append("- No campaigns attributed to this actor in the graph.")
    if b.targets:
        lines += [
            "",
            "Targets overall: " + ", ".join(f"{t['name']} ({t['campaigns']})" for t in b.targets),
        ]
    lines += [
        "",
        f"## Signature malware and tools (rarest first, of {b.n_actors} known actors)",
        "",
    ]
    lines += [
        f"- {m['name']} ({m['kind']}"
        f"{', ' + m['external_id'] if m['external_id'] else ''}): {m['rarity']}"
        for m in b.malware
    ] or ["- None recorded."]
    lines += ["", "## Signature techniques (rarest first)", ""]
    techniques = [f"- {t['external_id'] or ''} {t['name']}: {t['rarity']}" for t in b.techniques]
    lines += techniques or ["- None recorded."]
    lines += ["", "## Infrastructure habits", ""]
    for what, rows in b.infrastructure.items():
        if rows:
            lines.append(
                f"- {what[0].upper() + what[1:]}: "
                + ", ".join(f"{r['name']} ({r['count']})" for r in rows)
            )
    if not any(b.infrastructure.values()):
        lines.append("- No infrastructure recorded.")
    lines += [
        "",
        "## Newest indicators worth blocking"
        " (defanged; shared hosting, CDNs and sinkholes left out)",
        "",
    ]
    lines += [
        f"- `{i['defanged']}` ({i['kind']}), last seen {_date(i['last_seen'] or i['first_seen'])}"
        + (f", confidence {i['confidence']}" if i["confidence"] is not None else "")
        for i in b.indicators
    ] or ["- None."]
    lines += ["", "## What the model attributes to it now (hypotheses, not findings)", ""]
    for pr in b.predictions:
        known = (
            f"; analysts attribute it to {', '.join(pr['attributed_to'])}"
            if pr["attributed_to"]
            else ""
        )
        lines.append(
            f"- {pr['campaign']}: {pr['score']:.0%}"
            f" (rank {pr['rank']}, model {pr['model_version']}){known}"
        )
    if not b.predictions:
        lines.append("- No current model hypotheses point to this actor.")
    lines += [
        "",
        f"_Generated {b.generated[:16].replace('T', ' ')} UTC by actorgraph"
        f" from data up to TLP level {b.max_tlp}._",
        "",
    ]
    return "\n".join(lines)


# A backslash at the end of a line continues a long rule (no newline in the output).
_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;\
color:#1d2330;background:#f3f4f7;margin:0}
main{max-width:960px;margin:24px auto;background:#fff;padding:28px 36px;border-radius:10px;\
box-shadow:0 1px 4px rgba(0,0,0,.12)}
header{border-bottom:3px solid #1f4e79;padding-bottom:12px;margin-bottom:16px}
h1{margin:0;font-size:28px;color:#1f4e79}
h1 small{font-size:15px;color:#5b6478;font-weight:normal}
h2{font-size:15px;text-transform:uppercase;letter-spacing:.04em;color:#1f4e79;margin:18px 0 8px;\
border-bottom:1px solid #d9dee8;padding-bottom:3px}
.aka{margin:8px 0 0}.aka span.who{color:#5b6478;font-size:12px;margin-right:4px}
.chip{display:inline-block;background:#eef2f8;border:1px solid #d3dbe8;border-radius:12px;\
padding:1px 9px;margin:2px 3px 2px 0;font-size:12.5px}
.facts{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.fact{flex:1 1 200px;background:#f7f9fc;border-left:4px solid #1f4e79;padding:8px 12px;\
border-radius:4px}
.fact b{display:block;font-size:11px;text-transform:uppercase;color:#5b6478;letter-spacing:.05em}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:4px 28px}
ul{margin:0;padding-left:18px}li{margin:2px 0}
table{border-collapse:collapse;width:100%;font-size:13px}
td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eceff4;vertical-align:top}
th{font-size:11px;text-transform:uppercase;color:#5b6478}
.infra th{width:170px}
.rarity{font-size:11.5px;padding:0 7px;border-radius:9px;white-space:nowrap}
.r-unique{background:#fde2e1;color:#9b1c1c}.r-rare{background:#fff1d6;color:#8a5300}\
.r-shared{background:#eceff4;color:#4a5263}
code{font:12.5px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f7;\
padding:1px 4px;border-radius:3px}
.bar{display:inline-block;height:9px;background:#1f4e79;border-radius:2px;vertical-align:middle;\
margin-right:6px}
.muted{color:#6b7385}.small{font-size:12px}
footer{margin-top:18px;font-size:11.5px;color:#6b7385;border-top:1px solid #d9dee8;padding-top:8px}
@media print{body{background:#fff}main{box-shadow:none;margin:0;padding:0 8px}}
""".strip()


def _rarity_chip(item: dict[str, Any]) -> str:
    cls = "r-" + item["rarity"].split(":")[0].split()[0]
    return f'<span class="rarity {cls}">{html.escape(item["rarity"])}</span>'


def render_html(b: Briefing) -> str:
    """The briefing as one self-contained HTML page (inline CSS, no scripts or external assets)."""
    e = html.escape
    title = e(b.name) + (f" <small>{e(b.external_id)}</small>" if b.external_id else "")
    aka = "".join(
        f'<div class="aka"><span class="who">{e(who)}</span>'
        + "".join(f'<span class="chip">{e(n)}</span>' for n in names)
        + "</div>"
        for who, names in b.aliases.items()
    )
    origin = f"{e(b.country_name or b.country)} ({e(b.country)})" if b.country else "Unknown"
    facts = (
        f'<div class="facts"><div class="fact"><b>Assessed origin</b>{origin}'
        f'<div class="small muted">{e(b.country_sureness)}</div></div>'
        f'<div class="fact"><b>Campaigns in the graph</b>{b.n_campaigns}'
        f'<div class="small muted">most recent: '
        f"{e(_span(b.campaigns[0])) if b.campaigns else 'none'}</div></div>"
        f'<div class="fact"><b>Motivation</b>{e(b.motivation or "not recorded")}</div></div>'
    )
    camps = (
        "".join(
            f"<tr><td>{e(c['name'])}</td><td>{e(_span(c))}</td>"
            f"<td>{e(', '.join(c['targets']) or '—')}</td></tr>"
            for c in b.campaigns
        )
        or '<tr><td colspan="3" class="muted">No campaigns attributed to this actor.</td></tr>'
    )
    targets = "".join(
        f'<span class="chip">{e(t["name"])} · {t["campaigns"]}</span>' for t in b.targets
    )
    malware = (
        "".join(
            f"<li>{e(m['name'])} <span class='muted small'>{e(m['kind'])}"
            f"{' · ' + e(m['external_id']) if m['external_id'] else ''}</span>"
            f" {_rarity_chip(m)}</li>"
            for m in b.malware
        )
        or "<li class='muted'>None recorded.</li>"
    )
    techniques = (
        "".join(
            f"<li><code>{e(t['external_id'] or '')}</code> {e(t['name'])} {_rarity_chip(t)}</li>"
            for t in b.techniques
        )
        or "<li class='muted'>None recorded.</li>"
    )
    infra_rows = []
    for what, rows in b.infrastructure.items():
        if not rows:
            continue
        peak = max(r["count"] for r in rows)
        cells = "<br>".join(
            f'<span class="bar" style="width:{max(4, int(60 * r["count"] / peak))}px"></span>'
            f"{e(str(r['name']))} "
            f'<span class="muted small">{r["count"]}</span>'
            for r in rows[:4]
        )
        infra_rows.append(f"<tr><th>{e(what)}</th><td>{cells}</td></tr>")
    infra = "".join(infra_rows) or '<tr><td class="muted">No infrastructure recorded.</td></tr>'
    indicators = (
        "".join(
            f"<tr><td><code>{e(i['defanged'])}</code></td><td>{e(i['kind'])}</td>"
            f"<td>{e(_date(i['last_seen'] or i['first_seen']))}</td>"
            f"<td>{'' if i['confidence'] is None else i['confidence']}</td></tr>"
            for i in b.indicators
        )
        or '<tr><td colspan="4" class="muted">None.</td></tr>'
    )
    preds = (
        "".join(
            f"<tr><td>{e(pr['campaign'] or pr['campaign_id'])}</td>"
            f"<td><span class='bar' style='width:{max(3, int(80 * pr['score']))}px'></span>"
            f"{pr['score']:.0%}</td><td>{e(str(pr['model_version']))}</td>"
            f"<td>{e(', '.join(pr['attributed_to']) or 'unattributed')}</td></tr>"
            for pr in b.predictions
        )
        or '<tr><td colspan="4" class="muted">'
        "No current model hypotheses point to this actor.</td></tr>"
    )
    description = f"<p>{e(b.description)}</p>" if b.description else ""
    # As in _CSS, a backslash at the end of a line joins it to the next.
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Briefing: {e(b.name)}</title>
<style>{_CSS}</style></head>
<body><main>
<header><h1>{title}</h1>{aka}</header>
{facts}
{description}
<h2>Recent campaigns and targets</h2>
<table><tr><th>Campaign</th><th>Active</th><th>Targets</th></tr>{camps}</table>
<div style="margin-top:6px">{targets}</div>
<div class="grid">
<section><h2>Signature malware and tools</h2>\
<p class="small muted">Rarest first, of {b.n_actors} known actors.</p><ul>{malware}</ul></section>
<section><h2>Signature techniques</h2>\
<p class="small muted">ATT&amp;CK techniques, rarest first.</p><ul>{techniques}</ul></section>
</div>
<h2>Infrastructure habits</h2>
<table class="infra">{infra}</table>
<h2>Newest indicators worth blocking</h2>
<p class="small muted">Defanged. Shared hosting, CDN addresses and sinkholes are left out.</p>
<table><tr><th>Indicator</th><th>Kind</th><th>Last seen</th><th>Confidence</th></tr>\
{indicators}</table>
<h2>What the model currently attributes to it</h2>
<p class="small muted">Hypotheses of the attribution model with calibrated probability, \
not analyst findings.</p>
<table><tr><th>Activity</th><th>Probability</th><th>Model</th><th>Analyst attribution</th></tr>\
{preds}</table>
<footer>Generated {e(b.generated[:16].replace("T", " "))} UTC by actorgraph \
from data up to TLP level {b.max_tlp}. Actor id <code>{e(b.actor_id)}</code>.</footer>
</main></body></html>
"""
