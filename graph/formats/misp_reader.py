"""MISP event JSON -> ``IngestBatch`` rows, loaded through pymisp's ``MISPEvent``.

An event becomes a ``Campaign`` (id ``misp-event--<uuid>``); its attributes, and those of its
objects, become ``Indicator`` nodes that ``INDICATES`` it; threat-actor galaxy clusters
(``threat-actor`` and ``mitre-intrusion-set``) become ``ATTRIBUTED_TO`` claims to a
``ThreatActor``; ATT&CK technique, malware and tool clusters become ``USES`` edges to the stored
ATT&CK nodes (found by the ATT&CK id in ``"Name - T1059"``, else by name or alias, never
created); galaxy tags of the event (``misp-galaxy:threat-actor="APT28"``) count like clusters
when the event carries no cluster of that tag; ``tlp:`` tags set ``tlp``. Invalid indicator
values are rejected and listed, not stored. An input without an event uuid or info, or with an
attribute lacking type or value, is refused as a whole. An event may come wrapped
(``{"Event": {...}}``, MISP's export) or bare (``{"uuid": ..., "info": ..., "Attribute":
[...]}``, which PyMISP's loader also reads).

``batch.ledger`` accounts for every event, attribute, galaxy cluster and galaxy tag
(graph/formats/ledger.py): attributes of types the graph model has no place for, clusters and
tags no stored node answers, and galaxies of other kinds are named there, not dropped unseen.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actorgraph.graph.errors import ActorgraphError, IngestError, InvalidIndicator, StixIngestError
from actorgraph.graph.formats.indicators import asn_number, indicator_id, normalize_indicator
from actorgraph.graph.formats.provenance import iso, seen_props
from actorgraph.graph.formats.ranges import network_range
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.formats.stix_validate import load_json
from actorgraph.graph.tlp import TLP, marking

# Looks actors up by lower-cased names/aliases: returns name -> ThreatActor node id.
ActorLookup = Callable[[list[str]], dict[str, str]]
# Looks ATT&CK nodes up by ATT&CK ids and lower-cased names/aliases: returns each id or name
# found -> the (label, node id) pairs of the nodes it names.
AttackLookup = Callable[[list[str], list[str]], dict[str, list[tuple[str, str]]]]

# MISP attribute type -> indicator kind ("ip": an IPv4 or IPv6 address, detected).
ATTRIBUTE_KINDS: dict[str, str] = {
    "ip-src": "ip",
    "ip-dst": "ip",
    "domain": "domain",
    "hostname": "domain",
    "url": "url",
    "uri": "url",
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "email": "email",
    "email-src": "email",
    "email-dst": "email",
    "email-reply-to": "email",
    "whois-registrant-email": "email",
    "AS": "asn",
    "x509-fingerprint-sha1": "x509",
    "x509-fingerprint-sha256": "x509",
}
# Composite types "a|b": kinds of the parts (None: not an indicator, e.g. a port or file name).
COMPOSITE_KINDS: dict[str, tuple[str | None, str | None]] = {
    "ip-src|port": ("ip", None),
    "ip-dst|port": ("ip", None),
    "domain|ip": ("domain", "ip"),
    "hostname|port": ("domain", None),
    "filename|md5": (None, "md5"),
    "filename|sha1": (None, "sha1"),
    "filename|sha256": (None, "sha256"),
    "filename|sha512": (None, "sha512"),
}
_ACTOR_GALAXIES = ("threat-actor", "mitre-intrusion-set")
# MISP galaxies of ATT&CK techniques and software -> the label of the ATT&CK nodes they name.
ATTACK_GALAXIES: dict[str, str] = {
    "mitre-attack-pattern": "Technique",
    "mitre-enterprise-attack-attack-pattern": "Technique",
    "mitre-mobile-attack-attack-pattern": "Technique",
    "mitre-ics-techniques": "Technique",
    "mitre-malware": "Malware",
    "mitre-enterprise-attack-malware": "Malware",
    "mitre-mobile-attack-malware": "Malware",
    "mitre-tool": "Tool",
    "mitre-enterprise-attack-tool": "Tool",
    "mitre-mobile-attack-tool": "Tool",
}
_GALAXY_TAG = re.compile(r'^misp-galaxy:([a-z0-9-]+)="(.+)"$')
# "Spearphishing Attachment - T1566.001", "Mimikatz - S0002": MISP's ATT&CK cluster values.
_ATTACK_VALUE = re.compile(r"^(.*?)\s+-\s+(T\d{4}(?:\.\d{3})?|S\d{4})$")
_TAG = "misp-galaxy-tag"
# The ledger's names of what a MISP event holds (graph/formats/ledger.py).
_ATTRIBUTE = "misp-attribute"
_CLUSTER = "misp-galaxy-cluster"
_NS = uuid.UUID("9c4e2a7e-1f0b-4c3d-8e5a-6b7c8d9e0f1a")  # for uuids MISP left out


def read_misp(
    obj_or_path: dict[str, Any] | list[Any] | str | Path,
    *,
    source: str | None = None,
    origin: str | None = None,
    actor_lookup: ActorLookup | None = None,
    attack_lookup: AttackLookup | None = None,
) -> IngestBatch:
    """Read one MISP event (``{"Event": {...}}``), a list of them, or a file holding either.

    Args:
        obj_or_path: parsed JSON or a ``.json``/``.json.gz`` path.
        source: provenance name when an event has no creator organisation
            (default: the file name or ``"misp"``).
        origin: where the input came from, for error messages.
        actor_lookup: resolves galaxy cluster names to existing ThreatActor ids (store-backed,
            see ``graph.ingest``); unmatched clusters become ThreatActor nodes of their own.
        attack_lookup: finds the stored ATT&CK nodes that technique, malware and tool clusters
            name (``graph.ingest``); None: none is found, and each is listed as rejected.

    Raises:
        IngestError: not a MISP event.
        StixIngestError: an event or attribute lacks a required field.
    """
    where: str | None  # for error messages; None when neither origin nor source is known
    if isinstance(obj_or_path, str | Path):
        path = Path(obj_or_path)
        data, name, where = load_json(path), source or path.name, origin or str(path)
    else:
        data, name, where = obj_or_path, source or "misp", origin or source
    events = _events(data, where)
    current = "event"
    try:
        prepared = [_prepare(event, where) for event in events]  # validate all before reading
        batch = IngestBatch(source=name)
        for event in prepared:
            current = f"misp-event--{event.get('uuid', '?')}"
            _EventReader(batch, event, actor_lookup, attack_lookup).read()
    except ActorgraphError:
        raise
    except (TypeError, AttributeError, KeyError, ValueError, IndexError, RecursionError) as exc:
        # pymisp and the reader assume MISP's field types; a field of another shape refuses
        # the whole input, naming the event, instead of escaping as a Python error.
        raise StixIngestError(
            current, f"malformed MISP field ({type(exc).__name__}: {exc})", source=where
        ) from exc
    return batch


def is_bare_event(item: Any) -> bool:
    """A MISP event without its ``{"Event": ...}`` wrapper (PyMISP reads those too)."""
    return (
        isinstance(item, dict)
        and "Event" not in item
        and "type" not in item  # a STIX object
        and "info" in item
        and any(k in item for k in ("uuid", "Attribute", "Object", "Orgc"))
    )


def _events(data: Any, where: str | None) -> list[dict[str, Any]]:
    if isinstance(data, dict) and isinstance(data.get("response"), list):
        data = data["response"]
    items = data if isinstance(data, list) else [data]
    events = []
    for item in items:
        if is_bare_event(item):
            events.append(item)
            continue
        if not isinstance(item, dict) or not isinstance(item.get("Event"), dict):
            raise IngestError('not a MISP event (expected {"Event": {...}} or an event)', where)
        events.append(item["Event"])
    if not events:
        raise IngestError("no MISP event in input", where)
    return events


def _prepare(raw: dict[str, Any], where: str | None) -> dict[str, Any]:
    """Check required fields; give uuid-less attributes a stable uuid (pymisp would invent one)."""
    event_uuid = raw.get("uuid")
    if not isinstance(event_uuid, str) or not _is_uuid(event_uuid):
        raise StixIngestError(f"misp-event--{event_uuid}", "event without a valid 'uuid'", where)
    object_id = f"misp-event--{event_uuid}"
    if not raw.get("info"):
        raise StixIngestError(object_id, "event without 'info'", where)
    event = copy.deepcopy(raw)
    containers = [event, *[o for o in event.get("Object") or [] if isinstance(o, dict)]]
    for container in containers:
        for index, attr in enumerate(container.get("Attribute") or []):
            if (
                not isinstance(attr, dict)
                or not attr.get("type")
                or attr.get("value") in (None, "")
            ):
                raise StixIngestError(
                    object_id, f"attribute #{index} without 'type' and 'value': {attr!r}", where
                )
            if not attr.get("uuid"):
                attr["uuid"] = str(uuid.uuid5(_NS, f"{event_uuid}|{attr['type']}|{attr['value']}"))
        if container is not event and not container.get("uuid"):
            container["uuid"] = str(uuid.uuid5(_NS, f"{event_uuid}|object|{index}"))
    return event


class _EventReader:
    def __init__(
        self,
        batch: IngestBatch,
        event: dict[str, Any],
        lookup: ActorLookup | None,
        attack_lookup: AttackLookup | None = None,
    ):
        from pymisp import MISPEvent

        self.batch = batch
        self.lookup = lookup
        self.attack_lookup = attack_lookup
        self.event = MISPEvent()
        try:
            self.event.load({"Event": event})
        except Exception as exc:  # pymisp raises bare TypeError/KeyError on odd input
            raise StixIngestError(
                f"misp-event--{event['uuid']}", f"pymisp cannot load it: {exc}"
            ) from exc
        self.campaign_id = f"misp-event--{event['uuid']}"
        orgc = getattr(self.event, "Orgc", None)
        self.source = getattr(orgc, "name", None) or batch.source
        self.tlp = _tags_tlp(self.event.tags)

    def read(self) -> None:
        ev = self.event
        modified = iso(getattr(ev, "timestamp", None))
        self.base = {"sources": [self.source], "modified": modified, **marking(self.tlp)}
        self.batch.ledger.note(self.campaign_id, "misp-event", "landed")
        self.batch.add_node(
            "Campaign",
            self.campaign_id,
            {
                **self.base,
                "stix_ids": [self.campaign_id],
                "name": ev.info,
                "name_lc": ev.info.lower(),
                "description": ev.info,
                "created": iso(getattr(ev, "date", None)),
                **seen_props(getattr(ev, "date", None), None),
                "threat_level": _int(getattr(ev, "threat_level_id", None)),
                "misp_analysis": _int(getattr(ev, "analysis", None)),
            },
        )
        for attr in ev.attributes:
            self._attribute(attr)
        for misp_object in ev.objects:
            nodes = [n for attr in misp_object.attributes for n in self._attribute(attr)]
            domains = [n for n in nodes if n[0] == "domain"]
            ips = [n for n in nodes if n[0] in ("ipv4", "ipv6")]
            for _, d in domains:  # a domain-ip object says the domain resolved to the address
                for _, ip in ips:
                    self.batch.add_edge(
                        "Indicator", "RESOLVES_TO", "Indicator", d, ip, dict(self.base)
                    )
        self._actors()
        self._attack()

    def _attribute(self, attr: Any) -> list[tuple[str, str]]:
        """Indicators from one attribute, each INDICATES the event's campaign."""
        attr_type, value = attr.type, str(attr.value)
        if attr_type in COMPOSITE_KINDS:
            parts = value.split("|", 1)
            kinds = COMPOSITE_KINDS[attr_type]
            pairs = [(k, v) for k, v in zip(kinds, parts, strict=False) if k is not None]
        elif attr_type in ATTRIBUTE_KINDS:
            pairs = [(ATTRIBUTE_KINDS[attr_type], value)]
        else:
            self.batch.skip(f"MISP attribute type {attr_type}")
            self.batch.ledger.note(
                f"indicator--{attr.uuid}",
                _ATTRIBUTE,
                "rejected",
                f"MISP attribute type {attr_type}",
            )
            return []
        out = []
        attr_id = f"indicator--{attr.uuid}"
        tlp = _tags_tlp(attr.tags)
        if tlp is None:  # TLP.CLEAR is falsy: an attribute tagged clear stays clear
            tlp = self.tlp
        for kind, raw in pairs:
            detect = kind == "ip"
            node = self._indicator(attr, attr_id, None if detect else kind, raw, tlp, detect=detect)
            if node:
                out.append(node)
        if attr_id not in self.batch.ledger.outcomes:
            self.batch.ledger.note(
                attr_id, _ATTRIBUTE, "rejected", "no valid value (listed in rejected)"
            )
        return out

    def _indicator(
        self, attr: Any, attr_id: str, kind: str | None, raw: str, tlp: TLP | None, *, detect: bool
    ) -> tuple[str, str] | None:
        network = network_range(raw) if detect else None
        if network is not None:  # a range names no single address: network infrastructure
            self._network(attr, attr_id, *network, tlp)
            return None
        try:
            kind, value = normalize_indicator(raw, kind)
            if detect and kind not in ("ipv4", "ipv6"):
                raise InvalidIndicator(raw, f"{attr.type} holds a {kind}, not an IP address")
        except InvalidIndicator as exc:
            self.batch.reject(attr_id, raw, exc.reason)
            return None
        props = {
            **self.base,
            **marking(tlp),
            "stix_ids": [attr_id],
            "modified": iso(getattr(attr, "timestamp", None)) or self.base["modified"],
            "kind": kind,
            "value": value,
            "misp_type": attr.type,
            "misp_category": getattr(attr, "category", None),
            "to_ids": bool(getattr(attr, "to_ids", False)),
            "comment": getattr(attr, "comment", None) or None,
            **seen_props(getattr(attr, "first_seen", None), getattr(attr, "last_seen", None)),
        }
        node_id = indicator_id(kind, value)
        known = node_id in self.batch.nodes.get(
            "Infrastructure" if kind == "asn" else "Indicator", {}
        )
        self.batch.ledger.note(attr_id, _ATTRIBUTE, "merged" if known else "landed")
        if kind == "asn":
            props.update(kind="asn", asn=asn_number(value))
            props.pop("stix_ids")
            self.batch.add_node("Infrastructure", node_id, props)
            self.batch.add_edge(
                "Infrastructure",
                "RELATED_TO",
                "Campaign",
                node_id,
                self.campaign_id,
                dict(self.base),
            )
            return None
        self.batch.add_node("Indicator", node_id, props)
        self.batch.add_edge(
            "Indicator", "INDICATES", "Campaign", node_id, self.campaign_id, dict(self.base)
        )
        return kind, node_id

    def _network(
        self, attr: Any, attr_id: str, node_id: str, props: dict[str, Any], tlp: TLP | None
    ) -> None:
        known = node_id in self.batch.nodes.get("Infrastructure", {})
        self.batch.ledger.note(attr_id, _ATTRIBUTE, "merged" if known else "landed")
        row = {**self.base, **marking(tlp), **props, "misp_type": attr.type}
        self.batch.add_node("Infrastructure", node_id, row)
        self.batch.add_edge(
            "Infrastructure", "RELATED_TO", "Campaign", node_id, self.campaign_id, dict(self.base)
        )

    def _actors(self) -> None:
        clusters = []
        for galaxy in self.event.galaxies:
            kind = getattr(galaxy, "type", None)
            for cluster in galaxy.clusters:
                if kind in _ACTOR_GALAXIES:
                    clusters.append(cluster)
                    self.batch.ledger.note(
                        _cluster_id(self.campaign_id, cluster), _CLUSTER, "landed"
                    )
                elif kind not in ATTACK_GALAXIES:  # those are _attack's
                    self.batch.skip(f"MISP galaxy {kind}")
                    self.batch.ledger.note(
                        _cluster_id(self.campaign_id, cluster),
                        _CLUSTER,
                        "rejected",
                        f"MISP galaxy {kind} cluster {getattr(cluster, 'value', '?')!r}: not read",
                    )
        tagged = self._tags_only(_ACTOR_GALAXIES)
        names = {c.value.lower() for c in clusters} | {value.lower() for _, _, value in tagged}
        for c in clusters:
            names.update(
                s.lower() for s in (c.meta or {}).get("synonyms", []) if isinstance(s, str)
            )
        known = self.lookup(sorted(names)) if self.lookup and names else {}
        props = {**self.base, "source": self.source, "claim": "misp-galaxy"}
        for cluster in clusters:
            actor_id = self._actor_node(cluster, known)
            self.batch.add_edge(
                "Campaign", "ATTRIBUTED_TO", "ThreatActor", self.campaign_id, actor_id, dict(props)
            )
        for tag_id, kind, value in tagged:  # a tag alone names no cluster to make an actor of
            if value.lower() in known:
                self.batch.add_edge(
                    "Campaign",
                    "ATTRIBUTED_TO",
                    "ThreatActor",
                    self.campaign_id,
                    known[value.lower()],
                    dict(props),
                )
                self.batch.ledger.note(tag_id, _TAG, "landed")
            else:
                reason = f"MISP galaxy tag {kind} {value!r}: no single stored actor of that name"
                self.batch.ledger.note(tag_id, _TAG, "rejected", reason)

    def _tags_only(self, kinds: Any) -> list[tuple[str, str, str]]:
        """``(ledger id, galaxy, value)`` of the event's galaxy tags of ``kinds`` that no galaxy
        cluster of the event stands for (vendors often send the tag without the cluster)."""
        with_cluster = {
            getattr(cluster, "tag_name", None)
            or f'misp-galaxy:{getattr(galaxy, "type", None)}="{cluster.value}"'
            for galaxy in self.event.galaxies
            for cluster in galaxy.clusters
        }
        out = []
        for tag in self.event.tags:
            name = str(getattr(tag, "name", ""))
            m = _GALAXY_TAG.match(name)
            if m and m.group(1) in kinds and name not in with_cluster:
                out.append((f"{self.campaign_id}/{name}", m.group(1), m.group(2)))
        return list(dict.fromkeys(out))

    def _attack(self) -> None:
        """``USES`` edges from the event to the stored ATT&CK nodes its technique, malware and
        tool clusters (or tags) name; one no stored node answers is rejected with its name."""
        wanted = []
        for galaxy in self.event.galaxies:
            kind = str(getattr(galaxy, "type", None))
            if kind in ATTACK_GALAXIES:
                for cluster in galaxy.clusters:
                    entry_id = _cluster_id(self.campaign_id, cluster)
                    wanted.append((entry_id, _CLUSTER, kind, str(cluster.value)))
        wanted += [(t, _TAG, kind, value) for t, kind, value in self._tags_only(ATTACK_GALAXIES)]
        if not wanted:
            return
        parsed = {entry: _attack_value(entry[3]) for entry in wanted}
        ids = sorted({attack_id for _, attack_id in parsed.values() if attack_id})
        names = sorted({name.lower() for name, _ in parsed.values()})
        found = self.attack_lookup(ids, names) if self.attack_lookup else {}
        props = {**self.base, "source": self.source, "claim": "misp-galaxy"}
        for (entry_id, entry_type, kind, value), (name, attack_id) in parsed.items():
            label = ATTACK_GALAXIES[kind]
            nodes = {n for n in found.get(attack_id or "", []) if n[0] == label}
            nodes = nodes or {n for n in found.get(name.lower(), []) if n[0] == label}
            if len(nodes) == 1:
                ((_, node_id),) = nodes
                self.batch.add_edge(
                    "Campaign", "USES", label, self.campaign_id, node_id, dict(props)
                )
                self.batch.ledger.note(entry_id, entry_type, "landed")
                continue
            if self.attack_lookup is None:
                why = "no store to look ATT&CK up in"
            else:
                why = f"{len(nodes)} stored {label} nodes match" if nodes else f"no stored {label}"
            self.batch.skip(f"MISP galaxy {kind} not mapped")
            reason = f"MISP galaxy {kind} {value!r}: not mapped ({why})"
            self.batch.ledger.note(entry_id, entry_type, "rejected", reason)

    def _actor_node(self, cluster: Any, known: dict[str, str]) -> str:
        meta = cluster.meta or {}
        synonyms = [s for s in meta.get("synonyms", []) if isinstance(s, str)]
        for name in [cluster.value, *synonyms]:
            if name.lower() in known:
                return known[name.lower()]
        if getattr(cluster, "type", None) == "mitre-intrusion-set":
            actor_id = f"intrusion-set--{cluster.uuid}"  # MISP keeps ATT&CK's uuids in this galaxy
        else:
            actor_id = f"threat-actor--{cluster.uuid}"
        country = meta.get("country")
        props = {
            "sources": [self.source],
            "stix_ids": [actor_id],
            "name": cluster.value,
            "name_lc": cluster.value.lower(),
            "aliases": synonyms,
            "aliases_lc": list(dict.fromkeys(n.lower() for n in [cluster.value, *synonyms])),
            "description": getattr(cluster, "description", None) or None,
        }
        if isinstance(country, str) and len(country) == 2:
            props.update(country=country.upper(), country_source="misp")
        self.batch.add_node("ThreatActor", actor_id, props)
        return actor_id


def _attack_value(value: str) -> tuple[str, str | None]:
    """``(name, ATT&CK id)`` of a cluster value: ``"Mimikatz - S0002"`` -> ``("Mimikatz",
    "S0002")``; a value without an id is all name."""
    m = _ATTACK_VALUE.match(value.strip())
    return (m.group(1), m.group(2)) if m else (value.strip(), None)


def _cluster_id(campaign_id: str, cluster: Any) -> str:
    """A galaxy cluster's entry in the ledger: one per event that carries it."""
    return f"{campaign_id}/galaxy-cluster--{getattr(cluster, 'uuid', None) or cluster.value}"


def _tags_tlp(tags: Any) -> TLP | None:
    names = [str(getattr(t, "name", "")) for t in tags or []]
    return TLP.strictest(n for n in names if n.lower().startswith("tlp:"))


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
