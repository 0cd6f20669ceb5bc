"""Targeted sectors: names as sources write them -> ``Sector`` node slugs.

Sector nodes are ``sector:<slug>``, the slug a value of STIX 2.1's industry-sector vocabulary
(``government-national``, ``defense``, ``telecommunications``...) where one fits, as the STIX
reader and the demo world write them. MISP's galaxy names sectors in its own words
(``Government, Administration``, ``Telecoms``, ``High tech``): :func:`sector_slug` maps those
to the vocabulary, so that a galaxy's ``Telecoms`` and a STIX identity's ``telecommunications``
are one node. A name the vocabulary has no value for keeps a slug of its own (``diplomacy``);
words that name no sector (``Private sector``, ``Other``) give None.
"""

from __future__ import annotations

import re

__all__ = ["sector_name", "sector_slug"]

# Lower-cased source name -> STIX 2.1 industry-sector-ov value.
_VOCABULARY = {
    "government": "government-national",
    "government, administration": "government-national",
    "government administration": "government-national",
    "military": "defense",
    "defense": "defense",
    "defence": "defense",
    "defense industrial base": "defense",
    "education": "education",
    "universities": "education",
    "academia - university": "education",
    "energy": "energy",
    "electric": "energy",
    "gas": "energy",
    "oil": "energy",
    "healthcare": "healthcare",
    "health": "healthcare",
    "medical": "healthcare",
    "pharmaceuticals": "pharmaceuticals",
    "pharmacy": "pharmaceuticals",
    "finance": "financial-services",
    "financial": "financial-services",
    "bank": "financial-services",
    "payment": "financial-services",
    "investment": "financial-services",
    "high-tech": "technology",
    "high tech": "technology",
    "technology": "technology",
    "information technology": "technology",
    "telecommunications": "telecommunications",
    "telecoms": "telecommunications",
    "telecomms": "telecommunications",
    "transportation": "transportation",
    "transportation systems": "transportation",
    "rail": "transportation",
    "logistics": "transportation",
    "maritime": "transportation",
    "aerospace": "aerospace",
    "space": "aerospace",
    "manufacturing": "manufacturing",
    "critical manufacturing": "manufacturing",
    "industrial": "manufacturing",
    "chemical": "chemical",
    "mining": "mining",
    "retail": "retail",
    "automotive": "automotive",
    "hospitality": "hospitality-leisure",
    "entertainment": "entertainment",
    "media": "media",
    "news - media": "media",
    "media and entertainment": "media",
    "ngos": "non-profit",
    "non-profit organisation": "non-profit",
    "civil society": "non-profit",
    "think tanks": "non-profit",
    "infrastructure": "infrastructure",
}
# Words sources use in sector lists that name no sector.
_NOT_SECTORS = {"private sector", "other", "country", "business"}


def sector_slug(name: object) -> str | None:
    """The ``Sector`` slug of a sector name (``"Telecoms"`` -> ``"telecommunications"``);
    None for no name or one that names no sector."""
    if not isinstance(name, str):
        return None
    key = " ".join(name.split()).lower()
    if not key or key in _NOT_SECTORS:
        return None
    if key in _VOCABULARY:
        return _VOCABULARY[key]
    slug = re.sub(r"[^a-z0-9]+", "-", key).strip("-")
    return slug or None


def sector_name(slug: str) -> str:
    """The display name of a slug, as the STIX reader writes it (``"government national"``)."""
    return slug.replace("-", " ")
