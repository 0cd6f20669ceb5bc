"""STIX 2.1 bundles -> ``IngestBatch`` rows of the actorgraph model (cypher/README.md).

The whole bundle is validated first (graph/formats/stix_validate.py); then objects become nodes and
relationships become edges:

    intrusion-set, threat-actor -> ThreatActor      campaign -> Campaign
    malware -> Malware    tool -> Tool               attack-pattern -> Technique
    indicator -> one Indicator per observable value of its pattern
    ipv4/ipv6-addr, domain-name, url, email-addr, file hashes, x509 hashes -> Indicator
    autonomous-system -> Infrastructure {kind: asn}  infrastructure -> Infrastructure
    location (country) -> Country                     identity (sectors / class) -> Sector
    report -> Report (+ REPORTED_IN from its object_refs)
    sighting -> sighting_counts / sighting_last per TLP level on what was sighted (sightings.py)
    marking-definition (TLP 1.0, 2.0) -> tlp, tlp_level on the objects it marks

Revoked and ``x_mitre_deprecated`` objects are skipped; invalid indicator values are listed in
``batch.rejected`` and not stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actorgraph.graph.errors import ActorgraphError, InvalidIndicator, StixIngestError
from actorgraph.graph.formats.countries import country_code, country_name, derive_country
from actorgraph.graph.formats.indicators import asn_number, indicator_id, normalize_indicator
from actorgraph.graph.formats.provenance import TLP_MARKING_IDS, iso, seen_props
from actorgraph.graph.formats.rows import ID_LEVELS, IngestBatch
from actorgraph.graph.formats.sightings import SightingTally
from actorgraph.graph.formats.stix_patterns import Comparison, parse_pattern
from actorgraph.graph.formats.stix_relationships import graph_relationship
from actorgraph.graph.formats.stix_validate import bundle_objects, load_json, validate_objects
from actorgraph.graph.schema import INFRA_KINDS
from actorgraph.graph.tlp import TLP, marking

KnownIds = Callable[[set[str]], set[str]]
ResolveIds = Callable[[set[str]], dict[str, list[tuple[str, str]]]]

# STIX types whose node id is the STIX id itself (so a reference resolves without a lookup).
DIRECT_LABELS = {
    "intrusion-set": "ThreatActor",
    "threat-actor": "ThreatActor",
    "campaign": "Campaign",
    "malware": "Malware",
    "tool": "Tool",
    "attack-pattern": "Technique",
    "infrastructure": "Infrastructure",
    "report": "Report",
}
_OBSERVABLE_KINDS = {
    "ipv4-addr": "ipv4",
    "ipv6-addr": "ipv6",
    "domain-name": "domain",
    "url": "url",
    "email-addr": "email",
}
_FILE_HASHES = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512"}
# STIX infrastructure_types (the open vocabulary plus values seen in OpenCTI/MISP exports).
_INFRA_KINDS = {
    "command-and-control": "c2_server",
    "control-system": "c2_server",
    "hosting-provider": "hosting_provider",
    "hosting-malware": "hosting_provider",
    "hosting-target-lists": "hosting_provider",
    "registrar": "registrar",
    "name-server": "name_server",
    "sinkhole": "sinkhole",
    "cdn": "cdn",
    "bulletproof": "bulletproof_hoster",
    "bulletproof-hosting": "bulletproof_hoster",
    "vps": "vps",
    "anonymization": "vps",
}
_ATTACK_SOURCES = ("mitre-attack", "mitre-mobile-attack", "mitre-ics-attack")

# Relationship types that connect nothing actorgraph models, or restate a skip.
_IGNORED_RELS = {"revoked-by", "mitigates", "detects"}


def read_stix(
    obj_or_path: dict[str, Any] | str | Path,
    *,
    source: str | None = None,
    known_ids: KnownIds | None = None,
    resolve_ids: ResolveIds | None = None,
    origin: str | None = None,
    provenance: bool = True,
) -> IngestBatch:
    """Validate a STIX 2.1 bundle and turn it into graph rows (writes nothing).

    Args:
        obj_or_path: a parsed bundle (``dict``) or a ``.json`` / ``.json.gz`` file.
        source: the provenance name of objects without a ``created_by_ref`` identity
            (default: the file name, or ``"inline"``).
        known_ids: answers which of a set of STIX ids already exist in the store; references
            to those are not dangling. ``None``: only the bundle counts.
        resolve_ids: maps STIX ids in the store to their ``(label, node id)`` pairs, for
            references to indicators, observables, locations and identities outside the
            bundle (see ``graph.ingest.writer.resolve_stix_ids``). Also serves as ``known_ids``.
        origin: where the input came from, for error messages (default: the path, or
            ``source`` for parsed input).
        provenance: ``False`` leaves out the provenance properties (timestamps, TLP,
            confidence, STIX ids) of the rows, for input that is read but never written:
            attribution of new activity, where they were a sixth of the reading time.

    Returns:
        The batch of nodes, edges, rejected values and skip counts.

    Raises:
        IngestError: the file is unreadable, not JSON or not a bundle.
        StixIngestError: an object is invalid or references an unknown id.
    """
    if isinstance(obj_or_path, str | Path):
        path = Path(obj_or_path)
        where: str | None = origin or str(path)
        data = load_json(path)
        name = source or path.name
    else:
        where, data, name = origin or source, obj_or_path, source or "inline"
    objects = bundle_objects(data, where)
    return read_objects(
        objects,
        source=name,
        known_ids=known_ids,
        resolve_ids=resolve_ids,
        origin=where,
        provenance=provenance,
    )


def _known_by(resolve_ids: ResolveIds) -> KnownIds:
    """A ``known_ids`` check from a resolver: the ids it resolves are the ones it knows."""

    def known_ids(ids: set[str]) -> set[str]:
        return set(resolve_ids(ids))

    return known_ids


def read_objects(
    objects: list[dict[str, Any]],
    *,
    source: str,
    known_ids: KnownIds | None = None,
    resolve_ids: ResolveIds | None = None,
    origin: str | None = None,
    validate: bool = True,
    provenance: bool = True,
) -> IngestBatch:
    """Like :func:`read_stix` for a list of STIX objects (no bundle wrapper).

    Args:
        objects: STIX 2.1 objects.
        source: provenance name of objects without a ``created_by_ref`` identity.
        known_ids: see :func:`read_stix`.
        resolve_ids: see :func:`read_stix`.
        origin: name for error messages (default ``source``).
        validate: ``False`` skips validation, for trusted data already checked upstream
            (the ATT&CK package); everything else must be validated.
        provenance: see :func:`read_stix`.

    Raises:
        StixIngestError: an object is invalid or references an unknown id.
    """
    reader: _BundleReader | None = None
    try:
        patterns: dict[str, list[Comparison]] = {}
        if validate:
            if known_ids is None and resolve_ids is not None:
                known_ids = _known_by(resolve_ids)
            patterns = validate_objects(objects, source=origin or source, known_ids=known_ids)
        reader = _BundleReader(source, objects, resolve_ids, patterns, provenance)
        return reader.read()
    except ActorgraphError:
        raise
    except (TypeError, AttributeError, KeyError, ValueError, IndexError, RecursionError) as exc:
        # Validation checks presence and the common types; a property of an unexpected shape
        # deeper in an object ('aliases': [null], 'kill_chain_phases': true) surfaces here.
        # It refuses the whole bundle like any invalid object, naming the object.
        where = reader.current if reader is not None and reader.current else "bundle"
        raise StixIngestError(
            where, f"malformed property ({type(exc).__name__}: {exc})", source=origin or source
        ) from exc


class _BundleReader:
    """Two passes over a validated bundle: objects to nodes, then references to edges."""

    def __init__(
        self,
        source: str,
        objects: list[dict[str, Any]],
        resolve: ResolveIds | None,
        patterns: dict[str, list[Comparison]],
        provenance: bool = True,
    ):
        self.batch = IngestBatch(source=source)
        self.provenance = provenance
        self.resolve = resolve
        self.patterns = patterns  # parsed by validation
        self.objects: dict[str, dict[str, Any]] = {}
        for obj in objects:  # a bundle may hold several versions of an object: newest wins
            old = self.objects.get(obj["id"])
            if old is None or str(iso(obj.get("modified")) or "") >= str(
                iso(old.get("modified")) or ""
            ):
                self.objects[obj["id"]] = obj
        self.markings = dict(TLP_MARKING_IDS)
        self.identities: dict[str, str] = {}
        self.refs: dict[str, list[tuple[str, str]]] = {}
        self.skipped_ids: set[str] = set()
        self.actors: dict[str, dict[str, Any]] = {}
        self.sightings: dict[tuple[str, str], SightingTally] = {}
        self.external: dict[str, list[tuple[str, str]]] = {}
        self.current: str | None = None  # the object being read, for error messages

    # ----------------------------------------------------------------- driver
    def read(self) -> IngestBatch:
        for obj in self.objects.values():
            if obj["type"] == "marking-definition":
                self._marking(obj)
            elif obj["type"] == "identity":
                self.identities[obj["id"]] = obj["name"]
        for obj in self.objects.values():
            self.current = obj["id"]
            stix_type = obj["type"]
            if obj.get("revoked") or obj.get("x_mitre_deprecated"):
                self.skipped_ids.add(obj["id"])
                self.batch.skip("revoked" if obj.get("revoked") else "deprecated")
                continue
            handler = _NODE_HANDLERS.get(stix_type)
            if handler is not None:
                handler(self, obj)
            elif stix_type not in ("relationship", "sighting", "marking-definition"):
                self.batch.skip(f"unsupported type {stix_type}")
        self._resolve_external()
        for obj in self.objects.values():
            self.current = obj["id"]
            if obj["id"] in self.skipped_ids:
                continue
            if obj["type"] == "relationship":
                self._relationship(obj)
            elif obj["type"] == "sighting":
                self._sighting(obj)
            self._embedded_refs(obj)
        self._apply_sightings()
        self._actor_countries()
        return self.batch

    # ------------------------------------------------------------- provenance
    def _marking(self, obj: dict[str, Any]) -> None:
        level = None
        if obj.get("definition_type") == "tlp":
            level = TLP.lookup((obj.get("definition") or {}).get("tlp"))
        for ext in (obj.get("extensions") or {}).values():
            if isinstance(ext, dict) and "tlp_2_0" in ext:
                level = TLP.lookup(ext["tlp_2_0"])
        if level is None:  # TLP.CLEAR is falsy: test for None, not truth
            level = TLP.lookup(obj.get("name"))
        if level is not None:
            self.markings[obj["id"]] = level

    def source_of(self, obj: dict[str, Any]) -> str:
        name = self.identities.get(obj.get("created_by_ref") or "")
        if name and _attack_ref(obj) and name == "The MITRE Corporation":
            return "mitre-attack"  # same provenance as graph.formats.attack
        return name or self.batch.source

    def prov(self, obj: dict[str, Any], *, with_stix_id: bool = True) -> dict[str, Any]:
        if not self.provenance:
            # Ids are read back below; their markings are not read, so no ids per marking.
            return {"stix_ids": [obj["id"]], "sources": [self.batch.source], ID_LEVELS: None}
        tlp = TLP.strictest(self.markings.get(m) for m in obj.get("object_marking_refs") or [])
        props: dict[str, Any] = {
            "stix_ids": [obj["id"]],
            "sources": [self.source_of(obj)],
            "created": iso(obj.get("created")),
            "modified": iso(obj.get("modified")),
            "confidence": obj.get("confidence"),
            **marking(tlp),
        }
        if with_stix_id:
            props["stix_id"] = obj["id"]
        return props

    def add(self, obj: dict[str, Any], label: str, node_id: str, props: dict[str, Any]) -> None:
        self.batch.add_node(label, node_id, props)
        self.refs.setdefault(obj["id"], []).append((label, node_id))

    # ------------------------------------------------------------------ nodes
    def _actor(self, obj: dict[str, Any]) -> None:
        aliases = _unique([a for a in obj.get("aliases") or [] if isinstance(a, str)])
        props = {
            **self.prov(obj),
            "name": obj["name"],
            "name_lc": obj["name"].lower(),
            "aliases": aliases,
            "aliases_lc": _unique([a.lower() for a in [obj["name"], *aliases]]),
            "description": obj.get("description"),
            "motivation": obj.get("primary_motivation"),
            "external_id": _external_id(obj),
            **seen_props(obj.get("first_seen"), obj.get("last_seen")),
        }
        country = country_code(
            obj.get("x_actorgraph_country")
        )  # written by graph/formats/stix_out.py
        if country:
            props["country"] = country
            props["country_source"] = obj.get("x_actorgraph_country_source") or "stix"
        self.add(obj, "ThreatActor", obj["id"], props)
        self.actors[obj["id"]] = {"aliases": aliases, "description": obj.get("description")}

    def _campaign(self, obj: dict[str, Any]) -> None:
        props = {
            **self.prov(obj),
            "name": obj["name"],
            "name_lc": obj["name"].lower(),
            "aliases": _unique(obj.get("aliases") or []),
            "description": obj.get("description"),
            "objective": obj.get("objective"),
            "external_id": _external_id(obj),
            **seen_props(obj.get("first_seen"), obj.get("last_seen")),
        }
        self.add(obj, "Campaign", obj["id"], props)

    def _software(self, obj: dict[str, Any]) -> None:
        label = "Malware" if obj["type"] == "malware" else "Tool"
        name = obj.get("name") or obj["id"]
        aliases = _unique(obj.get("aliases") or obj.get("x_mitre_aliases") or [])
        props = {
            **self.prov(obj),
            "name": name,
            "name_lc": name.lower(),
            "aliases": aliases,
            "aliases_lc": _unique([a.lower() for a in [name, *aliases]]),
            "external_id": _external_id(obj),
            "is_family": obj.get("is_family"),
            "types": obj.get("malware_types") or obj.get("tool_types"),
            "platforms": obj.get("x_mitre_platforms"),
            "description": obj.get("description"),
            **seen_props(obj.get("first_seen"), obj.get("last_seen")),
        }
        self.add(obj, label, obj["id"], props)

    def _technique(self, obj: dict[str, Any]) -> None:
        external_id = _external_id(obj)
        is_sub = bool(obj.get("x_mitre_is_subtechnique")) or "." in (external_id or "")
        props = {
            **self.prov(obj),
            "name": obj["name"],
            "external_id": external_id,
            "tactics": _unique(
                p["phase_name"]
                for p in obj.get("kill_chain_phases") or []
                if isinstance(p, dict) and p.get("kill_chain_name") in _ATTACK_SOURCES
            ),
            "is_subtechnique": is_sub,
            "parent_external_id": external_id.split(".")[0] if is_sub and external_id else None,
            "platforms": obj.get("x_mitre_platforms"),
            "description": obj.get("description"),
        }
        self.add(obj, "Technique", obj["id"], props)

    def _infrastructure(self, obj: dict[str, Any]) -> None:
        types = obj.get("infrastructure_types") or []
        kind = next((_INFRA_KINDS[t] for t in types if t in _INFRA_KINDS), "other")
        if obj.get("x_actorgraph_kind") in INFRA_KINDS:  # written by graph/formats/stix_out.py
            kind = obj["x_actorgraph_kind"]
        # An exported "registrar:namecheap"-style node comes back under its graph id.
        node_id = obj.get("x_actorgraph_id") or obj["id"]
        props = {
            **self.prov(obj),
            "name": obj["name"],
            "kind": kind,
            "value": obj.get("x_actorgraph_value"),
            "infrastructure_types": types or None,
            "description": obj.get("description"),
            **seen_props(obj.get("first_seen"), obj.get("last_seen")),
        }
        self.add(obj, "Infrastructure", node_id, props)

    def _report(self, obj: dict[str, Any]) -> None:
        url = next(
            (
                r["url"]
                for r in obj.get("external_references") or []
                if isinstance(r, dict) and r.get("url")
            ),
            None,
        )
        props = {
            **self.prov(obj),
            "name": obj["name"],
            "published": iso(obj.get("published")),
            "url": url,
            "description": obj.get("description"),
        }
        self.add(obj, "Report", obj["id"], props)

    def _location(self, obj: dict[str, Any]) -> None:
        code = country_code(obj.get("country"))
        if not code:
            self.batch.skip("location without a known country")
            return
        props = {**self.prov(obj, with_stix_id=False), "code": code, "name": country_name(code)}
        self.add(obj, "Country", f"country:{code}", props)

    def _identity(self, obj: dict[str, Any]) -> None:
        sectors = [s for s in obj.get("sectors") or [] if isinstance(s, str)]
        if not sectors and obj.get("identity_class") == "class":
            sectors = [obj["name"]]
        for sector in sectors:
            slug = _slug(sector)
            props = {**self.prov(obj, with_stix_id=False), "name": sector.replace("-", " ")}
            self.add(obj, "Sector", f"sector:{slug}", props)

    def _indicator(self, obj: dict[str, Any]) -> None:
        if obj.get("pattern_type", "stix") != "stix":
            self.batch.skip(f"indicator with pattern_type {obj.get('pattern_type')}")
            return
        base = {
            **self.prov(obj, with_stix_id=False),
            "pattern": obj["pattern"],
            "valid_from": iso(obj.get("valid_from")),
            "valid_until": iso(obj.get("valid_until")),
            "name": obj.get("name"),
            "types": obj.get("indicator_types"),
        }
        for kind, value in parse_pattern(obj["pattern"], self.patterns.get(obj["pattern"])):
            self._observable_value(obj, kind, value, base)

    def _observable(self, obj: dict[str, Any]) -> None:
        base = self.prov(obj, with_stix_id=False)
        stix_type = obj["type"]
        if stix_type in _OBSERVABLE_KINDS:
            self._observable_value(obj, _OBSERVABLE_KINDS[stix_type], obj["value"], base)
        elif stix_type == "autonomous-system":
            self._observable_value(obj, "asn", obj["number"], {**base, "name": obj.get("name")})
        else:  # file, x509-certificate: one indicator per hash
            hashes = obj.get("hashes") or {}
            for algorithm, value in hashes.items():
                kind = _FILE_HASHES.get(algorithm.lower().replace("-", ""))
                if stix_type == "x509-certificate":
                    kind = "x509" if kind in ("sha1", "sha256") else None
                if kind:
                    self._observable_value(obj, kind, value, base)
            if not self.refs.get(obj["id"]):
                self.batch.skip(f"{stix_type} without a supported hash")

    def _observable_value(
        self, obj: dict[str, Any], kind: str | None, value: Any, base: dict[str, Any]
    ) -> None:
        detect = kind is None  # network-traffic refs: an address or a domain name
        try:
            kind, norm = normalize_indicator(value, kind)
            if detect and kind not in ("ipv4", "ipv6", "domain"):
                raise InvalidIndicator(str(value), f"a {kind} is not a network address")
        except InvalidIndicator as exc:
            self.batch.reject(obj["id"], value, exc.reason)
            return
        if kind == "asn":
            props = {**base, "kind": "asn", "value": norm, "asn": asn_number(norm)}
            props.pop("pattern", None)
            self.add(obj, "Infrastructure", indicator_id(kind, norm), props)
        else:
            props = {**base, "kind": kind, "value": norm}
            self.add(obj, "Indicator", indicator_id(kind, norm), props)

    # ------------------------------------------------------------------ edges
    def _resolve_external(self) -> None:
        """Look up, in one call, references outside the bundle that need the store's ids."""
        if not self.resolve:  # nothing to look them up in (attribution input, tests)
            return
        wanted: set[str] = set()
        for obj in self.objects.values():
            for ref in _edge_refs(obj):
                prefix = ref.partition("--")[0]
                if ref not in self.objects and (
                    prefix not in DIRECT_LABELS or prefix == "infrastructure"
                ):
                    wanted.add(ref)
        if wanted:
            self.external = self.resolve(wanted)

    def nodes_of(self, ref: str) -> list[tuple[str, str]]:
        if ref in self.objects:
            return self.refs.get(ref, [])
        if ref in self.external:
            return self.external[ref]
        label = DIRECT_LABELS.get(ref.partition("--")[0])
        if label:
            return [(label, ref)]
        return []

    def edge_props(self, obj: dict[str, Any]) -> dict[str, Any]:
        props = {**self.prov(obj), "relationship_type": obj.get("relationship_type")}
        props.pop("stix_ids")
        props.update(seen_props(obj.get("start_time"), obj.get("stop_time")))
        return props

    def _relationship(self, obj: dict[str, Any]) -> None:
        rel = obj["relationship_type"]
        if rel in _IGNORED_RELS:
            self.batch.skip(f"relationship {rel}")
            return
        src_ref, dst_ref = obj["source_ref"], obj["target_ref"]
        if src_ref in self.skipped_ids or dst_ref in self.skipped_ids:
            self.batch.skip("relationship to a revoked or deprecated object")
            return
        sources, targets = self.nodes_of(src_ref), self.nodes_of(dst_ref)
        if not sources or not targets:
            self.batch.skip(f"relationship {rel} to an object not in the graph model")
            return
        props = self.edge_props(obj)
        for src_label, src_id in sources:
            for dst_label, dst_id in targets:
                mapped = graph_relationship(rel, src_label, dst_label)
                if mapped is None:
                    self.batch.skip(f"relationship {rel} {src_label}->{dst_label}")
                    continue
                rel_type, swap = mapped
                a, b = (
                    ((dst_label, dst_id), (src_label, src_id))
                    if swap
                    else ((src_label, src_id), (dst_label, dst_id))
                )
                edge = dict(props)
                if rel_type == "ATTRIBUTED_TO" and obj.get("x_actorgraph_hypothesis"):
                    # A model's hypothesis (graph/reports/attribution_stix.py) stays a hypothesis:
                    # reading it back must never turn it into an attribution fact.
                    rel_type = "PREDICTED_ACTOR"
                    edge.update(
                        score=(obj.get("confidence") or 0) / 100,
                        model_version=obj.get("x_actorgraph_model_version"),
                    )
                elif rel_type == "ATTRIBUTED_TO":
                    edge["source"] = props["sources"][0]
                # An origin stays on its relationship, with the relationship's marking: copied
                # onto the actor it would show a red located-at to every reader of a clear
                # actor. Readers take it from the visible edge (graph/library/origin.py).
                self.batch.add_edge(a[0], rel_type, b[0], a[1], b[1], edge)

    def _embedded_refs(self, obj: dict[str, Any]) -> None:
        """Edges from reference properties: resolves_to_refs, belongs_to_refs, object_refs."""
        stix_type = obj["type"]
        groups = []
        if stix_type == "domain-name":
            groups.append(("RESOLVES_TO", obj.get("resolves_to_refs") or [], False))
        elif stix_type in ("ipv4-addr", "ipv6-addr"):
            groups.append(("HOSTED_ON", obj.get("belongs_to_refs") or [], False))
            groups.append(("RESOLVES_TO", obj.get("resolves_to_refs") or [], False))
        elif stix_type == "report":
            groups.append(("REPORTED_IN", obj.get("object_refs") or [], True))
        if not groups:
            return
        mine = self.refs.get(obj["id"], [])
        props = {k: v for k, v in self.prov(obj).items() if k != "stix_ids"}
        for rel_type, refs, reverse in groups:
            for ref in refs:
                if ref in self.skipped_ids:
                    continue
                for other_label, other_id in self.nodes_of(ref):
                    for my_label, my_id in mine:
                        if reverse:  # (referenced object)-[:REPORTED_IN]->(report)
                            self.batch.add_edge(
                                other_label, rel_type, my_label, other_id, my_id, props
                            )
                        else:
                            self.batch.add_edge(
                                my_label, rel_type, other_label, my_id, other_id, props
                            )

    def _sighting(self, obj: dict[str, Any]) -> None:
        last = iso(obj.get("last_seen") or obj.get("first_seen") or obj.get("modified"))
        # Tallied per TLP level of the sighting, not in one total: a red sighting of a clear
        # indicator must not change what a clear reader sees (graph/formats/sightings.py).
        level = TLP.strictest(self.markings.get(m) for m in obj.get("object_marking_refs") or [])
        for label, node_id in self.nodes_of(obj["sighting_of_ref"]):
            tally = self.sightings.setdefault((label, node_id), SightingTally())
            tally.add(level, int(obj.get("count") or 1), last)

    def _apply_sightings(self) -> None:
        for (label, node_id), tally in self.sightings.items():
            self.batch.add_node(label, node_id, tally.props())

    def _actor_countries(self) -> None:
        """Each actor's own country and its edge: the actor object's, else derived (aliases,
        description). Never from a relationship, which keeps its own marking on its edge."""
        key = ("ThreatActor", "ORIGINATES_FROM", "Country")
        for actor_id, info in self.actors.items():
            node = self.batch.nodes["ThreatActor"][actor_id]
            code, how = node.get("country"), node.get("country_source")
            if not code:
                code, how = derive_country(info["aliases"], info["description"])
                if not code:
                    continue
                self.batch.add_node(
                    "ThreatActor", actor_id, {"country": code, "country_source": how}
                )
            country_id = f"country:{code}"
            if (actor_id, country_id) in self.batch.edges.get(key, {}):
                continue  # an originates-from / located-at relationship already says it
            self.batch.add_node(
                "Country",
                country_id,
                {"code": code, "name": country_name(code), "sources": node["sources"]},
            )
            props = {
                "sources": node["sources"],
                "country_source": how,
                "modified": node.get("modified"),
            }
            self.batch.add_edge(
                "ThreatActor", "ORIGINATES_FROM", "Country", actor_id, country_id, props
            )


_NODE_HANDLERS: dict[str, Callable[[_BundleReader, dict[str, Any]], None]] = {
    "intrusion-set": _BundleReader._actor,
    "threat-actor": _BundleReader._actor,
    "campaign": _BundleReader._campaign,
    "malware": _BundleReader._software,
    "tool": _BundleReader._software,
    "attack-pattern": _BundleReader._technique,
    "infrastructure": _BundleReader._infrastructure,
    "report": _BundleReader._report,
    "location": _BundleReader._location,
    "identity": _BundleReader._identity,
    "indicator": _BundleReader._indicator,
    "ipv4-addr": _BundleReader._observable,
    "ipv6-addr": _BundleReader._observable,
    "domain-name": _BundleReader._observable,
    "url": _BundleReader._observable,
    "email-addr": _BundleReader._observable,
    "autonomous-system": _BundleReader._observable,
    "file": _BundleReader._observable,
    "x509-certificate": _BundleReader._observable,
}


def _edge_refs(obj: dict[str, Any]) -> list[str]:
    refs = [
        obj[p]
        for p in ("source_ref", "target_ref", "sighting_of_ref")
        if isinstance(obj.get(p), str)
    ]
    for prop in ("object_refs", "resolves_to_refs", "belongs_to_refs"):
        refs.extend(r for r in obj.get(prop) or [] if isinstance(r, str))
    return refs


def _external_id(obj: dict[str, Any]) -> str | None:
    ref = _attack_ref(obj)
    return ref.get("external_id") if ref else None


def _attack_ref(obj: dict[str, Any]) -> dict[str, Any] | None:
    for ref in obj.get("external_references") or []:
        if (
            isinstance(ref, dict)
            and ref.get("source_name") in _ATTACK_SOURCES
            and ref.get("external_id")
        ):
            return ref
    return None


def _unique(items: Any) -> list[Any]:
    return list(dict.fromkeys(items))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
