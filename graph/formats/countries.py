"""Countries: ISO-3166 codes and names (``pycountry``), and an actor's origin derived from text.

ATT&CK records no country for its groups, but two things in its data say it often enough:
Microsoft's weather-family names among the aliases (``Forest Blizzard`` = Russia) and the
first sentence of the description (``attributed to Russia's GRU``, ``a Chinese threat
group``). :func:`derive_country` reads both and says which one it used, so a derived origin
is never mistaken for a reported one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from actorgraph.graph.errors import ValidationError

# What analysts call a country where ISO 3166's English name is long or formal.
_DISPLAY = {
    "RU": "Russia",
    "BN": "Brunei",
    "CD": "DR Congo",
    "MO": "Macau",
    "PS": "Palestine",
    "VA": "Vatican City",
}

# Spellings seen in threat-intel data that ISO 3166 (names, official and common names, alpha-2
# and alpha-3 codes) does not give.
_NAME_ALIASES = {
    "russia": "RU",
    "dprk": "KP",
    "north korea": "KP",
    "south korea": "KR",
    "republic of korea": "KR",
    "rok": "KR",
    "prc": "CN",
    "mainland china": "CN",
    "usa": "US",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "uae": "AE",
    "turkey": "TR",
    "burma": "MM",
    "ivory coast": "CI",
    "macedonia": "MK",
    "swaziland": "SZ",
    "east timor": "TL",
    "cape verde": "CV",
    "vatican": "VA",
    "palestine": "PS",
    "holland": "NL",
    "brunei": "BN",
    "macau": "MO",
}

# "Iran (Islamic Republic of)": the United Nations' spelling of ISO's "Iran, Islamic Republic of".
_UN_STYLE = re.compile(r"^(.+?)\s*\((.+)\)$")


@cache
def _country_index() -> tuple[dict[str, str], dict[str, str]]:
    """(alpha-2 -> display name, lower-cased name or code -> alpha-2), built on first use."""
    import pycountry

    names: dict[str, str] = {}
    lookup: dict[str, str] = {}
    for c in pycountry.countries:
        code = c.alpha_2
        names[code] = _DISPLAY.get(code) or getattr(c, "common_name", None) or c.name
        for spelling in (
            c.alpha_2,
            c.alpha_3,
            c.name,
            getattr(c, "official_name", None),
            getattr(c, "common_name", None),
        ):
            if spelling:
                lookup.setdefault(spelling.lower(), code)
    for spelling, code in _NAME_ALIASES.items():
        lookup.setdefault(spelling, code)
    return names, lookup


def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English name, from ``pycountry``."""
    return dict(_country_index()[0])


def country_data_version() -> str:
    """``pycountry@<version>``: the ISO 3166 data the names and codes come from."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"pycountry@{version('pycountry')}"
    except PackageNotFoundError as exc:
        raise ValidationError("the pycountry package is not installed") from exc


# Microsoft's threat-actor naming (2023): the family word says the origin. Tempest
# (financially motivated), Tsunami (private-sector offensive actors), Flood (influence
# operations) and Storm (groups in development) say nothing about a country.
WEATHER_FAMILIES = {
    "blizzard": "RU",
    "typhoon": "CN",
    "sandstorm": "IR",
    "sleet": "KP",
    "hail": "KR",
    "dust": "TR",
    "cyclone": "VN",
    "rain": "LB",
}

# Words that name a country in descriptions -> ISO code. Order matters: longer first.
_TERMS: list[tuple[str, str]] = [
    (r"People['’]s Republic of China(?:\s*\(PRC\))?", "CN"),
    (r"People['’]s Liberation Army", "CN"),
    (r"North Korean?", "KP"),
    (r"DPRK", "KP"),
    (r"South Korean?", "KR"),
    (r"Russian?", "RU"),
    (r"Chinese|China|PRC", "CN"),
    (r"Iranian|Iran", "IR"),
    (r"Vietnamese|Vietnam", "VN"),
    (r"Pakistani|Pakistan", "PK"),
    (r"Indian|India", "IN"),
    (r"Lebanese|Lebanon", "LB"),
    (r"Turkish|Türkiye|Turkey", "TR"),
    (r"Belarusian|Belarus", "BY"),
    (r"Brazilian|Brazil", "BR"),
    (r"Nigerian|Nigeria", "NG"),
    (r"Palestinian|Gaza", "PS"),
    (r"Syrian|Syria", "SY"),
    (r"Emirati", "AE"),
    (r"Ukrainian|Ukraine", "UA"),
]
_TERM = "|".join(f"(?:{t})" for t, _ in _TERMS)
_TERM_CODES = [(re.compile(rf"^(?:{t})$"), code) for t, code in _TERMS]

# Contexts in which a country word names the actor's origin (not its victims).
_ORIGIN_CONTEXTS = [
    # "attributed to Russia's GRU", "attributed to Iranian actors",
    # "attributed to actors operating out of China", "attributed to the Chinese PLA"
    re.compile(
        rf"attributed to (?:the )?(?:actors (?:operating|based) (?:out of|in|from) )?({_TERM})"
    ),
    # "China-based", "Türkiye-linked", "North Korea–aligned", "Iranian-sponsored"
    re.compile(
        rf"({_TERM})[-–— ](?:based|linked|nexus|aligned|sponsored|backed|affiliated|related|"
        r"speaking|state[- ]sponsored|state[- ]backed|government)"
    ),
    # "a suspected Chinese cyber espionage group", "with Chinese origins"
    re.compile(
        rf"({_TERM})\s+(?:state[- ]sponsored\s+|cyber\s*|espionage\s+|criminal\s+|threat\s+|"
        r"intelligence\s+|military\s+)*(?:group|actor|actors|APT|entity|origins|nexus|"
        r"government|hackers?|operators|intelligence|military|Ministry)\b"
    ),
    # "operate out of China", "likely based in Brazil", "originating in Russia"
    re.compile(
        rf"(?:operat\w* (?:out of|from)|based in|originating (?:in|from)|located in) "
        rf"(?:the )?({_TERM})"
    ),
    # "Russia's Federal Security Service", "China's Ministry of State Security"
    re.compile(
        rf"({_TERM})['’]s (?:\w+ ){{0,4}}(?:Intelligence|Security|Army|Ministry|"
        r"Directorate|GRU|FSB|SVR|military|government|Revolutionary|Service)"
    ),
]
_VICTIM_CONTEXT = re.compile(r"target\w*|victims?|against", re.IGNORECASE)


def country_name(code: str) -> str:
    """The English name of an ISO-3166 alpha-2 code (the code itself when unknown)."""
    return _country_index()[0].get(code.upper(), code.upper())


def country_code(name_or_code: str | None) -> str | None:
    """ISO-3166 alpha-2 code for a code (alpha-2 or alpha-3) or a country name; ``None`` when
    unknown. Names are ISO's (short, official, common), the United Nations' parenthesised form
    (``Iran (Islamic Republic of)``) and a few aliases (``DPRK``, ``Russia``, ``UK``)."""
    if not name_or_code:
        return None
    text = " ".join(name_or_code.strip().split()).replace("’", "'").lower()
    lookup = _country_index()[1]
    if text in lookup:
        return lookup[text]
    if m := _UN_STYLE.match(text):
        return lookup.get(f"{m.group(1)}, {m.group(2)}")
    return None


def country_from_aliases(aliases: Iterable[str]) -> str | None:
    """The origin Microsoft's weather-family name among ``aliases`` says, if any."""
    for alias in aliases:
        words = alias.strip().split()
        if len(words) >= 2 and words[-1].lower() in WEATHER_FAMILIES:
            return WEATHER_FAMILIES[words[-1].lower()]
    return None


def country_from_description(description: str | None) -> str | None:
    """The origin an attribution sentence of an ATT&CK-style description states, if any.

    Only phrases that attribute (``attributed to``, ``China-based``, ``a Chinese threat
    group``, ``Russia's GRU``) count; country words about victims (``targeted Japanese
    organizations``) do not. The earliest attributing phrase wins.
    """
    if not description:
        return None
    best: tuple[int, str] | None = None
    for pattern in _ORIGIN_CONTEXTS:
        for match in pattern.finditer(description):
            start = match.start(1)
            clause_start = max(description.rfind(".", 0, start), description.rfind(";", 0, start))
            before = description[max(clause_start + 1, start - 40) : start]
            if _VICTIM_CONTEXT.search(before):
                continue
            code = _term_code(match.group(1))
            if code and (best is None or match.start() < best[0]):
                best = (match.start(), code)
            break
    return best[1] if best else None


def derive_country(
    aliases: Iterable[str], description: str | None
) -> tuple[str, str] | tuple[None, None]:
    """``(code, country_source)`` from aliases first, then the description, else Nones."""
    code = country_from_aliases(aliases)
    if code:
        return code, "derived:alias"
    code = country_from_description(description)
    if code:
        return code, "derived:description"
    return None, None


def _term_code(term: str) -> str | None:
    for pattern, code in _TERM_CODES:
        if pattern.match(term):
            return code
    return None
