"""STIX ids kept per marking (issue 18, finding 11): a node remembers the marking each of its
STIX ids came with, and an export at a clearance names only the ids visible at it.

The demo world (seed 7) had 20 indicator nodes marked clear that carried the id of a red
indicator of the same value; ``/v1/export`` and the TAXII CLEAR collection republished those
ids as TLP:CLEAR.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from actorgraph.graph.formats.stix_out import TLP2_IDS
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.reports.export import export_bundle
from actorgraph.graph.tlp import TLP
from tests.helpers.graphs import FixtureGraph, node, rel, write_graph

NOW = "2026-01-01T00:00:00.000Z"
CLEAR_ID = "indicator--00000000-0000-4000-8000-00000000000a"
RED_ID = "indicator--00000000-0000-4000-8000-00000000000b"
RED_LOCATION = "location--00000000-0000-4000-8000-00000000000c"
CAMPAIGN = "campaign--00000000-0000-4000-8000-00000000000d"


def indicator(stix_id: str, level: TLP, modified: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id,
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
        "pattern": "[domain-name:value = 'twice.example']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00.000Z",
        "object_marking_refs": [TLP2_IDS[level.label]],
    }


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


def test_each_stix_id_keeps_the_marking_it_came_with(store) -> None:
    ingest_object(store, bundle(indicator(CLEAR_ID, TLP.CLEAR, NOW)), "a", max_tlp=TLP.RED)
    older = "2025-01-01T00:00:00.000Z"
    ingest_object(store, bundle(indicator(RED_ID, TLP.RED, older)), "b", max_tlp=TLP.RED)
    [row] = store.query(
        "MATCH (n:Indicator {id: 'domain:twice.example'}) "
        "RETURN n.stix_ids AS ids, n.stix_id_levels AS levels"
    )
    assert row == {"ids": [CLEAR_ID, RED_ID], "levels": [f"0:{CLEAR_ID}", f"4:{RED_ID}"]}


def test_the_demo_world_case_exports_no_red_id_at_clear(store) -> None:
    """A clear indicator and an older red one of the same value: the red id never leaves at
    clear (the node is held at red, and its ids are filtered by their own marking)."""
    ingest_object(store, bundle(indicator(CLEAR_ID, TLP.CLEAR, NOW)), "a", max_tlp=TLP.RED)
    older = "2025-01-01T00:00:00.000Z"
    ingest_object(store, bundle(indicator(RED_ID, TLP.RED, older)), "b", max_tlp=TLP.RED)
    for level in (TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT):
        assert RED_ID not in json.dumps(export_bundle(store, max_tlp=level, now=NOW))
    assert RED_ID in json.dumps(export_bundle(store, max_tlp=TLP.RED, now=NOW))


# A node as a store written before ids were kept per marking, or by a merge that left a node
# less restricted than one of its ids: the export must still name only visible ids.
MIXED = FixtureGraph(
    [
        node(
            "Indicator",
            "domain:twice.example",
            kind="domain",
            value="twice.example",
            tlp="clear",
            tlp_level=0,
            stix_ids=[CLEAR_ID, RED_ID],
            stix_id_levels=[f"0:{CLEAR_ID}", f"4:{RED_ID}"],
        ),
        node(
            "Country",
            "country:IR",
            code="IR",
            name="Iran",
            stix_ids=[RED_LOCATION],
            stix_id_levels=[f"4:{RED_LOCATION}"],
        ),
        node("Campaign", CAMPAIGN, name="Open wave", tlp="clear", tlp_level=0),
    ],
    [
        rel("domain:twice.example", "INDICATES", CAMPAIGN, tlp_level=0),
        rel(CAMPAIGN, "TARGETS", "country:IR", tlp_level=0),
    ],
)


def test_an_export_names_only_the_ids_visible_at_its_clearance(store) -> None:
    write_graph(store, MIXED)
    clear = json.dumps(export_bundle(store, max_tlp=TLP.CLEAR, now=NOW))
    assert CLEAR_ID in clear
    assert RED_ID not in clear
    assert RED_LOCATION not in clear
    red = json.dumps(export_bundle(store, max_tlp=TLP.RED, now=NOW))
    assert RED_ID in red and RED_LOCATION in red
