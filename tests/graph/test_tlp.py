"""The one TLP definition: levels, every accepted spelling, errors, and the Cypher it writes."""

from __future__ import annotations

import pytest

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.tlp import NAMES, SPELLINGS, TLP, marking, visible, visible_all


def test_levels_are_ordered_and_named_as_tlp_2_0():
    assert [int(level) for level in TLP] == [0, 1, 2, 3, 4]
    assert NAMES == ("clear", "green", "amber", "amber+strict", "red")
    assert [level.label for level in TLP] == list(NAMES)
    assert TLP.CLEAR < TLP.GREEN < TLP.AMBER < TLP.AMBER_STRICT < TLP.RED
    assert set(SPELLINGS) == {*NAMES, "white"}


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("clear", TLP.CLEAR),
        ("white", TLP.CLEAR),
        ("TLP:WHITE", TLP.CLEAR),
        ("TLP:CLEAR", TLP.CLEAR),
        ("green", TLP.GREEN),
        ("GREEN", TLP.GREEN),
        ("tlp:green", TLP.GREEN),
        ("TLP: Green", TLP.GREEN),
        ("TLP GREEN", TLP.GREEN),
        ("amber", TLP.AMBER),
        ("  Amber  ", TLP.AMBER),
        ("amber+strict", TLP.AMBER_STRICT),
        ("TLP:AMBER+STRICT", TLP.AMBER_STRICT),
        ("amber_strict", TLP.AMBER_STRICT),
        ("amber-strict", TLP.AMBER_STRICT),
        ("amber strict", TLP.AMBER_STRICT),
        ("red", TLP.RED),
        ("TLP:RED", TLP.RED),
        ("0", TLP.CLEAR),
        ("3", TLP.AMBER_STRICT),
        (" 4 ", TLP.RED),
        (0, TLP.CLEAR),
        (2, TLP.AMBER),
        (4, TLP.RED),
        (TLP.GREEN, TLP.GREEN),
    ],
)
def test_parse_accepts_every_spelling(text, level):
    parsed = TLP.parse(text)
    assert parsed is level
    assert TLP.lookup(text) is level


@pytest.mark.parametrize("bad", ["purple", "", "tlp:", "5", "-1", "04", "amber++strict", "redd"])
def test_parse_refuses_other_text_with_one_message(bad):
    with pytest.raises(ValidationError, match=r"unknown TLP level .*expected one of clear, green"):
        TLP.parse(bad)
    assert TLP.lookup(bad) is None


@pytest.mark.parametrize("bad", [5, -1, 100])
def test_parse_refuses_numbers_out_of_range(bad):
    with pytest.raises(ValidationError, match=rf"unknown TLP level {bad}: expected 0\.\.4"):
        TLP.parse(bad)


def test_parse_refuses_booleans_and_lookup_of_nothing():
    with pytest.raises(ValidationError, match="unknown TLP level True"):
        TLP.parse(True)  # a bool is an int to Python, never a clearance
    assert TLP.lookup(None) is None
    assert TLP.lookup(False) is None


def test_strictest_of_several_markings():
    assert TLP.strictest(["green", "TLP:AMBER", None, "nonsense"]) is TLP.AMBER
    assert TLP.strictest([TLP.CLEAR, "white"]) is TLP.CLEAR
    assert TLP.strictest(level for level in (TLP.RED, TLP.GREEN)) is TLP.RED
    assert TLP.strictest([]) is None
    assert TLP.strictest([None, "purple"]) is None


def test_marking_properties():
    assert marking(None) == {}
    assert marking(TLP.CLEAR) == {"tlp": "clear", "tlp_level": 0}
    props = marking(TLP.AMBER_STRICT)
    assert props == {"tlp": "amber+strict", "tlp_level": 3}
    assert type(props["tlp_level"]) is int  # stores get a plain int, not the enum


def test_visible_writes_the_condition_with_the_clearance_parameter():
    assert visible("a") == "coalesce(a.tlp_level, 0) <= $max_tlp"
    assert visible("r2") == "coalesce(r2.tlp_level, 0) <= $max_tlp"
    assert visible("known", param="ceiling") == "coalesce(known.tlp_level, 0) <= $ceiling"
    assert visible_all("a") == visible("a")
    assert visible_all("c", "r", "a") == (
        "coalesce(c.tlp_level, 0) <= $max_tlp AND coalesce(r.tlp_level, 0) <= $max_tlp"
        " AND coalesce(a.tlp_level, 0) <= $max_tlp"
    )


@pytest.mark.parametrize(
    "bad", ["", "a.b", "a)", "x OR true", "a) OR (1=1", "2x", "a b", "`a`", "$max_tlp"]
)
def test_visible_refuses_a_non_identifier(bad):
    with pytest.raises(ValueError, match="must be a Cypher identifier"):
        visible(bad)
    with pytest.raises(ValueError, match="must be a Cypher identifier"):
        visible_all("a", bad)
    with pytest.raises(ValueError, match="'param'"):
        visible("a", param=bad)


def test_visible_all_needs_a_variable():
    with pytest.raises(ValueError, match="at least one"):
        visible_all()
