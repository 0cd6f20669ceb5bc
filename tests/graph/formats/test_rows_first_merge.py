"""``merge_props`` into an empty element (the first row of a node or relationship, most rows)
does what merging into a stored one does (graph/formats/rows.py)."""

from __future__ import annotations

from actorgraph.graph.formats.rows import IngestBatch, merge_props


def test_first_row_drops_none_and_dedups_lists_in_order():
    row = {"name": "x", "gone": None, "sources": ["b", "a", "b"], "aliases": ["k"], "n": 0}
    assert merge_props({}, row) == {"name": "x", "sources": ["b", "a"], "aliases": ["k"], "n": 0}


def test_first_row_keeps_its_marking_only_with_a_level():
    assert merge_props({}, {"tlp": "amber", "tlp_level": 2, "v": 1}) == {
        "tlp": "amber",
        "tlp_level": 2,
        "v": 1,
    }
    assert merge_props({}, {"tlp": "amber", "tlp_level": None, "v": 1}) == {"v": 1}


def test_first_row_with_unhashable_list_items():
    row = {"sources": [{"a": 1}, {"a": 1}, ["b"]]}
    assert merge_props({}, row) == {"sources": [{"a": 1}, ["b"]]}


def test_first_row_is_what_a_second_merge_leaves():
    row = {"sources": ["s"], "tlp": "green", "tlp_level": 1, "modified": "2024", "x": [1]}
    once = merge_props({}, dict(row))
    assert merge_props(dict(once), dict(row)) == once


def test_node_ids_per_marking_after_the_row():
    batch = IngestBatch(source="t")
    props = batch.add_node(
        "Malware", "m", {"stix_ids": ["malware--1"], "tlp_level": 2, "tlp": "amber"}
    )
    assert props["stix_id_levels"] == ["2:malware--1"]
    assert list(props) == ["tlp", "tlp_level", "stix_ids", "stix_id_levels"]
    props = batch.add_node(
        "Malware", "m", {"stix_ids": ["malware--2"], "tlp_level": 1, "tlp": "green"}
    )
    assert props["stix_ids"] == ["malware--1", "malware--2"]
    assert props["stix_id_levels"] == ["2:malware--1", "1:malware--2"]
    assert props["tlp_level"] == 2
