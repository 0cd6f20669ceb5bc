"""The union of list properties (``rows.union``): the one rule the reader's merge
(``merge_props``) and the bulk load's image (graph/ingest/image.py) both follow."""

from __future__ import annotations

from actorgraph.graph.formats.rows import merge_props, union
from actorgraph.graph.ingest.image import apply_row, fresh_state


def test_union_keeps_the_stored_order_and_adds_what_is_new_once():
    stored = ["b", "a"]
    assert union(stored, ["c", "a", "c", "d"]) == ["b", "a", "c", "d"]
    assert stored == ["b", "a"]  # a new list: the stored one is left as it was


def test_union_into_nothing_is_the_list_without_repeats():
    assert union(None, ["x", "y", "x"]) == ["x", "y"]
    assert union([], []) == []


def test_union_of_unhashable_items_compares_them_one_by_one():
    assert union(None, [{"a": 1}, {"a": 1}, ["b"]]) == [{"a": 1}, ["b"]]
    assert union([["b"]], [{"a": 1}, ["b"]]) == [["b"], {"a": 1}]


def test_reader_merge_and_bulk_image_union_lists_alike():
    first = {"sources": ["s1", "s2", "s1"], "aliases": ["A"], "name": "n"}
    second = {"sources": ["s3", "s2"], "aliases": ["B", "A"], "name": "n"}
    merged = merge_props(merge_props({}, dict(first)), dict(second))
    image = fresh_state(first, None)
    apply_row(image, {"sources": second["sources"], "aliases": second["aliases"], "props": {}})
    assert merged["sources"] == image["sources"] == ["s1", "s2", "s3"]
    assert merged["aliases"] == image["aliases"] == ["A", "B"]
