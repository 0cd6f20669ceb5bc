"""New, unattributed activity: parse it (STIX 2.1 bundle, MISP event, simple JSON or a text list
of indicators) and link it by exact match to the entities the graph already knows.

Linking is exact on purpose: indicator ids (``kind:value`` after normalisation, so defanged
input matches), malware and tool names or aliases (case-insensitive), ATT&CK ids (T1059.001,
S0154), STIX ids, ASNs. Fuzzy matching would invent links an analyst cannot defend. An indicator
the graph has never seen is joined to what it knows through the offline enrichment facts that
ingest writes too (``graph.enrich``: its /24 or /48 network, AS organisation, registrable
domain): the same ids, computed by the same code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.graph.enrich import facts
from actorgraph.graph.errors import IngestError, InvalidIndicator, StixIngestError, ValidationError
from actorgraph.graph.formats.indicators import indicator_id, is_url, normalize_indicator
from actorgraph.graph.formats.provenance import iso

if TYPE_CHECKING:
    from actorgraph.graph.formats.rows import IngestBatch

SIMPLE_KEYS = ("indicators", "malware", "tools", "techniques", "infrastructure", "targets")
# The labels of an input's own objects an activity keeps (``Activity.objects``).
OBJECT_LABELS: tuple[str, ...] = ("Malware", "Tool", "Infrastructure")
# When an activity ran: its campaign's first and last seen when the input has a dated campaign
# (a MISP event is read as one), else the span of its observations. Not the dates of
# infrastructure (its life, not the activity's), reports (when it was written up), markings or
# identities.
_OBSERVED = {"indicator", "observed-data", "sighting"}
_CAMPAIGN_DATES: tuple[str, ...] = ("first_seen", "last_seen")
# A software value of the simple form that refers to an object (ATT&CK id, STIX id) rather
# than naming one: it makes no object of its own.
_SOFTWARE_REFERENCE = re.compile(r"^(?:S\d{4}|(?:malware|tool)--\S+)$", re.IGNORECASE)
_EPOCH = "1970-01-01T00:00:00.000Z"
_OBSERVED_DATES: tuple[str, ...] = (
    *_CAMPAIGN_DATES,
    "first_observed",
    "last_observed",
    "valid_from",
    "created",
)


@dataclass
class Activity:
    """What an unattributed cluster shows, before linking.

    Attributes:
        name: a label for reports (file name, campaign name).
        indicators: indicator ids (``kind:value``, normalised).
        malware, tools: names, aliases, ATT&CK ids or STIX ids.
        techniques: ATT&CK ids or STIX ids.
        infrastructure: node ids (``asn:AS13335``, STIX ids).
        targets: ``sector:<slug>`` / ``country:<CC>`` ids.
        context: (source id, TYPE, target id) edges the input itself states
            (a domain resolving to an IP), used to reach known entities from new ones.
        skipped: input values left out, each ``{"value", "reason"}`` (an invalid indicator, an
            IP range): the rest is still attributed, as ingest lists and goes on.
        seen: when the activity was first and last seen (ISO-8601), from the input's own
            dates (``observed_span``); None when it gives none (the simple form, a text list).
        objects: the input's own software and infrastructure objects, label
            (``OBJECT_LABELS``) -> id -> properties as the reader read them: what
            ``Attributor.persist`` stores of them when the graph does not hold them. A STIX
            bundle's or MISP event's objects; for the simple form, one object per software
            name (``named_software``).
    """

    name: str = "activity"
    indicators: list[str] = field(default_factory=list)
    malware: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)
    infrastructure: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    context: list[tuple[str, str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    seen: tuple[str, str] | None = None
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def size(self) -> int:
        return sum(len(getattr(self, k)) for k in SIMPLE_KEYS)


@dataclass
class LinkedActivity:
    """An activity after exact-match linking: known entity ids, and what matched nothing.

    ``via_enrichment`` maps a known network, AS organisation or registrable domain to the new
    (unmatched) indicator whose enrichment facts name it; the entity's kind says how
    (``network:...`` holds the indicator, ``registrable_domain:...`` is its domain's).
    """

    activity: Activity
    matched: dict[str, str]  # entity id -> the input value that matched it
    via_context: dict[str, str]  # entity id -> the new input value it was reached from
    unmatched: list[str]
    via_enrichment: dict[str, str] = field(default_factory=dict)  # entity id -> new value

    def known(self) -> list[str]:
        """Every known entity the activity reaches (matched, through its own context edges,
        through enrichment), once each: what the scorer reads."""
        return list(dict.fromkeys([*self.matched, *self.via_context, *self.via_enrichment]))

    def new_indicators(self) -> list[str]:
        """Indicator ids the graph does not hold: their names still count
        (``gnn.lexical``)."""
        indicators = set(self.activity.indicators)
        return [v for v in self.unmatched if v in indicators]


def activity_from_simple(data: dict[str, Any], name: str = "activity") -> Activity:
    """Parse ``{"indicators": [...], "malware": [...], "tools": [...], "techniques": [...]}``,
    where ``text`` may hold more indicators as a pasted list (``text_values``).

    An invalid indicator value is left out and listed in ``skipped``.

    Raises:
        ValidationError: not an object, unknown keys, non-string values.
        InvalidIndicator: no value is left and an indicator was invalid (the message quotes it).
    """
    if not isinstance(data, dict):
        raise ValidationError(f"activity must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(SIMPLE_KEYS) - {"name", "type", "persist", "text"})
    if unknown:
        raise ValidationError(
            f"unknown activity field(s) {unknown}; expected {[*SIMPLE_KEYS, 'text']}"
        )
    text = data.get("text") or ""
    if not isinstance(text, str):
        raise ValidationError(f"activity field 'text' must be a string, got {type(text).__name__}")
    act = Activity(name=str(data.get("name") or name))
    for key in SIMPLE_KEYS:
        values = data.get(key) or []
        if not isinstance(values, list):
            raise ValidationError(f"activity field {key!r} must be a list, got {values!r}")
        for v in values:
            if not isinstance(v, str | int) or isinstance(v, bool) or str(v).strip() == "":
                raise ValidationError(f"activity field {key!r}: invalid value {v!r}")
        if key == "indicators":
            ids = _indicator_ids([*values, *text_values(text)], act.skipped)
            act.indicators = list(dict.fromkeys(ids))
        else:
            setattr(act, key, [str(v).strip() for v in values])
    named = "" if act.name == "activity" else f"{act.name}: "
    _check_not_empty(
        act, f"{named}activity is empty: give indicators, malware, tools or techniques"
    )
    act.objects = named_software(act.malware, act.tools, source=act.name)
    return act


def named_software(
    malware: list[str], tools: list[str], *, source: str
) -> dict[str, dict[str, dict[str, Any]]]:
    """Software named by name only (the simple form) as objects of their own, read by the
    STIX reader like a bundle's, so that ``persist`` can store a family the graph does not
    hold yet: label -> id -> properties. The id is a function of the type and the name
    (case-folded), so a name persisted twice is one node. ATT&CK and STIX ids refer to
    objects rather than name them, and make none."""
    from actorgraph.graph.formats.stix_out import det_id
    from actorgraph.graph.formats.stix_reader import read_stix

    objects: dict[str, dict[str, str]] = {}
    for stix_type, names in (("malware", malware), ("tool", tools)):
        for name in names:
            if _SOFTWARE_REFERENCE.match(name):
                continue
            oid = det_id(stix_type, name.casefold())
            objects.setdefault(oid, {"type": stix_type, "id": oid, "name": name})
    if not objects:
        return {}
    # Required by STIX, never stored: the reader leaves timestamps out without provenance.
    stamp = {"spec_version": "2.1", "created": _EPOCH, "modified": _EPOCH}
    bundle = {
        "type": "bundle",
        "id": det_id("bundle", source),
        "objects": [
            {**o, **stamp, **({"is_family": True} if o["type"] == "malware" else {})}
            for o in objects.values()
        ],
    }
    batch = read_stix(bundle, source=source, provenance=False)
    return {
        label: dict(batch.nodes[label]) for label in ("Malware", "Tool") if batch.nodes.get(label)
    }


def text_values(text: str) -> list[str]:
    """The values of a text list of indicators, as analysts keep them and vendors publish
    them: one per line, the first field of each line (what follows a blank or a tab, a file
    name or a comment, is left out); blank lines and lines starting with ``#`` or ``//`` are
    skipped. The one reading of such lists (``activity_from_text``, the ``text`` of the
    simple form that the console sends)."""
    values = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "//")):
            values.append(_first_field(stripped.split()[0]))
    return values


def _first_field(token: str) -> str:
    """The first field of a CSV line as well (``198.51.100.7,ip,c2``; quotes stripped), except
    in a URL, where a comma is part of the path or query."""
    if "," in token and not is_url(token.lstrip("\"'")):
        token = token.split(",", 1)[0]
    return token.strip("\"'")


def _indicator_ids(values: list[Any], skipped: list[dict[str, str]]) -> list[str]:
    """Normalised indicator ids of ``values``; an invalid one goes to ``skipped``."""
    ids = []
    for value in values:
        try:
            ids.append(indicator_id(*normalize_indicator(value)))
        except InvalidIndicator as exc:
            skipped.append({"value": str(value), "reason": exc.reason})
    return ids


def _check_not_empty(act: Activity, message: str) -> None:
    """Refuse an activity with nothing left to attribute: the first skipped value's error
    when values were skipped, else ``message``."""
    if act.size():
        return
    if act.skipped:
        first = act.skipped[0]
        raise InvalidIndicator(first["value"], first["reason"])
    raise ValidationError(message)


def activity_from_stix(bundle: dict[str, Any], name: str = "activity") -> Activity:
    """Parse a STIX 2.1 bundle of unattributed activity (nothing is written).

    References to objects outside the bundle (ATT&CK techniques by STIX id) are allowed.

    An invalid indicator value (an IP range, a URL with spaces) is left out and listed in
    ``skipped``, as ingest lists it as rejected.

    Raises:
        IngestError / StixIngestError: the bundle is invalid (the message names the object).
        InvalidIndicator: nothing is left and an indicator value was invalid.
    """
    from actorgraph.graph.formats.stix_reader import read_stix

    batch = read_stix(bundle, source=name, known_ids=lambda ids: set(ids), provenance=False)
    skipped = [
        {"value": bad.value, "reason": f"{bad.reason} (object {bad.object_id})"}
        for bad in batch.rejected
    ]
    camp = next(iter((batch.nodes.get("Campaign") or {}).values()), None)
    act = Activity(name=str((camp or {}).get("name") or name))
    act.indicators = sorted(batch.nodes.get("Indicator", {}))
    act.malware = sorted(batch.nodes.get("Malware", {}))
    act.tools = sorted(batch.nodes.get("Tool", {}))
    act.techniques = sorted(batch.nodes.get("Technique", {}))
    act.infrastructure = sorted(batch.nodes.get("Infrastructure", {}))
    act.targets = _targets(batch)
    # Names and ATT&CK ids travel along, so a bundle's own malware object (a new STIX id)
    # still links to the known family by name.
    for label, attr in (("Malware", "malware"), ("Tool", "tools"), ("Technique", "techniques")):
        for props in batch.nodes.get(label, {}).values():
            getattr(act, attr).extend(object_names(props))
    modelled = {"Indicator", "Infrastructure", "Malware", "Tool", "Technique", "Sector", "Country"}
    for (sl, rel, dl), pairs in batch.edges.items():
        if sl in modelled and dl in modelled:
            act.context.extend((s, rel, d) for s, d in pairs)
    # Indicators of the activity pointing at its campaign are the activity itself, not context.
    act.skipped = skipped
    act.seen = observed_span(o for o in bundle.get("objects") or () if isinstance(o, dict))
    act.objects = {
        label: dict(batch.nodes[label]) for label in OBJECT_LABELS if batch.nodes.get(label)
    }
    _check_not_empty(
        act, f"bundle {name!r} holds no indicator, malware, tool, technique or infrastructure"
    )
    return act


def _targets(batch: IngestBatch) -> list[str]:
    """The sectors and countries the activity targets: those a ``targets`` relationship names,
    and those the bundle states with no relationship at all (a victim's location or sector, as
    feeds and the demo world list them). A country only an actor originates from, or anything
    else ties to an object other than as its target, is not one: read as a target, the home
    country of an intrusion set in the input made every actor targeting it a candidate."""
    labels = ("Sector", "Country")
    targeted: set[str] = set()
    tied: set[str] = set()
    for (src_label, rel, dst_label), pairs in batch.edges.items():
        if dst_label in labels:
            (targeted if rel == "TARGETS" else tied).update(d for _, d in pairs)
        if src_label in labels:
            tied.update(s for s, _ in pairs)
    stated = [node for label in labels for node in batch.nodes.get(label, {})]
    return sorted(t for t in stated if t in targeted or t not in tied)


def object_names(props: dict[str, Any]) -> list[str]:
    """The names an input's object is linked by besides its id (ATT&CK id, name, aliases), as
    a reader read its properties."""
    names = [props.get("external_id"), props.get("name"), *(props.get("aliases") or [])]
    return [n for n in names if n]


def activity_from_misp(event: dict[str, Any], name: str = "activity") -> Activity:
    """Parse one MISP event (``{"Event": {...}}`` or bare), through the STIX 2.1 bundle that
    misp-stix makes of it (``graph.formats.misp.convert_misp_event``); the attributes it
    refuses are listed in ``skipped`` first.

    Raises:
        IngestError / StixIngestError: not one MISP event, or one misp-stix cannot convert;
            the rest as ``activity_from_stix``.
    """
    from actorgraph.graph.formats.misp import convert_misp_event

    bundle, refused = convert_misp_event(event)
    activity = activity_from_stix(bundle, name=name)
    activity.skipped[:0] = refused
    return activity


def activity_from_text(text: str, name: str = "activity") -> Activity:
    """Parse a text list of indicators (``text_values``); defanged values are refanged, and a
    line that is no indicator (a header) is listed in ``skipped`` and the rest attributed.

    Raises:
        InvalidIndicator: no line holds an indicator (the message quotes the first line).
        ValidationError: nothing but blank lines and comments.
    """
    return activity_from_simple({"text": text}, name=name)


def activity_format(data: Any) -> str:
    """Which form parsed activity input is in: ``stix``, ``misp`` or ``simple``; the one place
    the three are told apart (``activity_from_any``, the API's request bodies). A MISP event is
    wrapped (``{"Event": ...}``) or bare (it has ``info``, which no STIX bundle and no simple
    form has)."""
    if not isinstance(data, dict):
        return "simple"
    if data.get("type") == "bundle":
        return "stix"
    if "Event" in data or ("info" in data and "type" not in data):
        return "misp"  # a malformed wrapper too: the MISP reader says what is wrong
    return "simple"


def activity_from_any(data: Any, name: str = "activity") -> Activity:
    """Parse activity input of any JSON form (``activity_format``)."""
    form = activity_format(data)
    if form == "stix":
        return activity_from_stix(data, name=name)
    if form == "misp":
        return activity_from_misp(data, name=name)
    return activity_from_simple(data, name=name)


def load_activity(path: str | Path) -> Activity:
    """Read a file of activity: JSON (a STIX bundle, a MISP event or the simple form) when its
    first character is ``{`` or ``[``, else a text list of indicators (``activity_from_text``).

    Raises:
        IngestError: unreadable file or invalid JSON; other errors as the parsers.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(f"cannot read activity file: {exc}", str(path)) from exc
    if not text.lstrip().startswith(("{", "[")):
        return activity_from_text(text, name=str(path))
    try:
        # orjson, as ingest reads JSON: it refuses nesting past 1,024 levels with an error,
        # where the standard library's parser recurses until Python's stack runs out.
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise IngestError(f"not valid JSON: {exc}", str(path)) from exc
    return activity_from_any(data, name=str(path))


def observed_span(objects: Iterable[dict[str, Any]]) -> tuple[str, str] | None:
    """When an activity was first and last seen, as canonical ISO-8601 times, from its STIX
    objects or ingest rows (a row without ``type`` is a campaign); None when nothing is dated.

    Raises:
        StixIngestError: a date it reads is no timestamp (the message names the object).
    """
    objects = list(objects)
    campaigns = [
        o
        for o in objects
        if o.get("type", "campaign") == "campaign" and (o.get("first_seen") or o.get("last_seen"))
    ]
    dated = [(o, _CAMPAIGN_DATES) for o in campaigns] or [
        (o, _OBSERVED_DATES) for o in objects if o.get("type") in _OBSERVED
    ]
    times = [t for obj, keys in dated for t in (_time(obj, k) for k in keys) if t]
    return (min(times), max(times)) if times else None


def _time(obj: dict[str, Any], key: str) -> str | None:
    try:
        return iso(obj.get(key))
    except (ValueError, TypeError, OverflowError) as exc:
        where = str(obj.get("id") or obj.get("type") or "campaign")
        raise StixIngestError(where, f"{key} is not a timestamp: {obj.get(key)!r:.80}") from exc


class EntityLookup:
    """Exact-match keys of every entity of a model's snapshot."""

    def __init__(self, snap: GraphSnapshot, entity_ids: list[str]) -> None:
        self.ids = set(entity_ids)
        self.by_key: dict[tuple[str, str], str] = {}
        for nid in entity_ids:
            p = snap.props[nid]
            t = p["type"]
            keys: list[str] = []
            if t in ("malware", "tool"):
                keys = [p.get("name") or "", *(p.get("aliases") or []), p.get("external_id") or ""]
            elif t == "technique":
                keys = [p.get("external_id") or ""]
            elif t == "infrastructure":
                keys = [p.get("name") or "", p.get("value") or ""]
            for k in keys:
                if k:
                    self.by_key.setdefault((_group(t), str(k).strip().lower()), nid)

    def find(self, group: str, value: str) -> str | None:
        if value in self.ids:
            return value
        return self.by_key.get((group, value.strip().lower()))


def link(activity: Activity, lookup: EntityLookup, *, enrich: bool = True) -> LinkedActivity:
    """Match an activity's values to known entities; follow the input's own context edges
    (new domain -> known IP) one step from unmatched values to known ones; and, with
    ``enrich``, join each unmatched indicator to the known entities its enrichment facts name
    (a new IP to the known /24 it sits in)."""
    matched: dict[str, str] = {}
    unmatched: list[str] = []
    groups = {
        "indicators": "indicator",
        "malware": "software",
        "tools": "software",
        "techniques": "technique",
        "infrastructure": "infrastructure",
        "targets": "target",
    }
    seen_raw: set[str] = set()
    for attr, group in groups.items():
        for value in getattr(activity, attr):
            if value in seen_raw:
                continue
            seen_raw.add(value)
            nid = lookup.find(group, value)
            if nid is None and group == "infrastructure" and value.lower().startswith("asn:"):
                nid = lookup.find(group, value.split(":", 1)[1])
            if nid is None:
                unmatched.append(value)
            else:
                matched.setdefault(nid, value)
    via: dict[str, str] = {}
    for src, _, dst in activity.context:
        for new, other in ((src, dst), (dst, src)):
            if new not in lookup.ids and other in lookup.ids and other not in matched:
                via.setdefault(other, new)
    # A malware object's name and its STIX id both appear; report a value once.
    unmatched = sorted(set(u for u in unmatched if u not in matched.values()))
    enriched: dict[str, str] = {}
    if enrich:
        indicators = set(activity.indicators)
        for value in (u for u in unmatched if u in indicators):
            for fact in facts(value):
                nid = fact.node_id
                if nid in lookup.ids and nid not in matched and nid not in via:
                    enriched.setdefault(nid, value)
    return LinkedActivity(activity, matched, via, unmatched, via_enrichment=enriched)


def _group(node_type: str) -> str:
    return {"malware": "software", "tool": "software"}.get(node_type, node_type)
