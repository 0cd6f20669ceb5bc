"""Planning the demo world: which actor runs which cluster when, and the infrastructure they share.

The plan is small (a few records per cluster); the objects themselves are generated cluster by
cluster while writing (``emit``), so a million-indicator world never sits in memory at once.
Everything is drawn from one ``random.Random(seed)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random

from actorgraph.graph.errors import ValidationError
from actorgraph.world import values
from actorgraph.world.actors import ACTORS, COMMODITY_SOFTWARE, NOISE_SOFTWARE, ActorProfile
from actorgraph.world.attack import AttackCatalog, AttackObject
from actorgraph.world.infra import (
    CLOUDFLARE_NS,
    COBALT_STRIKE_DEFAULT_SUBJECT,
    REGISTRARS,
    int_to_ip,
    provider_blocks,
)

SCALES = {"small": 3_000, "medium": 30_000, "large": 300_000}
MAX_INDICATORS = 1_000_000
MIN_INDICATORS = 500
LAST_DAY = date(2026, 10, 31)
COMMON_TECHNIQUES = (
    "T1566.001",
    "T1204.002",
    "T1059.001",
    "T1547.001",
    "T1071.001",
    "T1105",
    "T1027",
    "T1082",
)
NOISE_TECHNIQUES = (*COMMON_TECHNIQUES, "T1555.003", "T1083")
TLP_WEIGHTS = {"green": 55, "amber": 28, "clear": 8, "amber+strict": 4, "red": 5}


def resolve_scale(scale: float | str) -> int:
    """The number of indicators a scale asks for.

    Args:
        scale: ``small`` (3,000), ``medium`` (30,000), ``large`` (300,000), or a number of
            indicators between 500 and 1,000,000 (a numeric string works too).

    Raises:
        ValidationError: an unknown name or a number out of range.
    """
    if isinstance(scale, str):
        if scale in SCALES:
            return SCALES[scale]
        try:
            scale = float(scale.replace("_", "").replace(",", ""))
        except ValueError:
            raise ValidationError(
                f"scale {scale!r} is neither one of {', '.join(SCALES)} nor a number of indicators"
            ) from None
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
        raise ValidationError(f"scale {scale!r} is not a number of indicators")
    n = int(scale)
    if not MIN_INDICATORS <= n <= MAX_INDICATORS:
        raise ValidationError(
            f"scale {n} indicators is outside {MIN_INDICATORS:,}..{MAX_INDICATORS:,}"
        )
    return n


@dataclass
class Actor:
    """An actor profile joined with its ATT&CK objects."""

    index: int
    profile: ActorProfile
    group: AttackObject
    techniques: list[AttackObject]
    software: list[AttackObject]
    signature: list[AttackObject]


@dataclass(frozen=True)
class DomainRec:
    """A domain with the facts that never change once it exists."""

    value: str
    ips: tuple[str, ...]
    registrar: str
    name_servers: tuple[str, ...]
    since: str  # ISO date of first use


@dataclass
class ClusterPlan:
    """One cluster of activity: a labelled campaign, a held-out campaign or a loose report."""

    key: str
    split: str  # "train" | "heldout"
    form: str  # "campaign" | "report"
    actor: int | None
    first_seen: date
    last_seen: date
    n_indicators: int
    tlp: str
    seed: int
    label: str  # "known" | "unseen_actor" | "noise"
    false_flag: int | None = None
    file: str | None = None

    @property
    def heldout_file(self) -> str:
        """The bundle file of a held-out cluster (training clusters share ``train*.json``).

        Raises:
            ValueError: the cluster is not held out, so it has no file of its own.
        """
        if self.file is None:
            raise ValueError(f"cluster {self.key} ({self.split}) has no held-out file")
        return self.file


@dataclass
class Pools:
    """Infrastructure and samples shared across clusters."""

    actor_domains: dict[int, list[DomainRec]] = field(default_factory=dict)
    actor_ips: dict[int, list[str]] = field(default_factory=dict)
    actor_cert: dict[int, values.Certificate] = field(default_factory=dict)
    actor_ns: dict[int, tuple[str, ...]] = field(default_factory=dict)
    actor_samples: dict[int, list[values.Sample]] = field(default_factory=dict)
    eco_domains: dict[str, list[DomainRec]] = field(default_factory=dict)
    eco_ips: dict[str, list[str]] = field(default_factory=dict)
    cdn_ips: dict[str, list[str]] = field(default_factory=dict)
    commodity_samples: dict[str, list[values.Sample]] = field(default_factory=dict)
    cobalt_cert: values.Certificate | None = None
    # actor index -> [(ip, first year, last year)]: addresses that change hands between actors.
    recycled_ips: dict[int, list[tuple[str, int, int]]] = field(default_factory=dict)
    recycled_domains: dict[int, list[tuple[DomainRec, int, int]]] = field(default_factory=dict)
    handovers: list[dict] = field(default_factory=list)


class IpAllocator:
    """Draws synthetic IPv4 addresses from a provider's blocks and maps addresses back."""

    def __init__(self) -> None:
        self.blocks = provider_blocks()
        # CDN fronting: everyone behind a CDN shares a handful of its edge addresses (a hub).
        self.hubs: dict[str, list[str]] = {}
        self._owner: dict[int, str] = {}
        for key, starts in self.blocks.items():
            for start in starts:
                self._owner[start >> 12] = key

    def draw(self, rng: Random, provider: str) -> str:
        if provider in self.hubs:
            return rng.choice(self.hubs[provider])
        start = rng.choice(self.blocks[provider])
        # Skip .0 and .255 so every address looks like a host.
        offset = rng.randrange(1, 4095)
        if offset & 255 in (0, 255):
            offset += 1 if offset & 255 == 0 else -1
        return int_to_ip(start + offset)

    def provider_of(self, ip: str) -> str | None:
        a, b, c, d = (int(x) for x in ip.split("."))
        return self._owner.get(((a << 24) | (b << 16) | (c << 8) | d) >> 12)


def weighted(rng: Random, weights: Mapping[str, float]) -> str:
    """One key of ``weights`` drawn in proportion to its weight (insertion order matters)."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=1)[0]


def resolve_actors(catalog: AttackCatalog) -> list[Actor]:
    """Join every profile in ``ACTORS`` with its ATT&CK techniques and software."""
    out = []
    for i, prof in enumerate(ACTORS):
        att = catalog.profile(prof.name)
        software = att.malware + att.tools
        known = {s.stix_id for s in software}
        for name in prof.extra_software:
            obj = catalog.tool_or_malware(name)
            if obj.stix_id not in known:
                software.append(obj)
                known.add(obj.stix_id)
        signature = [catalog.tool_or_malware(n) for n in prof.signature]
        out.append(Actor(i, prof, att.group, att.techniques, software, signature))
    return out


def new_domain(
    rng: Random,
    alloc: IpAllocator,
    prof_hosting: Mapping[str, float],
    registrars: Mapping[str, float],
    words: tuple[str, ...],
    tlds: tuple[str, ...],
    since: str,
    own_ns: tuple[str, ...] = (),
    ns_style: Mapping[str, float] | None = None,
) -> DomainRec:
    """A fresh domain record: its name, where it resolves, who registered it, its name servers."""
    value = values.domain_name(rng, words, tlds)
    provider = weighted(rng, prof_hosting)
    ips = tuple(alloc.draw(rng, provider) for _ in range(1 if rng.random() < 0.8 else 2))
    reg = weighted(rng, registrars)
    style = weighted(rng, ns_style or {"registrar": 6, "cloudflare": 3})
    if style == "own" and own_ns:
        ns = own_ns
    elif style == "cloudflare" or provider == "cloudflare":
        first = rng.randrange(len(CLOUDFLARE_NS) - 1)
        ns = (CLOUDFLARE_NS[first], CLOUDFLARE_NS[first + 1])
    else:
        ns = REGISTRARS[reg][1][:2]
    return DomainRec(value, ips, reg, ns, since)


def _rand_day(rng: Random, y0: int, y1: int) -> date:
    start = date(y0, 1, 1)
    end = min(date(y1, 12, 31), LAST_DAY)
    return start + timedelta(days=rng.randrange(max(1, (end - start).days)))


def cluster_dates(rng: Random, years: tuple[int, int], late: bool = False) -> tuple[date, date]:
    """First and last day of a cluster within ``years``; ``late`` leans to the recent end."""
    y0, y1 = years
    if late:  # held-out activity leans to the recent end of an actor's career
        y0 = max(y0, y1 - max(1, (y1 - y0) * 2 // 5))
    first = _rand_day(rng, y0, y1)
    last = min(first + timedelta(days=rng.randrange(14, 270)), LAST_DAY)
    return first, max(first, last)


def _sizes(rng: Random, n: int, mean: float, total: int, low: int) -> list[int]:
    raw = [max(low, rng.lognormvariate(math.log(mean), 0.55)) for _ in range(n)]
    factor = total / sum(raw)
    sizes = [max(low, int(x * factor)) for x in raw]
    diff = total - sum(sizes)
    i = 0
    while diff != 0 and sizes:
        j = i % len(sizes)
        step = 1 if diff > 0 else -1
        if sizes[j] + step >= low:
            sizes[j] += step
            diff -= step
        i += 1
        if i > 10 * len(sizes) + abs(diff) * 2 and diff < 0:
            break  # every cluster is already at its floor
    return sizes


def plan_clusters(rng: Random, actors: list[Actor], target: int) -> list[ClusterPlan]:
    """Decide every cluster: owner, split, form, dates, size, TLP, false flags.

    The numbers follow the scale: about 16 indicators per cluster at 3,000 indicators, up to
    about 60 at a million; 4-8 labelled campaigns per trained actor at ``small``; held-out
    about 2 per actor, 3 per unseen actor, plus noise.
    """
    mean = min(64.0, 16.0 * (target / 3000) ** 0.25) if target > 3000 else 16.0
    trained = [a for a in actors if a.profile.in_training]
    unseen = [a for a in actors if not a.profile.in_training]
    n_clusters = max(len(actors) * 6, round(target / mean))
    n_held_known = max(2 * len(trained), min(1200, round(0.08 * n_clusters)))
    n_held_unseen_each = max(3, min(100, round(0.004 * n_clusters)))
    n_held_noise = max(5, min(200, round(0.02 * n_clusters)))
    n_train_noise = max(6, round(0.03 * n_clusters))
    n_partial_share = 0.3
    n_train = max(
        4 * len(trained),
        n_clusters - n_held_known - n_held_noise - n_train_noise - n_held_unseen_each * len(unseen),
    )

    specs: list[tuple[str, str, int | None, str]] = []  # (split, form, actor, label)
    act_total = sum(a.profile.activity for a in trained)
    counts = [max(4, round(n_train * a.profile.activity / act_total)) for a in trained]
    for a, c in zip(trained, counts, strict=True):
        specs += [("train", "campaign", a.index, "known")] * c
    specs += [("train", "campaign", None, "noise")] * n_train_noise
    held_per = [
        n_held_known // len(trained) + (1 if i < n_held_known % len(trained) else 0)
        for i in range(len(trained))
    ]
    for a, c in zip(trained, held_per, strict=True):
        for _ in range(c):
            specs.append(
                (
                    "heldout",
                    "report" if rng.random() < n_partial_share else "campaign",
                    a.index,
                    "known",
                )
            )
    for a in unseen:
        for _ in range(n_held_unseen_each):
            specs.append(
                (
                    "heldout",
                    "report" if rng.random() < 0.25 else "campaign",
                    a.index,
                    "unseen_actor",
                )
            )
    for _ in range(n_held_noise):
        specs.append(("heldout", "report" if rng.random() < 0.6 else "campaign", None, "noise"))

    # Sizes: loose reports are small and partial; campaigns share the rest of the budget.
    partial = [i for i, s in enumerate(specs) if s[1] == "report"]
    partial_sizes = {i: rng.randrange(2, 9) for i in partial}
    full = [i for i, s in enumerate(specs) if s[1] == "campaign"]
    budget = max(len(full) * 3, target - sum(partial_sizes.values()))
    full_sizes = dict(zip(full, _sizes(rng, len(full), mean, budget, 3), strict=True))

    tlps = list(TLP_WEIGHTS)
    plans: list[ClusterPlan] = []
    keys: set[str] = set()
    for i, (split, form, actor, label) in enumerate(specs):
        # Opaque keys: names and ids derived from them must not reveal the owner or the order.
        key = f"{rng.getrandbits(40):010x}"
        while key in keys:
            key = f"{rng.getrandbits(40):010x}"
        keys.add(key)
        years = actors[actor].profile.years if actor is not None else (2018, 2026)
        first, last = cluster_dates(rng, years, late=split == "heldout" and label == "known")
        plans.append(
            ClusterPlan(
                key=key,
                split=split,
                form=form,
                actor=actor,
                first_seen=first,
                last_seen=last,
                n_indicators=partial_sizes.get(i) or full_sizes[i],
                tlp=rng.choices(tlps, weights=[TLP_WEIGHTS[t] for t in tlps])[0],
                seed=rng.getrandbits(63),
                label=label,
            )
        )
    # False flags: a few campaigns plant another actor's signature malware and samples.
    for p in plans:
        if p.actor is not None and p.form == "campaign" and rng.random() < 0.04:
            others = [a.index for a in actors if a.index != p.actor and a.profile.in_training]
            p.false_flag = rng.choice(others)
    held = [p for p in plans if p.split == "heldout"]
    rng.shuffle(held)
    for n, p in enumerate(held, 1):
        p.file = f"heldout/activity-{n:04d}.json"
    return plans


def build_pools(
    rng: Random,
    actors: list[Actor],
    plans: list[ClusterPlan],
    alloc: IpAllocator,
    catalog: AttackCatalog,
) -> Pools:
    """Long-lived infrastructure: each actor's reused domains, IPs, certificate, samples, name
    servers; each country's shared pool; CDN hub addresses; commodity samples; hand-overs."""
    pools = Pools()
    for key in ("cloudflare", "akamai", "fastly"):
        pools.cdn_ips[key] = [alloc.draw(rng, key) for _ in range(16)]
    alloc.hubs = pools.cdn_ips
    per_actor = {a.index: 0 for a in actors}
    for p in plans:
        if p.actor is not None:
            per_actor[p.actor] += 1
    for a in actors:
        prof, n = a.profile, per_actor[a.index]
        since = f"{prof.years[0]}-01-15"
        own_root = values.domain_name(rng, prof.words, prof.tlds).split(".")[-2:]
        pools.actor_ns[a.index] = tuple(f"ns{k}.{'.'.join(own_root)}" for k in (1, 2))
        pools.actor_domains[a.index] = [
            new_domain(
                rng,
                alloc,
                prof.hosting,
                prof.registrars,
                prof.words,
                prof.tlds,
                since,
                pools.actor_ns[a.index],
                prof.ns_style,
            )
            for _ in range(max(3, math.ceil(n * 0.5)))
        ]
        pools.actor_ips[a.index] = [
            alloc.draw(rng, weighted(rng, prof.hosting)) for _ in range(max(3, math.ceil(n * 0.5)))
        ]
        pools.actor_cert[a.index] = values.certificate(
            rng, prof.cert_subject or "CN=localhost", None, prof.years[0], 3650
        )
        families = (
            [s for s in a.signature if s.stix_id.startswith("malware--")]
            or a.signature
            or a.software
        )
        pools.actor_samples[a.index] = [
            values.sample(rng, rng.choice(families).stix_id)
            for _ in range(max(2, math.ceil(n * 0.25)))
        ]
    countries = sorted({a.profile.country for a in actors if a.profile.country})
    for c in countries:
        members = [
            a for a in actors if a.profile.country == c and a.profile.motivation != "financial"
        ]
        hosting: dict[str, int] = {}
        for a in members:
            for k, w in a.profile.hosting.items():
                hosting[k] = hosting.get(k, 0) + w
        words = tuple(w for a in members for w in a.profile.words[:4])
        tlds = members[0].profile.tlds
        n_eco = max(4, sum(per_actor[a.index] for a in members) // 8)
        pools.eco_domains[c] = [
            new_domain(
                rng, alloc, hosting, {"namecheap": 1, "porkbun": 1}, words, tlds, "2018-02-01"
            )
            for _ in range(n_eco)
        ]
        pools.eco_ips[c] = [alloc.draw(rng, weighted(rng, hosting)) for _ in range(n_eco)]
    for name in COMMODITY_SOFTWARE:
        obj = catalog.tool_or_malware(name)
        pools.commodity_samples[obj.stix_id] = [values.sample(rng, obj.stix_id) for _ in range(6)]
    pools.cobalt_cert = values.certificate(rng, COBALT_STRIKE_DEFAULT_SUBJECT, None, 2015, 3650)
    # Hand-overs: an address or an expired domain used by one actor, later by another.
    live = [a for a in actors if a.profile.motivation != "financial" or rng.random() < 0.5]
    n_handover = max(6, len(plans) // 25)
    for i in range(n_handover):
        a, b = rng.sample(live, 2)
        y_split = rng.randrange(2020, 2025)
        if i % 3 == 2:
            rec = new_domain(
                rng,
                alloc,
                a.profile.hosting,
                a.profile.registrars,
                a.profile.words,
                a.profile.tlds,
                f"{a.profile.years[0]}-03-01",
            )
            pools.recycled_domains.setdefault(a.index, []).append((rec, 2018, y_split - 1))
            pools.recycled_domains.setdefault(b.index, []).append((rec, y_split, 2026))
            value = rec.value
        else:
            value = alloc.draw(
                rng, weighted(rng, {"vultr": 3, "m247": 2, "digitalocean": 2, "hostinger": 1})
            )
            pools.recycled_ips.setdefault(a.index, []).append((value, 2018, y_split - 1))
            pools.recycled_ips.setdefault(b.index, []).append((value, y_split, 2026))
        pools.handovers.append(
            {"value": value, "from": a.profile.name, "to": b.profile.name, "year": y_split}
        )
    return pools


def noise_software(catalog: AttackCatalog) -> list[AttackObject]:
    """The commodity crimeware of unattributed clusters."""
    return [catalog.tool_or_malware(n) for n in NOISE_SOFTWARE]
