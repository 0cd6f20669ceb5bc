"""The infrastructure split and its control: held-out clusters whose only tie to their actor is
the infrastructure they share with the actor's past campaigns.

``heldout_infra/``: each cluster belongs to an actor with training campaigns and holds no
software, no technique and no indicator value of the training data. Its new domains, IPs, URLs
and certificates copy the actor's habits, as operators do when they stand up fresh servers:
the same hoster (the IP ``belongs-to`` an AS of the actor's past IPs), often the same /24 as a
past server where the actor rents from bulletproof hosters or ISPs, the registrar and name
servers of a past domain (``registered-with``, ``uses-name-server``, including the actor's own
name servers), now and then a new host under a name the actor registered before, and
certificates made the way the actor makes them (``presents-certificate``; a self-signed
certificate with the subject of its reused one). The AS, provider, registrar and name-server
objects are the training ones, by the same STIX ids. About a third of the clusters also sit
partly on shared hubs (a Cloudflare-fronted domain, a popular VPS hoster) that many actors use.

``heldout_infra_control/``: the same clusters (same files, same labels) as bare indicators: no
relationship but ``indicates``, no observable objects, and fresh values that no enrichment can
join back: IPs in /24 networks no training IP uses, domains under names no training domain,
URL or sender uses. Any gain a model shows there is not infrastructure evidence.

Naming is held neutral in both (one vocabulary and TLD list for every actor): domain themes,
URL paths and C2 ports are habits too, but lexical ones, and they would blur what the split
measures. Both splits draw from their own random stream, so writing them leaves the training and
``heldout/`` files unchanged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import pairwise
from random import Random

from actorgraph.world import stix as S
from actorgraph.world import values
from actorgraph.world.emit import CAMPAIGN_ADJECTIVES, CAMPAIGN_NOUNS
from actorgraph.world.footprint import (
    ActorInfra,
    TrainingFootprint,
    is_ipv4,
    network24,
    registrable,
    url_host,
)
from actorgraph.world.infra import (
    CLOUDFLARE_NS,
    COBALT_STRIKE_DEFAULT_SUBJECT,
    LETS_ENCRYPT_ISSUERS,
    OPENSSL_DEFAULT_SUBJECT,
    PROVIDERS_BY_KEY,
    SYNTHETIC_SPACE,
    int_to_ip,
)
from actorgraph.world.plan import (
    TLP_WEIGHTS,
    Actor,
    ClusterPlan,
    DomainRec,
    cluster_dates,
)
from actorgraph.world.scope import BundleScope, WorldContext, iso_day

INFRA_SPLIT = "heldout_infra"
CONTROL_SPLIT = "heldout_infra_control"
MAX_CLUSTERS = 2000
INDICATORS_PER_CLUSTER = 50  # one infrastructure cluster per this many planned indicators
HUB_SHARE = 0.3  # clusters that also sit partly on shared hubs
# New IPs placed in the /24 of one of the actor's past IPs: ranges rented from bulletproof hosters
# and ISPs are reused; cloud and VPS addresses are mostly drawn afresh.
NETBLOCK_SHARE = {"bulletproof": 0.5, "isp": 0.5}
NETBLOCK_SHARE_OTHER = 0.1
SUBDOMAIN_SHARE = 0.15  # new domains that are hosts under a name the actor registered before
CERT_SHARE = 0.45  # clusters with a certificate
WORDS = (
    "cloud",
    "secure",
    "portal",
    "sync",
    "data",
    "app",
    "web",
    "host",
    "node",
    "edge",
    "service",
    "connect",
)
TLDS = ("com", "net", "org", "info", "online", "site", "xyz", "io")
URL_PATHS = ("/{hex8}", "/{word}/{hex8}", "/api/{hex16}", "/{word}.php?id={n}")
PORTS = (443, 443, 80, 8080)
# Control IPs that find no free /24 in the synthetic space use the benchmarking range (RFC 2544).
CONTROL_SPARE_SPACE = ipaddress.IPv4Network("198.18.0.0/15")
_GENERIC_SUBJECTS = frozenset({"CN=localhost", OPENSSL_DEFAULT_SUBJECT})
_CDNS = ("cloudflare", "akamai", "fastly")


@dataclass
class InfraCluster:
    """One cluster of the split: its plan, and what writing it produced.

    Attributes:
        plan: owner, dates, TLP, seed, file (``heldout_infra/activity-NNNN.json``).
        values: (kind, value) of every indicator, in writing order (the control mirrors it).
        shared: what it shares with the actor's training infrastructure (``asn``, ``netblock``,
            ``registrar``, ``name_server``, ``own_name_server``, ``registrable_domain``,
            ``certificate``, ``hub``).
        campaign_name: the campaign's name, the same in the control.
    """

    plan: ClusterPlan
    values: list[tuple[str, str]] = field(default_factory=list)
    shared: set[str] = field(default_factory=set)
    campaign_name: str = ""

    @property
    def name(self) -> str:
        """The bundle's file name inside its split folder."""
        return self.plan.heldout_file.rsplit("/", 1)[1]


def plan_infra_clusters(
    rng: Random,
    actors: list[Actor],
    footprint: TrainingFootprint,
    target: int,
    taken_keys: set[str],
) -> list[InfraCluster]:
    """Owners, dates, TLP and seeds of the split, spread evenly over the actors with training
    infrastructure; about one cluster per 50 planned indicators (60 at ``small``)."""
    owners = [
        a
        for a in actors
        if a.profile.in_training
        and a.index in footprint.actors
        and (footprint.actors[a.index].ips or footprint.actors[a.index].domains)
    ]
    if not owners:
        return []
    n = max(2 * len(owners), min(MAX_CLUSTERS, round(target / INDICATORS_PER_CLUSTER)))
    tlps = list(TLP_WEIGHTS)
    out = []
    for i in range(n):
        actor = owners[i % len(owners)]
        key = f"{rng.getrandbits(40):010x}"
        while key in taken_keys:
            key = f"{rng.getrandbits(40):010x}"
        taken_keys.add(key)
        first, last = cluster_dates(rng, actor.profile.years, late=True)
        plan = ClusterPlan(
            key=key,
            split=INFRA_SPLIT,
            form="campaign",
            actor=actor.index,
            first_seen=first,
            last_seen=last,
            n_indicators=0,
            tlp=rng.choices(tlps, weights=[TLP_WEIGHTS[t] for t in tlps])[0],
            seed=rng.getrandbits(63),
            label="known",
        )
        out.append(InfraCluster(plan))
    rng.shuffle(out)
    for n_file, cluster in enumerate(out, 1):
        cluster.plan.file = f"{INFRA_SPLIT}/activity-{n_file:04d}.json"
    return out


class Taken:
    """Values the two splits have used so far (no value twice, none from training), and the
    popular hosters of the hubs."""

    def __init__(self, footprint: TrainingFootprint) -> None:
        self.fp = footprint
        self.ips: set[str] = set()
        self.domains: set[str] = set()
        self._popular: list[str] | None = None

    def popular_hosters(self) -> list[str]:
        """The three VPS or cloud hosters the most actors used in training (computed once)."""
        if self._popular is None:
            self._popular = self.fp.popular_hosters(("vps", "cloud"), 3)
        return self._popular

    def ip_free(self, ip: str) -> bool:
        return ip not in self.fp.ips and ip not in self.ips

    def domain_free(self, value: str, *, new_name: bool) -> bool:
        if value in self.fp.domains or value in self.domains:
            return False
        return not new_name or registrable(value) not in self.fp.registrable


class _ClusterScope(BundleScope):
    """Campaign, report and indicators shared by the infrastructure cluster and its control."""

    def campaign_and_report(self, name: str) -> None:
        plan = self.plan
        campaign_id = S.sdo_id("campaign", plan.key)
        self.add(
            S.sdo(
                "campaign",
                campaign_id,
                self.created,
                created_by_ref=self.vendor,
                name=name,
                description=(
                    f"SYNTHETIC demo-world activity cluster {plan.key} "
                    f"(actorgraph generate-world, seed {self.ctx.seed})."
                ),
                first_seen=iso_day(plan.first_seen),
                last_seen=iso_day(plan.last_seen),
                confidence=70,
                object_marking_refs=self.marking,
            )
        )
        for iid in self.indicator_ids:
            self.rel("indicates", iid, campaign_id)
        published = min(plan.last_seen + timedelta(days=30), date(2026, 11, 15))
        self.add(
            S.sdo(
                "report",
                S.sdo_id("report", plan.key),
                iso_day(published),
                created_by_ref=self.vendor,
                name=f"Activity report {plan.key[:6].upper()}",
                report_types=["campaign"],
                published=iso_day(published),
                object_refs=[campaign_id, *self.indicator_ids],
                description="SYNTHETIC report of the actorgraph demo world.",
                object_marking_refs=self.marking,
            )
        )

    def indicators(self, found: list[tuple[str, str]], names: dict[str, str]) -> None:
        for kind, value in found:
            self.indicator(_pattern(kind, value), names.get(value, ""), self.plan.first_seen)


def _pattern(kind: str, value: str) -> str:
    lit = S.pattern_literal(value)
    return {
        "domain": f"[domain-name:value = {lit}]",
        "ipv4": f"[ipv4-addr:value = {lit}]",
        "url": f"[url:value = {lit}]",
        "x509": f"[x509-certificate:hashes.'SHA-256' = {lit}]",
    }[kind]


class InfraClusterEmitter(_ClusterScope):
    """Writes one infrastructure cluster: new values on the actor's habits, stated as relations
    to the training data's AS, provider, registrar and name-server objects."""

    def __init__(
        self,
        ctx: WorldContext,
        cluster: InfraCluster,
        sink: Callable[[dict], None],
        footprint: TrainingFootprint,
        taken: Taken,
    ) -> None:
        super().__init__(ctx, cluster.plan, set(), sink)
        self.cluster, self.fp, self.taken = cluster, footprint, taken
        assert self.actor is not None  # plan_infra_clusters gives every cluster an owner
        self.owner: Actor = self.actor
        self.past: ActorInfra = footprint.actors[self.owner.index]
        self.found: list[tuple[str, str]] = []
        self.names: dict[str, str] = {}

    def emit(self) -> InfraCluster:
        rng = self.rng
        self.vendor_identity()
        recs = [self._domain() for _ in range(rng.choice((1, 1, 2, 2, 3)))]
        ips = [self._ip() for _ in range(rng.choice((0, 1, 1, 2)))]
        if rng.random() < HUB_SHARE:
            recs.append(self._hub_domain())
            if rng.random() < 0.5:
                ips.append(self._vps_hub_ip())
        for rec in recs:
            self.domain_chain(rec)
            self._found("domain", rec.value, f"Domain {rec.value}")
            for ip in rec.ips:
                self._found("ipv4", ip, f"IP {ip}")
        for ip in ips:
            self.ip_chain(ip)
            self._found("ipv4", ip, f"IP {ip}")
        hosts = [r.value for r in recs] + [v for k, v in self.found if k == "ipv4"]
        for _ in range(rng.choice((0, 0, 1, 2))):
            self._url(rng.choice(hosts))
        if self.past.certificates and rng.random() < CERT_SHARE:
            self._certificate(recs, hosts)
        self.indicators(self.found, self.names)
        name = (
            f"Operation {rng.choice(CAMPAIGN_ADJECTIVES)} {rng.choice(CAMPAIGN_NOUNS)} "
            f"{self.plan.key[:4].upper()}"
        )
        self.campaign_and_report(name)
        self.cluster.values, self.cluster.campaign_name = self.found, name
        return self.cluster

    def _found(self, kind: str, value: str, name: str) -> None:
        if (kind, value) not in self.found:
            self.found.append((kind, value))
            self.names[value] = name

    # -- values on the actor's habits --------------------------------------------------------
    def _domain(self) -> DomainRec:
        """A new domain that copies a past domain's registrar and name servers."""
        rng, shared = self.rng, self.cluster.shared
        models = self._past_domains()
        if not models:
            return self._hub_domain()
        model = rng.choice(models)
        value = None
        if rng.random() < SUBDOMAIN_SHARE:
            parent = registrable(model.value)
            for _ in range(10):
                host = f"{rng.choice(('mail', 'vpn', 'cdn', 'dl', 'sso', 'files'))}-"
                candidate = f"{host}{rng.randrange(1, 99)}.{parent}"
                if self.taken.domain_free(candidate, new_name=False):
                    value = candidate
                    shared.add("registrable_domain")
                    break
        value = value or self._new_name()
        ns = model.name_servers
        if not all(self._known(S.sdo_id("infrastructure", f"name_server:{h}")) for h in ns):
            ns = ()
        shared.add("registrar")
        if ns and ns[0] in CLOUDFLARE_NS:
            shared.add("hub")
        elif ns:
            own = ns == self.ctx.pools.actor_ns.get(self.owner.index)
            shared.add("own_name_server" if own else "name_server")
        ips = tuple(self._ip() for _ in range(1 if rng.random() < 0.8 else 2))
        return self._record(value, ips, model.registrar, ns)

    def _ip(self) -> str:
        """A new IP at a hoster of the actor's past IPs, often in the /24 of one of them."""
        rng = self.rng
        own = [(ip, k) for ip, k in self.past.ips if PROVIDERS_BY_KEY[k].kind != "cdn"]
        if not own:
            return self._vps_hub_ip()
        ip, key = rng.choice(own)
        self.cluster.shared.add("asn")
        kind = PROVIDERS_BY_KEY[key].kind
        if rng.random() < NETBLOCK_SHARE.get(kind, NETBLOCK_SHARE_OTHER):
            net = network24(ip)
            for _ in range(50):
                candidate = f"{net}.{rng.randrange(1, 255)}"
                if self.taken.ip_free(candidate):
                    self.cluster.shared.add("netblock")
                    return self._take_ip(candidate)
        return self._ip_at(key)

    def _hub_domain(self) -> DomainRec:
        """A new domain behind a CDN with Cloudflare name servers: a hub many actors share."""
        rng = self.rng
        cdns = [k for k in _CDNS if self._known(_asn_id(k))]
        pairs = [
            (a, b)
            for a, b in pairwise(CLOUDFLARE_NS)
            if self._known(S.sdo_id("infrastructure", f"name_server:{a}"))
            and self._known(S.sdo_id("infrastructure", f"name_server:{b}"))
        ]
        registrars = [r.registrar for r in self._past_domains()] or ["namecheap"]
        ns = rng.choice(pairs) if pairs else ()
        ip = self._ip_at(rng.choice(cdns)) if cdns else self._vps_hub_ip()
        self.cluster.shared.add("hub")
        return self._record(self._new_name(), (ip,), rng.choice(registrars), ns)

    def _vps_hub_ip(self) -> str:
        """A new IP at one of the three VPS or cloud hosters the most actors used."""
        popular = self.taken.popular_hosters()
        self.cluster.shared.add("hub")
        return self._ip_at(self.rng.choice(popular or ["digitalocean"]))

    def _certificate(self, recs: list[DomainRec], hosts: list[str]) -> None:
        """A new certificate made the way one of the actor's past ones was, on a new host."""
        rng, year = self.rng, self.plan.first_seen.year
        model = rng.choice(self.past.certificates)
        if model.self_signed or not recs:
            cert = values.certificate(rng, model.subject, None, year, 3650)
            if model.subject not in _GENERIC_SUBJECTS | {COBALT_STRIKE_DEFAULT_SUBJECT}:
                self.cluster.shared.add("certificate")
        else:
            issuer = [i for y, i in LETS_ENCRYPT_ISSUERS if y <= year][-1]
            cert = values.certificate(rng, f"CN={rng.choice(recs).value}", issuer, year, 90)
        cid = self.add(S.x509_sco(cert))
        host = rng.choice(hosts)
        host_id = S.sco_id("domain-name" if not is_ipv4(host) else "ipv4-addr", {"value": host})
        self.rel(S.REL_PRESENTS_CERT, host_id, cid)
        self._found("x509", cert.sha256, f"Certificate {cert.subject}")

    def _url(self, host: str) -> None:
        rng = self.rng
        port = rng.choice(PORTS)
        scheme = "http" if port == 80 else "https"
        suffix = "" if port in (80, 443) else f":{port}"
        url = f"{scheme}://{host}{suffix}{values.url_path(rng, rng.choice(URL_PATHS), WORDS)}"
        if url in self.fp.urls:
            return
        self.add(S.url_sco(url))
        self._found("url", url, f"URL on {host}")

    # -- helpers -----------------------------------------------------------------------------
    def _known(self, oid: str) -> bool:
        return oid in self.fp.reference_ids

    def _past_domains(self) -> list[DomainRec]:
        """Past domains whose registrar training states (a value reused from two pools keeps
        the registrar of the record written first)."""
        return [
            d
            for d in self.past.domains
            if self._known(S.sdo_id("infrastructure", f"registrar:{d.registrar}"))
        ]

    def _record(
        self, value: str, ips: tuple[str, ...], registrar: str, ns: tuple[str, ...]
    ) -> DomainRec:
        self.taken.domains.add(value)
        if not self._known(S.sdo_id("infrastructure", f"registrar:{registrar}")):
            raise AssertionError(f"registrar {registrar!r} of a past domain is not in training")
        return DomainRec(value, ips, registrar, ns, self.plan.first_seen.isoformat())

    def _new_name(self) -> str:
        for _ in range(100):
            value = values.domain_name(self.rng, WORDS, TLDS)
            if self.taken.domain_free(value, new_name=True):
                return value
        raise AssertionError("no free domain name in 100 draws")

    def _ip_at(self, key: str) -> str:
        """A new IP in one of provider ``key``'s blocks (a hub's edge addresses are not reused)."""
        blocks = self.ctx.alloc.blocks[key]
        for _ in range(200):
            offset = self.rng.randrange(1, 4095)
            if offset & 255 in (0, 255):
                continue
            ip = int_to_ip(self.rng.choice(blocks) + offset)
            if self.taken.ip_free(ip):
                return self._take_ip(ip)
        raise AssertionError(f"no free address at {key} in 200 draws")

    def _take_ip(self, ip: str) -> str:
        self.taken.ips.add(ip)
        return ip


def _asn_id(key: str) -> str:
    return S.sco_id("autonomous-system", {"number": PROVIDERS_BY_KEY[key].asn})


class ControlEmitter(_ClusterScope):
    """Writes the control of one cluster: a fresh value of the same kind for each indicator,
    as a bare indicator (no observable, no relationship but ``indicates``)."""

    def __init__(
        self,
        ctx: WorldContext,
        cluster: InfraCluster,
        sink: Callable[[dict], None],
        free_networks: list[str],
        avoid_names: set[str],
        taken: Taken,
    ) -> None:
        control = replace(cluster.plan, key=f"{cluster.plan.key}c", split=CONTROL_SPLIT)
        super().__init__(ctx, control, set(), sink)
        self.cluster, self.free_networks = cluster, free_networks
        self.avoid_names, self.taken = avoid_names, taken

    def emit(self) -> None:
        self.vendor_identity()
        fresh: dict[str, str] = {}
        found: list[tuple[str, str]] = []
        names: dict[str, str] = {}
        for kind, value in self.cluster.values:
            if kind == "domain":
                new = fresh[value] = self._domain()
                names[new] = f"Domain {new}"
            elif kind == "ipv4":
                new = fresh[value] = self._ip()
                names[new] = f"IP {new}"
            elif kind == "url":
                host = url_host(value)
                new = value.replace(f"://{host}", f"://{fresh[host]}", 1)
                names[new] = f"URL on {fresh[host]}"
            else:
                new = f"{self.rng.getrandbits(256):064x}"
                names[new] = "Certificate"
            found.append((kind, new))
        self.indicators(found, names)
        self.campaign_and_report(self.cluster.campaign_name)

    def _domain(self) -> str:
        for _ in range(100):
            value = values.domain_name(self.rng, WORDS, TLDS)
            if (
                self.taken.domain_free(value, new_name=True)
                and registrable(value) not in self.avoid_names
            ):
                self.taken.domains.add(value)
                return value
        raise AssertionError("no free control domain name in 100 draws")

    def _ip(self) -> str:
        for _ in range(100):
            ip = f"{self.rng.choice(self.free_networks)}.{self.rng.randrange(1, 255)}"
            if self.taken.ip_free(ip):
                self.taken.ips.add(ip)
                return ip
        raise AssertionError("no free control address in 100 draws")


def free_networks(used: set[str]) -> list[str]:
    """The /24 networks of the synthetic space no value uses; the spare range when none is."""
    out = [
        network24(str(net.network_address))
        for net in SYNTHETIC_SPACE.subnets(new_prefix=24)
        if network24(str(net.network_address)) not in used
    ]
    return out or [
        network24(str(net.network_address)) for net in CONTROL_SPARE_SPACE.subnets(new_prefix=24)
    ]


def labels(clusters: list[InfraCluster], actors: list[Actor], split: str) -> dict[str, dict]:
    """File -> truth, in the format of ``heldout_labels.json`` plus ``shared_infrastructure``:
    what the infrastructure version of the cluster shares with training (removed in the
    control). The control's labels are the same, under its own folder."""
    out: dict[str, dict] = {}
    for c in sorted(clusters, key=lambda c: c.name):
        actor = actors[c.plan.actor] if c.plan.actor is not None else None
        assert actor is not None
        out[f"{split}/{c.name}"] = {
            "actor_id": actor.group.stix_id,
            "actor_name": actor.profile.name,
            "country": actor.profile.country,
            "label": c.plan.label,
            "true_actor_id": actor.group.stix_id,
            "true_actor_name": actor.profile.name,
            "true_country": actor.profile.country,
            "form": c.plan.form,
            "n_indicators": len(c.values),
            "first_seen": c.plan.first_seen.isoformat(),
            "last_seen": c.plan.last_seen.isoformat(),
            "false_flag_of": None,
            "shared_infrastructure": sorted(c.shared),
        }
    return out
