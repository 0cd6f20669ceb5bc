"""Granular markings: an element carries the strictest TLP marking of its object or any part.

actorgraph stores one marking per node or relationship, so a clear actor whose description is
marked red (``granular_markings``) is stored red: at clear, its red text would show to clear
readers, leave in clear exports and pass a clear writer's clearance check.

Covers graph/formats/stix_reader.py (the marking of every object type) and
graph/formats/stix_validate.py (the shape of ``granular_markings``).
"""

from __future__ import annotations

from typing import Any

import pytest

from actorgraph.graph.errors import StixIngestError
from actorgraph.graph.formats.stix_out import TLP2_IDS, marking_definition
from actorgraph.graph.formats.stix_reader import read_stix
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.tlp import TLP, visible
from tests.helpers.stix import T0, bundle, sdo

CLEAR, RED = TLP2_IDS["clear"], TLP2_IDS["red"]
STATEMENT = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": "marking-definition--00000000-0000-4000-8000-000000000099",
    "created": T0,
    "definition_type": "statement",
    "definition": {"statement": "Copyright Example Corp"},
}


def red_part(*selectors: str) -> list[dict[str, Any]]:
    return [{"marking_ref": RED, "selectors": list(selectors or ["description"])}]


def clear_actor(**props: Any) -> dict[str, Any]:
    """The issue's intrusion-set: marked clear as a whole, its description red."""
    return (
        sdo(
            "intrusion-set",
            1,
            name="Quiet Group",
            description="what only red readers may know",
            object_marking_refs=[CLEAR],
            granular_markings=red_part("description"),
        )
        | props
    )


ACTOR = clear_actor()
MALWARE = sdo("malware", 2, name="QuietRAT", is_family=True, object_marking_refs=[CLEAR])


def test_a_red_description_marks_a_clear_actor_red() -> None:
    body = bundle(marking_definition("clear"), marking_definition("red"), ACTOR)
    node = read_stix(body).nodes["ThreatActor"][ACTOR["id"]]
    assert (node["tlp"], node["tlp_level"]) == ("red", TLP.RED)


@pytest.mark.parametrize(
    ("obj", "label", "node_id"),
    [
        (
            sdo(
                "campaign", 3, name="Op", object_marking_refs=[CLEAR], granular_markings=red_part()
            ),
            "Campaign",
            "campaign--00000000-0000-4000-8000-000000000003",
        ),
        (MALWARE | {"granular_markings": red_part("name")}, "Malware", MALWARE["id"]),
        (
            sdo(
                "indicator",
                4,
                pattern="[domain-name:value = 'quiet.example']",
                pattern_type="stix",
                valid_from=T0,
                object_marking_refs=[CLEAR],
                granular_markings=red_part("pattern"),
            ),
            "Indicator",
            "domain:quiet.example",
        ),
        (
            {
                "type": "ipv4-addr",
                "spec_version": "2.1",
                "id": "ipv4-addr--00000000-0000-4000-8000-000000000005",
                "value": "198.51.100.7",
                "object_marking_refs": [CLEAR],
                "granular_markings": red_part("value"),
            },
            "Indicator",
            "ipv4:198.51.100.7",
        ),
    ],
    ids=["sdo-campaign", "sdo-malware", "sdo-indicator", "sco-ipv4"],
)
def test_every_object_type_takes_its_strictest_granular_marking(obj, label, node_id) -> None:
    node = read_stix(bundle(obj)).nodes[label][node_id]
    assert node["tlp_level"] == TLP.RED


def test_a_relationship_takes_its_strictest_granular_marking() -> None:
    uses = sdo(
        "relationship",
        6,
        relationship_type="uses",
        source_ref=ACTOR["id"],
        target_ref=MALWARE["id"],
        description="how we know",
        object_marking_refs=[CLEAR],
        granular_markings=red_part("description"),
    )
    actor = clear_actor(granular_markings=[])
    edges = read_stix(bundle(actor, MALWARE, uses)).edges[("ThreatActor", "USES", "Malware")]
    assert edges[(ACTOR["id"], MALWARE["id"])]["tlp_level"] == TLP.RED


def test_a_sighting_is_tallied_at_its_strictest_granular_marking() -> None:
    sighting = sdo(
        "sighting",
        7,
        sighting_of_ref=MALWARE["id"],
        count=2,
        object_marking_refs=[CLEAR],
        granular_markings=red_part("count"),
    )
    node = read_stix(bundle(MALWARE, sighting)).nodes["Malware"][MALWARE["id"]]
    assert node["sighting_counts"] == [0, 0, 0, 0, 2]


def test_a_clear_part_does_not_lower_a_red_object() -> None:
    actor = clear_actor(
        object_marking_refs=[RED],
        granular_markings=[{"marking_ref": CLEAR, "selectors": ["description"]}],
    )
    assert read_stix(bundle(actor)).nodes["ThreatActor"][ACTOR["id"]]["tlp_level"] == TLP.RED


@pytest.mark.parametrize(
    "granular",
    [
        [{"marking_ref": STATEMENT["id"], "selectors": ["description"]}],
        [{"lang": "fr", "selectors": ["description"]}],
        [],
    ],
    ids=["statement", "lang", "empty"],
)
def test_granular_markings_that_are_not_tlp_change_nothing(granular) -> None:
    actor = clear_actor(granular_markings=granular)
    node = read_stix(bundle(STATEMENT, actor)).nodes["ThreatActor"][ACTOR["id"]]
    assert (node["tlp"], node["tlp_level"]) == ("clear", TLP.CLEAR)


@pytest.mark.parametrize(
    ("granular", "reason"),
    [
        ({"marking_ref": RED, "selectors": ["description"]}, "granular_markings is not a list"),
        ("TLP:RED", "granular_markings is not a list"),
        (["TLP:RED"], r"granular_markings\[0\] is not an object"),
        ([{"marking_ref": RED}], r"granular_markings\[0\] selectors must be a non-empty list"),
        (
            [{"marking_ref": RED, "selectors": []}],
            r"granular_markings\[0\] selectors must be a non-empty list",
        ),
        (
            [{"marking_ref": RED, "selectors": "description"}],
            "selectors must be a non-empty list",
        ),
        ([{"marking_ref": RED, "selectors": [1]}], "selectors must be strings"),
        (
            [{"marking_ref": RED, "lang": "en", "selectors": ["name"]}],
            "exactly one of marking_ref and lang",
        ),
        ([{"selectors": ["name"]}], "exactly one of marking_ref and lang"),
        (
            [{"marking_ref": "red", "selectors": ["name"]}],
            "marking_ref is not a marking-definition id",
        ),
        ([{"marking_ref": [RED], "selectors": ["name"]}], "marking_ref is not a marking"),
        ([{"lang": 7, "selectors": ["name"]}], "lang is not a string"),
    ],
)
def test_malformed_granular_markings_refuse_the_bundle(granular, reason) -> None:
    with pytest.raises(StixIngestError, match=reason) as info:
        read_stix(bundle(MALWARE, clear_actor(granular_markings=granular)), source="in.json")
    assert info.value.object_id == ACTOR["id"]


# ---------------------------------------------------------------------- through the store
def test_a_clear_writer_cannot_send_a_red_part(store) -> None:
    """The clearance check sees the red part: refused as if the whole object were red."""
    with pytest.raises(
        StixIngestError, match="marked red, above the writer's clearance clear"
    ) as info:
        ingest_object(store, bundle(MALWARE, ACTOR), "clear-key", max_tlp=TLP.CLEAR)
    assert info.value.object_id == ACTOR["id"]
    assert store.counts() == {"nodes": {}, "relationships": {}}


def test_a_red_writer_stores_the_object_red_out_of_clear_sight(store) -> None:
    ingest_object(store, bundle(ACTOR), "red-key", max_tlp=TLP.RED)
    rows = store.query("MATCH (n {id: $id}) RETURN n.tlp_level AS level", {"id": ACTOR["id"]})
    assert rows == [{"level": TLP.RED}]
    seen = store.query(
        f"MATCH (n:ThreatActor) WHERE {visible('n')} RETURN n.description AS d",
        {"max_tlp": int(TLP.CLEAR)},
    )
    assert seen == []
