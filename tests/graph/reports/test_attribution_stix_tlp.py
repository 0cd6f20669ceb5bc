"""An attribution result as STIX is TLP-marked throughout: at the requester's clearance, and red
when the clearance is not known (``actorgraph export --attribution`` reads a file of results)."""

from __future__ import annotations

import pytest
from stix2validator import ValidationOptions, validate_instance

from actorgraph.graph.attribution import AttributionResult
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.formats.stix_out import TLP2_IDS
from actorgraph.graph.reports.attribution_stix import attribution_to_stix
from actorgraph.graph.tlp import TLP

NOW = "2026-01-01T00:00:00.000Z"
APT28 = "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"
RESULT = AttributionResult.from_dict(
    {
        "input": "x.json",
        "model": {"version": "m1"},
        "candidates": [{"rank": 1, "actor_id": APT28, "name": "APT28", "score": 0.5}],
        "unknown": 0.4,
    }
)


def _refs(bundle: dict) -> list[list[str] | None]:
    return [
        o.get("object_marking_refs") for o in bundle["objects"] if o["type"] != "marking-definition"
    ]


@pytest.mark.parametrize(
    ("max_tlp", "name"), [({}, "red"), ({"max_tlp": TLP.GREEN}, "green"), ({"max_tlp": 2}, "amber")]
)
def test_every_object_carries_the_requesters_marking(max_tlp, name):
    bundle = attribution_to_stix(RESULT, now=NOW, **max_tlp)
    assert set(map(tuple, _refs(bundle))) == {(TLP2_IDS[name],)}
    [definition] = [o for o in bundle["objects"] if o["type"] == "marking-definition"]
    assert definition["id"] == TLP2_IDS[name]
    assert validate_instance(bundle, ValidationOptions(version="2.1")).is_valid


def test_a_clearance_that_is_no_tlp_level_is_refused():
    with pytest.raises(ValidationError, match="unknown TLP level 7"):
        attribution_to_stix(RESULT, max_tlp=7)
