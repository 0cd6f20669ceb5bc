"""An item of the wrong kind in a STIX list property refuses the bundle, naming the object, the
property, the index and what was found.

Before, ``"aliases": [{}]`` on an intrusion-set was dropped without a word, on a campaign it
refused the bundle with a generic "malformed property (TypeError: unhashable type: 'dict')",
``"malware_types": [{}]`` failed in the store mid-write, and ``"kill_chain_phases": [7]``,
``"object_refs": [7]`` or ``"object_marking_refs": ["foo"]`` were written. Covers the item
checks of ``_LIST_PROPS`` in graph/formats/stix_validate.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from actorgraph.graph.errors import StixIngestError
from actorgraph.graph.formats.stix_out import TLP2_IDS
from actorgraph.graph.formats.stix_reader import read_objects, read_stix
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.tlp import TLP
from tests.helpers.graph_snapshot import snapshot
from tests.helpers.stix import bundle, object_with, sdo

ACTOR = sdo("intrusion-set", 1, name="Quiet Group")
PHASE = {"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}
SOURCE = {"source_name": "vendor", "url": "https://vendor.example/quiet"}


@pytest.mark.parametrize(
    ("stix_type", "prop", "value", "message"),
    [
        # strings
        ("intrusion-set", "aliases", [{}], "aliases[0] is not a string (got dict {})"),
        (
            "intrusion-set",
            "aliases",
            ["Quiet", None],
            "aliases[1] is not a string (got NoneType None)",
        ),
        ("intrusion-set", "goals", [["x"]], "goals[0] is not a string (got list ['x'])"),
        ("campaign", "aliases", [3], "aliases[0] is not a string (got int 3)"),
        ("campaign", "labels", [True], "labels[0] is not a string (got bool True)"),
        ("malware", "malware_types", [{}], "malware_types[0] is not a string (got dict {})"),
        ("malware", "x_mitre_aliases", [1.5], "x_mitre_aliases[0] is not a string (got float 1.5)"),
        ("tool", "tool_types", [{}], "tool_types[0] is not a string"),
        ("attack-pattern", "x_mitre_platforms", [7], "x_mitre_platforms[0] is not a string"),
        ("infrastructure", "infrastructure_types", [{}], "infrastructure_types[0] is not a string"),
        ("identity", "sectors", ["energy", {}], "sectors[1] is not a string (got dict {})"),
        ("indicator", "indicator_types", [{"a": 1}], "indicator_types[0] is not a string"),
        # STIX ids
        ("report", "object_refs", [ACTOR["id"], 7], "object_refs[1] is not a STIX id (got int 7)"),
        ("report", "object_refs", ["x"], "object_refs[0] is not a STIX id (got str 'x')"),
        (
            "report",
            "object_refs",
            ["intrusion-set--not-a-uuid"],
            "object_refs[0] is not a STIX id (got str 'intrusion-set--not-a-uuid')",
        ),
        ("domain-name", "resolves_to_refs", [None], "resolves_to_refs[0] is not a STIX id"),
        (
            "campaign",
            "object_marking_refs",
            ["foo"],
            "object_marking_refs[0] is not a marking-definition id (got str 'foo')",
        ),
        (
            "campaign",
            "object_marking_refs",
            [ACTOR["id"]],
            "object_marking_refs[0] is not a marking-definition id",
        ),
        # objects
        (
            "attack-pattern",
            "kill_chain_phases",
            [7],
            "kill_chain_phases[0] is not an object (got int 7)",
        ),
        (
            "tool",
            "kill_chain_phases",
            [PHASE, {"kill_chain_name": "lockheed"}],
            "kill_chain_phases[1].phase_name is missing",
        ),
        (
            "malware",
            "kill_chain_phases",
            [PHASE | {"kill_chain_name": 3}],
            "kill_chain_phases[0].kill_chain_name is not a string (got int 3)",
        ),
        (
            "report",
            "external_references",
            ["https://vendor.example"],
            "external_references[0] is not an object (got str 'https://vendor.example')",
        ),
        (
            "campaign",
            "external_references",
            [{"url": "u"}],
            "external_references[0].source_name is missing",
        ),
        (
            "campaign",
            "external_references",
            [SOURCE | {"url": 3}],
            "external_references[0].url is not a string (got int 3)",
        ),
    ],
)
def test_a_wrong_item_refuses_the_bundle(
    stix_type: str, prop: str, value: list[Any], message: str
) -> None:
    bad = object_with(stix_type, prop, value)
    with pytest.raises(StixIngestError, match=f"^in.json: object '{bad['id']}': ") as info:
        read_stix(bundle(ACTOR, bad), source="in.json")
    assert info.value.object_id == bad["id"]
    assert info.value.reason.startswith(message)


def test_good_items_and_empty_lists_are_read_as_before() -> None:
    """Open vocabularies take any string; an empty list, which STIX forbids but feeds send, is
    no error."""
    technique = object_with("attack-pattern", "kill_chain_phases", [PHASE])
    report = object_with("report", "external_references", [SOURCE, {"source_name": "cve"}])
    actor = ACTOR | {
        "aliases": ["QG", "Silent"],
        "goals": [],
        "object_marking_refs": [TLP2_IDS["green"]],
    }
    tool = object_with("tool", "tool_types", ["not-in-the-vocabulary"])
    batch = read_stix(bundle(actor, technique, report, tool))
    assert batch.nodes["ThreatActor"][ACTOR["id"]]["aliases"] == ["QG", "Silent"]
    assert batch.nodes["Technique"][technique["id"]]["tactics"] == ["initial-access"]
    assert batch.nodes["Report"][report["id"]]["url"] == SOURCE["url"]
    assert batch.nodes["Tool"][tool["id"]]["types"] == ["not-in-the-vocabulary"]


def test_trusted_input_read_without_validation_is_not_checked() -> None:
    """ATT&CK's package path (validate=False) stays as it was."""
    batch = read_objects([ACTOR | {"aliases": ["QG", 7]}], source="mitre-attack", validate=False)
    assert batch.nodes["ThreatActor"][ACTOR["id"]]["aliases"] == ["QG"]


def test_a_refused_bundle_writes_nothing_and_keeps_what_is_stored(store) -> None:
    """All or nothing, as for any bundle error: the good objects of the bundle are not written,
    and what an earlier input stored is unchanged. ``malware_types: [{}]`` used to reach the
    store and fail there."""
    ingest_object(store, bundle(ACTOR), "earlier", max_tlp=TLP.RED)
    before = snapshot(store)
    good = sdo("campaign", 2, name="Fine")
    bad = object_with("malware", "malware_types", ["backdoor", {}])
    with pytest.raises(StixIngestError, match=r"malware_types\[1\] is not a string") as info:
        ingest_object(
            store, bundle(good, ACTOR | {"aliases": ["QG"]}, bad), "feed", max_tlp=TLP.RED
        )
    assert info.value.object_id == bad["id"]
    assert snapshot(store) == before
