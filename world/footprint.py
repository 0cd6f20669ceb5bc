"""What the training bundles show: every indicator value, network and registered name they hold,
the infrastructure objects they state, and each actor's past infrastructure.

The infrastructure split (``infra_split``) is built from this record, so its clusters can share
an actor's habits with training data while holding no value that training data holds. Recording
only watches objects on their way to the bundle writer: it draws no random number, so the
training files come out the same whether or not anybody records them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from actorgraph.world import values
from actorgraph.world.infra import PROVIDERS_BY_KEY
from actorgraph.world.plan import ClusterPlan, DomainRec, IpAllocator

# Infrastructure objects a held-out bundle may point at: shared reference objects with stable ids.
# C2 servers and sinkholes are left out: they are per cluster or say "seized", not "hosted here".
_REFERENCE_KINDS = frozenset(
    {"hosting_provider", "cdn", "bulletproof_hoster", "registrar", "name_server"}
)


def registrable(host: str) -> str:
    """The registered name of a host of the world: its last two labels.

    Every TLD the world uses is a one-label public suffix, so this is what the Public Suffix
    List gives (the tests check it with ``publicsuffixlist``).
    """
    return ".".join(host.lower().rstrip(".").split(".")[-2:])


def network24(ip: str) -> str:
    """The /24 network of an IPv4 address, as its first three octets (``100.64.3``)."""
    return ip.rsplit(".", 1)[0]


def url_host(url: str) -> str:
    """The host of a URL of the world (``scheme://host[:port]/path``)."""
    return url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]


def is_ipv4(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)


@dataclass
class ActorInfra:
    """One actor's infrastructure in its labelled training campaigns.

    Attributes:
        ips: (address, provider key) of every IP its campaigns used, repeats kept (they weigh).
        domains: every domain record its campaigns used, repeats kept.
        certificates: every certificate its campaigns presented, repeats kept.
    """

    ips: list[tuple[str, str]] = field(default_factory=list)
    domains: list[DomainRec] = field(default_factory=list)
    certificates: list[values.Certificate] = field(default_factory=list)


@dataclass
class TrainingFootprint:
    """Everything the training bundles hold that a held-out split must either avoid or share.

    Attributes:
        ips, domains: every IPv4 address and domain name in training (observables).
        hashes: every file and certificate hash in training.
        urls, emails: every URL and sender address in training.
        registrable: every registered name of a training domain, URL host or sender domain.
        reference_ids: ids of the ASNs, hosting providers, registrars and name servers that
            training bundles state.
        actors: actor index -> its past infrastructure.
    """

    ips: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    registrable: set[str] = field(default_factory=set)
    reference_ids: set[str] = field(default_factory=set)
    actors: dict[int, ActorInfra] = field(default_factory=dict)

    def recorder(self, sink: Callable[[dict], None]) -> Callable[[dict], None]:
        """A sink that records each object, then hands it to ``sink``."""

        def record_and_write(obj: dict) -> None:
            self.record(obj)
            sink(obj)

        return record_and_write

    def record(self, obj: dict) -> None:
        """Note the values and reference objects of one training object."""
        kind = obj["type"]
        if kind == "ipv4-addr":
            self.ips.add(obj["value"])
        elif kind == "domain-name":
            self.domains.add(obj["value"])
            self.registrable.add(registrable(obj["value"]))
        elif kind == "url":
            self.urls.add(obj["value"])
            host = url_host(obj["value"])
            if is_ipv4(host):
                self.ips.add(host)
            else:
                self.registrable.add(registrable(host))
        elif kind == "email-addr":
            self.emails.add(obj["value"])
            self.registrable.add(registrable(obj["value"].rsplit("@", 1)[1]))
        elif kind in ("file", "x509-certificate"):
            self.hashes.update(obj.get("hashes", {}).values())
        elif kind == "autonomous-system" or (
            kind == "infrastructure" and obj.get("x_actorgraph_kind") in _REFERENCE_KINDS
        ):
            self.reference_ids.add(obj["id"])

    def add_cluster(
        self,
        plan: ClusterPlan,
        alloc: IpAllocator,
        domains: list[DomainRec],
        ips: list[str],
        certificates: list[values.Certificate],
    ) -> None:
        """Add what one labelled training campaign used to its actor's past infrastructure."""
        if plan.actor is None:
            return
        past = self.actors.setdefault(plan.actor, ActorInfra())
        past.domains.extend(domains)
        for ip in ips:
            key = alloc.provider_of(ip)
            if key is not None and key in PROVIDERS_BY_KEY:
                past.ips.append((ip, key))
        past.certificates.extend(certificates)

    def networks(self) -> set[str]:
        """The /24 networks of every training IP."""
        return {network24(ip) for ip in self.ips}

    def popular_hosters(self, kinds: tuple[str, ...], n: int) -> list[str]:
        """The ``n`` providers of ``kinds`` that the most actors' training campaigns used."""
        users: Counter[str] = Counter()
        for past in self.actors.values():
            users.update({key for _, key in past.ips})
        ranked = sorted(users.items(), key=lambda kv: (-kv[1], kv[0]))
        return [k for k, _ in ranked if PROVIDERS_BY_KEY[k].kind in kinds][:n]
