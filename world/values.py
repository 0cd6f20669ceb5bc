"""Synthetic indicator values: domain names, URLs, sender addresses, file samples, certificates.

Values are valid indicators (real top-level domains, hex hashes of the right length) but made
up: domain names mix an actor's theme words with random syllables so they rarely collide with
registered names, and IPs come from reserved ranges (see ``infra``).
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "zu",
    "ter",
    "vex",
    "nor",
    "pla",
    "qui",
    "dro",
    "fen",
    "gal",
    "hix",
    "jor",
    "kel",
    "lum",
    "mar",
    "nex",
    "ost",
    "pry",
    "rav",
    "sol",
    "tav",
    "ulm",
    "vor",
    "wex",
    "yal",
    "zen",
    "bri",
    "cor",
)
_FIRST = (
    "john",
    "anna",
    "david",
    "maria",
    "james",
    "elena",
    "li",
    "min",
    "omar",
    "sara",
    "alex",
    "nina",
)
_LAST = (
    "smith",
    "kim",
    "lee",
    "wang",
    "novak",
    "schmidt",
    "rossi",
    "cohen",
    "ali",
    "park",
    "brown",
    "jones",
)
_FILE_STEMS = (
    "update",
    "invoice",
    "setup",
    "report",
    "svchost",
    "msedge_helper",
    "agent",
    "loader",
    "doc",
    "install",
)
_FILE_EXT = ("exe", "dll", "docm", "lnk", "js", "hta", "iso", "zip", "ps1", "elf")


def domain_name(rng: Random, words: tuple[str, ...], tlds: tuple[str, ...]) -> str:
    """A made-up domain in an actor's naming theme: ``nato-securemail-vexor.info``."""
    style = rng.random()
    w1, w2 = rng.choice(words), rng.choice(words)
    syl = rng.choice(_SYLLABLES) + rng.choice(_SYLLABLES)
    if style < 0.35:
        label = f"{w1}-{w2}-{syl}" if w1 != w2 else f"{w1}-{syl}"
    elif style < 0.6:
        label = f"{w1}{syl}{rng.randrange(10, 999)}"
    elif style < 0.85:
        label = f"{syl}-{w1}"
    else:
        label = f"{w1}{w2}{rng.choice(_SYLLABLES)}{rng.randrange(1, 99)}"
    name = f"{label[:60].strip('-')}.{rng.choice(tlds)}"
    if rng.random() < 0.2:  # a host under the registered name, as C2 often is
        name = f"{rng.choice(('api', 'cdn', 'mail', 'update', 'static', 'www', 'login'))}.{name}"
    return name


def url_path(rng: Random, template: str, words: tuple[str, ...]) -> str:
    """Fill a URL path template: ``{hex8}``, ``{hex16}``, ``{word}``, ``{n}``."""
    out = template
    while "{word}" in out:
        out = out.replace("{word}", rng.choice(words), 1)
    while "{hex8}" in out:
        out = out.replace("{hex8}", f"{rng.getrandbits(32):08x}", 1)
    while "{hex16}" in out:
        out = out.replace("{hex16}", f"{rng.getrandbits(64):016x}", 1)
    while "{n}" in out:
        out = out.replace("{n}", str(rng.randrange(1, 999)), 1)
    return out


def sender_address(
    rng: Random, freemail: str, own_domain: str | None, words: tuple[str, ...]
) -> str:
    """A phishing sender: a made-up freemail account or a role account on the actor's domain."""
    if freemail or not own_domain:
        local = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}{rng.randrange(10, 9999)}"
        return f"{local}@{freemail or 'gmail.com'}"
    role = rng.choice(("noreply", "security", "hr", "admin", "support", "info", rng.choice(words)))
    return f"{role}@{own_domain.split('.', 1)[1] if own_domain.count('.') > 1 else own_domain}"


@dataclass(frozen=True)
class Sample:
    """A malware or tool sample: three hashes, a file name, the ATT&CK family it belongs to."""

    md5: str
    sha1: str
    sha256: str
    name: str
    family_id: str


def sample(rng: Random, family_id: str) -> Sample:
    """A new sample of ``family_id`` with random (valid-looking) hashes."""
    return Sample(
        f"{rng.getrandbits(128):032x}",
        f"{rng.getrandbits(160):040x}",
        f"{rng.getrandbits(256):064x}",
        f"{rng.choice(_FILE_STEMS)}.{rng.choice(_FILE_EXT)}",
        family_id,
    )


@dataclass(frozen=True)
class Certificate:
    """An X.509 certificate as the world needs it."""

    sha256: str
    sha1: str
    serial: str
    subject: str
    issuer: str
    not_before: str
    not_after: str
    self_signed: bool


def certificate(
    rng: Random, subject: str, issuer: str | None, year: int, days: int = 365
) -> Certificate:
    """A certificate valid from a day in ``year``; self-signed when ``issuer`` is None."""
    month, day = rng.randrange(1, 13), rng.randrange(1, 29)
    end_year = year + max(1, days // 365) if days >= 365 else year + (1 if month > 9 else 0)
    end_month = month if days >= 365 else (month + 2) % 12 + 1
    return Certificate(
        f"{rng.getrandbits(256):064x}",
        f"{rng.getrandbits(160):040x}",
        ":".join(f"{b:02x}" for b in rng.getrandbits(64).to_bytes(8, "big")),
        subject,
        issuer or subject,
        f"{year:04d}-{month:02d}-{day:02d}T00:00:00Z",
        f"{end_year:04d}-{end_month:02d}-{day:02d}T00:00:00Z",
        issuer is None,
    )
