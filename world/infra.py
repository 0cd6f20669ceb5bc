"""Shared infrastructure of the demo world: hosters, ASNs, registrars, name servers, certificates.

Everything here is a SYNTHETIC layer. Provider names and AS numbers of well-known clouds, CDNs and
VPS hosters are real (so the graph reads naturally: ``AS13335 Cloudflare``), but every IP address
the world puts behind them comes from the shared address space ``100.64.0.0/10`` (RFC 6598) and the
documentation ranges (RFC 5737), so no generated indicator points at a real machine. Bulletproof
hosters are fictional and carry private-use AS numbers (RFC 6996).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# The address space synthetic IPs are drawn from: 1024 blocks of /20 (4,096 addresses each).
SYNTHETIC_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
_BLOCK = 4096
_N_BLOCKS = SYNTHETIC_SPACE.num_addresses // _BLOCK


@dataclass(frozen=True)
class Provider:
    """A hosting provider with one AS number.

    Attributes:
        key: short slug used by actor profiles (``digitalocean``).
        name: the provider's display name.
        asn: its AS number.
        kind: ``cdn``, ``cloud``, ``vps``, ``bulletproof``, ``isp`` or ``sinkhole``.
        weight: how much of the synthetic address space it gets (popularity).
        country: ISO-3166 alpha-2 of its main seat, or None.
    """

    key: str
    name: str
    asn: int
    kind: str
    weight: int
    country: str | None


PROVIDERS: tuple[Provider, ...] = (
    Provider("cloudflare", "Cloudflare, Inc.", 13335, "cdn", 4, "US"),
    Provider("akamai", "Akamai Technologies", 20940, "cdn", 2, "US"),
    Provider("fastly", "Fastly, Inc.", 54113, "cdn", 2, "US"),
    Provider("aws", "Amazon Web Services", 16509, "cloud", 60, "US"),
    Provider("azure", "Microsoft Azure", 8075, "cloud", 40, "US"),
    Provider("gcp", "Google Cloud", 15169, "cloud", 40, "US"),
    Provider("alibaba", "Alibaba Cloud", 45102, "cloud", 30, "CN"),
    Provider("tencent", "Tencent Cloud", 132203, "cloud", 30, "CN"),
    Provider("digitalocean", "DigitalOcean", 14061, "vps", 60, "US"),
    Provider("ovh", "OVH SAS", 16276, "vps", 60, "FR"),
    Provider("hetzner", "Hetzner Online", 24940, "vps", 50, "DE"),
    Provider("vultr", "Vultr (The Constant Company)", 20473, "vps", 50, "US"),
    Provider("linode", "Akamai Connected Cloud (Linode)", 63949, "vps", 40, "US"),
    Provider("contabo", "Contabo GmbH", 51167, "vps", 30, "DE"),
    Provider("m247", "M247 Europe", 9009, "vps", 40, "RO"),
    Provider("leaseweb", "Leaseweb Netherlands", 60781, "vps", 30, "NL"),
    Provider("hostinger", "Hostinger International", 47583, "vps", 25, "LT"),
    Provider("namecheap_hosting", "Namecheap Hosting", 22612, "vps", 25, "US"),
    Provider("quadranet", "QuadraNet Enterprises", 8100, "vps", 20, "US"),
    Provider("colocrossing", "ColoCrossing", 36352, "vps", 20, "US"),
    Provider("selectel", "Selectel", 49505, "vps", 20, "RU"),
    Provider("timeweb", "Timeweb", 9123, "vps", 20, "RU"),
    Provider("beget", "Beget", 198610, "vps", 15, "RU"),
    Provider("chinatelecom", "China Telecom (CHINANET)", 4134, "isp", 30, "CN"),
    Provider("chinaunicom", "China Unicom", 4837, "isp", 20, "CN"),
    Provider("kt", "Korea Telecom", 4766, "isp", 25, "KR"),
    Provider("skb", "SK Broadband", 9318, "isp", 20, "KR"),
    Provider("comcast", "Comcast Cable", 7922, "isp", 30, "US"),
    Provider("charter", "Charter Communications", 20115, "isp", 25, "US"),
    # Fictional bulletproof hosters: private-use ASNs, names invented for the demo.
    Provider(
        "bph_ironvault",
        "IronVault Hosting Ltd (fictional bulletproof)",
        64512,
        "bulletproof",
        25,
        "SC",
    ),
    Provider(
        "bph_nordshield",
        "NordShield Networks (fictional bulletproof)",
        64513,
        "bulletproof",
        20,
        "BZ",
    ),
    Provider(
        "bph_blackfrost",
        "Blackfrost Servers (fictional bulletproof)",
        64514,
        "bulletproof",
        20,
        "SC",
    ),
)
PROVIDERS_BY_KEY = {p.key: p for p in PROVIDERS}

# Sinkholes answer for seized or expired malicious domains of many actors: documentation ranges.
SINKHOLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("sinkhole_alpha", "Research sinkhole Alpha (fictional)", ("192.0.2.10", "192.0.2.11")),
    (
        "sinkhole_bravo",
        "Law-enforcement sinkhole Bravo (fictional)",
        ("198.51.100.53", "198.51.100.54"),
    ),
    ("sinkhole_charlie", "Vendor sinkhole Charlie (fictional)", ("203.0.113.80",)),
)

# Registrars (real names) and the name servers they hand out by default.
REGISTRARS: dict[str, tuple[str, tuple[str, ...]]] = {
    "namecheap": ("NameCheap, Inc.", ("dns1.registrar-servers.com", "dns2.registrar-servers.com")),
    "namesilo": ("NameSilo, LLC", ("ns1.dnsowl.com", "ns2.dnsowl.com", "ns3.dnsowl.com")),
    "godaddy": ("GoDaddy.com, LLC", ("ns01.domaincontrol.com", "ns02.domaincontrol.com")),
    "porkbun": ("Porkbun LLC", ("curitiba.ns.porkbun.com", "fortaleza.ns.porkbun.com")),
    "regru": ("Registrar of Domain Names REG.RU LLC", ("ns1.reg.ru", "ns2.reg.ru")),
    "alibaba": (
        "Alibaba Cloud Computing (Beijing) Co., Ltd.",
        ("dns9.hichina.com", "dns10.hichina.com"),
    ),
    "gname": ("Gname.com Pte. Ltd.", ("ns1.gname-dns.com", "ns2.gname-dns.com")),
    "dynadot": ("Dynadot Inc", ("ns1.dyna-ns.net", "ns2.dyna-ns.net")),
    "tucows": ("Tucows Domains Inc.", ("ns1.systemdns.com", "ns2.systemdns.com")),
    "pdr": (
        "PDR Ltd. d/b/a PublicDomainRegistry.com",
        ("ns1.md-in-64.webhostbox.net", "ns2.md-in-64.webhostbox.net"),
    ),
    "njalla": ("Njalla (1337 Services LLC)", ("1-you.njalla.no", "2-can.njalla.in")),
    "nicenic": ("NICENIC INTERNATIONAL GROUP CO., LIMITED", ("ns1.nicenic.net", "ns2.nicenic.net")),
}

# Cloudflare hands every zone a pair of its name servers: a shared, low-signal hub.
CLOUDFLARE_NS = tuple(
    f"{n}.ns.cloudflare.com"
    for n in (
        "adam",
        "bella",
        "chad",
        "dana",
        "elma",
        "fred",
        "gina",
        "hugo",
        "iris",
        "josh",
        "kara",
        "lars",
    )
)

# Certificate subjects seen across many unrelated operators (low signal on purpose).
OPENSSL_DEFAULT_SUBJECT = "C=AU, ST=Some-State, O=Internet Widgits Pty Ltd"
COBALT_STRIKE_DEFAULT_SUBJECT = (
    "C=Earth, ST=Cyberspace, L=Somewhere, O=cobaltstrike, OU=AdvancedPenTesting, "
    "CN=Major Cobalt Strike"
)
LETS_ENCRYPT_ISSUERS = (
    (2018, "C=US, O=Let's Encrypt, CN=Let's Encrypt Authority X3"),
    (2021, "C=US, O=Let's Encrypt, CN=R3"),
    (2024, "C=US, O=Let's Encrypt, CN=R10"),
)


def provider_blocks() -> dict[str, list[int]]:
    """Split the synthetic /10 into /20 blocks per provider, in proportion to its weight.

    Returns:
        provider key -> list of block start addresses (as integers). Deterministic.
    """
    hosting = [p for p in PROVIDERS if p.kind != "sinkhole"]
    total = sum(p.weight for p in hosting)
    base = int(SYNTHETIC_SPACE.network_address)
    out: dict[str, list[int]] = {}
    cursor = 0
    for p in hosting:
        n = max(1, p.weight * _N_BLOCKS // total)
        out[p.key] = [base + (cursor + i) * _BLOCK for i in range(n)]
        cursor += n
    if cursor > _N_BLOCKS:
        raise AssertionError(
            f"provider blocks overflow the synthetic space ({cursor} > {_N_BLOCKS})"
        )
    return out


def int_to_ip(value: int) -> str:
    """Dotted-quad text of an IPv4 address given as an integer."""
    return f"{value >> 24 & 255}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"
