"""Indicator values -> enrichment facts: the one code path of ingest and attribution.

Every fact says that an indicator ``BELONGS_TO`` an ``Infrastructure`` node that offline data
place it in:

    ipv4 / ipv6          -> network (its /24 or /48)      network:203.0.113.0/24
                         -> as_org (GeoLite2 AS organisation)  as_org:google
    domain, url host,    -> registrable_domain            registrable_domain:example.co.uk
    e-mail domain
    url with an IP host  -> the IP's facts

Ingest writes the facts of the indicators it stores (``graph.ingest``); attribution computes the
same ids for a value the graph has never seen and joins it to what the model knows
(``gnn.activity.link``). Each fact names its provenance, ``enrichment:<package>@<version>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

from actorgraph.graph.enrich import domains, networks
from actorgraph.graph.errors import ValidationError

# Indicator kinds that have facts.
KINDS = ("ipv4", "ipv6", "domain", "url", "email")
# The relationship of every fact: an indicator belongs to a network, an AS organisation, a
# registrable domain.
REL = "BELONGS_TO"
PREFIX = "enrichment:"


@dataclass(frozen=True)
class Fact:
    """One enrichment fact: ``(indicator)-[:BELONGS_TO]->(:Infrastructure {id: node_id})``.

    Attributes:
        node_id: the Infrastructure node's id (``network:8.8.8.0/24``).
        kind: its ``kind`` (``network``, ``as_org``, ``registrable_domain``).
        name: its display name (the network, the organisation, the domain).
        source: provenance, ``enrichment:<package>@<version>``.
        node_props: further properties of the node.
        edge_props: properties of the indicator's edge to it (the country of an address).
    """

    node_id: str
    kind: str
    name: str
    source: str
    node_props: dict[str, Any] = field(default_factory=dict)
    edge_props: dict[str, Any] = field(default_factory=dict)

    @property
    def how(self) -> str:
        """The fact in words, after the value it is about: ``in AS organisation GOOGLE``."""
        return f"{_WORDS[self.kind]} {self.name}"


_WORDS = {
    "network": "in network",
    "as_org": "in AS organisation",
    "registrable_domain": "under registrable domain",
}


def facts(indicator_id: str) -> tuple[Fact, ...]:
    """The enrichment facts of one indicator id (``kind:value``, normalised as
    ``graph.formats.indicators.normalize_indicator`` does); ``()`` for kinds without facts.

    Results are cached: ingest and attribution ask for the same values again and again.
    """
    kind, _, value = indicator_id.partition(":")
    if kind not in KINDS or not value:
        return ()
    return _facts(kind, value)


@lru_cache(maxsize=200_000)
def _facts(kind: str, value: str) -> tuple[Fact, ...]:
    try:
        if kind in ("ipv4", "ipv6"):
            return _address(value)
        if kind == "domain":
            return _domain(value)
        if kind == "email":
            return _domain(value.rpartition("@")[2])
        host = urlsplit(value).hostname or ""
    except ValidationError:
        return ()
    if not host:
        return ()
    if host.replace(".", "").isdigit() or ":" in host:
        try:
            return _address(host)
        except ValidationError:
            return ()
    return _domain(host)


def _address(value: str) -> tuple[Fact, ...]:
    found = networks.address_facts(value)
    own = f"{PREFIX}actorgraph@{_own_version()}"
    net_props = {"value": found.network, "prefix_len": int(found.network.rpartition("/")[2])}
    out = [
        Fact(
            node_id=f"network:{found.network}",
            kind="network",
            name=found.network,
            source=own,
            node_props=net_props,
            edge_props={"country": found.country} if found.country else {},
        )
    ]
    if found.as_org:
        out.append(
            Fact(
                node_id=f"as_org:{found.as_org.lower()}",
                kind="as_org",
                name=found.as_org,
                source=PREFIX + networks.package_version(),
                node_props={"value": found.as_org, "data_date": networks.data_date()},
                edge_props={"prefix": found.as_prefix} if found.as_prefix else {},
            )
        )
    return tuple(out)


def _domain(name: str) -> tuple[Fact, ...]:
    found = domains.registrable_domain(name)
    if found is None:
        return ()
    registrable, suffix = found
    return (
        Fact(
            node_id=f"registrable_domain:{registrable}",
            kind="registrable_domain",
            name=registrable,
            source=PREFIX + domains.package_version(),
            node_props={"value": registrable, "public_suffix": suffix},
        ),
    )


@lru_cache(maxsize=1)
def _own_version() -> str:
    try:
        return version("actorgraph")
    except PackageNotFoundError:  # a source tree run without installing
        return "0"
