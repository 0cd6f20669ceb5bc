"""The infrastructure split's Bayes ceiling: the top-1 an attribution reaches on ``heldout_infra``
when it scores each cluster with the exact likelihood of the process that generated it.

For every seed the demo world is generated in process and written to a scratch folder, as
``actorgraph evaluate --ablation`` writes its test world. Every cluster of ``heldout_infra/``
(the clusters the ablation's ``infrastructure`` split scores: all of them belong to actors with
labelled training campaigns) is read back from its bundle and scored under each *owner*, the
actors ``plan_infra_clusters`` spreads the split over (uniform prior), with the log-likelihood of
``InfraClusterEmitter``'s process given that actor's past infrastructure:

- a regular domain (no CDN address): a past domain chosen uniformly (repeats weigh), its registrar
  and name servers copied together; ``SUBDOMAIN_SHARE`` of them a host under that past domain's
  registered name (one of 588 host labels), the others a new name (whose probability is the same
  for every actor); then 1 (0.8) or 2 (0.2) addresses drawn as below;
- an address: a past non-CDN address chosen uniformly, then with probability ``NETBLOCK_SHARE``
  (bulletproof, ISP; ``NETBLOCK_SHARE_OTHER`` for the rest) a free host of its /24, else one of the
  4,064 host offsets of any /20 block of its hoster; an actor with no such address draws from a
  hub hoster instead;
- with probability ``HUB_SHARE`` a hub domain (a CDN address; its registrar one of the past
  domains', its Cloudflare name servers and CDN address the same for every actor), and then with
  probability 0.5 one more loose address at one of the three popular VPS or cloud hosters; which
  loose address that is, the bundle does not say, so both readings are summed;
- 1-3 regular domains (2/5, 2/5, 1/5) and 0-2 loose addresses (1/4, 2/4, 1/4);
- a certificate with probability ``CERT_SHARE`` for an actor with past certificates: a past one
  chosen uniformly, its subject copied when it was self-signed, else a Let's Encrypt one.

Each factor (a domain's set-up, an address, a hub domain's registrar, the certificate) is mixed
with its mean over the owners, weight ``--smoothing`` (0.01). URLs, the cluster's dates and the
names of new domains are left out: URL hosts and new names are drawn the same way for every
actor, and the dates (drawn from the actor's active years) are not infrastructure. Left out as
too small to matter: a /24 host counts the training addresses it avoids but not those earlier
clusters of the split took, a hoster's 4,064 offsets count neither, and a host name that ten
draws could not place falls back to a new name. The oracle ranks the owners only (19 at
``small``); the ablation's models rank every actor of the graph.

Two versions of each actor's past: ``truth``, the ``TrainingFootprint`` the generator drew from
(captured while the world is written), and ``visible``, rebuilt from the written training
bundle as the graph holds it (campaigns ``attributed-to`` the actor, their indicators, URL
hosts, each domain's registrar, name servers and addresses, each address's AS, certificates).
The split's constants are imported from ``actorgraph.world.infra_split``; the counts the
emitter draws with ``rng.choice`` are spelled below.

Output per world and version: top-1 and top-3 (a tie counts against the truth), ``exp.`` the
mean top posterior (the top-1 the likelihood expects of itself: equal to the measured one up to
sampling noise when the likelihood is exact), ``ties``, and ``imp.`` the clusters whose
unsmoothed likelihood under their own actor is 0 (under ``truth`` it must be 0, else the
likelihood misses a path of the generator). ``--json`` adds MRR and the misses.

    .venv/bin/python benchmarks/infra_ceiling.py [--seeds 7,11,23,31,47] [--scale small]
        [--versions truth,visible] [--smoothing 0.01] [--keep DIR] [--json]

The test world (seed 1414, ``ABLATION_WORLD_SEED``) is scored once, after development.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actorgraph.commands.evaluate import ABLATION_WORLD_SEED
from actorgraph.world import generate_world
from actorgraph.world import stix as S
from actorgraph.world.footprint import (
    ActorInfra,
    TrainingFootprint,
    is_ipv4,
    network24,
    registrable,
    url_host,
)
from actorgraph.world.infra import PROVIDERS, PROVIDERS_BY_KEY, REGISTRARS, provider_blocks
from actorgraph.world.infra_split import (
    CERT_SHARE,
    HUB_SHARE,
    INFRA_SPLIT,
    NETBLOCK_SHARE,
    NETBLOCK_SHARE_OTHER,
    SUBDOMAIN_SHARE,
)
from actorgraph.world.plan import DomainRec
from actorgraph.world.values import Certificate

# Counts InfraClusterEmitter draws with rng.choice (world/infra_split.py).
REGULAR_DOMAINS = {1: 2 / 5, 2: 2 / 5, 3: 1 / 5}  # rng.choice((1, 1, 2, 2, 3))
LOOSE_IPS = {0: 1 / 4, 1: 2 / 4, 2: 1 / 4}  # rng.choice((0, 1, 1, 2))
DOMAIN_IPS = {1: 0.8, 2: 0.2}  # 1 if rng.random() < 0.8 else 2
VPS_HUB_SHARE = 0.5  # a hub cluster's extra loose address
POPULAR_HOSTERS = 3  # Taken.popular_hosters
SUBDOMAIN_HOSTS = 6 * 98  # six host words x rng.randrange(1, 99)
NET24_HOSTS = 254  # f"{net}.{rng.randrange(1, 255)}"
BLOCK_HOSTS = sum(1 for o in range(1, 4095) if o & 255 not in (0, 255))  # _ip_at's offsets
VERSIONS = ("truth", "visible")

PROVIDER_BY_ASN = {p.asn: p.key for p in PROVIDERS}
REGISTRAR_BY_ID = {S.sdo_id("infrastructure", f"registrar:{k}"): k for k in REGISTRARS}
PATTERN = re.compile(r"\[(domain-name|ipv4-addr|url|x509-certificate):[^=]+= '((?:[^'\\]|\\.)*)'")
PATTERN_KIND = {
    "domain-name": "domain",
    "ipv4-addr": "ipv4",
    "url": "url",
    "x509-certificate": "x509",
}


# -- load: the world, its truth, and what its bundles state -----------------------------------
@dataclass
class LoadedWorld:
    """A written demo world with the footprint its infrastructure split was drawn from."""

    folder: Path
    truth: TrainingFootprint
    actor_index: dict[str, int]  # intrusion-set id -> actor index
    actor_names: list[str]
    train_files: list[Path]


def load_world(seed: int, scale: str, folder: Path) -> LoadedWorld:
    """Generate and write the world of ``seed``; capture the generator's ``TrainingFootprint``.

    ``World.write`` builds the footprint and hands it to ``_write_infra_splits`` without keeping
    it, so the benchmark wraps that one method on this instance to read it on the way.
    """
    world = generate_world(seed=seed, scale=scale)
    captured: dict[str, TrainingFootprint] = {}
    write_splits = world._write_infra_splits

    def capture(out: Path, footprint: TrainingFootprint) -> Any:
        captured["footprint"] = footprint
        return write_splits(out, footprint)

    world._write_infra_splits = capture  # type: ignore[method-assign]
    meta = world.write(folder)
    return LoadedWorld(
        folder,
        captured["footprint"],
        {a.group.stix_id: a.index for a in world.actors},
        [a.profile.name for a in world.actors],
        [folder / f for f in meta["files"]["train"]],
    )


def read_objects(paths: list[Path]) -> list[dict]:
    out: list[dict] = []
    for path in paths:
        out += json.loads(path.read_text())["objects"]
    return out


class BundleFacts:
    """What STIX objects state: indicators per campaign, each domain's registrar, name servers
    and addresses, each address's hoster (by its AS), certificates, attributions."""

    def __init__(self, objects: list[dict]) -> None:
        value: dict[str, str] = {}  # id of a domain, address, AS or name server -> its value
        indicator: dict[str, tuple[str, str]] = {}
        self.certificates: dict[str, tuple[str, bool]] = {}  # SHA-256 -> subject, self-signed
        for o in objects:
            kind = o["type"]
            if kind in ("domain-name", "ipv4-addr"):
                value[o["id"]] = o["value"]
            elif kind == "autonomous-system" and o["number"] in PROVIDER_BY_ASN:
                value[o["id"]] = PROVIDER_BY_ASN[o["number"]]
            elif kind == "infrastructure" and o.get("x_actorgraph_kind") == "name_server":
                value[o["id"]] = o["name"]
            elif kind == "x509-certificate":
                self.certificates[o["hashes"]["SHA-256"]] = (o["subject"], o["is_self_signed"])
            elif kind == "indicator" and (m := PATTERN.match(o["pattern"])):
                literal = m[2].replace("\\'", "'").replace("\\\\", "\\")
                indicator[o["id"]] = (PATTERN_KIND[m[1]], literal)
        self.indicated: dict[str, list[tuple[str, str]]] = {}  # campaign -> (kind, value)
        self.attributed: dict[str, str] = {}  # campaign -> intrusion set
        self.resolves: dict[str, list[str]] = {}
        self.registrar: dict[str, str] = {}
        self.name_servers: dict[str, set[str]] = {}
        self.provider: dict[str, str] = {}  # address -> provider key
        for o in objects:
            if o["type"] != "relationship":
                continue
            kind, src, dst = o["relationship_type"], o["source_ref"], o["target_ref"]
            if kind == "indicates" and src in indicator:
                self.indicated.setdefault(dst, []).append(indicator[src])
            elif kind == "attributed-to" and src.startswith("campaign--"):
                self.attributed[src] = dst
            elif kind == S.REL_RESOLVES_TO and src in value and dst in value:
                self.resolves.setdefault(value[src], []).append(value[dst])
            elif kind == S.REL_REGISTERED_WITH and dst in REGISTRAR_BY_ID:
                self.registrar.setdefault(value[src], REGISTRAR_BY_ID[dst])
            elif kind == S.REL_USES_NAMESERVER and dst in value:
                self.name_servers.setdefault(value[src], set()).add(value[dst])
            elif kind == S.REL_BELONGS_TO and dst in value:
                self.provider[value[src]] = value[dst]

    def domain(self, name: str) -> DomainRec:
        """A domain as the graph holds it; addresses without a hoster (sinkholes) left out."""
        ips = tuple(dict.fromkeys(ip for ip in self.resolves.get(name, ()) if ip in self.provider))
        ns = tuple(sorted(self.name_servers.get(name, ())))
        return DomainRec(name, ips, self.registrar.get(name, ""), ns, "")

    def certificate(self, sha256: str) -> Certificate:
        subject, self_signed = self.certificates[sha256]
        return Certificate(sha256, "", "", subject, "", "", "", self_signed)


def visible_footprint(train_files: list[Path], actor_index: dict[str, int]) -> TrainingFootprint:
    """Each actor's past as the training bundle shows it: per attributed campaign, its indicated
    domains and URL hosts with their addresses, its indicated addresses, its certificates."""
    objects = read_objects(train_files)
    fp = TrainingFootprint()
    for obj in objects:
        fp.record(obj)  # the training values and reference objects, as the generator records them
    facts = BundleFacts(objects)
    for campaign, group in facts.attributed.items():
        domains: dict[str, DomainRec] = {}
        ips: dict[str, None] = {}
        certificates: list[Certificate] = []
        for kind, value in facts.indicated.get(campaign, ()):
            if kind == "url":
                host = url_host(value)
                kind, value = ("ipv4", host) if is_ipv4(host) else ("domain", host)
            if kind == "domain":
                domains[value] = facts.domain(value)
                ips.update(dict.fromkeys(domains[value].ips))
            elif kind == "ipv4":
                ips[value] = None
            elif kind == "x509" and value in facts.certificates:
                certificates.append(facts.certificate(value))
        past = fp.actors.setdefault(actor_index[group], ActorInfra())
        past.domains += domains.values()
        past.ips += [(ip, facts.provider[ip]) for ip in ips if ip in facts.provider]
        past.certificates += certificates
    return fp


@dataclass
class Cluster:
    """One held-out infrastructure cluster as its bundle states it."""

    file: str
    actor: int
    domains: list[DomainRec]
    loose_ips: list[str]  # indicated addresses no domain of the cluster resolves to
    provider: dict[str, str]
    certificate: tuple[str, bool] | None  # subject, self-signed

    def is_hub(self, rec: DomainRec) -> bool:
        """A hub domain resolves to a CDN address; the actor's own domains never do."""
        return any(PROVIDERS_BY_KEY[self.provider[ip]].kind == "cdn" for ip in rec.ips)


def read_clusters(world: LoadedWorld) -> list[Cluster]:
    """The split's clusters in file order (as ``gnn.world_split.load_heldout`` reads them)."""
    labels = json.loads((world.folder / f"{INFRA_SPLIT}_labels.json").read_text())
    out = []
    for rel in sorted(labels):
        facts = BundleFacts(read_objects([world.folder / rel]))
        found = [kv for values in facts.indicated.values() for kv in values]
        domains = [facts.domain(v) for k, v in found if k == "domain"]
        resolved = {ip for rec in domains for ip in rec.ips}
        certs = [facts.certificates[v] for k, v in found if k == "x509"]
        out.append(
            Cluster(
                rel,
                world.actor_index[labels[rel]["actor_id"]],
                domains,
                [v for k, v in found if k == "ipv4" and v not in resolved],
                facts.provider,
                certs[0] if certs else None,
            )
        )
    return out


# -- likelihood: what each actor's past makes of one cluster ----------------------------------
@dataclass
class Space:
    """What the whole training data fixes for every actor alike."""

    blocks: dict[str, int]  # provider -> its /20 blocks
    used24: Counter[str]  # training addresses per /24 (a new address avoids them)
    popular: list[str]  # the hub hosters of loose addresses
    training_names: set[str]  # registered names of training (a new name avoids them)

    @classmethod
    def of(cls, fp: TrainingFootprint) -> Space:
        return cls(
            {k: len(v) for k, v in provider_blocks().items()},
            Counter(network24(ip) for ip in fp.ips),
            fp.popular_hosters(("vps", "cloud"), POPULAR_HOSTERS) or ["digitalocean"],
            set(fp.registrable),
        )


@dataclass
class Habits:
    """One actor's past, reduced to what ``InfraClusterEmitter`` draws from."""

    n_domains: int = 0  # past domains whose registrar training states
    setups: Counter[tuple] = field(default_factory=Counter)  # (registrar, name servers)
    named: Counter[tuple] = field(default_factory=Counter)  # (registrar, ns, registered name)
    registrars: Counter[str] = field(default_factory=Counter)
    n_ips: int = 0  # past non-CDN addresses
    net_weight: Counter[str] = field(default_factory=Counter)  # /24 -> P(its route)
    hoster_weight: Counter[str] = field(default_factory=Counter)  # provider -> P(its route)
    n_certs: int = 0
    subjects: Counter[str] = field(default_factory=Counter)  # self-signed subjects
    n_letsencrypt: int = 0

    @classmethod
    def of(cls, past: ActorInfra, fp: TrainingFootprint) -> Habits:
        h = cls()

        def known(kind: str, key: str) -> bool:
            return S.sdo_id("infrastructure", f"{kind}:{key}") in fp.reference_ids

        for rec in past.domains:  # _past_domains, then _domain's name-server check
            if not known("registrar", rec.registrar):
                continue
            ns = rec.name_servers if all(known("name_server", n) for n in rec.name_servers) else ()
            h.n_domains += 1
            h.setups[rec.registrar, frozenset(ns)] += 1
            h.named[rec.registrar, frozenset(ns), registrable(rec.value)] += 1
            h.registrars[rec.registrar] += 1
        own = [(ip, k) for ip, k in past.ips if PROVIDERS_BY_KEY[k].kind != "cdn"]
        h.n_ips = len(own)
        for ip, key in own:  # _ip
            share = NETBLOCK_SHARE.get(PROVIDERS_BY_KEY[key].kind, NETBLOCK_SHARE_OTHER)
            h.net_weight[network24(ip)] += share / len(own)
            h.hoster_weight[key] += (1 - share) / len(own)
        h.n_certs = len(past.certificates)
        for cert in past.certificates:  # _certificate (a cluster always has a domain)
            if cert.self_signed:
                h.subjects[cert.subject] += 1
            else:
                h.n_letsencrypt += 1
        return h


def setup_likelihood(h: Habits, rec: DomainRec, space: Space) -> float:
    """A regular domain's registrar, name servers and name (``_domain``)."""
    if not h.n_domains:
        return 0.0
    ns, name = frozenset(rec.name_servers), registrable(rec.value)
    if name in space.training_names:  # a host under a past domain's registered name
        return SUBDOMAIN_SHARE / SUBDOMAIN_HOSTS * h.named[rec.registrar, ns, name] / h.n_domains
    return (1 - SUBDOMAIN_SHARE) * h.setups[rec.registrar, ns] / h.n_domains


def hub_address_likelihood(provider: str, space: Space) -> float:
    """An address at a popular hoster (``_vps_hub_ip``): the same for every actor."""
    share = space.popular.count(provider) / len(space.popular)
    return share / (space.blocks[provider] * BLOCK_HOSTS)


def address_likelihood(h: Habits, ip: str, provider: str, space: Space) -> float:
    """A new address on the actor's hosting habits (``_ip``)."""
    if not h.n_ips:
        return hub_address_likelihood(provider, space)
    net = network24(ip)
    in_net = h.net_weight[net] / (NET24_HOSTS - space.used24[net])
    return in_net + h.hoster_weight[provider] / (space.blocks[provider] * BLOCK_HOSTS)


def hub_registrar_likelihood(h: Habits, rec: DomainRec) -> float:
    """A hub domain's registrar (``_hub_domain``): a past domain's, else NameCheap."""
    if not h.n_domains:
        return float(rec.registrar == "namecheap")
    return h.registrars[rec.registrar] / h.n_domains


def certificate_likelihood(h: Habits, cert: tuple[str, bool] | None) -> float:
    """The certificate or its absence (``emit`` and ``_certificate``)."""
    if not h.n_certs:
        return float(cert is None)
    if cert is None:
        return 1 - CERT_SHARE
    subject, self_signed = cert
    return CERT_SHARE * (h.subjects[subject] if self_signed else h.n_letsencrypt) / h.n_certs


def loose_likelihood(own: list[float], hub: list[float], with_hub_domain: bool) -> float:
    """The loose addresses: all on the actor's habits, or (after a hub domain, half the time)
    one of them, which the bundle does not say, at a popular hoster."""
    k = len(own)
    all_own = LOOSE_IPS.get(k, 0.0) * math.factorial(k) * math.prod(own)
    if not with_hub_domain:
        return all_own
    one_hub = 0.0
    if k:
        others = sum(hub[j] * math.prod(own[:j] + own[j + 1 :]) for j in range(k))
        one_hub = LOOSE_IPS.get(k - 1, 0.0) * math.factorial(k - 1) * others
    return (1 - VPS_HUB_SHARE) * all_own + VPS_HUB_SHARE * one_hub


def cluster_likelihoods(
    c: Cluster, habits: dict[int, Habits], space: Space, smoothing: float
) -> dict[int, float]:
    """The likelihood of cluster ``c`` under each actor of ``habits``."""
    actors = list(habits)

    def factor(of: Callable[[Habits], float]) -> dict[int, float]:
        raw = {a: of(habits[a]) for a in actors}
        mean = sum(raw.values()) / len(raw)
        return {a: (1 - smoothing) * v + smoothing * mean for a, v in raw.items()}

    regular = [rec for rec in c.domains if not c.is_hub(rec)]
    hubs = [rec for rec in c.domains if c.is_hub(rec)]
    per_regular = [factor(lambda h, r=rec: setup_likelihood(h, r, space)) for rec in regular]
    per_regular += [
        factor(lambda h, ip=ip: address_likelihood(h, ip, c.provider[ip], space))
        for rec in regular
        for ip in rec.ips
    ]
    per_hub = [factor(lambda h, r=rec: hub_registrar_likelihood(h, r)) for rec in hubs]
    loose = [
        factor(lambda h, ip=ip: address_likelihood(h, ip, c.provider[ip], space))
        for ip in c.loose_ips
    ]
    loose_hub = [hub_address_likelihood(c.provider[ip], space) for ip in c.loose_ips]
    cert = factor(lambda h: certificate_likelihood(h, c.certificate))
    n_ips = math.prod(DOMAIN_IPS.get(len(rec.ips), 0.0) for rec in regular)

    out = {}
    for a in actors:
        own_loose = [f[a] for f in loose]
        domains = math.prod(f[a] for f in per_regular) * math.prod(f[a] for f in per_hub)
        if habits[a].n_domains:  # regular domains, then perhaps one hub domain
            if len(hubs) > 1:
                out[a] = 0.0
                continue
            structure = REGULAR_DOMAINS.get(len(regular), 0.0) * math.factorial(len(regular))
            structure *= n_ips * (HUB_SHARE if hubs else 1 - HUB_SHARE)
            structure *= loose_likelihood(own_loose, loose_hub, bool(hubs))
        elif regular:  # an actor without past domains writes hub domains only
            structure = 0.0
        else:  # each of its domains a hub, the last perhaps the extra one
            structure = math.factorial(len(hubs)) * sum(
                REGULAR_DOMAINS.get(len(hubs) - extra, 0.0)
                * (HUB_SHARE if extra else 1 - HUB_SHARE)
                * loose_likelihood(own_loose, loose_hub, bool(extra))
                for extra in (0, 1)
            )
        out[a] = structure * domains * cert[a]
    return out


# -- score: rank the owner of each cluster ----------------------------------------------------
def score_version(
    clusters: list[Cluster], fp: TrainingFootprint, owners: list[int], smoothing: float
) -> dict[str, Any]:
    """Top-1, top-3, MRR, ties and misses of one version of the actors' past."""
    space = Space.of(fp)
    habits = {a: Habits.of(fp.actors.get(a, ActorInfra()), fp) for a in owners}
    ranks, ties, impossible, misses, confidence = [], 0, 0, [], 0.0
    for c in clusters:
        lik = cluster_likelihoods(c, habits, space, smoothing)
        total = sum(lik.values())
        confidence += max(lik.values()) / total if total else 1 / len(lik)
        if cluster_likelihoods(c, habits, space, 0.0)[c.actor] == 0.0:
            impossible += 1
        score = {a: math.log(v) if v > 0 else -math.inf for a, v in lik.items()}
        truth = score[c.actor]
        above = sum(s > truth for s in score.values())
        level = sum(s == truth for a, s in score.items() if a != c.actor)
        ties += level > 0
        ranks.append(1 + above + level)  # a tie counts against the truth
        if ranks[-1] > 1:
            best = max(score, key=lambda a: score[a])
            misses.append({"file": c.file, "actor": c.actor, "ranked_first": best})
    n = len(ranks) or 1
    return {
        "top1": sum(r == 1 for r in ranks) / n,
        "top3": sum(r <= 3 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks) / n,
        "expected_top1": confidence / n,  # the mean top posterior: the top-1 the model expects
        "ties": ties,
        "owner_impossible": impossible,
        "misses": misses,
    }


def score_world(
    seed: int, scale: str, versions: list[str], smoothing: float, folder: Path
) -> dict[str, Any]:
    start = time.perf_counter()
    world = load_world(seed, scale, folder)
    clusters = read_clusters(world)
    # plan_infra_clusters gives every owner at least two clusters: the owners are the truths.
    owners = sorted({c.actor for c in clusters})
    row: dict[str, Any] = {"seed": seed, "scale": scale, "clusters": len(clusters)}
    row["owners"] = len(owners)
    for version in versions:
        fp = (
            world.truth
            if version == "truth"
            else visible_footprint(world.train_files, world.actor_index)
        )
        row[version] = score_version(clusters, fp, owners, smoothing)
        for miss in row[version]["misses"]:
            miss["actor"] = world.actor_names[miss["actor"]]
            miss["ranked_first"] = world.actor_names[miss["ranked_first"]]
    row["seconds"] = round(time.perf_counter() - start, 2)
    return row


# -- report -----------------------------------------------------------------------------------
def report(rows: list[dict[str, Any]], versions: list[str], out) -> None:
    print(
        f"{'seed':>6s} {'scale':>7s} {'n':>4s}  "
        + "  ".join(
            f"{v + ' top-1':>13s} {'top-3':>6s} {'exp.':>6s} {'ties':>4s} {'imp.':>4s}"
            for v in versions
        )
        + "   seconds",
        file=out,
    )
    for r in rows:
        cells = "  ".join(
            f"{r[v]['top1']:13.3f} {r[v]['top3']:6.3f} {r[v]['expected_top1']:6.3f} "
            f"{r[v]['ties']:4d} "
            f"{r[v]['owner_impossible']:4d}"
            for v in versions
        )
        print(
            f"{r['seed']:6d} {r['scale']:>7s} {r['clusters']:4d}  {cells}   {r['seconds']:7.2f}",
            file=out,
        )
    means = "  ".join(
        f"{mean(rows, v, 'top1'):13.3f} {mean(rows, v, 'top3'):6.3f} "
        f"{mean(rows, v, 'expected_top1'):6.3f}{'':10s}"
        for v in versions
    )
    print(f"{'mean':>6s} {'':>7s} {'':>4s}  {means}", file=out)


def mean(rows: list[dict[str, Any]], version: str, key: str) -> float:
    return sum(r[version][key] for r in rows) / (len(rows) or 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="7,11,23,31,47")
    ap.add_argument("--scale", default="small")
    ap.add_argument("--versions", default=",".join(VERSIONS))
    ap.add_argument("--smoothing", type=float, default=0.01)
    ap.add_argument("--keep", type=Path, default=None, help="write the worlds here (kept)")
    ap.add_argument("--json", action="store_true", help="one JSON object with every world")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    if bad := [v for v in versions if v not in VERSIONS]:
        ap.error(f"--versions (got {bad}) must be among {list(VERSIONS)}")
    if not 0 <= args.smoothing < 1:
        ap.error(f"--smoothing (got {args.smoothing}) must be in [0, 1)")
    if ABLATION_WORLD_SEED in seeds:
        print(f"world {ABLATION_WORLD_SEED} is the test world: score it once", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="infra-ceiling-") as scratch:
        for seed in seeds:
            home = (args.keep or Path(scratch)) / f"world-{seed}-{args.scale}"
            rows.append(score_world(seed, args.scale, versions, args.smoothing, home))
    if args.json:
        keys = ("top1", "top3", "mrr", "expected_top1")
        summary = {v: {k: mean(rows, v, k) for k in keys} for v in versions}
        print(json.dumps({"worlds": rows, "mean": summary, "smoothing": args.smoothing}))
    else:
        report(rows, versions, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
