"""``records.pack`` (graph/ingest/records.py) writes every value as the per-value packer does,
and ``unpack`` reads it back."""

from __future__ import annotations

from enum import IntEnum

import pytest

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.ingest.records import _value, pack, unpack


class Level(IntEnum):
    AMBER = 2


class Name(str):
    pass


PROPS = {
    "a_str": "évil.example",
    "b_empty": "",
    "c_int": -42,
    "d_bool": True,
    "e_float": 0.5,
    "f_none": None,
    "g_list": ["x", "y", "x"],
    "h_mixed": ["x", 3, False, 1.5, None],
    "i_nested": [["a"], []],
    "j_tuple": ("p", "q"),
    "k_enum": Level.AMBER,
    "l_sub": Name("sub"),
    "m_sub_in_list": [Name("s"), Level.AMBER],
}


def test_pack_is_the_per_value_packing():
    keys = tuple(sorted(PROPS))
    assert pack(PROPS, keys) == b"".join(_value(PROPS[k]) for k in keys)


def test_unpack_reads_back_what_pack_wrote():
    keys = tuple(sorted(PROPS))
    back = unpack(keys, pack(PROPS, keys))
    assert back["a_str"] == "évil.example" and back["g_list"] == ["x", "y", "x"]
    assert back["h_mixed"] == ["x", 3, False, 1.5, None]
    assert back["j_tuple"] == ["p", "q"] and back["k_enum"] == 2 and back["l_sub"] == "sub"
    assert back["m_sub_in_list"] == ["s", 2]


@pytest.mark.parametrize("value", [{"a": 1}, {"x"}, b"bytes", ["ok", {"a": 1}]])
def test_a_value_the_format_cannot_hold_is_refused(value):
    with pytest.raises(ValidationError, match="cannot hold"):
        pack({"v": value}, ("v",))
