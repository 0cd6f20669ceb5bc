"""STIX 2.1 bundles -> ``IngestBatch`` rows of the actorgraph model (cypher/README.md).

The whole bundle is validated first (graph/formats/stix_validate.py); then objects become nodes and
relationships become edges:

    intrusion-set, threat-actor -> ThreatActor      campaign -> Campaign
    malware -> Malware    tool -> Tool               attack-pattern -> Technique
    indicator -> one Indicator per observable value of its pattern (an address range:
                 Infrastructure {kind: network}, graph/formats/ranges.py)
    ipv4/ipv6-addr, domain-name, url, email-addr, file hashes, x509 hashes -> Indicator
    autonomous-system -> Infrastructure {kind: asn}  infrastructure -> Infrastructure
    location (country) -> Country (``country`` as alpha-2, alpha-3 or a name, else the name of
                 a location nothing marks as a region or a narrower place)
    identity (sectors / class) -> Sector; an individual's identity -> nothing (a person is no
                 sector), and a relationship to it is rejected
    report -> Report (+ REPORTED_IN from its object_refs)
    sighting -> sighting_counts / sighting_last per TLP level on what was sighted (sightings.py)
    marking-definition (TLP 1.0, 2.0) -> tlp, tlp_level on the objects it marks, whole or in
                 part (granular_markings): an element carries the strictest of them. A marking
                 the reader cannot resolve to a level reads as red, never as clear (``level_of``)

Revoked and ``x_mitre_deprecated`` objects are skipped; a revoked object that an earlier input
stored marks its nodes ``revoked: true`` instead. An object whose ``modified`` is before its
``created`` is rejected alone (stix_validate.py). Invalid indicator values are listed in
``batch.rejected`` and not stored. A reference to an id neither in the bundle nor in the store
does not refuse the bundle: the edge it would make is kept in ``batch.pending`` for a later input
to complete. ``batch.ledger`` accounts for every object (graph/formats/ledger.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actorgraph.graph.errors import ActorgraphError, InvalidIndicator, StixIngestError
from actorgraph.graph.formats.countries import country_code, country_name, derive_country
from actorgraph.graph.formats.indicators import asn_number, indicator_id, normalize_indicator
from actorgraph.graph.formats.ledger import PendingRef
from actorgraph.graph.formats.provenance import (
    NON_TLP_MARKING_IDS,
    TLP_MARKING_IDS,
    iso,
    seen_props,
)
from actorgraph.graph.formats.ranges import network_range
from actorgraph.graph.formats.rows import ID_LEVELS, IngestBatch
from actorgraph.graph.formats.sightings import SightingTally
from actorgraph.graph.formats.stix_patterns import parse_pattern
from actorgraph.graph.formats.stix_relationships import reference_edges
from actorgraph.graph.formats.stix_validate import (
    Validated,
    bundle_objects,
    load_json,
    validate_objects,
)
from actorgraph.graph.schema import INFRA_KINDS
from actorgraph.graph.tlp import TLP, marking

KnownIds = Callable[[set[str]], set[str]]
Edge = tuple[str, str, str, str, str, dict[str, Any]]
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

INDIVIDUAL = "identity of an individual: not a sector"
# Nodes that many objects stand for (every location of France is country:FR): revoking one of
# those objects revokes nothing stored.
_SHARED_LABELS = ("Country", "Sector")
# OpenCTI's x_opencti_location_type of a location that names a country (its `name` is tried
# when `country` holds no known code); a region's or a city's name never stands for a country.
_COUNTRY_TYPES = (None, "Country")
# STIX location properties that make it narrower than a country (a city, an address).
_PLACE_PROPS = ("city", "administrative_area", "street_address", "postal_code")

# The reference properties that make edges, by the type of the object holding them.
_EMBEDDED_REFS = {
    "domain-name": ("resolves_to_refs",),
    "ipv4-addr": ("belongs_to_refs", "resolves_to_refs"),
    "ipv6-addr": ("belongs_to_refs", "resolves_to_refs"),
    "report": ("object_refs",),
}
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
        known_ids: answers which of a set of STIX ids already exist in the store; a reference
            to one of those whose node id is its STIX id (an intrusion-set, a malware...) is
            not pending. ``None``: only the bundle (and ``resolve_ids``) counts.
        resolve_ids: maps STIX ids in the store to their ``(label, node id)`` pairs, for
            references to indicators, observables, locations and identities outside the
            bundle (see ``graph.ingest.writer.resolve_stix_ids``). Also serves as ``known_ids``.
        origin: where the input came from, for error messages (default: the path, or
            ``source`` for parsed input).
        provenance: ``False`` leaves out the provenance properties (timestamps, TLP,
            confidence, STIX ids) of the rows, for input that is read but never written:
            attribution of new activity, where they were a sixth of the reading time.

    Returns:
        The batch of nodes, edges, rejected values, skip counts, pending references and the
        outcome of every object.

    Raises:
        IngestError: the file is unreadable, not JSON or not a bundle.
        StixIngestError: an object is invalid.
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
        StixIngestError: an object is invalid.
    """
    reader: _BundleReader | None = None
    try:
        checked = Validated({}, {})
        if validate:
            checked = validate_objects(objects, source=origin or source)
        reader = _BundleReader(source, objects, resolve_ids, checked, provenance, known_ids)
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
        checked: Validated,
        provenance: bool = True,
        known_ids: KnownIds | None = None,
    ):
        self.batch = IngestBatch(source=source)
        self.ledger = self.batch.ledger
        self.provenance = provenance
        self.resolve = resolve
        self.known_ids = known_ids
        self.patterns = checked.patterns  # parsed by validation
        self.invalid = checked.rejected  # objects validation refused one by one
        self.objects: dict[str, dict[str, Any]] = {}
        for obj in objects:  # a bundle may hold several versions of an object: newest wins
            old = self.objects.get(obj["id"])
            if old is not None:
                self.ledger.duplicates += 1  # the older version merges into the newer
            if old is None or str(iso(obj.get("modified")) or "") >= str(
                iso(old.get("modified")) or ""
            ):
                self.objects[obj["id"]] = obj
        self.markings = dict(TLP_MARKING_IDS)
        self.other_markings = set(NON_TLP_MARKING_IDS)  # defined, not TLP: they mark nothing
        # By combination of marking refs: the level, and the refs no definition resolves.
        self.level_cache: dict[tuple[Any, ...], tuple[TLP | None, tuple[Any, ...]]] = {}
        self.identities: dict[str, str] = {}
        self.refs: dict[str, list[tuple[str, str]]] = {}
        self.skipped_ids: set[str] = set()
        self.individuals: set[str] = set()  # identities of people: never a Sector
        self.revoked: list[dict[str, Any]] = []
        self.actors: dict[str, dict[str, Any]] = {}
        self.sightings: dict[tuple[str, str], SightingTally] = {}
        self.external: dict[str, list[tuple[str, str]]] = {}
        self.creators = {
            obj.get("created_by_ref") for obj in self.objects.values() if "created_by_ref" in obj
        }
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
            if obj["id"] in self.invalid:
                self.skipped_ids.add(obj["id"])
                self.batch.skip("invalid object")
                self.note(obj, "rejected", self.invalid[obj["id"]])
                continue
            if obj.get("revoked") or obj.get("x_mitre_deprecated"):
                self.skipped_ids.add(obj["id"])
                if obj.get("revoked"):
                    self.revoked.append(obj)  # may revoke what an earlier input stored
                else:
                    self.batch.skip("deprecated")
                    self.note(obj, "rejected", "deprecated")
                continue
            handler = _NODE_HANDLERS.get(stix_type)
            if handler is not None:
                handler(self, obj)
            elif stix_type not in ("relationship", "sighting", "marking-definition"):
                self.batch.skip(f"unsupported type {stix_type}")
                self.note(obj, "rejected", f"unsupported type {stix_type}")
        self._resolve_external()
        self._revoke_stored()
        for obj in self.objects.values():
            self.current = obj["id"]
            if obj["id"] in self.skipped_ids:
                continue
            stix_type = obj["type"]
            if stix_type == "relationship":
                self._relationship(obj)
            elif stix_type == "sighting":
                self._sighting(obj)
            elif stix_type in _EMBEDDED_REFS:
                self._embedded_refs(obj, _EMBEDDED_REFS[stix_type])
        self._apply_sightings()
        self._actor_countries()
        bad_values = {r.object_id for r in self.batch.rejected}
        for obj in self.objects.values():  # what no step above accounted for: nothing kept
            if obj["id"] not in self.ledger.outcomes:
                reason = (
                    "no valid value (listed in rejected)"
                    if obj["id"] in bad_values
                    else f"{obj['type']}: nothing of it is modelled"
                )
                self.note(obj, "rejected", reason)
        return self.batch

    def note(self, obj: dict[str, Any], outcome: str, reason: str | None = None) -> None:
        self.ledger.note(obj["id"], obj["type"], outcome, reason)

    def kept(self, obj: dict[str, Any], known: bool) -> None:
        """Note ``obj`` landed (merged when ``known``), saying so when it is stored red for a
        marking no definition resolves."""
        self.note(obj, "merged" if known else "landed", self.unresolved_note(obj))

    # ------------------------------------------------------------- provenance
    def _marking(self, obj: dict[str, Any]) -> None:
        claims = _tlp_claims(obj)
        levels = [TLP.lookup(claim) for claim in claims]
        if None in levels:
            # A TLP marking of a level TLP does not have (TLP:PURPLE, a custom TLP:EX:CHR) says
            # its objects are restricted without saying how much: they are stored red, not
            # refused (the rest of the input is sound), and never read as clear. Noted as not
            # kept so that the report names it.
            unknown = claims[levels.index(None)]
            self.markings[obj["id"]] = TLP.RED
            self.note(obj, "rejected", f"unknown TLP level {unknown!r:.40}: marks its objects red")
            return
        level = TLP.strictest(claims) if claims else TLP.lookup(obj.get("name"))
        if level is not None:  # TLP.CLEAR is falsy: test for None, not truth
            self.markings[obj["id"]] = level
            self.note(obj, "landed")  # as the tlp of the objects it marks
        else:
            self.other_markings.add(obj["id"])
            self.note(obj, "rejected", "marking other than TLP: not kept")

    def source_of(self, obj: dict[str, Any]) -> str:
        name = self.identities.get(obj.get("created_by_ref") or "")
        if name and _attack_ref(obj) and name == "The MITRE Corporation":
            return "mitre-attack"  # same provenance as graph.formats.attack
        return name or self.batch.source

    def prov(self, obj: dict[str, Any], *, with_stix_id: bool = True) -> dict[str, Any]:
        if not self.provenance:
            # Ids are read back below; their markings are not read, so no ids per marking.
            return {"stix_ids": [obj["id"]], "sources": [self.batch.source], ID_LEVELS: None}
        props: dict[str, Any] = {
            "stix_ids": [obj["id"]],
            "sources": [self.source_of(obj)],
            "created": iso(obj.get("created")),
            "modified": iso(obj.get("modified")),
            "confidence": obj.get("confidence"),
            **marking(self.level_of(obj)),
        }
        if with_stix_id:
            props["stix_id"] = obj["id"]
        return props

    def level_of(self, obj: dict[str, Any]) -> TLP | None:
        """The TLP level of an object: the strictest TLP marking of the object or of any part
        of it (``_marking_refs``); None when none is TLP; red when one is unresolved."""
        return self._marking_of(obj)[0]

    def unresolved_note(self, obj: dict[str, Any]) -> str | None:
        """Why ``obj`` is stored red though no TLP marking says so; None when it is not."""
        if not self.provenance:
            return None  # its marking is not read: nothing is stored red
        unresolved = self._marking_of(obj)[1]
        if not unresolved:
            return None
        more = f" (and {len(unresolved) - 1} more)" if len(unresolved) > 1 else ""
        return (
            f"stored red: marked by {unresolved[0]!r:.80}{more}, which is defined neither in "
            "the input nor as a TLP marking"
        )

    def _marking_of(self, obj: dict[str, Any]) -> tuple[TLP | None, tuple[Any, ...]]:
        """The level of ``obj`` and its marking refs that no definition resolves, worked out
        once per combination of refs (a bundle repeats a handful of them on every object).

        A ref neither to a TLP marking nor to a marking defined in the input (or well known,
        ``NON_TLP_MARKING_IDS``) fails closed, to red: the definition it names may be TLP:RED
        published elsewhere, and unmarked would show the object to every reader and in clear
        exports. Refusing the object instead would drop whole feeds whose objects reference a
        statement or copyright marking published apart from them; red keeps them for red
        readers, and the ledger says why (``unresolved_note``). A non-TLP marking the input
        does define changes nothing.
        """
        refs = _marking_refs(obj)
        found = self.level_cache.get(refs)
        if found is None:
            unresolved = tuple(
                ref for ref in refs if ref not in self.markings and ref not in self.other_markings
            )
            level = TLP.RED if unresolved else TLP.strictest(self.markings.get(m) for m in refs)
            found = self.level_cache[refs] = (level, unresolved)
        return found

    def add(self, obj: dict[str, Any], label: str, node_id: str, props: dict[str, Any]) -> None:
        known = node_id in self.batch.nodes.get(label, {})
        self.batch.add_node(label, node_id, props)
        self.refs.setdefault(obj["id"], []).append((label, node_id))
        self.kept(obj, known)

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
        code = _location_country(obj)
        if not code:
            self.batch.skip("location without a known country")
            self.note(obj, "rejected", "location without a known country")
            return
        props = {**self.prov(obj, with_stix_id=False), "code": code, "name": country_name(code)}
        self.add(obj, "Country", f"country:{code}", props)

    def _identity(self, obj: dict[str, Any]) -> None:
        if obj.get("identity_class") == "individual":
            # A person's `sectors` say where they work (OASIS apt1.json's "Wang Dong" is in
            # government-national): no Sector node, and no edge to one, stands for a person.
            self.individuals.add(obj["id"])
            if obj["id"] in self.creators:
                self.note(obj, "landed")  # its name is the source of the objects it created
            else:
                self.batch.skip(INDIVIDUAL)
                self.note(obj, "rejected", INDIVIDUAL)
            return
        sectors = [s for s in obj.get("sectors") or [] if isinstance(s, str)]
        if not sectors and obj.get("identity_class") == "class":
            sectors = [obj["name"]]
        for sector in sectors:
            slug = _slug(sector)
            props = {**self.prov(obj, with_stix_id=False), "name": sector.replace("-", " ")}
            self.add(obj, "Sector", f"sector:{slug}", props)
        if obj["id"] in self.creators:
            self.note(obj, "landed")  # its name is the source of the objects it created
        elif not sectors:
            self.note(
                obj, "rejected", f"identity of class {obj.get('identity_class')}: not a sector"
            )

    def _indicator(self, obj: dict[str, Any]) -> None:
        if obj.get("pattern_type", "stix") != "stix":
            self.batch.skip(f"indicator with pattern_type {obj.get('pattern_type')}")
            self.note(obj, "rejected", f"indicator with pattern_type {obj.get('pattern_type')}")
            return
        base = {
            **self.prov(obj, with_stix_id=False),
            "pattern": obj["pattern"],
            "valid_from": iso(obj.get("valid_from")),
            "valid_until": iso(obj.get("valid_until")),
            "name": obj.get("name"),
            "types": obj.get("indicator_types"),
        }
        values = parse_pattern(obj["pattern"], self.patterns.get(obj["pattern"]))
        for kind, value in values:
            self._observable_value(obj, kind, value, base)
        if not values:
            reason = f"pattern names no value actorgraph stores ({_pattern_paths(obj['pattern'])})"
            self.batch.skip("indicator without a plain value")
            self.note(obj, "rejected", reason)
        elif not self.refs.get(obj["id"]):
            self.note(obj, "rejected", "no valid value (listed in rejected)")

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
                self.note(obj, "rejected", f"{stix_type} without a supported hash")

    def _observable_value(
        self, obj: dict[str, Any], kind: str | None, value: Any, base: dict[str, Any]
    ) -> None:
        detect = kind is None  # network-traffic refs: an address or a domain name
        network = network_range(value) if kind in ("ipv4", "ipv6", None) else None
        if network is not None:  # a range names no single address: network infrastructure
            node_id, props = network
            self.add(obj, "Infrastructure", node_id, {**base, **props})
            return
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
        """Look up, in one call, the references outside the bundle.

        With a store (``resolve``) every one is looked up, and what it does not answer is
        missing. Without one, ``known_ids`` vouches for ids whose node id is the STIX id itself.
        """
        wanted = {
            ref
            for obj in self.objects.values()
            for ref in _edge_refs(obj)
            if ref not in self.objects and ref not in TLP_MARKING_IDS
        }
        if self.resolve is not None:
            # The store's nodes of revoked objects: a revocation marks them (_revoke_stored).
            wanted.update(o["id"] for o in self.revoked)
        if not wanted:
            return
        if self.resolve is not None:
            self.external = self.resolve(wanted)
        elif self.known_ids is not None:
            direct = {r for r in wanted if r.partition("--")[0] in DIRECT_LABELS}
            known = self.known_ids(direct) if direct else set()
            self.external = {r: [(DIRECT_LABELS[r.partition("--")[0]], r)] for r in known}

    def _revoke_stored(self) -> None:
        """A revoked object that an earlier input stored marks its nodes ``revoked: true``
        (attribution and training leave them out); one the store does not hold is rejected."""
        for obj in self.revoked:
            stored = [
                (label, node_id)
                for label, node_id in self.external.get(obj["id"], [])
                if label not in _SHARED_LABELS
            ]
            for label, node_id in stored:
                self.batch.add_node(label, node_id, {"revoked": True})
            if stored:
                self.note(obj, "landed")  # as the revoked mark of the stored nodes
            else:
                self.batch.skip("revoked")
                self.note(obj, "rejected", "revoked")

    def missing(self, ref: str) -> bool:
        """Neither in the bundle, nor visible in the store, nor a TLP marking: kept pending."""
        return ref not in self.objects and ref not in self.external and ref not in TLP_MARKING_IDS

    def nodes_of(self, ref: str) -> list[tuple[str, str]]:
        if ref in self.objects:
            return self.refs.get(ref, [])
        return self.external.get(ref, [])

    def why_no_node(self, ref: str) -> str:
        """Why a reference has no node: its object was not kept, or is not modelled."""
        outcome = self.ledger.outcomes.get(ref)
        if outcome is not None and outcome[1] == "rejected":
            return f"{ref} was not kept ({outcome[2]})"
        return f"{ref} is not in the graph model"

    def edge_props(self, obj: dict[str, Any]) -> dict[str, Any]:
        props = self.prov(obj)  # a new dict: changed in place
        del props["stix_ids"]
        props["relationship_type"] = obj.get("relationship_type")
        start, stop = obj.get("start_time"), obj.get("stop_time")
        if start is not None or stop is not None:
            props.update(seen_props(start, stop))
        return props

    def pend(
        self, obj: dict[str, Any], rel: str, src: str, dst: str, props: dict[str, Any]
    ) -> None:
        missing = dst if self.missing(dst) else src
        self.batch.pending.append(PendingRef(obj["id"], rel, src, dst, missing, props))

    def add_edges(self, obj: dict[str, Any], edges: list[Edge]) -> None:
        for src_label, rel_type, dst_label, src_id, dst_id, props in edges:
            known = (src_id, dst_id) in self.batch.edges.get((src_label, rel_type, dst_label), {})
            self.batch.add_edge(src_label, rel_type, dst_label, src_id, dst_id, props)
            if obj["type"] in ("relationship", "sighting"):  # other objects landed as nodes
                self.kept(obj, known)

    def _relationship(self, obj: dict[str, Any]) -> None:
        rel = obj["relationship_type"]
        if rel in _IGNORED_RELS:
            self.batch.skip(f"relationship {rel}")
            self.note(obj, "rejected", f"relationship {rel}: not modelled")
            return
        src_ref, dst_ref = obj["source_ref"], obj["target_ref"]
        if src_ref in self.invalid or dst_ref in self.invalid:
            self.batch.skip("relationship to an invalid object")
            self.note(obj, "rejected", "relationship to an invalid object")
            return
        if src_ref in self.skipped_ids or dst_ref in self.skipped_ids:
            self.batch.skip("relationship to a revoked or deprecated object")
            self.note(obj, "rejected", "relationship to a revoked or deprecated object")
            return
        if src_ref in self.individuals or dst_ref in self.individuals:
            self.batch.skip("relationship to an identity of an individual")
            self.note(obj, "rejected", f"relationship {rel}: {INDIVIDUAL}")
            return
        props = self.edge_props(obj)
        hypothesis = None
        if obj.get("x_actorgraph_hypothesis"):
            # A model's hypothesis (graph/reports/attribution_stix.py) stays a hypothesis:
            # reading it back must never turn it into an attribution fact.
            hypothesis = {
                "score": (obj.get("confidence") or 0) / 100,
                "model_version": obj.get("x_actorgraph_model_version"),
            }
            props["hypothesis"] = hypothesis  # for a pending one, completed later
        if self.missing(src_ref) or self.missing(dst_ref):
            self.pend(obj, rel, src_ref, dst_ref, props)
            self.note(obj, "pending", f"{self.batch.pending[-1].missing} not yet known")
            return
        props.pop("hypothesis", None)
        sources, targets = self.nodes_of(src_ref), self.nodes_of(dst_ref)
        if not sources or not targets:
            end = dst_ref if sources else src_ref
            self.batch.skip(f"relationship {rel} to an object not in the graph model")
            self.note(obj, "rejected", f"relationship {rel}: {self.why_no_node(end)}")
            return
        # An origin stays on its relationship, with the relationship's marking: copied onto the
        # actor it would show a red located-at to every reader of a clear actor. Readers take it
        # from the visible edge (graph/library/origin.py).
        edges, left_out = reference_edges(rel, sources, targets, props, hypothesis)
        for reason in left_out:
            self.batch.skip(reason)
        self.add_edges(obj, edges)
        if not edges:
            self.note(obj, "rejected", left_out[0])

    def _embedded_refs(self, obj: dict[str, Any], props_of: tuple[str, ...]) -> None:
        """Edges from reference properties (``_EMBEDDED_REFS``)."""
        mine = self.refs.get(obj["id"], [])
        if not mine:
            return  # the object itself was not kept
        props = {k: v for k, v in self.prov(obj).items() if k != "stix_ids"}
        for prop in props_of:
            for ref in obj.get(prop) or []:
                if ref in self.skipped_ids or not isinstance(ref, str):
                    continue
                if self.missing(ref):
                    self.pend(obj, prop, obj["id"], ref, props)
                    continue
                edges, _ = reference_edges(prop, mine, self.nodes_of(ref), props)
                self.add_edges(obj, edges)

    def _sighting(self, obj: dict[str, Any]) -> None:
        last = iso(obj.get("last_seen") or obj.get("first_seen") or obj.get("modified"))
        # Tallied per TLP level of the sighting, not in one total: a red sighting of a clear
        # indicator must not change what a clear reader sees (graph/formats/sightings.py).
        level = self.level_of(obj)
        sighted = self.nodes_of(obj["sighting_of_ref"])
        for label, node_id in sighted:
            tally = self.sightings.setdefault((label, node_id), SightingTally())
            tally.add(level, int(obj.get("count") or 1), last, obj["id"])
        if sighted:
            self.kept(obj, known=False)  # tallied on what it sighted
        else:
            where = "unknown" if self.missing(obj["sighting_of_ref"]) else "not modelled"
            self.note(obj, "rejected", f"sighting of an object {where}: {obj['sighting_of_ref']}")

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
    """The references of ``obj`` the reader makes edges or tallies from: a relationship's ends,
    a sighting's object, the reference lists of ``_EMBEDDED_REFS`` (no other is looked up)."""
    stix_type = obj["type"]
    if stix_type == "relationship":
        ends: tuple[str, ...] = ("source_ref", "target_ref")
    elif stix_type == "sighting":
        ends = ("sighting_of_ref",)
    else:
        return [
            ref
            for prop in _EMBEDDED_REFS.get(stix_type, ())
            for ref in obj.get(prop) or []
            if isinstance(ref, str)
        ]
    return [ref for prop in ends if isinstance(ref := obj.get(prop), str)]


def _tlp_claims(definition: dict[str, Any]) -> list[Any]:
    """The TLP levels a marking definition states, as written: TLP 1.0's ``definition.tlp``
    (``definition_type`` "tlp"; OpenCTI writes "TLP" and may give the level as a string) and
    each TLP 2.0 extension's ``tlp_2_0``. Empty for a marking that is not TLP."""
    claims = []
    if str(definition.get("definition_type")).lower() == "tlp":
        stated = definition.get("definition")
        if isinstance(stated, dict):
            stated = stated.get("tlp", stated.get("TLP"))
        claims.append(stated)
    extensions = definition.get("extensions")
    if isinstance(extensions, dict):
        claims += [
            ext["tlp_2_0"]
            for ext in extensions.values()
            if isinstance(ext, dict) and "tlp_2_0" in ext
        ]
    return claims


def _marking_refs(obj: dict[str, Any]) -> tuple[Any, ...]:
    """The marking definitions of ``obj`` and of its parts: its ``object_marking_refs`` and
    the ``marking_ref`` of each granular marking (one with ``lang`` marks nothing).

    actorgraph stores one marking per node or relationship, so a part marked stricter than its
    object (a red description of a clear actor) marks the whole element: stored at the object's
    own marking, the red text would show to clear readers and leave in clear exports.
    """
    granular = [
        g["marking_ref"]
        for g in obj.get("granular_markings") or []
        if isinstance(g, dict) and "marking_ref" in g
    ]
    return (*(obj.get("object_marking_refs") or []), *granular)


def _location_country(obj: dict[str, Any]) -> str | None:
    """The alpha-2 code of a location that is a country: its ``country`` (alpha-2, alpha-3 as
    OpenCTI writes it, or a name), else its ``name`` when nothing says it is a region or a
    narrower place (MISP and OpenCTI send country locations with only a name)."""
    country = obj.get("country")
    code = country_code(country) if isinstance(country, str) else None
    if code:
        return code
    if obj.get("x_opencti_location_type") not in _COUNTRY_TYPES:
        return None
    if any(obj.get(p) for p in _PLACE_PROPS):
        return None
    name = obj.get("name")
    return country_code(name) if isinstance(name, str) else None


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


_PATTERN_PATH = re.compile(
    r"([a-z0-9][a-z0-9-]*:[A-Za-z0-9_.'\[\]*-]+)\s*(NOT\s+)?"
    r"(=|!=|<=|>=|<|>|IN|LIKE|MATCHES|ISSUBSET|ISSUPERSET)"
)


def _pattern_paths(pattern: str) -> str:
    """The object paths and operators of a pattern, for a report: ``file:name =, ...``."""
    found = _unique(
        f"{path} {(neg or '') + op}" for path, neg, op in _PATTERN_PATH.findall(pattern)
    )
    return ", ".join(found[:5]) or "no comparison"
