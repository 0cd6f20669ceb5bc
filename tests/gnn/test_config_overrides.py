"""``benchmarks/config_overrides.py``: training variants from the command line."""

from __future__ import annotations

import pytest

from actorgraph.gnn.config import TrainConfig
from benchmarks.config_overrides import overrides, variant


def test_values_are_read_as_json_and_bare_words_as_strings():
    got = overrides(
        ["lr=0.06", "epochs=200", "early_stop=true", "graph=none", "query_frac=[0.1, 0.2]"]
    )
    assert got == {
        "lr": 0.06,
        "epochs": 200,
        "early_stop": True,
        "graph": "none",
        "query_frac": [0.1, 0.2],
    }
    assert TrainConfig(**got).lr == 0.06


@pytest.mark.parametrize("bad", ["lr", "learning_rate=0.1", "=1"])
def test_a_pair_without_a_field_of_the_config_is_refused(bad):
    with pytest.raises(ValueError, match="TrainConfig field"):
        overrides([bad])


def test_a_variant_is_a_name_and_its_fields():
    assert variant("shipped") == ("shipped", {})
    assert variant("slow:lr=0.02,epochs=200") == ("slow", {"lr": 0.02, "epochs": 200})
    assert variant("narrow:known_share=[0.0,0.5],lr=0.06") == (
        "narrow",
        {"known_share": [0.0, 0.5], "lr": 0.06},
    )
    with pytest.raises(ValueError, match="needs a name"):
        variant(":lr=0.02")
