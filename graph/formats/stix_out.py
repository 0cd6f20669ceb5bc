"""Graph nodes and relationships -> STIX 2.1 objects: the inverse of ``formats.stix_reader``.

Each builder takes a node as the store returns it (``{"_labels": [...], **props}``) and returns
plain STIX dicts. Where the model kept the original STIX id it is reused (``id`` for most labels,
``stix_ids`` for indicators, countries and sectors, ``stix_id`` for relationships); where it did
not, the id is a uuid5 of the graph id, so the same graph always exports the same ids.

What STIX has no field for travels as ``x_actorgraph_*`` custom properties (an infrastructure
``kind``, a derived country and how it was derived), so nothing the analysts recorded is lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from actorgraph.graph.arrival import ADDED
from actorgraph.graph.formats.provenance import iso
from actorgraph.graph.tlp import TLP, level_of

# Namespace of actorgraph's deterministic ids, and STIX's own namespace for observables (SCOs).
ACTORGRAPH_NS = uuid.UUID("6c1d1a52-31c6-5a8e-9a3e-7d0b1e6f4a10")
SCO_NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

# TLP 2.0 marking definitions (OASIS extension ``extension-definition--60a3c5c5...``).
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDS: dict[str, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# The identity ATT&CK objects are created by; the reader maps it back to source ``mitre-attack``.
MITRE_IDENTITY = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"

_FALLBACK_TIME = "1970-01-01T00:00:00.000Z"

# Graph relationship type -> STIX relationship_type when the edge does not remember its own.
REL_STIX_TYPES: dict[str, str] = {
    "ATTRIBUTED_TO": "attributed-to",
    "USES": "uses",
    "INDICATES": "indicates",
    "RESOLVES_TO": "resolves-to",
    "HOSTED_ON": "belongs-to",
    "COMMUNICATES_WITH": "communicates-with",
    "TARGETS": "targets",
    "ORIGINATES_FROM": "originates-from",
    "SUBTECHNIQUE_OF": "subtechnique-of",
    "VARIANT_OF": "variant-of",
    "CONSISTS_OF": "consists-of",
    "RELATED_TO": "related-to",
    "BELONGS_TO": "belongs-to",
    "REGISTERED_WITH": "registered-with",
    "USES_NAMESERVER": "uses-name-server",
    "PRESENTS_CERT": "presents-certificate",
}
# Types that are not exported as relationships: hypotheses (exported on purpose only, by
# ``attribution_to_stix``), report membership (a report's object_refs).
NOT_EXPORTED = frozenset({"PREDICTED_ACTOR", "REPORTED_IN"})

_INFRA_TYPES = {"c2_server": "command-and-control"}
_MITRE = "mitre-attack"


def det_id(stix_type: str, key: str) -> str:
    """A deterministic STIX id for a graph thing that has none.

    STIX 2.1 asks for version-4 UUIDs on SDOs and SROs, so the bits of a uuid5 of
    ``stix_type|key`` are stamped as version 4: random-looking, but the same every export.
    """
    digest = uuid.uuid5(ACTORGRAPH_NS, f"{stix_type}|{key}").bytes
    return f"{stix_type}--{uuid.UUID(bytes=digest, version=4)}"


def sco_id(stix_type: str, contributing: dict[str, Any]) -> str:
    """The STIX 2.1 deterministic id of an observable from its id-contributing properties."""
    import json

    text = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{stix_type}--{uuid.uuid5(SCO_NS, text)}"


def stix_time(value: Any) -> str | None:
    """A STIX timestamp (``...Z`` with milliseconds) of a stored ISO string or epoch."""
    try:
        return iso(value)
    except ValueError:
        return None


def now_stix() -> str:
    """The current time as a STIX timestamp."""
    return stix_time(datetime.now(UTC)) or _FALLBACK_TIME


def tlp_of(props: dict[str, Any]) -> str | None:
    """The TLP 2.0 name of a node or relationship, or None when unmarked."""
    name = props.get("tlp")
    if name in TLP2_IDS:
        return name
    level = props.get("tlp_level")
    if isinstance(level, int) and TLP.CLEAR < level <= TLP.RED:
        return TLP(level).label
    return None


def marking_definition(name: str) -> dict[str, Any]:
    """The TLP 2.0 marking-definition object of a TLP name (``amber+strict``)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[name],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{name.upper()}",
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": name}},
    }


def source_identity(source: str) -> dict[str, Any]:
    """An organisation identity naming a provenance source (``created_by_ref`` target)."""
    if source == _MITRE:
        return {
            "type": "identity",
            "spec_version": "2.1",
            "id": MITRE_IDENTITY,
            "created": "2017-06-01T00:00:00.000Z",
            "modified": "2017-06-01T00:00:00.000Z",
            "name": "The MITRE Corporation",
            "identity_class": "organization",
        }
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": det_id("identity", f"source|{source}"),
        "created": _FALLBACK_TIME,
        "modified": _FALLBACK_TIME,
        "name": source,
        "identity_class": "organization",
    }


def source_ref(props: dict[str, Any]) -> str | None:
    """The identity id of the first provenance source of a node or relationship."""
    sources = props.get("sources") or []
    if not sources:
        return None
    return source_identity(sources[0])["id"]


def common(props: dict[str, Any], stix_type: str, stix_id: str, now: str) -> dict[str, Any]:
    """The properties every exported SDO/SRO shares: id, times, confidence, markings, source.

    An element with neither ``created`` nor ``modified`` takes its arrival time (``added``,
    graph/arrival.py), which stays the same from one export to the next, and ``now`` only
    when it has none either."""
    created = (
        stix_time(props.get("created"))
        or stix_time(props.get("modified"))
        or stix_time(props.get(ADDED))
        or now
    )
    modified = stix_time(props.get("modified")) or created
    modified = max(modified, created)
    obj: dict[str, Any] = {
        "type": stix_type,
        "spec_version": "2.1",
        "id": stix_id,
        "created": created,
        "modified": modified,
    }
    ref = source_ref(props)
    if ref:
        obj["created_by_ref"] = ref
    conf = props.get("confidence")
    if isinstance(conf, int | float) and not isinstance(conf, bool) and 0 <= conf <= 100:
        obj["confidence"] = round(conf)
    tlp = tlp_of(props)
    if tlp:
        obj["object_marking_refs"] = [TLP2_IDS[tlp]]
    return obj


def _set(obj: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != [] and value != "":
        obj[key] = value


def _attack_ref(props: dict[str, Any], kind: str) -> list[dict[str, Any]] | None:
    xid = props.get("external_id")
    if not xid:
        return None
    return [
        {
            "source_name": _MITRE,
            "external_id": xid,
            "url": f"https://attack.mitre.org/{kind}/{xid.replace('.', '/')}",
        }
    ]


def _seen(obj: dict[str, Any], props: dict[str, Any]) -> None:
    first, last = stix_time(props.get("first_seen")), stix_time(props.get("last_seen"))
    _set(obj, "first_seen", first)
    if last and (not first or last >= first):
        obj["last_seen"] = last


def actor_to_stix(node: dict[str, Any], now: str, *, country_as_property: bool) -> dict[str, Any]:
    """A ThreatActor node as an ``intrusion-set``.

    Args:
        node: the node's properties.
        now: the export time (fills required timestamps the node lacks).
        country_as_property: carry ``country``/``country_source`` as ``x_actorgraph_*`` properties
            (for a country derived from aliases or description, which has no STIX relationship).
    """
    obj = common(node, "intrusion-set", node["id"], now)
    obj["name"] = node.get("name") or node["id"]
    _set(obj, "description", node.get("description"))
    _set(obj, "aliases", [a for a in node.get("aliases") or [] if isinstance(a, str)])
    _set(obj, "primary_motivation", node.get("motivation"))
    _set(obj, "external_references", _attack_ref(node, "groups"))
    _seen(obj, node)
    if country_as_property and node.get("country"):
        obj["x_actorgraph_country"] = node["country"]
        _set(obj, "x_actorgraph_country_source", node.get("country_source"))
    return obj


def campaign_to_stix(node: dict[str, Any], now: str) -> dict[str, Any]:
    """A Campaign node as a ``campaign``."""
    obj = common(node, "campaign", node["id"], now)
    obj["name"] = node.get("name") or node["id"]
    _set(obj, "description", node.get("description"))
    _set(obj, "aliases", node.get("aliases"))
    _set(obj, "objective", node.get("objective"))
    _set(obj, "external_references", _attack_ref(node, "campaigns"))
    _seen(obj, node)
    return obj


def software_to_stix(node: dict[str, Any], label: str, now: str) -> dict[str, Any]:
    """A Malware or Tool node as a ``malware`` / ``tool``."""
    stix_type = "malware" if label == "Malware" else "tool"
    obj = common(node, stix_type, node["id"], now)
    obj["name"] = node.get("name") or node["id"]
    if stix_type == "malware":
        obj["is_family"] = bool(node.get("is_family", True))
        _set(obj, "malware_types", node.get("types"))
        _seen(obj, node)
    else:
        _set(obj, "tool_types", node.get("types"))
    _set(obj, "aliases", node.get("aliases"))
    _set(obj, "description", node.get("description"))
    _set(obj, "external_references", _attack_ref(node, "software"))
    _set(obj, "x_mitre_platforms", node.get("platforms"))
    return obj


def technique_to_stix(node: dict[str, Any], now: str) -> dict[str, Any]:
    """A Technique node as an ``attack-pattern`` with its ATT&CK id and tactics."""
    obj = common(node, "attack-pattern", node["id"], now)
    obj["name"] = node.get("name") or node.get("external_id") or node["id"]
    _set(obj, "description", node.get("description"))
    _set(obj, "external_references", _attack_ref(node, "techniques"))
    _set(
        obj,
        "kill_chain_phases",
        [{"kill_chain_name": _MITRE, "phase_name": t} for t in node.get("tactics") or []],
    )
    if node.get("is_subtechnique") is not None:
        obj["x_mitre_is_subtechnique"] = bool(node["is_subtechnique"])
    _set(obj, "x_mitre_platforms", node.get("platforms"))
    return obj


def report_to_stix(node: dict[str, Any], object_refs: list[str], now: str) -> dict[str, Any]:
    """A Report node as a ``report`` over ``object_refs`` (must not be empty)."""
    obj = common(node, "report", node["id"], now)
    obj["name"] = node.get("name") or node["id"]
    obj["published"] = stix_time(node.get("published")) or obj["created"]
    obj["object_refs"] = object_refs
    _set(obj, "description", node.get("description"))
    if node.get("url"):
        obj["external_references"] = [{"source_name": "report", "url": node["url"]}]
    return obj


def country_to_stix(node: dict[str, Any], stix_id: str, now: str) -> dict[str, Any]:
    """A Country node as a ``location`` with its ISO code."""
    obj = common(node, "location", stix_id, now)
    obj["name"] = node.get("name") or node.get("code")
    obj["country"] = node.get("code") or node["id"].removeprefix("country:")
    return obj


def sector_to_stix(node: dict[str, Any], stix_id: str, now: str) -> dict[str, Any]:
    """A Sector node as an ``identity`` of class ``class`` (as OpenCTI and our reader read it)."""
    obj = common(node, "identity", stix_id, now)
    obj["name"] = node.get("name") or node["id"].removeprefix("sector:")
    obj["identity_class"] = "class"
    return obj


def infrastructure_to_stix(node: dict[str, Any], stix_id: str, now: str) -> dict[str, Any]:
    """A non-ASN Infrastructure node as an ``infrastructure``; ``kind`` is a custom property."""
    obj = common(node, "infrastructure", stix_id, now)
    obj["name"] = node.get("name") or node.get("value") or node["id"]
    kind = node.get("kind") or "other"
    types = node.get("infrastructure_types") or (
        [_INFRA_TYPES[kind]] if kind in _INFRA_TYPES else None
    )
    _set(obj, "infrastructure_types", types)
    _set(obj, "description", node.get("description"))
    _seen(obj, node)
    obj["x_actorgraph_kind"] = kind
    if node["id"] != stix_id:
        obj["x_actorgraph_id"] = node["id"]
    _set(obj, "x_actorgraph_value", node.get("value"))
    return obj


def asn_to_stix(node: dict[str, Any], stix_id: str) -> dict[str, Any]:
    """An ASN Infrastructure node as an ``autonomous-system`` observable."""
    obj: dict[str, Any] = {
        "type": "autonomous-system",
        "spec_version": "2.1",
        "id": stix_id,
        "number": int(node.get("asn") or str(node.get("value", "AS0"))[2:] or 0),
    }
    _set(obj, "name", node.get("name"))
    tlp = tlp_of(node)
    if tlp:
        obj["object_marking_refs"] = [TLP2_IDS[tlp]]
    return obj


def asn_sco_id(node: dict[str, Any]) -> str:
    """The STIX id of an ASN node: a kept ``autonomous-system--`` id, else the spec's uuid5."""
    kept = first_id(node.get("stix_ids"), ("autonomous-system",))
    number = int(node.get("asn") or str(node.get("value", "AS0"))[2:] or 0)
    return kept or sco_id("autonomous-system", {"number": number})


def first_id(ids: Iterable[str] | None, prefixes: tuple[str, ...]) -> str | None:
    """The first id of ``ids`` whose STIX type is one of ``prefixes``."""
    for sid in ids or []:
        if isinstance(sid, str) and sid.partition("--")[0] in prefixes:
            return sid
    return None


# ------------------------------------------------------------------------ indicators
_HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}
_VALUE_TYPES = {
    "ipv4": "ipv4-addr",
    "ipv6": "ipv6-addr",
    "domain": "domain-name",
    "url": "url",
    "email": "email-addr",
}


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def comparison(kind: str, value: str) -> str | None:
    """The STIX pattern comparison of one indicator (``ipv4-addr:value = '1.2.3.4'``), or None."""
    if kind in _VALUE_TYPES:
        return f"{_VALUE_TYPES[kind]}:value = {_quote(value)}"
    if kind in _HASH_NAMES:
        return f"file:hashes.'{_HASH_NAMES[kind]}' = {_quote(value)}"
    if kind == "x509":
        algo = "SHA-256" if len(value) == 64 else "SHA-1"
        return f"x509-certificate:hashes.'{algo}' = {_quote(value)}"
    if kind == "asn":
        return f"autonomous-system:number = {int(str(value).upper().removeprefix('AS'))}"
    return None


def pattern_of(nodes: list[dict[str, Any]]) -> str | None:
    """One pattern naming every node (``[a] OR [b]``, comparisons in text order, so the same
    nodes in any order give the same pattern), or None when no node has a pattern form."""
    parts = {
        c for c in (comparison(n.get("kind", ""), str(n.get("value", ""))) for n in nodes) if c
    }
    if not parts:
        return None
    return " OR ".join(f"[{p}]" for p in sorted(parts))


def indicator_sdo(stix_id: str, nodes: list[dict[str, Any]], now: str) -> dict[str, Any] | None:
    """An ``indicator`` whose pattern names ``nodes`` (the nodes one original indicator made)."""
    pattern = pattern_of(nodes)
    if pattern is None:
        return None
    head = nodes[0]
    strictest = max(nodes, key=level_of)
    marked = {**head, "tlp": strictest.get("tlp"), "tlp_level": strictest.get("tlp_level")}
    obj = common(marked, "indicator", stix_id, now)
    _set(obj, "name", head.get("name"))
    _set(obj, "indicator_types", head.get("types"))
    obj["pattern"] = pattern
    obj["pattern_type"] = "stix"
    obj["valid_from"] = (
        stix_time(head.get("valid_from")) or stix_time(head.get("first_seen")) or obj["created"]
    )
    until = stix_time(head.get("valid_until"))
    if until and until > obj["valid_from"]:
        obj["valid_until"] = until
    return obj


def observable_sco(stix_id: str, nodes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The observable (SCO) behind ``nodes``: a value object, or a file or certificate (hashes,
    by algorithm name)."""
    stix_type = stix_id.partition("--")[0]
    obj: dict[str, Any] = {"type": stix_type, "spec_version": "2.1", "id": stix_id}
    if stix_type in _VALUE_TYPES.values():
        obj["value"] = str(nodes[0].get("value"))
    elif stix_type == "file":
        hashes = {_HASH_NAMES[n["kind"]]: n["value"] for n in nodes if n.get("kind") in _HASH_NAMES}
        if not hashes:
            return None
        obj["hashes"] = dict(sorted(hashes.items()))
    elif stix_type == "x509-certificate":
        hashes = {
            ("SHA-256" if len(n["value"]) == 64 else "SHA-1"): n["value"]
            for n in nodes
            if n.get("kind") == "x509"
        }
        if not hashes:
            return None
        obj["hashes"] = dict(sorted(hashes.items()))
    else:
        return None
    tlp = tlp_of(max(nodes, key=level_of))
    if tlp:
        obj["object_marking_refs"] = [TLP2_IDS[tlp]]
    return obj


def observable_type(kind: str) -> str | None:
    """The SCO type that carries an indicator of ``kind``."""
    if kind in _VALUE_TYPES:
        return _VALUE_TYPES[kind]
    if kind in _HASH_NAMES:
        return "file"
    if kind == "x509":
        return "x509-certificate"
    return None


def relationship(
    stix_id: str, rel_type: str, src: str, dst: str, props: dict[str, Any], now: str
) -> dict[str, Any]:
    """A ``relationship`` SRO carrying an edge's provenance (times, confidence, marking, source)."""
    obj = common(props, "relationship", stix_id, now)
    obj["relationship_type"] = rel_type
    obj["source_ref"] = src
    obj["target_ref"] = dst
    start, stop = stix_time(props.get("first_seen")), stix_time(props.get("last_seen"))
    _set(obj, "start_time", start)
    if stop and (not start or stop > start):
        obj["stop_time"] = stop
    _set(obj, "description", props.get("description"))
    return obj
