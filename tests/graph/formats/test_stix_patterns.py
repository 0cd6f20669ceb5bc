"""STIX 2.1 pattern parsing into observable values (graph/formats/stix_patterns.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actorgraph.graph.errors import InvalidIndicator
from actorgraph.graph.formats.stix_patterns import (
    _fast_comparisons,
    _full_comparisons,
    parse_pattern,
    pattern_comparisons,
)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ipv4-addr:value = '198.51.100.7']", [("ipv4", "198.51.100.7")]),
        (
            "[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'evil.example']",
            [("ipv4", "198.51.100.7"), ("domain", "evil.example")],
        ),
        (
            "[file:hashes.'SHA-256' = 'aa' AND file:hashes.MD5 = 'bb']",
            [("sha256", "aa"), ("md5", "bb")],
        ),
        (
            "[url:value = 'http://evil.example/a'] AND [email-addr:value = 'x@evil.example']",
            [("url", "http://evil.example/a"), ("email", "x@evil.example")],
        ),
        (
            "[ipv6-addr:value = '2001:db8::1'] FOLLOWEDBY [file:hashes.'SHA-1' = 'cc'] "
            "WITHIN 60 SECONDS",
            [("ipv6", "2001:db8::1"), ("sha1", "cc")],
        ),
        ("[x509-certificate:hashes.'SHA-256' = 'dd']", [("x509", "dd")]),
        ("[x509-certificate:hashes.'SHA-1' = 'ee']", [("x509", "ee")]),
        ("[autonomous-system:number = 64500]", [("asn", 64500)]),
        ("[file:hashes.'SHA-512' = 'ff']", [("sha512", "ff")]),
        (
            "[email-addr:value IN ('a@evil.example', 'b@evil.example')]",
            [("email", "a@evil.example"), ("email", "b@evil.example")],
        ),
        ("[network-traffic:dst_ref.value = '203.0.113.9']", [(None, "203.0.113.9")]),
        ("[url:value = 'http://evil.example/it\\'s']", [("url", "http://evil.example/it's")]),
        # duplicates collapse, order kept
        (
            "[domain-name:value = 'a.example'] OR [domain-name:value = 'a.example']",
            [("domain", "a.example")],
        ),
    ],
)
def test_parse_pattern(pattern: str, expected: list) -> None:
    assert parse_pattern(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "[domain-name:value LIKE '%.evil.example']",
        "[domain-name:value MATCHES '^evil']",
        "[ipv4-addr:value != '1.1.1.1']",
        "[ipv4-addr:value NOT = '1.1.1.1']",
        "[file:name = 'invoice.exe']",
        "[file:hashes.SSDEEP = '3:abc:def']",
        "[windows-registry-key:key = 'HKLM\\\\Software\\\\x']",
    ],
)
def test_comparisons_without_a_single_modelled_value_are_left_out(pattern: str) -> None:
    assert parse_pattern(pattern) == []


def test_an_address_range_is_kept_for_the_reader() -> None:
    assert parse_pattern("[ipv4-addr:value ISSUBSET '10.0.0.0/8']") == [("ipv4", "10.0.0.0/8")]


def test_comparisons_keep_object_path_and_operator() -> None:
    comps = pattern_comparisons(
        "[file:hashes.'SHA-256' = 'aa' OR url:value IN ('http://x.example/')]"
    )
    assert {(c.object_type, c.path, c.operator, c.kind) for c in comps} == {
        ("file", "hashes.SHA-256", "=", "sha256"),
        ("url", "value", "IN", "url"),
    }


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value = '1.2.3.4'",
        "[ipv4-addr:value = '1.2.3.4' AND",
        "ipv4-addr:value = '1.2.3.4'",
        "[ipv4-addr:value = ]",
        "",
        "rule x { condition: true }",
    ],
)
def test_invalid_patterns_raise(pattern: str) -> None:
    with pytest.raises(InvalidIndicator, match="invalid STIX pattern"):
        parse_pattern(pattern)


# The fast path for simple patterns must agree with the OASIS parser wherever it applies.
_PATHS = [
    "ipv4-addr:value",
    "domain-name:value",
    "url:value",
    "email-addr:value",
    "file:hashes.'SHA-256'",
    "file:hashes.MD5",
    "file:hashes.'SHA-1'",
    "x509-certificate:hashes.'SHA-256'",
    "email-message:from_ref.value",
    "network-traffic:dst_ref.value",
    "process:name",
]
_VALUES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30).map(
    lambda v: v.replace("\\", "\\\\").replace("'", "\\'")
)


def _key(c) -> tuple:
    """Sort key of a comparison, to compare the two parsers' results as multisets."""
    return (c.object_type, c.path, c.kind or "", str(c.value))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PATHS), _VALUES), min_size=1, max_size=4))
def test_fast_path_agrees_with_the_full_parser(comps):
    pattern = "[" + " OR ".join(f"{p} = '{v}'" for p, v in comps) + "]"
    fast = _fast_comparisons(pattern)
    assert fast is not None, pattern
    # Same comparisons; the full parser groups them by object type, the fast path keeps the
    # pattern's order, so compare them as multisets.
    assert sorted(fast, key=_key) == sorted(_full_comparisons(pattern), key=_key)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["domain-name", "ipv4-addr", "file", "email-message", "network-traffic"]),
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "value",
                    "resolves_to_refs[*].value",
                    "hashes.MD5",
                    "from_ref.value",
                    "dst_ref.value",
                    "refs[0].value",
                ]
            ),
            _VALUES,
            st.sampled_from(["AND", "OR"]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_fast_path_agrees_with_the_full_parser_on_one_type_joined_by_and(object_type, comps):
    pattern = (
        "["
        + "".join(f"{j} {object_type}:{p} = '{v}' " for p, v, j in comps)[len(comps[0][2]) + 1 :]
        + "]"
    )
    fast = _fast_comparisons(pattern)
    assert fast is not None, pattern
    assert sorted(fast, key=_key) == sorted(_full_comparisons(pattern), key=_key)


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.example']",
        "[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'y.example' AND url:value = 'http://z']",
        "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.example']",
        "[domain-name:value = 'x.example'] WITHIN 5 SECONDS",
        "[autonomous-system:number = 13335]",
        "[ipv4-addr:value IN ('1.2.3.4', '1.2.3.5')]",
    ],
)
def test_other_forms_take_the_full_parser(pattern):
    assert _fast_comparisons(pattern) is None
