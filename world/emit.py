"""Turning one planned cluster into STIX 2.1 objects.

A cluster is a campaign (labelled with ``attributed-to`` in training, unlabelled when held out)
or a loose report of indicators, malware and techniques. Each gets its indicators (indicator
SDO + observable), the infrastructure behind them (ASN, hosting provider, registrar, name
servers, certificates, C2), what it uses (real ATT&CK ids) and what it targets. The shared
plumbing is in ``scope``.
"""

from __future__ import annotations

from datetime import date, timedelta

from actorgraph.world import stix as S
from actorgraph.world import values
from actorgraph.world.actors import NOISE_TLDS, NOISE_WORDS
from actorgraph.world.infra import LETS_ENCRYPT_ISSUERS, OPENSSL_DEFAULT_SUBJECT, PROVIDERS_BY_KEY
from actorgraph.world.plan import DomainRec, new_domain, weighted
from actorgraph.world.scope import BundleScope, WorldContext, iso_day

__all__ = ["CAMPAIGN_ADJECTIVES", "CAMPAIGN_NOUNS", "ClusterEmitter", "WorldContext"]

NOISE_HOSTING = {
    "bph_nordshield": 2,
    "bph_blackfrost": 2,
    "hostinger": 2,
    "colocrossing": 2,
    "contabo": 1,
    "cloudflare": 1,
}
NOISE_REGISTRARS = {"nicenic": 3, "namecheap": 2, "gname": 2}
CAMPAIGN_ADJECTIVES = (
    "Silent",
    "Crimson",
    "Amber",
    "Hollow",
    "Frozen",
    "Iron",
    "Glass",
    "Velvet",
    "Broken",
    "Midnight",
    "Paper",
    "Rust",
)
CAMPAIGN_NOUNS = (
    "Harbor",
    "Lantern",
    "Orchard",
    "Compass",
    "Falcon",
    "Meadow",
    "Anvil",
    "Mirror",
    "Ledger",
    "Beacon",
    "Quarry",
    "Thistle",
)


class ClusterEmitter(BundleScope):
    """Emits the objects of one cluster into ``sink``, skipping ids already in ``seen``."""

    def emit(self) -> dict:
        """Write the whole cluster; returns a summary (counts, what it uses)."""
        plan, rng, actor = self.plan, self.rng, self.actor
        self.vendor_identity()
        self.campaign_id = S.sdo_id("campaign", plan.key) if plan.form == "campaign" else None
        self.software = self._choose_software()
        self.techniques = self._choose_techniques()
        self.use_eco = actor is not None and rng.random() < actor.profile.ecosystem
        kinds = (
            dict(actor.profile.kinds)
            if actor
            else {"domain": 30, "ipv4": 20, "url": 20, "file": 20, "email": 8, "x509": 2}
        )
        order = ("domain", "ipv4", "x509", "url", "email", "file")
        drawn = rng.choices(list(kinds), weights=list(kinds.values()), k=plan.n_indicators)
        if plan.false_flag is not None:
            drawn[: min(2, len(drawn))] = ["file"] * min(2, len(drawn))
        for kind in order:
            for _ in range(drawn.count(kind)):
                getattr(self, f"_ind_{kind}")()
        # A value drawn twice in one cluster is one indicator: top up with fresh samples.
        for _ in range(3 * (plan.n_indicators - len(self.indicator_ids))):
            if len(self.indicator_ids) >= plan.n_indicators:
                break
            self._ind_file()
        c2_ids = self._c2() if self.domains or self.ips else []
        targets = self._targets()
        if self.campaign_id:
            self._campaign(self.campaign_id, c2_ids, targets)
        self._report()
        return {"indicators": len(self.indicator_ids), "objects": self.n_objects}

    def _choose_software(self) -> list:
        rng, actor, ctx = self.rng, self.actor, self.ctx
        if actor is None:
            chosen = rng.sample(ctx.noise_software, rng.randrange(1, 3))
        else:
            # Signature families show up often, not always: reports see part of a toolkit.
            chosen = [s for s in actor.signature if rng.random() < 0.35]
            if not chosen and rng.random() < 0.6:
                chosen = [rng.choice(actor.signature)]
            others = [s for s in actor.software if s not in chosen]
            chosen += rng.sample(others, min(len(others), rng.randrange(0, 3)))
            siblings = [
                a
                for a in ctx.actors
                if a.profile.country == actor.profile.country
                and a.index != actor.index
                and a.profile.motivation != "financial"
            ]
            if siblings and actor.profile.motivation != "financial" and rng.random() < 0.2:
                # A state's groups share tooling (PlugX and ShadowPad among Chinese groups).
                shared = rng.choice(rng.choice(siblings).signature)
                if shared not in chosen:
                    chosen.append(shared)
            for tool in ctx.commodity:  # Cobalt Strike, Mimikatz ... whoever the actor is
                if rng.random() < 0.2 and tool not in chosen:
                    chosen.append(tool)
        if self.plan.false_flag is not None:
            planted = self.ctx.actors[self.plan.false_flag].signature[0]
            if planted not in chosen:
                chosen.append(planted)
        if self.plan.form == "report":
            chosen = chosen[: rng.randrange(0, 3)]
        return chosen

    def _choose_techniques(self) -> list:
        rng, actor, ctx = self.rng, self.actor, self.ctx
        n = self.plan.n_indicators
        if actor is None:
            return rng.sample(ctx.noise_techniques, rng.randrange(2, 6))
        k = max(3, min(18, 3 + n // 5, len(actor.techniques)))
        if self.plan.form == "report":
            k = rng.randrange(0, 5)
        chosen = rng.sample(actor.techniques, min(k, len(actor.techniques)))
        for t in ctx.common_techniques:
            if rng.random() < 0.12 and t not in chosen:
                chosen.append(t)
        return chosen

    def _words(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self.actor is None:
            return NOISE_WORDS, NOISE_TLDS
        if self.plan.false_flag is not None and self.rng.random() < 0.3:
            flag = self.ctx.actors[self.plan.false_flag].profile
            return flag.words, flag.tlds
        return self.actor.profile.words, self.actor.profile.tlds

    def _fresh_domain(self) -> DomainRec:
        prof = self.actor.profile if self.actor else None
        words, tlds = self._words()
        for _ in range(20):
            rec = new_domain(
                self.rng,
                self.ctx.alloc,
                prof.hosting if prof else NOISE_HOSTING,
                prof.registrars if prof else NOISE_REGISTRARS,
                words,
                tlds,
                self.plan.first_seen.isoformat(),
                self.ctx.pools.actor_ns.get(self.actor.index, ()) if self.actor else (),
                prof.ns_style if prof else None,
            )
            if rec.value not in self.ctx.domains:
                self.ctx.domains[rec.value] = rec
                return rec
        return self.ctx.domains[rec.value]  # twenty collisions in a row: reuse the existing record

    def _pick_domain(self) -> tuple[DomainRec, str | None]:
        """A domain for this cluster and, for a domain that changed hands, this owner's IP."""
        rng, pools, plan, actor = self.rng, self.ctx.pools, self.plan, self.actor
        r = rng.random()
        if actor is not None:
            if r < 0.1:
                return rng.choice(pools.actor_domains[actor.index]), None
            if self.use_eco and r < 0.22 and actor.profile.country in pools.eco_domains:
                return rng.choice(pools.eco_domains[actor.profile.country]), None
            year = plan.first_seen.year
            live = [
                rec
                for rec, y0, y1 in pools.recycled_domains.get(actor.index, ())
                if y0 <= year <= y1
            ]
            if live and r > 0.9:
                rec = rng.choice(live)
                ip = self.ctx.alloc.draw(rng, weighted(rng, actor.profile.hosting))
                return rec, ip
        return self._fresh_domain(), None

    def _pick_ip(self) -> str:
        rng, pools, plan, actor = self.rng, self.ctx.pools, self.plan, self.actor
        r = rng.random()
        if actor is None:
            return self.ctx.alloc.draw(rng, weighted(rng, NOISE_HOSTING))
        if r < 0.12:
            return rng.choice(pools.actor_ips[actor.index])
        if self.use_eco and r < 0.24 and actor.profile.country in pools.eco_ips:
            return rng.choice(pools.eco_ips[actor.profile.country])
        year = plan.first_seen.year
        live = [ip for ip, y0, y1 in pools.recycled_ips.get(actor.index, ()) if y0 <= year <= y1]
        if live and r > 0.88:
            return rng.choice(live)
        return self.ctx.alloc.draw(rng, weighted(rng, actor.profile.hosting))

    def _ind_domain(self) -> None:
        used = {d.value for d in self.domains}
        for _ in range(4):  # a reused domain reported twice in one cluster would be one indicator
            rec, extra_ip = self._pick_domain()
            if rec.value not in used:
                break
        did = self.domain_chain(rec)
        if extra_ip:
            self.rel(
                S.REL_RESOLVES_TO,
                did,
                self.ip_chain(extra_ip),
                start_time=iso_day(self.plan.first_seen),
            )
            self.ips.append(extra_ip)
        if self.plan.last_seen.year <= 2023 and self.rng.random() < 0.08:
            self.sinkhole(did)
        self.domains.append(rec)
        self.ips.extend(rec.ips)
        pattern = f"[domain-name:value = {S.pattern_literal(rec.value)}]"
        if self.rng.random() < 0.05:
            pattern = (
                f"[domain-name:value = {S.pattern_literal(rec.value)} AND "
                f"domain-name:resolves_to_refs[*].value = {S.pattern_literal(rec.ips[0])}]"
            )
        iid = self.indicator(pattern, f"Domain {rec.value}", self.plan.first_seen)
        self.rel("indicates", iid, self.campaign_id or self._family_or_none())

    def _ind_ipv4(self) -> None:
        for _ in range(4):
            ip = self._pick_ip()
            if ip not in self.ips:
                break
        oid = self.ip_chain(ip)
        self.ips.append(ip)
        kind = PROVIDERS_BY_KEY.get(self.ctx.alloc.provider_of(ip) or "", None)
        types = "compromised" if kind is not None and kind.kind == "isp" else "malicious-activity"
        iid = self.indicator(
            f"[ipv4-addr:value = {S.pattern_literal(ip)}]", f"IP {ip}", self.plan.first_seen, types
        )
        self.rel("indicates", iid, self.campaign_id or self._family_or_none())
        del oid

    def _ind_x509(self) -> None:
        rng, plan, pools, actor = self.rng, self.plan, self.ctx.pools, self.actor
        certs = actor.profile.certs if actor else {"openssl": 2, "letsencrypt": 2}
        style = weighted(rng, certs)
        year = plan.first_seen.year
        # Only an actor's profile offers "reused"; build_pools always makes the Cobalt Strike one.
        if style == "reused" and actor is not None:
            cert = pools.actor_cert[actor.index]
        elif style == "cobaltstrike" and pools.cobalt_cert is not None:
            cert = pools.cobalt_cert
        elif style == "letsencrypt" and self.domains:
            issuer = [i for y, i in LETS_ENCRYPT_ISSUERS if y <= year][-1]
            cert = values.certificate(rng, f"CN={rng.choice(self.domains).value}", issuer, year, 90)
        elif style == "localhost":
            cert = values.certificate(rng, "CN=localhost", None, year)
        else:
            cert = values.certificate(rng, OPENSSL_DEFAULT_SUBJECT, None, year)
        self.certificates.append(cert)
        cid = self.add(S.x509_sco(cert))
        host = (
            self.domain_chain(rng.choice(self.domains))
            if self.domains and rng.random() < 0.5
            else self.ip_chain(rng.choice(self.ips) if self.ips else self._pick_ip())
        )
        self.rel(S.REL_PRESENTS_CERT, host, cid)
        iid = self.indicator(
            f"[x509-certificate:hashes.'SHA-256' = {S.pattern_literal(cert.sha256)}]",
            f"Certificate {cert.subject}",
            plan.first_seen,
        )
        self.rel("indicates", iid, self.campaign_id or self._family_or_none())

    def _ind_url(self) -> None:
        rng = self.rng
        prof = self.actor.profile if self.actor else None
        if self.domains and rng.random() < 0.75:
            host = rng.choice(self.domains).value
        elif self.ips and rng.random() < 0.5:
            host = rng.choice(self.ips)
        else:
            rec = self._fresh_domain()
            self.domain_chain(rec)
            self.domains.append(rec)
            host = rec.value
        port = rng.choice(prof.ports) if prof else rng.choice((80, 443))
        scheme = "https" if port in (443, 8443) or (port != 80 and rng.random() < 0.5) else "http"
        default = (scheme == "https" and port == 443) or (scheme == "http" and port == 80)
        words = prof.words if prof else NOISE_WORDS
        templates = prof.url_paths if prof else ("/{word}/{hex8}.php", "/{hex16}")
        path = values.url_path(rng, rng.choice(templates), words)
        url = f"{scheme}://{host}{'' if default else f':{port}'}{path}"
        self.add(S.url_sco(url))
        iid = self.indicator(
            f"[url:value = {S.pattern_literal(url)}]", f"URL on {host}", self.plan.first_seen
        )
        self.rel("indicates", iid, self.campaign_id or self._family_or_none())

    def _ind_email(self) -> None:
        rng = self.rng
        prof = self.actor.profile if self.actor else None
        freemail = rng.choice(prof.mail) if prof else rng.choice(("gmail.com", "outlook.com", ""))
        own = rng.choice(self.domains).value if self.domains else None
        addr = values.sender_address(rng, freemail, own, prof.words if prof else NOISE_WORDS)
        self.add(S.email_sco(addr))
        path = "email-addr:value" if rng.random() < 0.7 else "email-message:from_ref.value"
        iid = self.indicator(
            f"[{path} = {S.pattern_literal(addr)}]", f"Phishing sender {addr}", self.plan.first_seen
        )
        self.rel("indicates", iid, self.campaign_id or self._family_or_none())

    def _ind_file(self) -> None:
        rng, pools, plan = self.rng, self.ctx.pools, self.plan
        families = [s for s in self.software] or (
            self.actor.signature if self.actor else self.ctx.noise_software
        )
        family = rng.choice(families)
        if plan.false_flag is not None and rng.random() < 0.5:
            smp = rng.choice(pools.actor_samples[plan.false_flag])
        elif family.stix_id in pools.commodity_samples and rng.random() < 0.6:
            smp = rng.choice(pools.commodity_samples[family.stix_id])
        elif self.actor is not None and rng.random() < 0.15:
            smp = rng.choice(pools.actor_samples[self.actor.index])
        else:
            smp = values.sample(rng, family.stix_id)
        r = rng.random()
        if r < 0.7:
            hashes = {"SHA-256": smp.sha256}
            pattern = f"[file:hashes.'SHA-256' = {S.pattern_literal(smp.sha256)}]"
        elif r < 0.9:
            hashes = {"MD5": smp.md5, "SHA-256": smp.sha256}
            pattern = (
                f"[file:hashes.'SHA-256' = {S.pattern_literal(smp.sha256)} OR "
                f"file:hashes.MD5 = {S.pattern_literal(smp.md5)}]"
            )
        elif r < 0.95:
            hashes = {"SHA-1": smp.sha1}
            pattern = f"[file:hashes.'SHA-1' = {S.pattern_literal(smp.sha1)}]"
        else:
            hashes = {"MD5": smp.md5}
            pattern = f"[file:hashes.MD5 = {S.pattern_literal(smp.md5)}]"
        self.add(S.file_sco(hashes, smp.name))
        iid = self.indicator(pattern, f"Sample {smp.name}", plan.first_seen)
        self.rel("indicates", iid, smp.family_id)
        if self.campaign_id:
            self.rel("indicates", iid, self.campaign_id)

    def _family_or_none(self) -> str:
        # A loose report has no campaign: its network indicators point at the malware seen.
        fams = [s.stix_id for s in self.software if s.stix_id.startswith("malware--")]
        if fams:
            return fams[0]
        if self.actor is not None:
            return self.actor.signature[0].stix_id
        return self.ctx.noise_software[0].stix_id

    def _c2(self) -> list[str]:
        rng, plan = self.rng, self.plan
        out = []
        for j in range(1 if plan.n_indicators < 20 else 2):
            cid = S.sdo_id("infrastructure", f"{plan.key}|c2|{j}")
            self.add(
                S.sdo(
                    "infrastructure",
                    cid,
                    self.created,
                    created_by_ref=self.vendor,
                    name=f"C2 server {j + 1} ({plan.key})",
                    infrastructure_types=["command-and-control"],
                    x_actorgraph_kind="c2_server",
                    first_seen=iso_day(plan.first_seen),
                    last_seen=iso_day(plan.last_seen),
                    object_marking_refs=self.marking,
                )
            )
            members = []
            if self.domains:
                members.append(self.domain_chain(rng.choice(self.domains)))
            if self.ips:
                members.append(self.ip_chain(rng.choice(self.ips)))
            for m in dict.fromkeys(members):
                self.rel(S.REL_CONSISTS_OF, cid, m)
            malware = [s.stix_id for s in self.software if s.stix_id.startswith("malware--")]
            if malware and members:
                self.rel(S.REL_COMMUNICATES_WITH, rng.choice(malware), members[0])
            out.append(cid)
        return out

    def _targets(self) -> list[str]:
        rng = self.rng
        sectors: tuple[str, ...]
        countries: tuple[str, ...]
        if self.actor is None:
            sectors, countries = (
                ("financial-services", "retail", "healthcare"),
                ("US", "GB", "DE", "BR", "IN"),
            )
        else:
            sectors, countries = self.actor.profile.sectors, self.actor.profile.targets
        out = [self.sector(s) for s in rng.sample(sectors, min(len(sectors), rng.randrange(1, 3)))]
        out += [
            self.country(c) for c in rng.sample(countries, min(len(countries), rng.randrange(1, 3)))
        ]
        return out

    def _campaign(self, campaign_id: str, c2_ids: list[str], targets: list[str]) -> None:
        rng, plan = self.rng, self.plan
        adjective, noun = rng.choice(CAMPAIGN_ADJECTIVES), rng.choice(CAMPAIGN_NOUNS)
        name = f"Operation {adjective} {noun} {plan.key[:4].upper()}"
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
                confidence=rng.choice((40, 60, 70, 85)),
                object_marking_refs=self.marking,
            )
        )
        if plan.split == "train" and self.actor is not None:
            self.rel(
                "attributed-to",
                campaign_id,
                self.actor.group.stix_id,
                confidence=rng.choice((60, 70, 80, 90, 95)),
            )
        for obj in self.software + self.techniques:
            self.rel("uses", campaign_id, obj.stix_id)
        for cid in c2_ids:
            self.rel("uses", campaign_id, cid)
        for tid in targets:
            self.rel("targets", campaign_id, tid)

    def _report(self) -> None:
        plan, rng = self.plan, self.rng
        published = min(plan.last_seen + timedelta(days=rng.randrange(3, 90)), date(2026, 11, 15))
        refs = ([self.campaign_id] if self.campaign_id else []) + self.indicator_ids
        if not self.campaign_id:  # a loose report names what it saw directly
            refs += [o.stix_id for o in self.software + self.techniques]
        title = "Activity report" if self.campaign_id else "Indicator bulletin"
        self.add(
            S.sdo(
                "report",
                S.sdo_id("report", plan.key),
                iso_day(published),
                created_by_ref=self.vendor,
                name=f"{title} {plan.key[:6].upper()}",
                report_types=["campaign" if self.campaign_id else "indicator"],
                published=iso_day(published),
                object_refs=refs or [self.vendor],
                description="SYNTHETIC report of the actorgraph demo world.",
                object_marking_refs=self.marking,
            )
        )
