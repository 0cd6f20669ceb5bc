"""Countries: ISO-3166 codes and names, and the origin of an actor derived from its text.

ATT&CK records no country for its groups, but two things in its data say it often enough:
Microsoft's weather-family names among the aliases (``Forest Blizzard`` = Russia) and the
first sentence of the description (``attributed to Russia's GRU``, ``a Chinese threat
group``). :func:`derive_country` reads both and says which one it used, so a derived origin
is never mistaken for a reported one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# ISO 3166-1 alpha-2 (from the public-domain tz database iso3166.tab, a few names shortened).
_TABLE = (
    "AD=Andorra|AE=United Arab Emirates|AF=Afghanistan|AG=Antigua & Barbuda|AI=Anguilla|"
    "AL=Albania|AM=Armenia|AO=Angola|AQ=Antarctica|AR=Argentina|AS=Samoa (American)|"
    "AT=Austria|AU=Australia|AW=Aruba|AX=Åland Islands|AZ=Azerbaijan|BA=Bosnia & Herzegovina|"
    "BB=Barbados|BD=Bangladesh|BE=Belgium|BF=Burkina Faso|BG=Bulgaria|BH=Bahrain|BI=Burundi|"
    "BJ=Benin|BL=St Barthelemy|BM=Bermuda|BN=Brunei|BO=Bolivia|BQ=Caribbean NL|BR=Brazil|"
    "BS=Bahamas|BT=Bhutan|BV=Bouvet Island|BW=Botswana|BY=Belarus|BZ=Belize|CA=Canada|"
    "CC=Cocos (Keeling) Islands|CD=Congo (Democratic Republic)|CF=Central African Rep.|"
    "CG=Congo (Republic)|CH=Switzerland|CI=Côte d’Ivoire|CK=Cook Islands|CL=Chile|CM=Cameroon|"
    "CN=China|CO=Colombia|CR=Costa Rica|CU=Cuba|CV=Cape Verde|CW=Curaçao|CX=Christmas Island|"
    "CY=Cyprus|CZ=Czech Republic|DE=Germany|DJ=Djibouti|DK=Denmark|DM=Dominica|"
    "DO=Dominican Republic|DZ=Algeria|EC=Ecuador|EE=Estonia|EG=Egypt|EH=Western Sahara|"
    "ER=Eritrea|ES=Spain|ET=Ethiopia|FI=Finland|FJ=Fiji|FK=Falkland Islands|FM=Micronesia|"
    "FO=Faroe Islands|FR=France|GA=Gabon|GB=United Kingdom|GD=Grenada|GE=Georgia|"
    "GF=French Guiana|GG=Guernsey|GH=Ghana|GI=Gibraltar|GL=Greenland|GM=Gambia|GN=Guinea|"
    "GP=Guadeloupe|GQ=Equatorial Guinea|GR=Greece|"
    "GS=South Georgia & the South Sandwich Islands|GT=Guatemala|GU=Guam|GW=Guinea-Bissau|"
    "GY=Guyana|HK=Hong Kong|HM=Heard Island & McDonald Islands|HN=Honduras|HR=Croatia|"
    "HT=Haiti|HU=Hungary|ID=Indonesia|IE=Ireland|IL=Israel|IM=Isle of Man|IN=India|"
    "IO=British Indian Ocean Territory|IQ=Iraq|IR=Iran|IS=Iceland|IT=Italy|JE=Jersey|"
    "JM=Jamaica|JO=Jordan|JP=Japan|KE=Kenya|KG=Kyrgyzstan|KH=Cambodia|KI=Kiribati|KM=Comoros|"
    "KN=St Kitts & Nevis|KP=North Korea|KR=South Korea|KW=Kuwait|KY=Cayman Islands|"
    "KZ=Kazakhstan|LA=Laos|LB=Lebanon|LC=St Lucia|LI=Liechtenstein|LK=Sri Lanka|LR=Liberia|"
    "LS=Lesotho|LT=Lithuania|LU=Luxembourg|LV=Latvia|LY=Libya|MA=Morocco|MC=Monaco|MD=Moldova|"
    "ME=Montenegro|MF=St Martin (French)|MG=Madagascar|MH=Marshall Islands|MK=North Macedonia|"
    "ML=Mali|MM=Myanmar|MN=Mongolia|MO=Macau|MP=Northern Mariana Islands|MQ=Martinique|"
    "MR=Mauritania|MS=Montserrat|MT=Malta|MU=Mauritius|MV=Maldives|MW=Malawi|MX=Mexico|"
    "MY=Malaysia|MZ=Mozambique|NA=Namibia|NC=New Caledonia|NE=Niger|NF=Norfolk Island|"
    "NG=Nigeria|NI=Nicaragua|NL=Netherlands|NO=Norway|NP=Nepal|NR=Nauru|NU=Niue|"
    "NZ=New Zealand|OM=Oman|PA=Panama|PE=Peru|PF=French Polynesia|PG=Papua New Guinea|"
    "PH=Philippines|PK=Pakistan|PL=Poland|PM=St Pierre & Miquelon|PN=Pitcairn|PR=Puerto Rico|"
    "PS=Palestine|PT=Portugal|PW=Palau|PY=Paraguay|QA=Qatar|RE=Réunion|RO=Romania|RS=Serbia|"
    "RU=Russia|RW=Rwanda|SA=Saudi Arabia|SB=Solomon Islands|SC=Seychelles|SD=Sudan|SE=Sweden|"
    "SG=Singapore|SH=St Helena|SI=Slovenia|SJ=Svalbard & Jan Mayen|SK=Slovakia|"
    "SL=Sierra Leone|SM=San Marino|SN=Senegal|SO=Somalia|SR=Suriname|SS=South Sudan|"
    "ST=Sao Tome & Principe|SV=El Salvador|SX=St Maarten (Dutch)|SY=Syria|"
    "SZ=Eswatini (Swaziland)|TC=Turks & Caicos Is|TD=Chad|TF=French S. Terr.|TG=Togo|"
    "TH=Thailand|TJ=Tajikistan|TK=Tokelau|TL=East Timor|TM=Turkmenistan|TN=Tunisia|TO=Tonga|"
    "TR=Türkiye|TT=Trinidad & Tobago|TV=Tuvalu|TW=Taiwan|TZ=Tanzania|UA=Ukraine|UG=Uganda|"
    "UM=US minor outlying islands|US=United States|UY=Uruguay|UZ=Uzbekistan|VA=Vatican City|"
    "VC=St Vincent|VE=Venezuela|VG=Virgin Islands (UK)|VI=Virgin Islands (US)|VN=Vietnam|"
    "VU=Vanuatu|WF=Wallis & Futuna|WS=Samoa (western)|YE=Yemen|YT=Mayotte|ZA=South Africa|"
    "ZM=Zambia|ZW=Zimbabwe|"
)
COUNTRIES: dict[str, str] = dict(item.split("=", 1) for item in _TABLE.split("|") if item)

# Other spellings of a country seen in threat-intel data.
_NAME_ALIASES = {
    "russian federation": "RU",
    "usa": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "iran, islamic republic of": "IR",
    "korea, democratic people's republic of": "KP",
    "dprk": "KP",
    "korea, republic of": "KR",
    "turkey": "TR",
    "viet nam": "VN",
    "prc": "CN",
    "people's republic of china": "CN",
    "syrian arab republic": "SY",
    "burma": "MM",
}

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
    return COUNTRIES.get(code.upper(), code.upper())


def country_code(name_or_code: str | None) -> str | None:
    """ISO-3166 alpha-2 code for a code or country name; ``None`` when unknown."""
    if not name_or_code:
        return None
    text = name_or_code.strip()
    if len(text) == 2 and text.upper() in COUNTRIES:
        return text.upper()
    lowered = text.lower()
    if lowered in _NAME_ALIASES:
        return _NAME_ALIASES[lowered]
    for code, name in COUNTRIES.items():
        if name.lower() == lowered:
            return code
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
