"""Load STIX input and validate a whole bundle before anything of it is used.

A bundle is refused as a whole (``IngestError`` for the file, ``StixIngestError`` naming the
object) when it is not JSON, not a bundle, or has an object without its required properties,
with an unparseable pattern or timestamp, with something other than a list where STIX requires
one or a list item of the wrong kind (``_LIST_PROPS``: a string, a STIX id, a marking-definition
id, a kill chain phase, an external reference, a granular marking), or with a ``confidence``
other than an integer 0..100. What real feeds send and the STIX validator accepts is not a
bundle error: invalid indicator *values* are listed as rejected, and a reference to an id
neither in the bundle nor in the store is kept pending (graph/formats/ledger.py), both by the
reader. An object whose ``modified`` is before its ``created`` is refused alone (``Validated``).
"""

from __future__ import annotations

import functools
import gzip
import io
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from actorgraph.graph.errors import IngestError, InvalidIndicator, StixIngestError
from actorgraph.graph.formats.provenance import iso
from actorgraph.graph.formats.stix_patterns import Comparison, ParseBudget, pattern_comparisons

SDO_SRO = {
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
    "relationship",
    "sighting",
}

# Required properties beyond type/id (STIX 2.1 part 4-6), for the types actorgraph reads.
REQUIRED: dict[str, tuple[str, ...]] = {
    "attack-pattern": ("name",),
    "campaign": ("name",),
    "intrusion-set": ("name",),
    "threat-actor": ("name",),
    "malware": (),
    "tool": ("name",),
    "indicator": ("pattern", "valid_from"),
    "infrastructure": ("name",),
    "identity": ("name",),
    "location": (),
    "report": ("name", "published"),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "domain-name": ("value",),
    "url": ("value",),
    "email-addr": ("value",),
    "autonomous-system": ("number",),
}
# Required only in STIX 2.1 (a 2.0 object has no spec_version and lacks them).
REQUIRED_21: dict[str, tuple[str, ...]] = {
    "malware": ("is_family",),
    "indicator": ("pattern_type",),
    "report": ("object_refs",),
}
TIMESTAMPS = (
    "created",
    "modified",
    "valid_from",
    "valid_until",
    "first_seen",
    "last_seen",
    "published",
    "start_time",
    "stop_time",
)

# References that must be STIX ids; whether their objects exist is the reader's question. Only
# their form, not their UUID, is checked: the MISP reader puts a stored node's id there
# (graph/formats/misp_links.py). A list's references are checked in full (``_IDS``).
_REF_PROPS = ("source_ref", "target_ref", "sighting_of_ref", "created_by_ref")
# Properties that STIX 2.1 (and ATT&CK's extensions) define as lists, wherever they appear, and
# what each item must be. A string for the list would be read one character at a time
# ("aliases": "abc" -> a, b, c); an item of another kind was dropped by one reader, stored as
# given by another ("malware_types": [{}]) or failed mid-read without naming the property.
_STRINGS, _IDS, _MARKINGS, _PHASES, _EXTERNAL, _GRANULAR = (
    "string",
    "STIX id",
    "marking-definition id",
    "kill chain phase",
    "external reference",
    "granular marking",
)
_LIST_PROPS: dict[str, str] = {
    # common properties
    "external_references": _EXTERNAL,
    "granular_markings": _GRANULAR,
    "labels": _STRINGS,
    "object_marking_refs": _MARKINGS,
    # of one or more SDO types (the *_types and sectors are open vocabularies: any string)
    "aliases": _STRINGS,
    "goals": _STRINGS,
    "indicator_types": _STRINGS,
    "infrastructure_types": _STRINGS,
    "kill_chain_phases": _PHASES,
    "malware_types": _STRINGS,
    "sectors": _STRINGS,
    "tool_types": _STRINGS,
    # reference lists (whether their objects exist is the reader's question)
    "belongs_to_refs": _IDS,
    "object_refs": _IDS,
    "resolves_to_refs": _IDS,
    # ATT&CK
    "x_mitre_aliases": _STRINGS,
    "x_mitre_platforms": _STRINGS,
}
# The string properties of a kill chain phase and of an external reference (STIX 2.1, 2.4 and
# 2.5), and which of them are required.
_PHASE_PROPS = {"kill_chain_name": True, "phase_name": True}
_EXTERNAL_PROPS = {"source_name": True, "description": False, "url": False, "external_id": False}
_MARKING_PREFIX = "marking-definition--"

# The most JSON text one input file may hold, after decompression (docs/SECURITY.md). The
# largest real input known, ATT&CK Enterprise, is about 50 MB; a gzip bomb inflates about
# 1,000 times, so without a bound a 1 MB file becomes gigabytes before JSON parsing refuses it.
# Callers that need more pass ``max_bytes`` explicitly.
MAX_INPUT_BYTES = 128 * 1024 * 1024
_READ_CHUNK = 1024 * 1024
_BOM = b"\xef\xbb\xbf"


def iter_inputs(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Expand files and directories into the input files they hold (``.json``, ``.json.gz``).

    Raises:
        IngestError: a path does not exist or is neither a file nor a directory.
    """
    for item in paths:
        path = Path(item)
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith((".json", ".json.gz"))
            )
        elif path.is_file():
            yield path
        elif path.exists():  # a device, a pipe, a socket
            raise IngestError("not a file or a directory", source=str(path))
        else:
            raise IngestError("no such file or directory", source=str(path))


def load_json(path: str | Path, *, max_bytes: int = MAX_INPUT_BYTES) -> Any:
    """Read a ``.json`` or ``.json.gz`` file of at most ``max_bytes`` of JSON text.

    A gzip file is decompressed in chunks and refused as soon as its content passes the limit,
    so a small file that inflates to gigabytes costs no more memory than ``max_bytes``.

    Args:
        path: the file.
        max_bytes: the most JSON text (after decompression) to accept.

    Raises:
        IngestError: unreadable, not gzip when named so, over ``max_bytes``, or not valid JSON.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            packed = path.name.endswith(".gz") or fh.read(2) == b"\x1f\x8b"
            fh.seek(0)
            raw = _read_at_most(gzip.GzipFile(fileobj=fh) if packed else fh, max_bytes, path)
        # orjson reads an integer beyond 64 bits as a float; the graph cannot hold such an
        # integer anyway (graph/store/base.check_values). A UTF-8 byte order mark, which the
        # standard library skipped, is skipped here too.
        return orjson.loads(raw[3:] if raw[:3] == _BOM else raw)
    except OSError as exc:  # includes gzip.BadGzipFile
        raise IngestError(f"cannot read file: {exc}", source=str(path)) from exc
    except EOFError as exc:  # a truncated .gz
        raise IngestError(f"cannot read file: truncated gzip ({exc})", source=str(path)) from exc
    except RecursionError as exc:
        raise IngestError("not valid JSON: nested too deeply", source=str(path)) from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int literals over 4,300 digits
        raise IngestError(f"not valid JSON: {exc}", source=str(path)) from exc


def _read_at_most(stream: io.BufferedIOBase, max_bytes: int, path: Path) -> bytearray:
    """All of ``stream``, refused once it passes ``max_bytes`` (never more held in memory)."""
    # A plain file's size is known: it is read into one buffer of that size (a buffer grown
    # 1 MB at a time is copied again and again); the loop then finds its end.
    raw = bytearray(min(_plain_size(stream), max_bytes + 1))
    del raw[stream.readinto(raw) or 0 :]
    while len(raw) <= max_bytes and (
        chunk := stream.read(min(_READ_CHUNK, max_bytes + 1 - len(raw)))
    ):
        raw += chunk
    if len(raw) > max_bytes:
        raise IngestError(
            f"content is over the limit of {max_bytes:,} bytes"
            + (" after decompression" if isinstance(stream, gzip.GzipFile) else ""),
            source=str(path),
        )
    return raw


def _plain_size(stream: io.BufferedIOBase) -> int:
    """The size of a regular, uncompressed file; 0 when unknown."""
    if isinstance(stream, gzip.GzipFile):
        return 0
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def bundle_objects(data: Any, source: str | None) -> list[dict[str, Any]]:
    """The objects of a STIX bundle, or a lone STIX object as a list of one (STIX lets an object
    travel alone, and the OASIS validator accepts one).

    Raises:
        IngestError: ``data`` is neither a STIX bundle nor a STIX object.
    """
    if _is_lone_object(data):
        return [data]
    if not isinstance(data, dict) or data.get("type") != "bundle":
        found = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise IngestError(f"not a STIX bundle (type is {found!r}, expected 'bundle')", source)
    bundle_id = data.get("id")
    if not isinstance(bundle_id, str) or not bundle_id.startswith("bundle--"):
        raise IngestError(f"bundle 'id' must be 'bundle--<uuid>' (got {bundle_id!r})", source)
    objects = data.get("objects", [])
    if not isinstance(objects, list):
        raise IngestError("bundle 'objects' is not a list", source)
    return objects


def _is_lone_object(data: Any) -> bool:
    """A STIX object outside a bundle: its id names its type (``campaign--<uuid>``)."""
    if not isinstance(data, dict) or data.get("type") in (None, "bundle"):
        return False
    stix_id = data.get("id")
    return isinstance(stix_id, str) and stix_id.startswith(f"{data['type']}--")


class Validated(NamedTuple):
    """What validation found in a bundle it did not refuse.

    Attributes:
        patterns: the comparisons of every indicator pattern, by pattern: the reader uses them
            instead of parsing each pattern a second time.
        rejected: object id -> reason, for objects refused one by one (the rest of the bundle
            is read; the reader lists them as rejected).
    """

    patterns: dict[str, list[Comparison]]
    rejected: dict[str, str]


def validate_objects(objects: list[Any], *, source: str | None) -> Validated:
    """Check every object; raise on the first one that refuses the bundle (nothing is written
    before this).

    An object whose ``modified`` is before its ``created`` is refused alone: its timestamps
    contradict each other, but nothing else of the bundle depends on them. References are not
    checked here: one to an id outside the bundle is the reader's to resolve or keep pending.

    Returns:
        The parsed patterns and the objects refused one by one.

    Raises:
        StixIngestError: an object is invalid.
    """
    found = Validated({}, {})
    budget = ParseBudget()  # one bundle's share of the full pattern parser
    for index, obj in enumerate(objects):
        _check_object(obj, index, source, found.patterns, budget)
        created, modified = iso(obj.get("created")), iso(obj.get("modified"))
        if created is not None and modified is not None and modified < created:
            found.rejected[obj["id"]] = f"modified ({modified}) is before created ({created})"
    return found


def _check_object(
    obj: Any,
    index: int,
    source: str | None,
    patterns: dict[str, list[Comparison]],
    budget: ParseBudget,
) -> None:
    if not isinstance(obj, dict):
        raise StixIngestError(
            f"objects[{index}]", f"not a JSON object ({type(obj).__name__})", source
        )
    stix_type, stix_id = obj.get("type"), obj.get("id")
    if not isinstance(stix_type, str) or not stix_type:
        raise StixIngestError(
            stix_id if isinstance(stix_id, str) else f"objects[{index}]",
            "missing required property 'type'",
            source,
        )
    if not isinstance(stix_id, str) or not stix_id:
        raise StixIngestError(
            f"objects[{index}]", f"{stix_type} object missing required property 'id'", source
        )
    prefix, sep, suffix = stix_id.partition("--")
    if not sep or prefix != stix_type or _UUID.match(suffix) is None:
        raise StixIngestError(stix_id, f"id is not '{stix_type}--<uuid>'", source)
    for prop in _required(stix_type, obj.get("spec_version") == "2.1"):
        if obj.get(prop) in (None, ""):
            raise StixIngestError(stix_id, f"missing required property {prop!r}", source)
    for prop in TIMESTAMPS:
        if prop in obj:
            try:
                iso(obj[prop])  # cached: a bundle repeats a few timestamps many times
            except (ValueError, TypeError, OverflowError):
                raise StixIngestError(
                    stix_id, f"{prop} is not a timestamp: {obj[prop]!r}", source
                ) from None
    if stix_type == "indicator" and obj.get("pattern_type", "stix") == "stix":
        try:
            pattern = obj["pattern"]
            # A repeated pattern is parsed (and charged) once; a non-string one is refused.
            if not isinstance(pattern, str) or pattern not in patterns:
                patterns[pattern] = pattern_comparisons(pattern, budget)
        except InvalidIndicator as exc:
            raise StixIngestError(stix_id, exc.reason, source) from exc
    _check_lists(obj, stix_id, source)
    _check_confidence(obj, stix_id, source)
    for prop in _REF_PROPS:
        if prop in obj and not (isinstance(obj[prop], str) and "--" in obj[prop]):
            raise StixIngestError(stix_id, f"{prop} is not a STIX id: {obj[prop]!r}", source)


def _check_lists(obj: dict[str, Any], stix_id: str, source: str | None) -> None:
    """Refuse a property STIX defines as a list that is not one, or that holds an item of the
    wrong kind (``_LIST_PROPS``), naming the property and the item's index."""
    for prop, kind in _LIST_PROPS.items():
        if prop not in obj:
            continue
        items = obj[prop]
        if not isinstance(items, list):
            raise StixIngestError(stix_id, f"{prop} is not a list (got {_shown(items)})", source)
        for index, item in enumerate(items):
            problem = _item_problem(kind, item)
            if problem is not None:
                raise StixIngestError(stix_id, f"{prop}[{index}]{problem}", source)


def _item_problem(kind: str, item: Any) -> str | None:
    """What is wrong with one item of a list of ``kind`` (None: nothing), worded to follow
    ``prop[index]``: `` is not a string (got dict {})``, ``.phase_name is missing``."""
    if kind == _STRINGS:
        return None if isinstance(item, str) else f" is not a string (got {_shown(item)})"
    if kind == _IDS:
        return None if _is_stix_id(item) else f" is not a STIX id (got {_shown(item)})"
    if kind == _MARKINGS:
        if _is_stix_id(item) and item.startswith(_MARKING_PREFIX):
            return None
        return f" is not a marking-definition id (got {_shown(item)})"
    if kind == _GRANULAR:
        problem = _granular_problem(item)
        return None if problem is None else f" {problem}"
    if not isinstance(item, dict):
        return f" is not an object (got {_shown(item)})"
    for prop, required in (_PHASE_PROPS if kind == _PHASES else _EXTERNAL_PROPS).items():
        if prop not in item:
            if required:
                return f".{prop} is missing"
        elif not isinstance(item[prop], str):
            return f".{prop} is not a string (got {_shown(item[prop])})"
    return None


def _is_stix_id(value: Any) -> bool:
    """``<type>--<uuid>``, what STIX 2.1 (2.9) requires of an identifier."""
    return isinstance(value, str) and _STIX_ID.match(value) is not None


def _shown(value: Any) -> str:
    """A found value for an error message: its type and at most 80 characters of it."""
    return f"{type(value).__name__} {value!r:.80}"


def _check_confidence(obj: dict[str, Any], stix_id: str, source: str | None) -> None:
    """Refuse a ``confidence`` that is not an integer 0..100 (STIX 2.1, 3.2): stored as given, a
    "high" or a 1000 would reach every reader that compares or scales it (a hypothesis's score
    is its confidence / 100). A null one is absent, as the reader takes it."""
    value = obj.get("confidence")
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise StixIngestError(
            stix_id, f"confidence must be an integer 0..100 (got {value!r:.80})", source
        )


def _granular_problem(granular: Any) -> str | None:
    """What is wrong with one granular marking (None: nothing): it must select parts of its
    object and give them either a marking definition or a language."""
    if not isinstance(granular, dict):
        return f"is not an object ({type(granular).__name__})"
    selectors = granular.get("selectors")
    if not isinstance(selectors, list) or not selectors:
        return f"selectors must be a non-empty list (got {selectors!r:.80})"
    if not all(isinstance(selector, str) for selector in selectors):
        return f"selectors must be strings (got {selectors!r:.80})"
    if ("marking_ref" in granular) == ("lang" in granular):
        return "must have exactly one of marking_ref and lang"
    if "marking_ref" in granular:
        ref = granular["marking_ref"]
        if not (isinstance(ref, str) and ref.startswith(_MARKING_PREFIX)):
            return f"marking_ref is not a marking-definition id: {ref!r:.80}"
    elif not isinstance(granular["lang"], str):
        return f"lang is not a string: {granular['lang']!r:.80}"
    return None


@functools.cache
def _required(stix_type: str, spec_21: bool) -> tuple[str, ...]:
    """Required properties of a type (computed once per type: this runs for every object)."""
    required: tuple[str, ...] = REQUIRED.get(stix_type, ())
    if stix_type in SDO_SRO:
        required = ("created", "modified", *required)
    if spec_21:
        required = (*required, *REQUIRED_21.get(stix_type, ()))
    return required


# STIX 2.1 ids end in the canonical 8-4-4-4-12 hex form; uuid.UUID also accepts other hyphen
# placements, and costs more.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
# A reference: a type name (lowercase letters, digits, hyphens), "--", a UUID.
_STIX_ID = re.compile(r"[a-z0-9][a-z0-9-]*--" + _UUID.pattern)
