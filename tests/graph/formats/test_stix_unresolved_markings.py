"""Markings the reader cannot resolve to a TLP level fail closed, to red, never to clear.

An object marked by a marking definition that is neither in its input nor a well-known one, or
by a TLP marking of a level TLP does not have (TLP:PURPLE), was stored unmarked: it showed to
clear readers and left in clear exports. It is now stored red and the ingest report says why;
a non-TLP marking the input defines (a statement, a copyright) still changes nothing.

Covers graph/formats/stix_reader.py (``level_of``) and graph/formats/provenance.py
(``NON_TLP_MARKING_IDS``), through the reader and through a real ingest.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from actorgraph.graph.errors import StixIngestError
from actorgraph.graph.formats.stix_out import TLP2_IDS, marking_definition
from actorgraph.graph.formats.stix_reader import read_stix
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.reports.export import export_bundle
from actorgraph.graph.tlp import TLP, visible
from tests.helpers.stix import T0, bundle, sdo

UNDEFINED = "marking-definition--00000000-0000-4000-8000-000000000999"
# MITRE's copyright statement, which each ATT&CK object of its cti repository references alone.
MITRE_COPYRIGHT = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
STATEMENT = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": "marking-definition--00000000-0000-4000-8000-000000000901",
    "created": T0,
    "definition_type": "statement",
    "definition": {"statement": "Copyright Example Corp"},
}
PURPLE_V2 = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": "marking-definition--00000000-0000-4000-8000-000000000900",
    "created": T0,
    "name": "TLP:PURPLE",
    "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "purple"}},
}
PURPLE_V1 = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": "marking-definition--00000000-0000-4000-8000-000000000902",
    "created": T0,
    "definition_type": "tlp",
    "definition": {"tlp": "purple"},
}
PURPLE_REASON = "unknown TLP level 'purple': marks its objects red"
NOW = "2024-06-01T00:00:00.000Z"


def indicator(n: int, **props: Any) -> dict[str, Any]:
    """An indicator of ``m<n>.example`` (node id ``domain:m<n>.example``)."""
    pattern = f"[domain-name:value = 'm{n}.example']"
    return sdo("indicator", n, pattern=pattern, pattern_type="stix", valid_from=T0, **props)


def node(batch, n: int) -> dict[str, Any]:
    return batch.nodes["Indicator"][f"domain:m{n}.example"]


# ---------------------------------------------------------------------------- the reader
@pytest.mark.parametrize(
    "marks",
    [
        {"object_marking_refs": [UNDEFINED]},
        {"object_marking_refs": [TLP2_IDS["green"], UNDEFINED]},
        {"granular_markings": [{"marking_ref": UNDEFINED, "selectors": ["pattern"]}]},
    ],
    ids=["undefined", "undefined-and-green", "granular-undefined"],
)
def test_a_marking_defined_nowhere_stores_the_object_red(marks) -> None:
    batch = read_stix(bundle(indicator(1, **marks)))
    assert (node(batch, 1)["tlp"], node(batch, 1)["tlp_level"]) == ("red", TLP.RED)
    _, outcome, reason = batch.ledger.outcomes[indicator(1)["id"]]
    assert outcome == "landed"
    assert f"stored red: marked by {UNDEFINED!r}" in reason


@pytest.mark.parametrize("purple", [PURPLE_V2, PURPLE_V1], ids=["tlp-2.0", "tlp-1.0"])
def test_a_tlp_marking_of_an_unknown_level_stores_its_objects_red(purple) -> None:
    batch = read_stix(bundle(purple, indicator(1, object_marking_refs=[purple["id"]])))
    assert node(batch, 1)["tlp_level"] == TLP.RED
    assert batch.ledger.named("rejected") == [
        {"object_id": purple["id"], "type": "marking-definition", "reason": PURPLE_REASON}
    ]


@pytest.mark.parametrize(
    ("objects", "ref"),
    [([STATEMENT], STATEMENT["id"]), ([], MITRE_COPYRIGHT)],
    ids=["statement-in-the-bundle", "mitre-copyright"],
)
def test_a_known_marking_that_is_not_tlp_changes_nothing(objects, ref) -> None:
    batch = read_stix(bundle(*objects, indicator(1, object_marking_refs=[ref])))
    assert "tlp_level" not in node(batch, 1)
    assert batch.ledger.outcomes[indicator(1)["id"]] == ("indicator", "landed", None)


def test_a_sighting_marked_by_an_undefined_marking_is_tallied_red() -> None:
    """The tallies per level use the same level as the nodes: a clear reader sees no count."""
    sighted = indicator(1, object_marking_refs=[TLP2_IDS["clear"]])
    sighting = sdo("sighting", 2, sighting_of_ref=sighted["id"], count=3)
    batch = read_stix(bundle(sighted, sighting | {"object_marking_refs": [UNDEFINED]}))
    assert node(batch, 1)["tlp_level"] == TLP.CLEAR
    assert node(batch, 1)["sighting_counts"] == [0, 0, 0, 0, 3]
    assert "stored red" in batch.ledger.outcomes[sighting["id"]][2]


def test_attribution_reads_are_unaffected() -> None:
    """``provenance=False`` (attribution of new activity) reads no marking: same rows."""
    marked = read_stix(bundle(indicator(1, object_marking_refs=[UNDEFINED])), provenance=False)
    plain = read_stix(bundle(indicator(1)), provenance=False)
    assert marked.nodes == plain.nodes
    assert marked.ledger.outcomes == plain.ledger.outcomes


# ------------------------------------------------------------------------ through the store
def markings_bundle() -> dict[str, Any]:
    """The issue's input: one indicator per kind of marking."""
    return bundle(
        PURPLE_V2,
        STATEMENT,
        marking_definition("red"),
        indicator(1, object_marking_refs=[UNDEFINED]),
        indicator(2, object_marking_refs=[PURPLE_V2["id"]]),
        indicator(3, object_marking_refs=[STATEMENT["id"]]),
        indicator(4, object_marking_refs=[TLP2_IDS["red"]]),
    )


def test_unresolved_markings_stay_out_of_clear_sight_and_exports(store) -> None:
    report = ingest_object(store, markings_bundle(), "feed", max_tlp=TLP.RED)
    stored = store.query(
        "MATCH (i:Indicator) RETURN i.value AS value, i.tlp AS tlp ORDER BY value LIMIT 10"
    )
    assert stored == [
        {"value": "m1.example", "tlp": "red"},
        {"value": "m2.example", "tlp": "red"},
        {"value": "m3.example", "tlp": None},
        {"value": "m4.example", "tlp": "red"},
    ]
    seen = store.query(
        f"MATCH (i:Indicator) WHERE {visible('i')} RETURN i.value AS value LIMIT 10",
        {"max_tlp": int(TLP.CLEAR)},
    )
    assert seen == [{"value": "m3.example"}]
    exported = json.dumps(export_bundle(store, max_tlp=TLP.CLEAR, now=NOW))
    assert "m3.example" in exported
    assert not any(f"m{n}.example" in exported for n in (1, 2, 4))
    purple = {"object_id": PURPLE_V2["id"], "type": "marking-definition", "reason": PURPLE_REASON}
    assert purple in report.objects_rejected  # what the CLI prints under "objects not kept"
    # What is kept red for a definition nowhere to be found is named, with why.
    noted = {o["reason"].split(":")[0] for o in report.objects_noted}
    assert noted == {"stored red"} and len(report.objects_noted) >= 1


def test_a_clear_writer_cannot_send_what_it_cannot_resolve(store) -> None:
    body = bundle(indicator(1, object_marking_refs=[UNDEFINED]))
    with pytest.raises(StixIngestError, match="marked red, above the writer's clearance clear"):
        ingest_object(store, body, "clear-key", max_tlp=TLP.CLEAR)
    assert store.counts() == {"nodes": {}, "relationships": {}}


OPENCTI_AMBER_STRICT = "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"


@pytest.mark.parametrize(
    "definition",
    [
        [],
        # How OpenCTI's connectors define it: a statement with OpenCTI's own TLP properties.
        [
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": OPENCTI_AMBER_STRICT,
                "created": T0,
                "definition_type": "statement",
                "definition": {"statement": "custom"},
                "x_opencti_definition_type": "TLP",
                "x_opencti_definition": "TLP:AMBER+STRICT",
            }
        ],
    ],
    ids=["referenced-only", "defined-as-opencti-does"],
)
def test_opencti_amber_strict_reads_as_amber_strict(definition) -> None:
    marked = indicator(1, object_marking_refs=[OPENCTI_AMBER_STRICT])
    batch = read_stix(bundle(*definition, marked))
    assert node(batch, 1)["tlp_level"] == TLP.AMBER_STRICT
