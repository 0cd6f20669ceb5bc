"""Country names and codes through pycountry, with the aliases threat intelligence uses."""

from __future__ import annotations

import pytest

from actorgraph.graph.formats.countries import (
    countries,
    country_code,
    country_data_version,
    country_name,
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("RU", "RU"),
        ("ru", "RU"),
        ("RUS", "RU"),  # alpha-3
        ("Russian Federation", "RU"),  # ISO name
        ("Russia", "RU"),  # alias
        ("DPRK", "KP"),
        ("North Korea", "KP"),
        ("Korea (Democratic People's Republic of)", "KP"),  # the UN's spelling
        ("Iran (Islamic Republic of)", "IR"),
        ("Iran, Islamic Republic of", "IR"),
        ("Islamic Republic of Iran", "IR"),  # ISO official name
        ("People's Republic of China", "CN"),
        ("PRC", "CN"),
        ("  united   kingdom ", "GB"),
        ("UK", "GB"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
    ],
)
def test_country_code_reads_iso_names_codes_and_aliases(text, code):
    assert country_code(text) == code


@pytest.mark.parametrize("text", ["Atlantis", "", None, "XX", "Unknown"])
def test_country_code_is_none_for_what_names_no_country(text):
    assert country_code(text) is None


def test_country_names_are_the_ones_analysts_use():
    assert [country_name(c) for c in ("RU", "CN", "KP", "IR", "kr")] == [
        "Russia",
        "China",
        "North Korea",
        "Iran",
        "South Korea",
    ]
    assert country_name("XX") == "XX"
    assert len(countries()) >= 249 and countries()["FR"] == "France"
    assert country_data_version().startswith("pycountry@")
