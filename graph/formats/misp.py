"""MISP events -> STIX 2.1 with MISP's own converter (``misp-stix``), read by the STIX reader.

:func:`misp_event_to_bundle` runs ``misp_stix_converter.MISPtoSTIX21Parser`` on one event and
completes its output where actorgraph's model asks more of a MISP event than STIX does:

- the event is a ``campaign`` (``campaign--<event uuid>``) in place of misp-stix's ``report`` or
  ``grouping``, and every indicator and observable of the event ``indicates`` it;
- the event's TLP tag covers the attributes that carry none of their own (in MISP an event's
  distribution covers its attributes; in STIX a marking covers only the object it is on), and an
  observed-data's marking covers the observables it holds; the observed-data themselves (and
  the indicators' ``based-on`` to them) are left out: wrappers the graph model has no place
  for, around observables that are read;
- a threat-actor galaxy cluster is an ``attributed-to`` claim of the campaign, and the
  cluster's ``country`` the actor's own (``x_actorgraph_country``, source ``misp``).

:func:`read_misp` then links the bundle to the store (:mod:`graph.formats.misp_links`: actors
and ATT&CK nodes that galaxy clusters or galaxy tags name) and reads it with
``stix_reader.read_objects``: one STIX path for everything. Attributes misp-stix refuses (a
malformed IP address or hash) are listed in ``batch.rejected``, as the STIX reader lists the
values it refuses.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import logging
import re
import uuid
from pathlib import Path
from typing import Any

from actorgraph.graph.errors import ActorgraphError, IngestError, StixIngestError
from actorgraph.graph.formats.misp_links import (
    ACTOR_GALAXIES,
    NS,
    ActorLookup,
    AttackLookup,
    Links,
    galaxy_of,
    link_to_store,
)
from actorgraph.graph.formats.provenance import epoch, iso, seen_props
from actorgraph.graph.formats.rows import IngestBatch, union
from actorgraph.graph.formats.stix_reader import read_objects
from actorgraph.graph.formats.stix_validate import load_json

# pymisp logs each attribute it refuses; those refusals are read back from the parser and listed
# in the ingest report, so without a handler of the application's own (NullHandler stops only
# Python's last-resort print to stderr) they would be said twice.
logging.getLogger("pymisp").addHandler(logging.NullHandler())

__all__ = [
    "convert_misp_event",
    "converter_version",
    "is_bare_event",
    "misp_event_to_bundle",
    "read_misp",
]

# misp-stix's object for the event itself (``report`` once published, else ``grouping``).
_EVENT_TYPES = ("report", "grouping")
# Observables the STIX reader turns into Indicator or Infrastructure nodes.
_VALUE_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "autonomous-system")
_HASHED_TYPES = ("file", "x509-certificate")
_ACTOR_TYPES = ("threat-actor", "intrusion-set")
# pymisp's message for an attribute it refuses, as misp-stix collects it.
_REFUSED = re.compile(
    r"^Failed validation for \S+ Attribute <([0-9a-fA-F-]+)>[^:\n]*:\n(.*) - (.*)$", re.S
)

# A field of a shape MISP never writes (a nesting too deep to copy, a list for a string)
# refuses the whole input, naming the event, instead of escaping as a Python error.
_MALFORMED = (TypeError, AttributeError, KeyError, ValueError, IndexError, RecursionError)
# The fields MISP writes as lists, by the record holding them. Read as they come, a string is
# walked a character at a time ("Attribute": "abc" was an attribute 'a'), and a "Tag": "tlp:red"
# was dropped unread, storing the event clear.
_EVENT_LISTS = ("Attribute", "Object", "Tag", "Galaxy")
_OBJECT_LISTS = ("Attribute",)
_ATTRIBUTE_LISTS = ("Tag",)
_GALAXY_LISTS = ("GalaxyCluster",)
# An event's day and timestamps as MISP writes them (a timestamp is epoch seconds, an integer or
# a string of digits); misp-stix fails on anything else with an error that names no field.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ].+)?\Z")
_EPOCH_DIGITS = re.compile(r"[0-9]{1,12}\Z")
_EPOCH_FIELDS = ("timestamp", "publish_timestamp")
_LAST_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z: the last second a datetime holds


def misp_event_to_bundle(event: dict[str, Any]) -> dict[str, Any]:
    """One MISP event (``{"Event": {...}}`` or bare) as a STIX 2.1 bundle of plain dicts:
    :func:`convert_misp_event` without the refused attributes."""
    return convert_misp_event(event)[0]


def convert_misp_event(
    event: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """One MISP event (``{"Event": {...}}`` or bare) as a STIX 2.1 bundle of plain dicts, and
    the attributes pymisp refused.

    What misp-stix makes of the event, completed as the module docstring says; nothing is looked
    up in a store (:func:`read_misp` does that when ingesting). Refused attributes are left out
    of the bundle and listed, each ``{"value", "reason"}`` (an attribution's ``skipped``).

    Args:
        event: the parsed MISP event.

    Returns:
        ``({"type": "bundle", "id": "bundle--<event uuid>", "objects": [...]}, refused)``.

    Raises:
        StixIngestError: the event lacks its uuid or info, an attribute lacks its type or value,
            or misp-stix cannot convert it.
        IngestError: not a MISP event.
    """
    raw = _events(event, None)
    if len(raw) != 1:
        raise IngestError(f"expected one MISP event, got {len(raw)}")
    try:
        prepared = _prepare(raw[0], None)
        objects, refused = _convert(prepared, None)
    except ActorgraphError:
        raise
    except _MALFORMED as exc:
        raise _malformed(f"misp-event--{raw[0].get('uuid')}", exc, None) from exc
    bundle = {"type": "bundle", "id": f"bundle--{prepared['uuid']}", "objects": objects}
    return bundle, [{"value": value, "reason": reason} for _, value, reason in refused]


def read_misp(
    obj_or_path: dict[str, Any] | list[Any] | str | Path,
    *,
    source: str | None = None,
    origin: str | None = None,
    actor_lookup: ActorLookup | None = None,
    attack_lookup: AttackLookup | None = None,
) -> IngestBatch:
    """Read one MISP event, a list of them, or a file holding either, through misp-stix.

    Args:
        obj_or_path: parsed JSON or a ``.json``/``.json.gz`` path.
        source: provenance name when an event has no creator organisation
            (default: the file name or ``"misp"``).
        origin: where the input came from, for error messages.
        actor_lookup: resolves galaxy cluster and tag names to stored ThreatActor ids; a cluster
            no stored actor answers becomes a ThreatActor of its own.
        attack_lookup: finds the stored ATT&CK nodes that technique, malware and tool clusters
            and tags name; None: none is found, and each is listed as rejected.

    Raises:
        IngestError: not a MISP event.
        StixIngestError: an event or attribute lacks a required field, or misp-stix cannot
            convert an event.
    """
    where: str | None
    if isinstance(obj_or_path, str | Path):
        path = Path(obj_or_path)
        data, name, where = load_json(path), source or path.name, origin or str(path)
    else:
        data, name, where = obj_or_path, source or "misp", origin or source
    events = _events(data, where)
    current = "event"
    links = Links()
    refused: list[tuple[str, str, str]] = []
    try:
        prepared = [_prepare(event, where) for event in events]  # all checked before any read
        for event in prepared:
            current = f"misp-event--{event['uuid']}"
            converted, bad = _convert(event, where)
            link_to_store(converted, actor_lookup, attack_lookup, links)
            refused += bad
    except ActorgraphError:
        raise
    except _MALFORMED as exc:
        raise _malformed(current, exc, where) from exc
    batch = read_objects(links.objects, source=name, resolve_ids=links.resolve, origin=where)
    try:
        _misp_fields(batch, prepared)
    except _MALFORMED as exc:
        raise _malformed(current, exc, where) from exc
    for object_id, value, reason in refused:
        batch.reject(object_id, value, reason)
        batch.ledger.note(object_id, "misp-attribute", "rejected", reason)
    links.account(batch)
    return batch


def _malformed(event_id: str, exc: Exception, where: str | None) -> StixIngestError:
    return StixIngestError(
        event_id, f"malformed MISP field ({type(exc).__name__}: {exc})", source=where
    )


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
    """Check the required fields, and fill what misp-stix would otherwise invent at random or
    from the clock (a missing uuid, an object's missing timestamp), so that reading the same
    event twice gives the same rows."""
    event_uuid = raw.get("uuid")
    if not isinstance(event_uuid, str) or not _is_uuid(event_uuid):
        raise StixIngestError(f"misp-event--{event_uuid}", "event without a valid 'uuid'", where)
    object_id = f"misp-event--{event_uuid}"
    if not raw.get("info"):
        raise StixIngestError(object_id, "event without 'info'", where)
    _check_event(raw, object_id, where)
    event = copy.deepcopy(raw)
    stamp = event.get("timestamp") or _epoch_of(event.get("date"))
    if stamp is not None:
        event["timestamp"] = stamp
    for position, container in enumerate([event, *(event.get("Object") or [])]):
        if not isinstance(container, dict):
            raise StixIngestError(object_id, f"object #{position - 1} is not a MISP object", where)
        if container is not event:
            _check_lists(container, _OBJECT_LISTS, f"object #{position - 1}", object_id, where)
            if not container.get("uuid"):
                container["uuid"] = str(uuid.uuid5(NS, f"{event_uuid}|object|{position - 1}"))
            if stamp is not None and not container.get("timestamp"):
                container["timestamp"] = stamp
        scope = event_uuid if container is event else f"{event_uuid}|{container['uuid']}"
        for index, attr in enumerate(container.get("Attribute") or []):
            if (
                not isinstance(attr, dict)
                or not attr.get("type")
                or attr.get("value") in ("", None)
            ):
                raise StixIngestError(
                    object_id, f"attribute #{index} without 'type' and 'value': {attr!r}", where
                )
            _check_lists(attr, _ATTRIBUTE_LISTS, f"attribute #{index}", object_id, where)
            if not attr.get("uuid"):
                attr["uuid"] = str(uuid.uuid5(NS, f"{scope}|{attr['type']}|{attr['value']}"))
            if stamp is not None and not attr.get("timestamp"):
                attr["timestamp"] = container.get("timestamp") or stamp
    return event


def _check_event(event: dict[str, Any], object_id: str, where: str | None) -> None:
    """Refuse, naming the field, an event whose lists or times are not of MISP's shape (its
    objects' and attributes' lists are checked as :func:`_prepare` reaches them)."""
    _check_lists(event, _EVENT_LISTS, "event", object_id, where)
    for index, galaxy in enumerate(event.get("Galaxy") or []):
        if isinstance(galaxy, dict):
            _check_lists(galaxy, _GALAXY_LISTS, f"galaxy #{index}", object_id, where)
    day = event.get("date")
    if day is not None and not _is_day(day):
        raise StixIngestError(
            object_id,
            f"'date' must be a day, YYYY-MM-DD, or an ISO date-time (got {day!r:.80})",
            where,
        )
    for name in _EPOCH_FIELDS:
        value = event.get(name)
        if value is not None and not _is_epoch(value):
            raise StixIngestError(
                object_id,
                f"{name!r} must be epoch seconds, an integer or a string of digits "
                f"(got {value!r:.80})",
                where,
            )


def _check_lists(
    record: dict[str, Any], fields: tuple[str, ...], what: str, object_id: str, where: str | None
) -> None:
    """Refuse a field of ``record`` (the event, an object, an attribute, a galaxy) that MISP
    writes as a list and is something else; absent or null is an empty list."""
    for name in fields:
        value = record.get(name)
        if value is not None and not isinstance(value, list):
            raise StixIngestError(
                object_id,
                f"{what} {name!r} must be a list (got {type(value).__name__} {value!r:.80})",
                where,
            )


def _convert(
    event: dict[str, Any], where: str | None
) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    """misp-stix's objects for one prepared event, completed; and the attributes it refused as
    ``(indicator--<uuid>, value, reason)``."""
    from misp_stix_converter import MISPtoSTIX21Parser

    object_id = f"misp-event--{event['uuid']}"
    parser = MISPtoSTIX21Parser()
    try:
        parser.parse_misp_event({"Event": event})
        objects = json.loads(parser.bundle.serialize())["objects"]
    except ActorgraphError:
        raise
    except Exception as exc:  # misp-stix, pymisp and stix2 raise their own and Python's errors
        raise StixIngestError(
            object_id, f"misp-stix cannot convert it ({type(exc).__name__}: {exc})", where
        ) from exc
    refused = []
    # pymisp's refusals of single attributes arrive as warnings, whole-record ones as errors.
    for messages in [*parser.errors.values(), *parser.warnings.values()]:
        for message in messages:
            m = _REFUSED.match(str(message))
            if m:
                refused.append((f"indicator--{m.group(1)}", m.group(2), m.group(3).strip()))
    if not any(o.get("type") in _EVENT_TYPES for o in objects):
        why = "; ".join(str(m) for ms in parser.errors.values() for m in ms) or "no report"
        raise StixIngestError(object_id, f"misp-stix cannot convert it ({why})", where)
    return _complete(objects, event), refused


def _complete(objects: list[dict[str, Any]], event: dict[str, Any]) -> list[dict[str, Any]]:
    """The event as a campaign that its indicators and observables indicate, its TLP on what
    carries none, and its threat-actor clusters as claims (see the module docstring)."""
    report = next(o for o in objects if o["type"] in _EVENT_TYPES)
    campaign_id = f"campaign--{event['uuid']}"
    event_marks = list(report.get("object_marking_refs") or [])
    campaign = {
        "type": "campaign",
        "spec_version": "2.1",
        "id": campaign_id,
        "created": report["created"],
        "modified": report["modified"],
        "name": str(event["info"]),
        "description": str(event["info"]),
        "labels": report.get("labels"),
        **({"first_seen": iso(event["date"])} if _is_day(event.get("date")) else {}),
        **({"created_by_ref": report["created_by_ref"]} if "created_by_ref" in report else {}),
        **({"object_marking_refs": event_marks} if event_marks else {}),
    }
    by_id = {o["id"]: o for o in objects}
    for obj in objects:  # an observed-data's marking covers the observables it holds
        if obj["type"] == "observed-data" and obj.get("object_marking_refs"):
            for ref in obj.get("object_refs") or []:
                held = by_id.get(ref)
                if held is not None:
                    held["object_marking_refs"] = union(
                        held.get("object_marking_refs"), obj["object_marking_refs"]
                    )
    out: list[dict[str, Any]] = [campaign]
    for obj in objects:
        if obj is report or _container(obj, by_id):
            continue
        if event_marks and _covered_by_event(obj):
            obj.setdefault("object_marking_refs", list(event_marks))
        out.append(obj)
    # What misp-stix does not say, the event says: its creator and its timestamps.
    keep = ("created", "modified", "created_by_ref")
    stamp: dict[str, Any] = {k: campaign[k] for k in keep if k in campaign}
    for ref in report.get("object_refs") or []:
        held = by_id.get(ref)
        if held is not None and _indicates(held):
            out.append(_relationship("indicates", ref, campaign_id, held, stamp))
        elif (
            held is not None and held["type"] in _ACTOR_TYPES and galaxy_of(held) in ACTOR_GALAXIES
        ):
            _country_of_cluster(held)
            out.append(_relationship("attributed-to", campaign_id, ref, campaign, stamp))
    return out


def converter_version() -> str:
    """``misp-stix@<version>``: the converter every node read from a MISP event names in its
    ``converted_by`` property (shown by ``actorgraph stats``).

    Raises:
        IngestError: misp-stix is not installed.
    """
    try:
        return f"misp-stix@{importlib.metadata.version('misp-stix')}"
    except importlib.metadata.PackageNotFoundError as exc:
        raise IngestError("the misp-stix package is not installed", source="misp") from exc


def _misp_fields(batch: IngestBatch, events: list[dict[str, Any]]) -> None:
    """MISP's fields that STIX has no property for, on the nodes their attributes and events
    made: an attribute's type, category, ``to_ids``, comment and first/last seen; an event's
    threat level and analysis state; on each, the converter that read it (``converted_by``)."""
    converted_by = converter_version()
    fields: dict[str, dict[str, Any]] = {}
    for event in events:
        for container in [event, *(event.get("Object") or [])]:
            for attr in container.get("Attribute") or []:
                fields[attr["uuid"]] = {
                    "misp_type": attr["type"],
                    "misp_category": attr.get("category"),
                    "to_ids": bool(attr.get("to_ids", False)),
                    "comment": attr.get("comment") or None,
                    **seen_props(attr.get("first_seen"), attr.get("last_seen")),
                }
        campaign_id = f"campaign--{event['uuid']}"
        if campaign_id in batch.nodes.get("Campaign", {}):
            batch.add_node(
                "Campaign",
                campaign_id,
                {
                    "threat_level": _int(event.get("threat_level_id")),
                    "misp_analysis": _int(event.get("analysis")),
                    "converted_by": converted_by,
                },
            )
    for label in ("Indicator", "Infrastructure"):
        for node_id, props in batch.nodes.get(label, {}).items():
            # Values of MISP objects (file, x509, ...) are keyed by the object, not an attribute.
            batch.add_node(label, node_id, {"converted_by": converted_by})
            for stix_id in props.get("stix_ids") or []:
                found = fields.get(stix_id.partition("--")[2])
                if found is not None:
                    batch.add_node(label, node_id, dict(found))


def _relationship(
    rel: str, src: str, dst: str, marked_as: dict[str, Any], stamp: dict[str, Any]
) -> dict[str, Any]:
    rel_obj = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{uuid.uuid5(NS, f'{rel}|{src}|{dst}')}",
        **stamp,
        "relationship_type": rel,
        "source_ref": src,
        "target_ref": dst,
    }
    if marked_as.get("object_marking_refs"):
        rel_obj["object_marking_refs"] = list(marked_as["object_marking_refs"])
    return rel_obj


def _container(obj: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> bool:
    """An observed-data, or the ``based-on`` from an indicator to one: wrappers of the
    observables, which are read themselves (their markings moved onto them)."""
    if obj["type"] == "observed-data":
        return True
    if obj["type"] != "relationship" or obj.get("relationship_type") != "based-on":
        return False
    target = by_id.get(obj.get("target_ref", ""))
    return target is not None and target["type"] == "observed-data"


def _indicates(obj: dict[str, Any]) -> bool:
    """An object of the event that stands for a value the graph stores."""
    if obj["type"] == "indicator" or obj["type"] in _VALUE_TYPES:
        return True
    return obj["type"] in _HASHED_TYPES and bool(obj.get("hashes"))


def _covered_by_event(obj: dict[str, Any]) -> bool:
    """What the event's TLP covers: its content, not marking definitions, the creator's
    identity or galaxy clusters (public knowledge bases, as ATT&CK is)."""
    return obj["type"] not in ("marking-definition", "identity") and galaxy_of(obj) is None


def _country_of_cluster(obj: dict[str, Any]) -> None:
    """The threat-actor cluster's ``country`` as the actor's own (the STIX reader reads
    ``x_actorgraph_country``, which graph/formats/stix_out.py also writes)."""
    country = obj.get("x_misp_country")
    if isinstance(country, list):
        country = country[0] if len(country) == 1 else None
    if isinstance(country, str) and country.strip():
        obj["x_actorgraph_country"] = country.strip()
        obj["x_actorgraph_country_source"] = "misp"


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _epoch_of(day: Any) -> str | None:
    return str(epoch(day)) if _is_day(day) else None


def _is_day(value: Any) -> bool:
    """An event's ``date`` as MISP writes it, a calendar day (``YYYY-MM-DD``), or as some
    exporters do, an ISO date-time on that day (misp-stix reads both)."""
    if not isinstance(value, str) or _DAY.match(value) is None:
        return False
    try:
        return iso(value) is not None  # the one reading of timestamps (provenance.iso)
    except (ValueError, OverflowError):  # 2024-02-30, 2024-05-01Tnoon
        return False


def _is_epoch(value: Any) -> bool:
    """A timestamp as MISP writes it: epoch seconds, an integer or a string of digits, within
    what a datetime holds."""
    if isinstance(value, str) and _EPOCH_DIGITS.match(value):
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _LAST_EPOCH


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
