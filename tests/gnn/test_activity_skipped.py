"""Attribution input goes on over one bad value and says what it left out (gnn/activity.py)."""

from __future__ import annotations

import json

import pytest

from actorgraph.gnn.activity import activity_from_simple, activity_from_stix
from actorgraph.graph.attribution import AttributionResult, ModelInfo, with_skipped
from actorgraph.graph.errors import InvalidIndicator
from tests.helpers.paths import FIXTURES
from tests.helpers.stix import T0, bundle, sdo


def test_simple_activity_skips_the_bad_value_and_keeps_the_rest() -> None:
    act = activity_from_simple({"indicators": ["999.1.1.1", "evil-x.example"]})
    assert act.indicators == ["domain:evil-x.example"]
    [skipped] = act.skipped
    assert skipped["value"] == "999.1.1.1" and skipped["reason"]
    with pytest.raises(InvalidIndicator, match=r"999\.1\.1\.1"):
        activity_from_simple({"indicators": ["999.1.1.1"]})  # nothing left: refused


def test_stix_activity_skips_a_url_with_spaces() -> None:
    ind = sdo(
        "indicator",
        1,
        pattern="[url:value = 'http://bad host.example/a b' OR domain-name:value = 'ok.example']",
        pattern_type="stix",
        valid_from=T0,
    )
    act = activity_from_stix(bundle(ind), name="b")
    assert act.indicators == ["domain:ok.example"]
    assert [s["value"] for s in act.skipped] == ["http://bad host.example/a b"]
    assert ind["id"] in act.skipped[0]["reason"]


def test_oasis_apt1_is_attributable_whole() -> None:
    data = json.loads((FIXTURES / "real" / "oasis-stix21" / "apt1.json").read_text())
    act = activity_from_stix(data, name="apt1")
    assert act.size() > 0
    assert "network:58.246.0.0/15" in act.infrastructure  # its address ranges, not refused


def test_the_result_lists_what_was_skipped() -> None:
    result = AttributionResult(model=ModelInfo(version="v"), candidates=(), unknown=1.0)
    out = with_skipped(result, [{"value": "999.1.1.1", "reason": "not an IPv4 address"}])
    assert out.to_dict()["skipped"] == [{"value": "999.1.1.1", "reason": "not an IPv4 address"}]
    assert AttributionResult.from_dict(out.to_dict()) == out
    assert with_skipped(result, []) is result
