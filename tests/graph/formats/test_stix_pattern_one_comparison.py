"""The one-comparison shortcut of ``pattern_comparisons`` (graph/formats/stix_patterns.py) reads
a pattern as the general fast path and the full parser do, and refuses what they refuse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actorgraph.graph.errors import InvalidIndicator
from actorgraph.graph.formats.stix_patterns import (
    MAX_PATTERN_CHARS,
    _fast_comparisons,
    _full_comparisons,
    pattern_comparisons,
)

_PATHS = [
    "ipv4-addr:value",
    "ipv6-addr:value",
    "domain-name:value",
    "url:value",
    "email-addr:value",
    "file:hashes.'SHA-256'",
    "file:hashes.MD5",
    "x509-certificate:hashes.'SHA-1'",
    "email-message:from_ref.value",
    "network-traffic:dst_ref.value",
    "domain-name:resolves_to_refs[*].value",
    "process:name",
]
_VALUES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30).map(
    lambda v: v.replace("\\", "\\\\").replace("'", "\\'")
)
_SPACE = st.sampled_from(["", " ", "  ", "\t", "\n"])


def _key(c) -> tuple:
    return (c.object_type, c.path, c.kind or "", str(c.value))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_PATHS), _VALUES, _SPACE, _SPACE, _SPACE, _SPACE)
def test_one_comparison_reads_as_the_fast_path_and_the_full_parser(path, value, a, b, c, d):
    pattern = f"{a}[{b}{path}{c}= '{value}'{d}]"
    found = pattern_comparisons(pattern)
    assert found == _fast_comparisons(pattern)
    assert sorted(found, key=_key) == sorted(_full_comparisons(pattern), key=_key)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[ipv4-addr:value = '1.2.3.4'", "invalid STIX pattern"),
        ("[ipv4-addr:value = '1.2.3.4']]", "invalid STIX pattern"),
        ("[ipv4-addr:value = 1.2.3.4]", "invalid STIX pattern"),
        ("[ipv4-addr:value = '" + "1" * MAX_PATTERN_CHARS + "']", "longer than"),
    ],
)
def test_what_the_shortcut_does_not_read_is_refused_as_before(pattern, reason):
    with pytest.raises(InvalidIndicator, match=reason):
        pattern_comparisons(pattern)
