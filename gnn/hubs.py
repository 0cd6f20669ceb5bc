"""Well-known shared infrastructure and commodity tooling: the hubs attribution damps.

A match on a CDN address, a public resolver, a sinkhole, Cobalt Strike or a technique nearly
every intrusion shows says little about who is behind an activity. MISP and OpenCTI users fight
exactly these false correlations. Two sources say what is shared: MISP's warninglists
(``graph/enrich/warninglists.py``: resolvers, CDN and scanner ranges, top sites, benign hashes),
for indicator values; and the local YAML (``data/shared_infrastructure.yml``) for what the
warninglists lack: hosting ASNs and providers, sinkhole operators, commodity tools, ubiquitous
techniques. ``HubList.weight(props)`` returns the multiplier the model applies to such an
entity's rarity weight: small, never zero, so a hub can support but never make an attribution on
its own. A warninglisted entity's reason is the name of the list.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actorgraph.graph.enrich.warninglists import WarningListIndex, shared_index
from actorgraph.graph.errors import ModelError

DEFAULT_PATH = Path(__file__).parent / "data" / "shared_infrastructure.yml"

# How much of its rarity weight a listed entity keeps. Infrastructure and commodity tools are
# damped hard; common techniques less, because IDF already damps them.
HUB_WEIGHT = 0.05
TECHNIQUE_HUB_WEIGHT = 0.3

# Warninglists whose match says where a value lives, not that others share it: an actor's own
# server in a cloud or VPS range, an address in reserved space (documentation, private and
# carrier-grade NAT ranges: the synthetic demo world draws all its addresses from them). Their
# flags stay on the node; they do not damp. So do matches on a parent domain only (a host under
# a dynamic-DNS or top-site domain belongs to whoever registered it) and pattern matches.
LOCATION_ONLY_LISTS = frozenset(
    {
        "amazon-aws",
        "google-gcp",
        "microsoft-azure",
        "microsoft-azure-china",
        "microsoft-azure-germany",
        "microsoft-azure-us-gov",
        "ovh-cluster",
        "vpn-ipv4",
        "vpn-ipv6",
        "rfc1918",
        "rfc3849",
        "rfc5735",
        "rfc6598",
        "multicast",
        "ipv6-linklocal",
    }
)


@dataclass
class HubList:
    """The parsed warning list."""

    asns: dict[int, str] = field(default_factory=dict)
    providers: list[str] = field(default_factory=list)
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(default_factory=list)
    sinkhole_domains: list[str] = field(default_factory=list)
    sinkhole_names: list[str] = field(default_factory=list)
    software: set[str] = field(default_factory=set)
    techniques: set[str] = field(default_factory=set)
    # Carried by the list itself (not looked up per process) so that worker processes get it.
    warninglists: WarningListIndex | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path | None = None, *, warninglists: bool = True) -> HubList:
        """Read the YAML list (the packaged one by default), with the process's warninglists.

        Raises:
            ModelError: the file is missing or malformed (the message names it).
        """
        hubs = cls._read(path or DEFAULT_PATH)
        if warninglists:
            hubs.warninglists = shared_index()
        return hubs

    @classmethod
    def _read(cls, path: Path) -> HubList:
        try:
            raw = yaml.safe_load(path.read_text()) or {}
            return cls(
                asns={int(k): str(v) for k, v in (raw.get("asns") or {}).items()},
                providers=[str(p).lower() for p in raw.get("hosting_providers") or []],
                networks=[
                    ipaddress.ip_network(str(n), strict=False) for n in raw.get("ip_ranges") or []
                ],
                sinkhole_domains=[str(d).lower() for d in raw.get("sinkhole_domains") or []],
                sinkhole_names=[str(d).lower() for d in raw.get("sinkhole_names") or []],
                software={str(s).lower() for s in raw.get("software") or []},
                techniques={str(t).upper() for t in raw.get("techniques") or []},
            )
        except (OSError, yaml.YAMLError, ValueError, AttributeError) as exc:
            raise ModelError(
                f"cannot read the shared-infrastructure list {str(path)!r}: {exc}"
            ) from exc

    def reason(self, node_id: str, props: dict[str, Any]) -> str | None:
        """Why an entity is a known hub (a short phrase), or ``None`` when it is not listed."""
        ntype = props.get("type")
        kind = (props.get("kind") or "").lower()
        value = str(props.get("value") or "").lower()
        name = str(props.get("name") or "").lower()
        if ntype in ("malware", "tool"):
            names = {name, *(str(a).lower() for a in props.get("aliases") or [])}
            external_id = str(props.get("external_id") or "").lower()
            if names & self.software or external_id in self.software:
                return "commodity tool"
        elif ntype == "technique":
            xid = str(props.get("external_id") or "").upper()
            if xid in self.techniques or xid.split(".")[0] in self.techniques:
                return "technique nearly everyone uses"
        elif ntype == "indicator":
            if listed := self._warninglisted(kind, value):
                return listed
            if kind in ("ipv4", "ipv6"):
                try:
                    ip = ipaddress.ip_address(value)
                except ValueError:
                    return None
                if any(ip.version == n.version and ip in n for n in self.networks):
                    return "shared CDN / public resolver / sinkhole address"
            elif kind == "domain" and self._sinkhole_domain(value):
                return "sinkhole"
            elif kind == "asn" and (number := _asn(value)) is not None and number in self.asns:
                return f"shared hosting ASN ({self.asns[number]})"
        elif ntype == "infrastructure":
            asn = props.get("asn") or _asn(value) or _asn(node_id.removeprefix("asn:"))
            if kind == "asn" and asn in self.asns:
                return f"shared hosting ASN ({self.asns[asn]})"
            text = f"{name} {value} {node_id.lower()}"
            if kind in ("sinkhole",) or any(s in text for s in self.sinkhole_names):
                return "sinkhole"
            if kind == "name_server" and self._sinkhole_domain(value or node_id.split(":", 1)[-1]):
                return "sinkhole"
            if kind in ("hosting_provider", "cdn", "asn") and any(
                p in text for p in self.providers
            ):
                return "shared hosting provider"
        return None

    def weight(self, node_id: str, props: dict[str, Any]) -> float:
        """Multiplier on an entity's rarity weight: 1.0, or small for a listed hub."""
        if self.reason(node_id, props) is None:
            return 1.0
        return TECHNIQUE_HUB_WEIGHT if props.get("type") == "technique" else HUB_WEIGHT

    def _warninglisted(self, kind: str, value: str) -> str | None:
        """The names of the warninglists that say ``value`` itself is shared, or None."""
        if self.warninglists is None:
            return None
        names = sorted(
            m.list.name
            for m in self.warninglists.lookup(kind, value)
            if m.whole_value and m.list.slug not in LOCATION_ONLY_LISTS
        )
        return "; ".join(names) or None

    def _sinkhole_domain(self, domain: str) -> bool:
        domain = domain.lower().rstrip(".")
        return any(domain == d or domain.endswith("." + d) for d in self.sinkhole_domains)


def _asn(text: str) -> int | None:
    text = str(text or "").strip().lower().removeprefix("as")
    return int(text) if text.isdigit() else None
