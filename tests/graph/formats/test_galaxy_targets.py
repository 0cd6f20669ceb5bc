"""MISP's threat-actor galaxy on ATT&CK: the sectors and countries a group targets."""

from __future__ import annotations

import pytest

from actorgraph.graph.formats.attack import read_attack
from actorgraph.graph.formats.galaxy import data_version
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.formats.sectors import sector_slug

TARGETS_SECTOR = ("ThreatActor", "TARGETS", "Sector")
TARGETS_COUNTRY = ("ThreatActor", "TARGETS", "Country")


@pytest.fixture(scope="module")
def attack() -> IngestBatch:
    return read_attack()


def _targets(batch: IngestBatch, name: str) -> tuple[dict[str, dict], dict[str, dict]]:
    actor_id = next(a for a, p in batch.nodes["ThreatActor"].items() if p.get("name") == name)
    sectors = {d: p for (s, d), p in batch.edges[TARGETS_SECTOR].items() if s == actor_id}
    countries = {d: p for (s, d), p in batch.edges[TARGETS_COUNTRY].items() if s == actor_id}
    return sectors, countries


def test_apt18_targets_from_the_galaxy(attack):
    sectors, countries = _targets(attack, "APT18")
    # cfr-target-category: Government, Private sector, Civil society; targeted-sector:
    # Aerospace, Defense, Health, High tech, Telecoms ("Private sector" names no sector).
    assert set(sectors) == {
        "sector:government-national",
        "sector:non-profit",
        "sector:aerospace",
        "sector:defense",
        "sector:healthcare",
        "sector:technology",
        "sector:telecommunications",
    }
    assert set(countries) == {"country:US"}  # cfr-suspected-victims: United States
    prov = data_version()
    assert {p["sources"][0] for p in [*sectors.values(), *countries.values()]} == {prov}
    assert attack.nodes["Sector"]["sector:telecommunications"]["name"] == "telecommunications"


def test_apt28_victims_are_countries_not_organisations(attack):
    sectors, countries = _targets(attack, "APT28")
    assert {"sector:government-national", "sector:defense"} <= set(sectors)
    assert {"country:UA", "country:GE", "country:US", "country:DE"} <= set(countries)
    # NATO, OSCE, the World Anti-Doping Agency... are victims, not countries.
    assert all(c.startswith("country:") and len(c) == len("country:XX") for c in countries)
    assert attack.nodes["Country"]["country:GE"]["name"] == "Georgia"


def test_ambiguous_groups_get_no_targets(attack):
    sectors, countries = _targets(attack, "Kimsuky")  # two clusters answer to its names
    assert not sectors and not countries


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Government, Administration", "government-national"),
        ("Telecoms", "telecommunications"),
        ("High tech", "technology"),
        ("Military", "defense"),
        ("Diplomacy", "diplomacy"),
        ("Private sector", None),
        ("  ", None),
        (None, None),
    ],
)
def test_sector_names_map_to_the_stix_vocabulary(name, slug):
    assert sector_slug(name) == slug
