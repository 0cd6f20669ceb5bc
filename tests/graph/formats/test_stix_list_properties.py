"""A string where STIX 2.1 requires a list refuses the bundle, naming object and property.

Read as a list, ``"aliases": "abc"`` became the aliases a, b, c and ``"sectors": "energy"`` the
sectors e, n, r, g, y. Covers the list table of graph/formats/stix_validate.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from actorgraph.graph.errors import StixIngestError
from actorgraph.graph.formats.stix_reader import read_stix
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.tlp import TLP
from tests.helpers.stix import bundle, object_with, sdo

ACTOR = sdo("intrusion-set", 1, name="Quiet Group")


@pytest.mark.parametrize(
    ("stix_type", "prop"),
    [
        ("intrusion-set", "aliases"),
        ("intrusion-set", "goals"),
        ("threat-actor", "aliases"),
        ("campaign", "aliases"),
        ("malware", "aliases"),
        ("malware", "x_mitre_aliases"),
        ("malware", "malware_types"),
        ("malware", "x_mitre_platforms"),
        ("tool", "tool_types"),
        ("tool", "kill_chain_phases"),
        ("attack-pattern", "kill_chain_phases"),
        ("attack-pattern", "x_mitre_platforms"),
        ("infrastructure", "infrastructure_types"),
        ("identity", "sectors"),
        ("indicator", "indicator_types"),
        ("indicator", "labels"),
        ("report", "object_refs"),
        ("report", "external_references"),
        ("campaign", "object_marking_refs"),
        ("domain-name", "resolves_to_refs"),
    ],
)
def test_a_string_for_a_list_property_refuses_the_bundle(stix_type: str, prop: str) -> None:
    bad = object_with(stix_type, prop, "abc")
    with pytest.raises(StixIngestError, match=f"{prop} is not a list \\(got str 'abc'\\)") as info:
        read_stix(bundle(ACTOR, bad), source="in.json")
    assert info.value.object_id == bad["id"]


@pytest.mark.parametrize("value", [{"name": "abc"}, 7, None, True])
def test_any_other_non_list_is_refused_too(value: Any) -> None:
    with pytest.raises(StixIngestError, match="aliases is not a list"):
        read_stix(bundle(object_with("intrusion-set", "aliases", value)))


def test_lists_are_read_as_before() -> None:
    actor = object_with("intrusion-set", "aliases", ["abc"])
    identity = object_with("identity", "sectors", ["energy"])
    batch = read_stix(bundle(actor, identity))
    assert batch.nodes["ThreatActor"][actor["id"]]["aliases"] == ["abc"]
    assert set(batch.nodes["Sector"]) == {"sector:energy"}


def test_the_issue_examples_write_nothing(store) -> None:
    """``aliases: "abc"`` and ``sectors: "energy"``: the whole bundle is refused, as for any
    bundle error, so neither the good actor nor the Sector nodes e, n, r, g, y are written."""
    good = sdo("campaign", 2, name="Fine")
    for bad in (
        object_with("intrusion-set", "aliases", "abc"),
        object_with("identity", "sectors", "energy"),
    ):
        with pytest.raises(StixIngestError, match="is not a list") as info:
            ingest_object(store, bundle(good, bad), "feed", max_tlp=TLP.RED)
        assert info.value.object_id == bad["id"]
    assert store.counts() == {"nodes": {}, "relationships": {}}
