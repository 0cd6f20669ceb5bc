"""MISP's threat-actor galaxy on ATT&CK: countries and synonyms, provenance, ambiguity, conflict."""

from __future__ import annotations

import pytest

from actorgraph.graph.formats.attack import read_attack
from actorgraph.graph.formats.galaxy import Cluster, data_version, match_groups
from actorgraph.graph.formats.rows import IngestBatch

ORIGIN = ("ThreatActor", "ORIGINATES_FROM", "Country")


@pytest.fixture(scope="module")
def attack() -> IngestBatch:
    return read_attack()


def _actor(batch: IngestBatch, name: str) -> tuple[str, dict]:
    return next((a, p) for a, p in batch.nodes["ThreatActor"].items() if p.get("name") == name)


def _origins(batch: IngestBatch, actor_id: str) -> dict[str, dict]:
    return {dst: props for (src, dst), props in batch.edges[ORIGIN].items() if src == actor_id}


def test_apt18_gets_china_from_the_galaxy(attack):
    prov = data_version()
    assert prov.startswith("misp-galaxy@")
    actor_id, apt18 = _actor(attack, "APT18")
    assert (apt18["country"], apt18["country_source"]) == ("CN", prov)
    assert prov in apt18["sources"] and apt18["galaxy_match"] == "attack-id"
    assert "Wekby" in apt18["galaxy_aliases"] and "wekby" in apt18["aliases_lc"]
    edge = _origins(attack, actor_id)["country:CN"]
    assert (edge["country_source"], edge["confidence"]) == (prov, 50)
    assert attack.nodes["Country"]["country:CN"]["name"] == "China"


def test_agreeing_sources_share_one_edge_that_names_both(attack):
    actor_id, apt28 = _actor(attack, "APT28")
    assert apt28["country_source"] == "derived:alias"  # ATT&CK's own data stays the property
    edges = _origins(attack, actor_id)
    assert list(edges) == ["country:RU"]
    assert edges["country:RU"]["country_source"] == "derived:alias"
    assert data_version() in edges["country:RU"]["sources"]


def test_ambiguous_groups_are_reported_and_left_alone(attack):
    # Two galaxy clusters (APT43, Kimsuky) answer to Kimsuky's names and none to its ATT&CK id.
    reason = f"{data_version()}: ambiguous match, not applied"
    assert attack.skipped[reason] > 0
    _, kimsuky = _actor(attack, "Kimsuky")
    assert "galaxy_match" not in kimsuky and "galaxy_aliases" not in kimsuky


def test_no_alias_the_galaxy_adds_belongs_to_two_actors(attack):
    owners: dict[str, set[str]] = {}
    for actor_id, props in attack.nodes["ThreatActor"].items():
        for alias in props.get("aliases_lc") or []:
            owners.setdefault(alias, set()).add(actor_id)
    added = {
        a.lower()
        for props in attack.nodes["ThreatActor"].values()
        for a in props.get("galaxy_aliases") or []
    }
    assert added and all(len(owners[a]) == 1 for a in added)


def _cluster(name: str, *synonyms: str, country: str | None = None, ids=()) -> Cluster:
    return Cluster(name, name, tuple(synonyms), frozenset(ids), country, None)


def test_matching_by_id_then_by_name_never_guesses():
    groups = {
        "g1": {"external_id": "G0001", "name": "Alpha"},
        "g2": {"external_id": "G0002", "name": "Bravo", "aliases": ["Shared"]},
        "g3": {"external_id": "G0003", "name": "Charlie", "aliases": ["Shared"]},
        "g4": {"external_id": "G0004", "name": "Delta"},
        "g5": {"external_id": "G0005", "name": "Echo"},
    }
    clusters = [
        _cluster("Alpha Team", ids={"G0001"}, country="RU"),
        _cluster("Alpha", country="CN"),  # the name alone never beats the id
        _cluster("Shared", country="IR"),  # claimed by two groups' aliases
        _cluster("Delta", country="KP"),
        _cluster("Echo One", "Echo", country="CN"),
        _cluster("Echo Two", "Echo", country="CN"),  # two clusters answer to one name
    ]
    found = match_groups(groups, clusters, "misp-galaxy@test")
    assert {a: (m.how, m.country) for a, m in found.matched.items()} == {
        "g1": ("attack-id", "RU"),
        "g4": ("name", "KP"),
    }
    assert found.ambiguous == {
        "g2": ["Shared"],
        "g3": ["Shared"],
        "g5": ["Echo One", "Echo Two"],
    }
