"""IP addresses -> their /24 (IPv6: /48) network, AS organisation and country.

The AS data come from ``geoip2fast``'s ``geoip2fast-asn-ipv6.dat.gz`` (GeoLite2 country and ASN
ranges, IPv4 and IPv6 in one file), loaded once, on first use, under a lock. That file holds the
AS *organisation* and the announced prefix of each range, not the AS number, so an address gets an
AS organisation, never an ``asn:AS<n>`` id. geoip2fast keeps its tables in module globals: a
second ``GeoIP2Fast`` built in the same process with another data file would replace them, so
nothing else in actorgraph builds one.

Addresses that are not globally routable (private, shared/CGNAT ``100.64.0.0/10``, documentation
ranges of RFC 5737 and RFC 3849, loopback, link-local) get their network but no AS organisation
or country: no registry announces them.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from typing import Any

from actorgraph.graph.errors import ValidationError

DATA_FILE = "geoip2fast-asn-ipv6.dat.gz"
# Prefix lengths of the network an address is grouped in: what a hoster usually hands one
# customer (a /24 of IPv4, a /48 site of IPv6).
PREFIX_V4 = 24
PREFIX_V6 = 48

_LOCK = threading.Lock()
_DB: Any = None
_DATA_DATE: str | None = None


@dataclass(frozen=True)
class AddressFacts:
    """What the offline data say about one address.

    Attributes:
        network: the address's /24 (IPv4) or /48 (IPv6) network in CIDR form.
        as_org: the AS organisation announcing it (None: not announced, or not routable).
        as_prefix: the announced prefix the AS organisation was found under.
        country: ISO 3166-1 alpha-2 of the range (None when unknown).
    """

    network: str
    as_org: str | None = None
    as_prefix: str | None = None
    country: str | None = None


@lru_cache(maxsize=1)
def package_version() -> str:
    """``geoip2fast@<version>``: the provenance tag of AS facts."""
    return f"geoip2fast@{version('geoip2fast')}"


def data_date() -> str | None:
    """The date of the loaded GeoLite2 data (``2024-06-18``), from the file's source line."""
    _database()
    return _DATA_DATE


def network_of(address: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) network of a normalised address, in CIDR form.

    Raises:
        ValidationError: not an IP address.
    """
    addr = _parse(address)
    prefix = PREFIX_V4 if addr.version == 4 else PREFIX_V6
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


@lru_cache(maxsize=200_000)
def address_facts(address: str) -> AddressFacts:
    """Network, AS organisation and country of a normalised IPv4 or IPv6 address.

    Raises:
        ValidationError: not an IP address.
    """
    addr = _parse(address)
    network = network_of(address)
    if not addr.is_global:
        return AddressFacts(network=network)
    hit = _database().lookup(str(addr))
    if getattr(hit, "is_private", False):
        return AddressFacts(network=network)
    org = (getattr(hit, "asn_name", "") or "").strip()
    code = (getattr(hit, "country_code", "") or "").strip().upper()
    return AddressFacts(
        network=network,
        as_org=org if org and org != "<unknown>" else None,
        as_prefix=(getattr(hit, "asn_cidr", "") or None) if org else None,
        country=code if re.fullmatch(r"[A-Z]{2}", code) else None,
    )


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(address.strip("[]"))
    except ValueError as exc:
        raise ValidationError(f"not an IP address: {address!r}") from exc


def _database() -> Any:
    """The geoip2fast reader, loaded on first use (about 0.2 s), once per process."""
    global _DB, _DATA_DATE
    if _DB is not None:
        return _DB
    with _LOCK:
        if _DB is None:
            from geoip2fast import GeoIP2Fast

            db = GeoIP2Fast(geoip2fast_data_file=DATA_FILE, verbose=False)
            found = re.search(r"(\d{4})(\d{2})(\d{2})\s*$", str(db.source_info or ""))
            _DATA_DATE = "-".join(found.groups()) if found else None
            _DB = db
    return _DB
