"""The bulk load merges what several inputs state as the writer does, from packed records."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from actorgraph.graph.formats.stix_out import TLP2_IDS
from actorgraph.graph.ingest import ingest_paths
from actorgraph.graph.ingest.bulk import bulk_ingest
from actorgraph.graph.ingest.image import apply_row, first_state, fresh_state, row_of
from actorgraph.graph.ingest.records import pack, unpack
from actorgraph.graph.ingest.writer import split_row
from actorgraph.graph.tlp import TLP
from tests.helpers.graph_snapshot import snapshot

T0, LATER, EARLIER = "2024-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z", "2023-01-01T00:00:00Z"


def sdo(stix_type: str, n: int, level: TLP, modified: str = T0, **props: Any) -> dict[str, Any]:
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--00000000-0000-4000-8000-{n:012d}",
        "created": T0,
        "modified": modified,
        "object_marking_refs": [TLP2_IDS[level.label]],
        **props,
    }


def indicator(n: int, ip: str, level: TLP, modified: str = T0, **props: Any) -> dict[str, Any]:
    pattern = f"[ipv4-addr:value = '{ip}']"
    return sdo(
        "indicator",
        n,
        level,
        modified,
        pattern=pattern,
        pattern_type="stix",
        valid_from=T0,
        **props,
    )


def uses(n: int, src: dict[str, Any], dst: dict[str, Any], level: TLP, **props: Any):
    ends = {"relationship_type": "indicates", "source_ref": src["id"], "target_ref": dst["id"]}
    return sdo("relationship", n, level, **ends, **props)


ACTOR = sdo("intrusion-set", 1, TLP.GREEN, name="Group One", aliases=["G1"])
ACTOR_AGAIN = sdo("intrusion-set", 1, TLP.AMBER, LATER, name="Group One", aliases=["Uno"])
ACTOR_OLDER = sdo("intrusion-set", 1, TLP.CLEAR, EARLIER, name="Old name", aliases=["G0"])
IND = indicator(2, "198.51.100.7", TLP.AMBER, name="first")
IND_NEWER = indicator(2, "198.51.100.7", TLP.CLEAR, LATER, name="renamed")
IND_NEIGHBOUR = indicator(3, "198.51.100.8", TLP.CLEAR)
INPUTS = [
    [ACTOR, IND, uses(10, IND, ACTOR, TLP.GREEN, confidence=50)],
    [ACTOR_AGAIN, IND_NEWER, IND_NEIGHBOUR, uses(10, IND_NEWER, ACTOR, TLP.AMBER, confidence=90)],
    [ACTOR_OLDER, IND_NEIGHBOUR, uses(11, IND_NEIGHBOUR, ACTOR_OLDER, TLP.CLEAR)],
]


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    out = []
    for i, objects in enumerate(INPUTS):
        path = tmp_path / f"in-{i}.json"
        bundle = {"type": "bundle", "id": f"bundle--{uuid.UUID(int=i + 1)}", "objects": objects}
        path.write_text(json.dumps(bundle))
        out.append(path)
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_elements_stated_by_several_inputs_merge_as_the_writer_merges(
    two_graphs, files: list[Path], workers: int
) -> None:
    batched, bulk = two_graphs
    ingest_paths(batched, files, max_tlp=TLP.RED, enrich=True)
    bulk_ingest(bulk, files, enrich=True, workers=workers)
    expected, found = snapshot(batched), snapshot(bulk)
    actor = next(p for (_, key), p in expected["nodes"].items() if key == ACTOR["id"])
    # the stricter marking, both inputs' aliases, the newer copy's name: a merge happened
    assert (actor["tlp"], actor["aliases"][:2], actor["name"]) == (
        "amber",
        ["G1", "Uno"],
        "Group One",
    )
    assert found == expected


def test_a_record_reads_back_as_packed() -> None:
    props = {
        "name": "naïve \u2013 name",
        "n": -(2**40),
        "score": 0.25,
        "flag": False,
        "empty": [],
        "mixed": ["a", 1, 2.5, True],
    }
    keys = tuple(sorted(props))
    assert unpack(keys, pack(props, keys)) == props


@pytest.mark.parametrize(
    "rows",
    [
        [
            {"sources": ["a"], "tlp": "TLP:GREEN", "tlp_level": 1, "props": {"modified": "2"}},
            {"sources": ["b", "a"], "tlp": "TLP:CLEAR", "tlp_level": 0, "props": {"x": 1}},
            {"tlp_level": 2, "props": {"modified": "1", "x": 2}},
        ],
        [
            {"props": {"x": 1}},
            {"sources": ["b", "b"], "tlp": "TLP:RED", "tlp_level": 3, "props": {"modified": "5"}},
            {"sources": [], "props": {"modified": "6", "y": "z"}},
        ],
    ],
)
def test_a_first_states_row_does_what_its_row_does(rows: list[dict[str, Any]]) -> None:
    direct: dict[str, Any] = {"id": "n"}
    via_states: dict[str, Any] = first_state(rows[0], "n")
    for row in rows:
        apply_row(direct, row)
    for row in rows[1:]:
        apply_row(via_states, row_of(first_state(row, "n")))
    assert via_states == direct


@pytest.mark.parametrize(
    "props",
    [
        {"name": "x", "sources": ["a", "a", "b"], "tlp": "green", "tlp_level": 1, "gone": None},
        {"tlp": "red", "aliases": [], "sightings": [{"id": "s"}], "sighting_counts": [1]},
        {"tlp_level": 2, "tlp": None, "stix_ids": ["i--1"], "modified": "2024"},
    ],
)
def test_a_fresh_state_is_the_first_state_of_the_writers_row(props: dict[str, Any]) -> None:
    assert fresh_state(props, "n") == first_state(split_row(props), "n")
    assert fresh_state(props, None) == first_state(split_row(props), None)


@pytest.mark.neo4j
def test_bulk_on_neo4j_writes_the_graph_the_writer_writes(neo4j_store, files: list[Path]) -> None:
    reports = ingest_paths(neo4j_store, files, max_tlp=TLP.RED, enrich=True)
    expected = snapshot(neo4j_store)
    neo4j_store.clear()
    neo4j_store.ensure_schema()
    bulk_reports = bulk_ingest(neo4j_store, files, enrich=True)
    assert snapshot(neo4j_store) == expected
    assert [r.to_dict() | {"seconds": 0, "queries": 0} for r in bulk_reports] == [
        r.to_dict() | {"seconds": 0, "queries": 0} for r in reports
    ]
