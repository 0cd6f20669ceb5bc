"""MISP warninglists: which community lists of known benign or shared values hold a value.

The lists (public DNS resolvers, cloud, CDN and scanner ranges, top sites, sinkholes, benign
file hashes: about 120, 2.5 million entries) come from the ``pymispwarninglists`` package. They
are indexed once per process, never scanned per value:

- every CIDR list goes into one sorted array of interval starts per address family, each
  elementary interval labelled with the lists covering it (a sweep over all ranges), so one
  ``bisect`` answers all CIDR lists at once;
- string lists make one exact table, hostname lists (and the domain-substring lists) one suffix
  table, keyed by a 64-bit BLAKE2b hash of the lower-cased entry and sorted: a lookup is one
  ``bisect`` per label of the value's host name;
- the two regex lists run only on the kinds they are meant for.

A list applies to a value only when its ``matching_attributes`` name the MISP type of the value's
kind (an e-mail address is not checked against a list of hashes). Building takes seconds;
:func:`use_cache_dir` (called once by the CLI and the API with their data directory) keeps the
built arrays on disk, one folder per data version, so a later process loads them in milliseconds.
A hash collision could flag a value on no list: with 2.4 million 64-bit keys the chance is
about 1e-13 per lookup.
"""

from __future__ import annotations

import array
import bisect
import contextlib
import hashlib
import ipaddress
import json
import mmap
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from actorgraph.graph.attribution import FlaggedValue
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.package_data import package_data

__all__ = [
    "Match",
    "WarningList",
    "WarningListIndex",
    "data_version",
    "flag_indicators",
    "flagged_values",
    "shared_index",
    "use_cache_dir",
]

SOURCE = "misp-warninglists"
PROPERTY = "warninglists"
SOURCE_PROPERTY = "warninglists_source"  # the data version the flags came from
_FORMAT = 1  # of the cached arrays: a change rebuilds every cache

# Our indicator kinds -> the MISP attribute types a list must match to apply to them.
_MISP_TYPES: dict[str, frozenset[str]] = {
    "ipv4": frozenset({"ip-src", "ip-dst"}),
    "ipv6": frozenset({"ip-src", "ip-dst"}),
    "domain": frozenset({"domain", "hostname"}),
    "url": frozenset({"url", "uri"}),
    "email": frozenset(
        {"email", "email-src", "email-dst", "target-email", "whois-registrant-email"}
    ),
    "md5": frozenset({"md5"}),
    "sha1": frozenset({"sha1"}),
    "sha256": frozenset({"sha256"}),
    "sha512": frozenset({"sha512"}),
    "x509": frozenset(
        {"x509-fingerprint-md5", "x509-fingerprint-sha1", "x509-fingerprint-sha256"}
        | {"md5", "sha1", "sha256"}
    ),
}
# What a list without ``matching_attributes`` applies to, by its type.
_DEFAULT_TYPES = {
    "cidr": {"ip-src", "ip-dst"},
    "hostname": {"domain", "hostname", "url"},
    "string": {"domain", "hostname"},
    "substring": {"domain", "hostname"},
    "regex": set(),
}
_HASH_KINDS = ("md5", "sha1", "sha256", "sha512", "x509")


@dataclass(frozen=True)
class WarningList:
    """One list: ``slug`` is its folder in misp-warninglists (stable), ``name`` what MISP shows."""

    slug: str
    name: str
    type: str
    version: int
    kinds: frozenset[str]


@dataclass(frozen=True)
class Match:
    """A list holding a value. ``whole_value``: the value itself is listed (an address inside a
    listed range, an exact entry), not only a parent domain, a domain substring or a pattern."""

    list: WarningList
    whole_value: bool


def _key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _find(keys: Any, labels: Any, key: int) -> int:
    """The label of ``key`` in a sorted key array, 0 (no list) when absent."""
    i = bisect.bisect_left(keys, key)
    return int(labels[i]) if i < len(keys) and keys[i] == key else 0


def _segment(starts: Any, labels: Any, point: int) -> int:
    i = bisect.bisect_right(starts, point) - 1
    return int(labels[i]) if i >= 0 else 0


class WarningListIndex:
    """All lists of one ``pymispwarninglists`` release, indexed for lookups by value."""

    def __init__(
        self,
        version: str,
        lists: list[WarningList],
        labels: list[tuple[int, ...]],
        arrays: dict[str, Any],
        v6: tuple[list[int], list[int]],
        regexes: dict[int, re.Pattern[str]],
    ) -> None:
        self.version = version
        self.lists = lists
        self._labels = labels  # label id -> the list ids it stands for; 0 is "none"
        self._a = arrays
        self._v6 = v6
        self._regexes = regexes

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Worker processes (leave-one-out folds) get the index by value: memory-mapped arrays
        # travel as plain arrays, which pickle.
        arrays = {
            name: array.array(a.format, a) if isinstance(a, memoryview) else a
            for name, a in self._a.items()
        }
        return (
            WarningListIndex,
            (self.version, self.lists, self._labels, arrays, self._v6, self._regexes),
        )

    # ------------------------------------------------------------------ lookups
    def lookup(self, kind: str, value: str) -> list[Match]:
        """The lists holding ``value`` (a normalised indicator of ``kind``), by list order.

        Kinds: ``ipv4``, ``ipv6``, ``domain``, ``url``, ``email``, the hash kinds and ``x509``;
        others (``asn``) are on no list. Matching is case-insensitive.
        """
        if kind not in _MISP_TYPES or not value:
            return []
        text = value.strip().lower()
        found: dict[int, bool] = {}

        def add(label: int, whole: bool) -> None:
            for lid in self._labels[label]:
                if kind in self.lists[lid].kinds:
                    found[lid] = found.get(lid, False) or whole

        if kind in ("ipv4", "ipv6"):
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                return []
            if ip.version == 4:
                add(_segment(self._a["v4_starts"], self._a["v4_labels"], int(ip)), True)
            else:
                add(_segment(self._v6[0], self._v6[1], int(ip)), True)
        else:
            add(_find(self._a["exact_keys"], self._a["exact_labels"], _key(text)), True)
            host = _host(kind, text)
            if host:
                labels = host.split(".")
                for i in range(len(labels)):
                    suffix = ".".join(labels[i:])
                    whole = kind == "domain" and i == 0
                    add(
                        _find(self._a["suffix_keys"], self._a["suffix_labels"], _key(suffix)), whole
                    )
            for lid, pattern in self._regexes.items():
                if kind in self.lists[lid].kinds and pattern.search(text):
                    found.setdefault(lid, False)
        return [Match(self.lists[lid], found[lid]) for lid in sorted(found)]

    def names(self, kind: str, value: str) -> list[str]:
        """The names of the lists holding ``value``, sorted (the node property's value)."""
        return sorted(m.list.name for m in self.lookup(kind, value))

    # ------------------------------------------------------------------ build and cache
    @classmethod
    def build(cls, lists_dir: Path | None = None, version: str | None = None) -> WarningListIndex:
        """Index every list of the package (or of ``lists_dir``, one ``*/list.json`` each).

        Raises:
            ValidationError: the package is not installed or its data cannot be read.
        """
        lists_dir = lists_dir or package_lists_dir()
        version = version or data_version()
        builder = _Builder()
        for path in sorted(lists_dir.glob("*/list.json")):
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValidationError(f"cannot read the warninglist {str(path)!r}: {exc}") from exc
            builder.add(path.parent.name, raw)
        return builder.index(version)

    def save(self, folder: Path) -> None:
        """Write the index under ``folder`` (replaced as a whole: a temporary folder, renamed)."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".warninglists-", dir=folder.parent))
        meta = {
            "format": _FORMAT,
            "version": self.version,
            "byteorder": sys.byteorder,
            "lists": [{**vars(w), "kinds": sorted(w.kinds)} for w in self.lists],
            "labels": [list(t) for t in self._labels],
            "v6_starts": [format(s, "x") for s in self._v6[0]],
            "v6_labels": self._v6[1],
            "regexes": {str(lid): p.pattern for lid, p in self._regexes.items()},
        }
        for name, arr in self._a.items():
            (tmp / f"{name}.bin").write_bytes(arr.tobytes())
        (tmp / "meta.json").write_text(json.dumps(meta))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @classmethod
    def load(cls, folder: Path, version: str | None = None) -> WarningListIndex | None:
        """The index saved under ``folder``, or ``None`` when absent or of another version."""
        try:
            meta = json.loads((folder / "meta.json").read_text())
            if (meta["format"], meta["version"], meta["byteorder"]) != (
                _FORMAT,
                version or data_version(),
                sys.byteorder,
            ):
                return None
            arrays = {name: _mapped(folder / f"{name}.bin", code) for name, code in _ARRAYS.items()}
            lists = [WarningList(**{**w, "kinds": frozenset(w["kinds"])}) for w in meta["lists"]]
            regexes = {int(k): re.compile(v) for k, v in meta["regexes"].items()}
        except (OSError, ValueError, KeyError, TypeError, re.error):
            return None
        v6 = ([int(s, 16) for s in meta["v6_starts"]], list(meta["v6_labels"]))
        labels = [tuple(t) for t in meta["labels"]]
        return cls(meta["version"], lists, labels, arrays, v6, regexes)


_ARRAYS: dict[str, Literal["I", "Q"]] = {
    "v4_starts": "Q",
    "v4_labels": "I",
    "exact_keys": "Q",
    "exact_labels": "I",
    "suffix_keys": "Q",
    "suffix_labels": "I",
}


def _mapped(path: Path, code: Literal["I", "Q"]) -> memoryview:
    """The array saved at ``path``, mapped read-only (pages are read as lookups touch them)."""
    with path.open("rb") as f:
        if not path.stat().st_size:
            return memoryview(array.array(code))
        return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)).cast(code)


def _host(kind: str, text: str) -> str | None:
    """The host name a value's suffix lookup uses: the domain, a URL's host, a mailbox's domain."""
    if kind == "domain":
        return text.rstrip(".")
    if kind == "url":
        try:
            return urlsplit(text if "://" in text else f"http://{text}").hostname
        except ValueError:
            return None
    if kind == "email":
        return text.rpartition("@")[2] or None
    return None


class _Builder:
    """Collects the entries of every list, then lays them out as sorted arrays."""

    def __init__(self) -> None:
        self.lists: list[WarningList] = []
        self.labels: list[tuple[int, ...]] = [()]
        self._label_ids: dict[tuple[int, ...], int] = {(): 0}
        self.ranges: dict[int, list[tuple[int, int, int]]] = {4: [], 6: []}
        self.exact: dict[int, int] = {}
        self.suffix: dict[int, int] = {}
        self.regexes: dict[int, re.Pattern[str]] = {}

    def label(self, lids: tuple[int, ...]) -> int:
        if lids not in self._label_ids:
            self._label_ids[lids] = len(self.labels)
            self.labels.append(lids)
        return self._label_ids[lids]

    def add(self, slug: str, raw: dict[str, Any]) -> None:
        lid = len(self.lists)
        kind = str(raw.get("type"))
        misp_types = set(raw.get("matching_attributes") or _DEFAULT_TYPES.get(kind) or ())
        kinds = frozenset(k for k, types in _MISP_TYPES.items() if types & misp_types)
        self.lists.append(
            WarningList(slug, str(raw["name"]), kind, int(raw.get("version") or 0), kinds)
        )
        entries = [e for e in raw.get("list") or [] if isinstance(e, str) and e]
        if kind == "cidr":
            self._ranges(lid, entries)
        elif kind == "string":
            self._keys(self.exact, lid, map(str.lower, entries))
        elif kind in ("hostname", "substring"):
            # The substring lists hold domain names and a few addresses: the names are matched
            # as domain suffixes, the part of a host name, URL or mailbox such an entry can be.
            ips = {e for e in entries if _is_ip(e)} if kind == "substring" else set()
            self._ranges(lid, ips)
            hosts = (e.lower().strip(".") for e in entries if e not in ips)
            self._keys(self.suffix, lid, (h for h in hosts if h))
        elif kind == "regex":
            patterns = [p for p in (_regex(e) for e in entries) if p]
            if patterns:
                self.regexes[lid] = re.compile("|".join(f"(?:{p})" for p in patterns))

    def _keys(self, table: dict[int, int], lid: int, entries: Iterable[str]) -> None:
        alone = self.label((lid,))
        blake2b = hashlib.blake2b
        for entry in entries:
            key = int.from_bytes(blake2b(entry.encode(), digest_size=8).digest(), "big")
            old = table.setdefault(key, alone)
            if old != alone and lid not in self.labels[old]:
                table[key] = self.label((*self.labels[old], lid))

    def _ranges(self, lid: int, entries: Iterable[str]) -> None:
        for entry in entries:
            try:
                net = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                continue
            start = int(net.network_address)
            self.ranges[net.version].append((start, start + net.num_addresses, lid))

    def _segments(self, ranges: list[tuple[int, int, int]]) -> tuple[list[int], list[int]]:
        """Elementary intervals: (starts, label of each) from overlapping (start, end, list)."""
        events = sorted(
            [(s, 1, lid) for s, _, lid in ranges] + [(e, -1, lid) for _, e, lid in ranges]
        )
        starts: list[int] = []
        labels: list[int] = []
        active: dict[int, int] = {}
        i = 0
        while i < len(events):
            point = events[i][0]
            while i < len(events) and events[i][0] == point:
                _, delta, lid = events[i]
                active[lid] = active.get(lid, 0) + delta
                if not active[lid]:
                    del active[lid]
                i += 1
            label = self.label(tuple(sorted(active)))
            if not labels or labels[-1] != label:
                starts.append(point)
                labels.append(label)
        return starts, labels

    def index(self, version: str) -> WarningListIndex:
        v4_starts, v4_labels = self._segments(self.ranges[4])
        v6 = self._segments(self.ranges[6])
        arrays: dict[str, Any] = {
            "v4_starts": array.array("Q", v4_starts),
            "v4_labels": array.array("I", v4_labels),
        }
        for name, table in (("exact", self.exact), ("suffix", self.suffix)):
            keys = sorted(table)
            arrays[f"{name}_keys"] = array.array("Q", keys)
            arrays[f"{name}_labels"] = array.array("I", map(table.__getitem__, keys))
        return WarningListIndex(version, self.lists, self.labels, arrays, v6, self.regexes)


_IP_LIKE = re.compile(r"^[0-9.]+(?:/\d+)?$|:")


def _is_ip(text: str) -> bool:
    if not _IP_LIKE.search(text):
        return False
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _regex(entry: str) -> str | None:
    """A MISP ``/pattern/flags`` entry as a Python pattern (``(?i)`` for ``i``), else None."""
    body, flags = entry, ""
    if entry.startswith("/") and entry.rfind("/") > 0:
        body, flags = entry[1 : entry.rfind("/")], entry[entry.rfind("/") + 1 :]
    pattern = f"(?i:{body})" if "i" in flags else body
    try:
        re.compile(pattern)
    except re.error:
        return None
    return pattern


# ---------------------------------------------------------------------- the process's index
def package_lists_dir() -> Path:
    """The ``lists`` folder the ``pymispwarninglists`` package ships (found, not imported).

    Raises:
        ValidationError: the package is not installed.
    """
    lists = package_data("pymispwarninglists", "data", "misp-warninglists", "lists")
    if lists is None:
        raise ValidationError("the pymispwarninglists package is not installed")
    return lists


def data_version() -> str:
    """``misp-warninglists@<package version>``: the provenance of every warninglist flag."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{SOURCE}@{version('pymispwarninglists')}"
    except PackageNotFoundError as exc:
        raise ValidationError("the pymispwarninglists package is not installed") from exc


_LOCK = threading.Lock()
_SHARED: WarningListIndex | None = None
_CACHE_DIR: Path | None = None


def use_cache_dir(folder: Path | None) -> None:
    """Keep this process's index under ``folder`` (a sub-folder per data version): loaded from
    there when present, written there once built. ``None``: build in memory (the default)."""
    global _CACHE_DIR
    with _LOCK:
        _CACHE_DIR = folder


def shared_index() -> WarningListIndex:
    """The process's index: loaded or built on first use (thread-safe), then kept."""
    global _SHARED
    if _SHARED is not None:
        return _SHARED
    with _LOCK:
        if _SHARED is None:
            version = data_version()
            folder = _CACHE_DIR / version.replace("@", "-") if _CACHE_DIR else None
            index = WarningListIndex.load(folder, version) if folder else None
            if index is None:
                index = WarningListIndex.build(version=version)
                if folder is not None:
                    # A read-only data directory: the next process builds again.
                    with contextlib.suppress(OSError):
                        index.save(folder)
            _SHARED = index
        return _SHARED


def flag_indicators(
    rows: Mapping[str, dict[str, Any]], index: WarningListIndex | None = None
) -> int:
    """Set ``warninglists`` (the names of the lists holding the value) and
    ``warninglists_source`` (``misp-warninglists@<version>``) on the indicator rows (node id ->
    properties, changed in place) whose value is on a list; returns how many. Rows without
    ``kind`` and ``value`` (a sighting tally for a stored node) are left alone."""
    if not rows:
        return 0
    index = index or shared_index()
    flagged = 0
    for props in rows.values():
        kind, value = props.get("kind"), props.get("value")
        if kind and value and (names := index.names(str(kind), str(value))):
            props[PROPERTY] = names
            props[SOURCE_PROPERTY] = index.version
            flagged += 1
    return flagged


def flagged_values(
    indicator_ids: Iterable[str], index: WarningListIndex | None = None
) -> tuple[FlaggedValue, ...]:
    """The indicators (``<kind>:<value>`` ids, as an activity holds them) that are on a
    warninglist, each with the lists' names, in the order given."""
    ids = list(indicator_ids)
    if not ids:
        return ()
    index = index or shared_index()
    out = []
    for node_id in ids:
        kind, _, value = node_id.partition(":")
        if value and (names := index.names(kind, value)):
            out.append(FlaggedValue(value=node_id, warninglists=tuple(names)))
    return tuple(out)
