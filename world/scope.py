"""Writing one cluster's objects into a bundle: ids seen once, shared objects, infrastructure.

``BundleScope`` holds what every cluster needs while its objects are written: the bundle's set
of ids already written (shared providers, registrars, sectors and markings go out once per
bundle), the reporting vendor and TLP of the cluster, and the chains that put an observable in
its infrastructure (an IP belongs to an AS that a hosting provider operates; a domain resolves
to IPs, was registered with a registrar and uses name servers). ``emit.ClusterEmitter`` builds
the cluster itself on top of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from random import Random

from actorgraph.graph.formats.countries import country_name
from actorgraph.world import stix as S
from actorgraph.world import values
from actorgraph.world.infra import PROVIDERS_BY_KEY, REGISTRARS, SINKHOLES
from actorgraph.world.plan import Actor, ClusterPlan, DomainRec, IpAllocator, Pools

WORLD_CREATED = "2018-01-01T00:00:00.000Z"
VENDORS = (
    "Synthetic Intel Vendor A",
    "Synthetic Intel Vendor B",
    "Synthetic CERT C",
    "Synthetic ISAC D",
)
_SECTOR_NAMES = {
    "government-national": "Government (national)",
    "government-regional": "Government (regional)",
    "government-local": "Government (local)",
    "hospitality-leisure": "Hospitality and leisure",
    "financial-services": "Financial services",
    "non-profit": "Non-profit",
}
_KIND_TAG = {
    "cdn": "cdn",
    "bulletproof": "bulletproof_hoster",
    "cloud": "hosting_provider",
    "vps": "hosting_provider",
    "isp": "hosting_provider",
}


def iso_day(d: date) -> str:
    """``date(2021, 3, 4)`` -> ``2021-03-04T00:00:00.000Z``."""
    return f"{d.isoformat()}T00:00:00.000Z"


class WorldContext:
    """What every cluster needs: actors, pools, ATT&CK look-ups, the domain registry."""

    def __init__(
        self,
        seed: int,
        actors: list[Actor],
        pools: Pools,
        alloc: IpAllocator,
        common_techniques: list,
        noise_techniques: list,
        noise_software: list,
        commodity: list,
    ) -> None:
        self.seed = seed
        self.actors = actors
        self.pools = pools
        self.alloc = alloc
        self.common_techniques = common_techniques
        self.noise_techniques = noise_techniques
        self.noise_software = noise_software
        self.commodity = commodity
        self.domains: dict[str, DomainRec] = {}
        self.reset()

    def reset(self) -> None:
        """Forget fresh domains (called before every write, so two writes are identical)."""
        self.domains = {}
        for recs in list(self.pools.actor_domains.values()) + list(self.pools.eco_domains.values()):
            for rec in recs:
                self.domains.setdefault(rec.value, rec)
        for lists in self.pools.recycled_domains.values():
            for rec, _, _ in lists:
                self.domains.setdefault(rec.value, rec)


class BundleScope:
    """The plumbing of one cluster's objects: dedupe by id, shared reference objects, and the
    infrastructure chains behind observables (IP -> ASN -> hoster; domain -> registrar, NS)."""

    def __init__(
        self, ctx: WorldContext, plan: ClusterPlan, seen: set[str], sink: Callable[[dict], None]
    ) -> None:
        self.ctx, self.plan, self.seen, self._sink = ctx, plan, seen, sink
        self.rng = Random(plan.seed)
        self.actor = ctx.actors[plan.actor] if plan.actor is not None else None
        self.created = iso_day(plan.last_seen)
        self.marking = [S.TLP_IDS[plan.tlp]]
        self.vendor = S.sdo_id("identity", f"vendor:{VENDORS[plan.seed % len(VENDORS)]}")
        self.indicator_ids: list[str] = []
        self.domains: list[DomainRec] = []
        self.ips: list[str] = []
        self.certificates: list[values.Certificate] = []
        self.n_objects = 0

    # -- plumbing ---------------------------------------------------------------------------
    def add(self, obj: dict) -> str:
        oid = obj["id"]
        if oid not in self.seen:
            self.seen.add(oid)
            self._sink(obj)
            self.n_objects += 1
        return oid

    def rel(
        self, rel_type: str, source: str, target: str, *, shared: bool = False, **props
    ) -> None:
        created = WORLD_CREATED if shared else self.created
        scope = "" if shared else self.plan.key
        obj = S.relationship(rel_type, source, target, created, scope=scope, **props)
        if not shared:
            obj["object_marking_refs"] = self.marking
            obj["created_by_ref"] = self.vendor
        self.add(obj)

    def indicator(
        self, pattern: str, name: str, valid_from: date, types: str = "malicious-activity"
    ) -> str:
        oid = S.sdo_id("indicator", f"{self.plan.key}|{pattern}")
        obj = S.sdo(
            "indicator",
            oid,
            self.created,
            created_by_ref=self.vendor,
            name=name,
            indicator_types=[types],
            pattern=pattern,
            pattern_type="stix",
            pattern_version="2.1",
            valid_from=iso_day(valid_from),
            confidence=self.rng.choice((50, 60, 70, 80, 90)),
            object_marking_refs=self.marking,
        )
        if oid not in self.seen:
            self.indicator_ids.append(oid)
        self.add(obj)
        return oid

    # -- shared reference objects ------------------------------------------------------------
    def provider(self, key: str) -> str:
        p = PROVIDERS_BY_KEY[key]
        oid = S.sdo_id("infrastructure", f"provider:{key}")
        if oid not in self.seen:
            self.add(
                S.sdo(
                    "infrastructure",
                    oid,
                    WORLD_CREATED,
                    name=p.name,
                    infrastructure_types=["hosting-provider", p.kind],
                    x_actorgraph_kind=_KIND_TAG[p.kind],
                    description=(
                        f"{p.name} ({p.kind}); SYNTHETIC demo-world view of its address space"
                    ),
                    object_marking_refs=[S.TLP_IDS["clear"]],
                )
            )
        return oid

    def asn(self, key: str) -> str:
        p = PROVIDERS_BY_KEY[key]
        oid = S.sco_id("autonomous-system", {"number": p.asn})
        if oid not in self.seen:
            self.add(S.asn_sco(p.asn, p.name))
            self.rel(S.REL_HOSTED_ON, oid, self.provider(key), shared=True)
        return oid

    def registrar(self, key: str) -> str:
        oid = S.sdo_id("infrastructure", f"registrar:{key}")
        if oid not in self.seen:
            self.add(
                S.sdo(
                    "infrastructure",
                    oid,
                    WORLD_CREATED,
                    name=REGISTRARS[key][0],
                    infrastructure_types=["registrar"],
                    x_actorgraph_kind="registrar",
                    object_marking_refs=[S.TLP_IDS["clear"]],
                )
            )
        return oid

    def name_server(self, host: str) -> str:
        oid = S.sdo_id("infrastructure", f"name_server:{host}")
        if oid not in self.seen:
            self.add(
                S.sdo(
                    "infrastructure",
                    oid,
                    WORLD_CREATED,
                    name=host,
                    infrastructure_types=["name-server"],
                    x_actorgraph_kind="name_server",
                    object_marking_refs=[S.TLP_IDS["clear"]],
                )
            )
        return oid

    def sector(self, slug: str) -> str:
        oid = S.sdo_id("identity", f"sector:{slug}")
        if oid not in self.seen:
            name = _SECTOR_NAMES.get(slug, slug.replace("-", " ").capitalize())
            self.add(
                S.sdo(
                    "identity",
                    oid,
                    WORLD_CREATED,
                    name=name,
                    identity_class="class",
                    sectors=[slug],
                )
            )
        return oid

    def country(self, code: str) -> str:
        oid = S.sdo_id("location", f"country:{code}")
        if oid not in self.seen:
            self.add(S.sdo("location", oid, WORLD_CREATED, name=country_name(code), country=code))
        return oid

    def vendor_identity(self) -> None:
        if self.vendor not in self.seen:
            name = VENDORS[self.plan.seed % len(VENDORS)]
            self.add(
                S.sdo(
                    "identity",
                    self.vendor,
                    WORLD_CREATED,
                    name=name,
                    identity_class="organization",
                    description=(
                        "Fictional reporting organisation of the SYNTHETIC actorgraph demo world"
                    ),
                )
            )
        if S.TLP_IDS[self.plan.tlp] not in self.seen:
            self.add(S.tlp_marking(self.plan.tlp))
        if S.TLP_IDS["clear"] not in self.seen:
            self.add(S.tlp_marking("clear"))

    # -- observables with their infrastructure -----------------------------------------------
    def ip_chain(self, ip: str) -> str:
        oid = S.sco_id("ipv4-addr", {"value": ip})
        if oid not in self.seen:
            self.add(S.ipv4_sco(ip))
            key = self.ctx.alloc.provider_of(ip)
            if key is not None:
                self.rel(S.REL_BELONGS_TO, oid, self.asn(key), shared=True)
        return oid

    def domain_chain(self, rec: DomainRec) -> str:
        oid = S.sco_id("domain-name", {"value": rec.value})
        if oid in self.seen:
            return oid
        ip_ids = [self.ip_chain(ip) for ip in rec.ips]
        self.add(S.domain_sco(rec.value, ip_ids))
        since = f"{rec.since}T00:00:00.000Z"
        for ip_id in ip_ids:
            self.rel(S.REL_RESOLVES_TO, oid, ip_id, start_time=since)
        self.rel(S.REL_REGISTERED_WITH, oid, self.registrar(rec.registrar), shared=True)
        for ns in rec.name_servers:
            self.rel(S.REL_USES_NAMESERVER, oid, self.name_server(ns), shared=True)
        return oid

    def sinkhole(self, domain_id: str) -> None:
        key, name, ips = SINKHOLES[self.rng.randrange(len(SINKHOLES))]
        ip = self.rng.choice(ips)
        sid = S.sdo_id("infrastructure", f"sinkhole:{key}")
        if sid not in self.seen:
            self.add(
                S.sdo(
                    "infrastructure",
                    sid,
                    WORLD_CREATED,
                    name=name,
                    infrastructure_types=["sinkhole"],
                    x_actorgraph_kind="sinkhole",
                    object_marking_refs=[S.TLP_IDS["clear"]],
                )
            )
        ip_id = S.sco_id("ipv4-addr", {"value": ip})
        if ip_id not in self.seen:
            self.add(S.ipv4_sco(ip))
            self.rel(S.REL_CONSISTS_OF, sid, ip_id, shared=True)
        when = min(
            self.plan.last_seen + timedelta(days=self.rng.randrange(30, 400)), date(2026, 11, 1)
        )
        self.rel(
            S.REL_RESOLVES_TO,
            domain_id,
            ip_id,
            start_time=iso_day(when),
            description="sinkholed after takedown",
        )
