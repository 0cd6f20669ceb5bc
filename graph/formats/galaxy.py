"""MISP's threat-actor galaxy (``pymispgalaxies``): countries and synonyms for ATT&CK's groups.

Each ATT&CK group is matched by its ATT&CK id (every cluster that lists ``G0026`` among its
synonyms or links ``attack.mitre.org/groups/G0026``; they must agree on the country), else by its
name and aliases against the clusters' names and synonyms (exactly one cluster, claimed by no
other group). Anything else is reported as ambiguous and left alone: no match is guessed, and
synonyms are taken only from a group's single cluster, so two actors are never merged.

A matched cluster adds, with the provenance ``misp-galaxy@<galaxy version>``:

- its country (``country``, else ``cfr-suspected-state-sponsor``) as an ``ORIGINATES_FROM``
  edge whose ``country_source`` is that provenance, with the galaxy's ``attribution-confidence``
  as ``confidence``. A country ATT&CK's own text already gave keeps its edge and gains the
  galaxy in ``sources``; a different one gets its own edge, so the conflict stays visible. The
  actor's ``country`` property is the galaxy's only when ATT&CK's text gave none.
- its synonyms as aliases (also listed in ``galaxy_aliases``), except ATT&CK ids and names
  that another group already uses or that several clusters share.
- the sectors and countries it says the group targets (``cfr-target-category`` and
  ``targeted-sector``: sectors, mapped to STIX's vocabulary by graph/formats/sectors.py;
  ``cfr-suspected-victims``: the countries among them, not organisations such as NATO) as
  ``TARGETS`` edges to ``Sector`` and ``Country`` nodes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actorgraph.graph.errors import IngestError
from actorgraph.graph.formats.countries import country_code, country_name
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.formats.sectors import sector_name, sector_slug
from actorgraph.graph.package_data import package_data

SOURCE = "misp-galaxy"
_ATTACK_ID = re.compile(r"^G\d{4}$")
_ATTACK_URL = re.compile(r"attack\.mitre\.org/groups/(G\d{4})\b")


@dataclass(frozen=True)
class Cluster:
    """One threat-actor cluster: what this module reads of it."""

    uuid: str
    name: str
    synonyms: tuple[str, ...]
    attack_ids: frozenset[str]
    country: str | None
    confidence: int | None
    sectors: tuple[str, ...] = ()  # Sector slugs the cluster says it targets
    victims: tuple[str, ...] = ()  # alpha-2 codes of the countries it says it targets


@dataclass(frozen=True)
class GalaxyMatch:
    """What the galaxy says of one ATT&CK group.

    Attributes:
        clusters: the clusters matched (several only when each names the group's ATT&CK id).
        how: ``attack-id`` or ``name``.
        country: the country they state (they agree), or None.
        confidence: the galaxy's ``attribution-confidence`` (the lowest stated), or None.
        synonyms: whether the cluster's synonyms may become the group's aliases: one cluster,
            which no other group's ATT&CK id claims.
    """

    clusters: tuple[Cluster, ...]
    how: str
    country: str | None
    confidence: int | None
    synonyms: bool


@dataclass
class GalaxyMatches:
    """ATT&CK actor id -> its match; ambiguous ones apart (actor id -> the clusters' names)."""

    provenance: str
    matched: dict[str, GalaxyMatch] = field(default_factory=dict)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)


def galaxy_path() -> Path:
    """The threat-actor galaxy the ``pymispgalaxies`` package ships (found, not imported).

    Raises:
        IngestError: the package is not installed.
    """
    path = package_data("pymispgalaxies", "data", "misp-galaxy", "clusters", "threat-actor.json")
    if path is None:
        raise IngestError("the pymispgalaxies package is not installed", source=SOURCE)
    return path


def data_version(path: Path | None = None) -> str:
    """``misp-galaxy@<version>`` of the threat-actor galaxy: the provenance of what it adds.

    Raises:
        IngestError: the package is not installed or the file cannot be read.
    """
    return read_clusters(path)[0]


def read_clusters(path: Path | None = None) -> tuple[str, list[Cluster]]:
    """``(provenance, clusters)`` of the threat-actor galaxy (the packaged one by default).

    Raises:
        IngestError: the file cannot be read.
    """
    path = path or galaxy_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        clusters = [_cluster(v) for v in raw["values"]]
        return f"{SOURCE}@{raw['version']}", clusters
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IngestError(f"cannot read the MISP galaxy: {exc}", source=str(path)) from exc


def _cluster(value: dict[str, Any]) -> Cluster:
    meta = value.get("meta") or {}
    synonyms = tuple(str(s) for s in meta.get("synonyms") or [] if str(s).strip())
    ids = {s for s in synonyms if _ATTACK_ID.match(s)}
    ids |= {m.group(1) for ref in meta.get("refs") or [] if (m := _ATTACK_URL.search(str(ref)))}
    country = country_code(meta.get("country")) or country_code(
        meta.get("cfr-suspected-state-sponsor")
    )
    confidence = str(meta.get("attribution-confidence") or "")
    named = [*_strings(meta.get("cfr-target-category")), *_strings(meta.get("targeted-sector"))]
    sectors = (sector_slug(name) for name in named)
    victims = (country_code(name) for name in _strings(meta.get("cfr-suspected-victims")))
    return Cluster(
        uuid=str(value["uuid"]),
        name=str(value["value"]),
        synonyms=synonyms,
        attack_ids=frozenset(ids),
        country=country,
        confidence=int(confidence) if confidence.isdigit() else None,
        sectors=tuple(dict.fromkeys(s for s in sectors if s)),
        victims=tuple(dict.fromkeys(c for c in victims if c)),
    )


def _strings(value: Any) -> list[str]:
    """A meta field that is a list of strings (a lone string counts as a list of one)."""
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if isinstance(v, str) and v.strip()]


def match_groups(
    groups: dict[str, dict[str, Any]], clusters: list[Cluster], provenance: str
) -> GalaxyMatches:
    """Match ATT&CK groups (actor id -> props with ``external_id``, ``name``, ``aliases``).

    By ATT&CK id: every cluster naming the id is the group's; they must agree on the country.
    By name (no cluster names the id): exactly one cluster, which no other group claims.
    Anything else is ambiguous.
    """
    by_id: dict[str, list[Cluster]] = {}
    by_name: dict[str, dict[str, Cluster]] = {}
    for c in clusters:
        for xid in c.attack_ids:
            by_id.setdefault(xid, []).append(c)
        for name in {c.name.lower(), *(s.lower() for s in c.synonyms)}:
            by_name.setdefault(name, {})[c.uuid] = c
    found: dict[str, tuple[list[Cluster], str]] = {}
    for actor_id, props in groups.items():
        if hits := by_id.get(str(props.get("external_id") or "")):
            found[actor_id] = (hits, "attack-id")
            continue
        names = {str(n).lower() for n in [props.get("name"), *(props.get("aliases") or [])]}
        hits_by_uuid = {u: c for n in names for u, c in by_name.get(n, {}).items()}
        if hits_by_uuid:
            found[actor_id] = (list(hits_by_uuid.values()), "name")
    claims: dict[str, int] = {}
    id_claims: dict[str, int] = {}
    for hits, how in found.values():
        for c in hits:
            claims[c.uuid] = claims.get(c.uuid, 0) + 1
            if how == "attack-id":
                id_claims[c.uuid] = id_claims.get(c.uuid, 0) + 1
    out = GalaxyMatches(provenance)
    for actor_id, (hits, how) in found.items():
        countries = {c.country for c in hits if c.country}
        if (how == "name" and (len(hits) > 1 or claims[hits[0].uuid] > 1)) or len(countries) > 1:
            out.ambiguous[actor_id] = sorted(c.name for c in hits)
            continue
        stated = [c.confidence for c in hits if c.country and c.confidence is not None]
        out.matched[actor_id] = GalaxyMatch(
            clusters=tuple(hits),
            how=how,
            country=next(iter(countries), None),
            confidence=min(stated) if stated else None,
            synonyms=len(hits) == 1 and id_claims.get(hits[0].uuid, 0) <= 1,
        )
    return out


def add_galaxy(batch: IngestBatch, path: Path | None = None) -> GalaxyMatches:
    """Add the galaxy's countries and synonyms to the batch's ATT&CK groups (in place).

    Ambiguous matches are counted in ``batch.skipped`` and returned, never applied.
    """
    provenance, clusters = read_clusters(path)
    actors = batch.nodes.get("ThreatActor") or {}
    groups = {a: p for a, p in actors.items() if _ATTACK_ID.match(str(p.get("external_id") or ""))}
    matches = match_groups(groups, clusters, provenance)
    taken = _names_in_use(actors)
    shared = _shared_synonyms(m.clusters[0] for m in matches.matched.values() if m.synonyms)
    for actor_id, match in sorted(matches.matched.items()):
        props = actors[actor_id]
        own = {str(n).lower() for n in [props.get("name"), *(props.get("aliases") or [])]}
        new = [
            s
            for s in (match.clusters[0].synonyms if match.synonyms else ())
            if s.lower() not in own
            and not _ATTACK_ID.match(s)
            and taken.get(s.lower(), {actor_id}) == {actor_id}
            and s.lower() not in shared
        ]
        batch.add_node(
            "ThreatActor",
            actor_id,
            {
                "sources": [provenance],
                "aliases": new,
                "aliases_lc": [s.lower() for s in new],
                "galaxy_aliases": new,
                "galaxy_clusters": [c.name for c in match.clusters],
                "galaxy_match": match.how,
            },
        )
        if match.country:
            _add_origin(batch, actor_id, props, match, provenance)
        _add_targets(batch, actor_id, match, provenance)
    if matches.ambiguous:
        batch.skip(f"{provenance}: ambiguous match, not applied", len(matches.ambiguous))
    return matches


def _add_origin(
    batch: IngestBatch,
    actor_id: str,
    props: dict[str, Any],
    match: GalaxyMatch,
    provenance: str,
) -> None:
    code = str(match.country)
    country_id = f"country:{code}"
    key = ("ThreatActor", "ORIGINATES_FROM", "Country")
    existing = batch.edges.get(key, {}).get((actor_id, country_id))
    if not props.get("country"):
        batch.add_node("ThreatActor", actor_id, {"country": code, "country_source": provenance})
    batch.add_node(
        "Country", country_id, {"code": code, "name": country_name(code), "sources": [provenance]}
    )
    edge: dict[str, Any] = {"sources": [provenance], "confidence": match.confidence}
    if existing is None:
        edge.update(country_source=provenance, modified=props.get("modified"))
    batch.add_edge("ThreatActor", "ORIGINATES_FROM", "Country", actor_id, country_id, edge)


def _add_targets(batch: IngestBatch, actor_id: str, match: GalaxyMatch, provenance: str) -> None:
    """``TARGETS`` edges to the sectors and countries the matched clusters name."""
    edge = {"sources": [provenance]}
    for slug in dict.fromkeys(s for c in match.clusters for s in c.sectors):
        sector_id = f"sector:{slug}"
        batch.add_node("Sector", sector_id, {"name": sector_name(slug), "sources": [provenance]})
        batch.add_edge("ThreatActor", "TARGETS", "Sector", actor_id, sector_id, dict(edge))
    for code in dict.fromkeys(v for c in match.clusters for v in c.victims):
        country_id = f"country:{code}"
        batch.add_node(
            "Country",
            country_id,
            {"code": code, "name": country_name(code), "sources": [provenance]},
        )
        batch.add_edge("ThreatActor", "TARGETS", "Country", actor_id, country_id, dict(edge))


def _names_in_use(actors: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """Lower-cased name or alias -> the actors that carry it."""
    out: dict[str, set[str]] = {}
    for actor_id, props in actors.items():
        for name in [props.get("name"), *(props.get("aliases") or [])]:
            if name:
                out.setdefault(str(name).lower(), set()).add(actor_id)
    return out


def _shared_synonyms(clusters: Any) -> set[str]:
    """Lower-cased synonyms that more than one of ``clusters`` lists."""
    seen: dict[str, int] = {}
    for c in clusters:
        for s in {s.lower() for s in c.synonyms}:
            seen[s] = seen.get(s, 0) + 1
    return {s for s, n in seen.items() if n > 1}
