"""STIX ``confidence`` is an integer 0..100 (STIX 2.1, 3.2): any other refuses the bundle, naming
the object, as other malformed properties do; valid ones, ATT&CK's path (no validation) and
misp-stix's output still load.

Covers graph/formats/stix_validate.py (``_check_confidence``).
"""

from __future__ import annotations

import copy
import json

import pytest

from actorgraph.graph.errors import StixIngestError
from actorgraph.graph.formats.misp import read_misp
from actorgraph.graph.formats.stix_reader import read_objects, read_stix
from tests.helpers import paths
from tests.helpers.stix import bundle, sdo

CAMPAIGN = sdo("campaign", 1, name="Op Quiet")
ACTOR = sdo("intrusion-set", 2, name="Quiet Group")


def attributed(confidence: object) -> dict:
    return sdo(
        "relationship",
        3,
        relationship_type="attributed-to",
        source_ref=CAMPAIGN["id"],
        target_ref=ACTOR["id"],
        confidence=confidence,
    )


BAD = ["high", "very high", 1000, 2**70, -1, 101, 50.5, True, [50], "50"]


@pytest.mark.parametrize("confidence", BAD, ids=repr)
def test_a_bad_confidence_on_an_object_refuses_the_bundle(confidence) -> None:
    with pytest.raises(StixIngestError, match=r"confidence must be an integer 0\.\.100") as info:
        read_stix(bundle(CAMPAIGN | {"confidence": confidence}, ACTOR), source="in.json")
    assert info.value.object_id == CAMPAIGN["id"]


@pytest.mark.parametrize("confidence", ["very high", 1000], ids=repr)
def test_a_bad_confidence_on_a_relationship_refuses_the_bundle(confidence) -> None:
    with pytest.raises(StixIngestError, match="confidence must be an integer") as info:
        read_stix(bundle(CAMPAIGN, ACTOR, attributed(confidence)))
    assert info.value.object_id == attributed(confidence)["id"]


def test_a_confidence_from_json_beyond_64_bits_is_refused(tmp_path) -> None:
    """orjson reads such an integer as a float: refused all the same."""
    path = tmp_path / "conf.json"
    path.write_text(json.dumps(bundle(CAMPAIGN | {"confidence": 2**70})))
    with pytest.raises(StixIngestError, match="confidence must be an integer"):
        read_stix(path)


@pytest.mark.parametrize("confidence", [0, 15, 100, None])
def test_a_valid_confidence_is_stored(confidence) -> None:
    batch = read_stix(bundle(CAMPAIGN | {"confidence": confidence}, ACTOR, attributed(85)))
    assert batch.nodes["Campaign"][CAMPAIGN["id"]].get("confidence") == confidence
    edge = batch.edges[("Campaign", "ATTRIBUTED_TO", "ThreatActor")][(CAMPAIGN["id"], ACTOR["id"])]
    assert edge["confidence"] == 85


def test_unvalidated_trusted_input_is_not_checked() -> None:
    """ATT&CK's package path reads with validate=False, which stays so."""
    batch = read_objects([CAMPAIGN | {"confidence": "high"}], source="trusted", validate=False)
    assert batch.nodes["Campaign"][CAMPAIGN["id"]]["confidence"] == "high"


def test_misp_stix_confidence_tags_load() -> None:
    """misp-stix writes MISP's confidence-level tags as integers 0..100."""
    event = json.loads((paths.FIXTURES / "misp" / "apt28_phishing_event.json").read_text())
    event = copy.deepcopy(event)
    attr = event["Event"]["Attribute"][0]
    attr["Tag"] = [*attr.get("Tag", []), {"name": 'misp:confidence-level="usually-confident"'}]
    batch = read_misp(event)
    confidences = {n.get("confidence") for n in batch.nodes["Indicator"].values()}
    assert 75 in confidences
