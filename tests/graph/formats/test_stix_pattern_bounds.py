"""Pattern size bounds (issue 18, finding 8): a hostile pattern is refused before it is parsed.

One 1.4 MB malformed pattern (40k ORs and trailing garbage) cost 12.8 s of CPU in the ANTLR
parser before its 422, and 3,000 nested parentheses overflowed Python's stack. Patterns over
the documented limits are refused by a linear scan, in milliseconds; at the limits the full
parser stays well under a second.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from actorgraph.graph.errors import InvalidIndicator, StixIngestError
from actorgraph.graph.formats.stix_patterns import (
    MAX_PARSED_CHARS,
    MAX_PATTERN_CHARS,
    MAX_PATTERN_COMPARISONS,
    MAX_PATTERN_DEPTH,
    parse_pattern,
    pattern_comparisons,
)
from actorgraph.graph.formats.stix_reader import read_stix


def _ors(n: int, tail: str = "") -> str:
    comps = (f"ipv4-addr:value = '10.0.{i // 256 % 256}.{i % 256}'" for i in range(n))
    return "[" + " OR ".join(comps) + tail


HOSTILE = _ors(40_000, " OR garbage !! ((( ")  # the finding's shape: 1.4 MB, 40k ORs, no ']'


def _cpu(fn: Any, *args: Any) -> tuple[float, BaseException | None]:
    """Seconds of CPU ``fn(*args)`` took, and what it raised."""
    start = time.process_time()
    try:
        fn(*args)
    except Exception as exc:  # the caller asserts on its type
        return time.process_time() - start, exc
    return time.process_time() - start, None


def test_the_hostile_pattern_is_refused_in_milliseconds() -> None:
    assert len(HOSTILE) > 1_390_000
    seconds, exc = _cpu(pattern_comparisons, HOSTILE)
    print(f"hostile pattern ({len(HOSTILE):,} chars) refused in {seconds * 1000:.1f} ms CPU")
    assert isinstance(exc, InvalidIndicator), exc
    assert "invalid STIX pattern" in exc.reason and f"{MAX_PATTERN_CHARS:,}" in exc.reason
    assert len(str(exc)) < 400  # the error quotes the start of the pattern, not 1.4 MB of it
    assert seconds < 1.0


def test_a_bundle_with_the_hostile_pattern_is_refused_naming_the_object() -> None:
    ts = "2025-01-01T00:00:00.000Z"
    indicator_id = "indicator--0b9e2b3c-9f7e-4c55-8d61-2f1e0b7c1a11"
    bundle = {
        "type": "bundle",
        "id": "bundle--6f1c5a8e-0d3a-4b8e-9c1f-1a2b3c4d5e6f",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": indicator_id,
                "created": ts,
                "modified": ts,
                "valid_from": ts,
                "pattern_type": "stix",
                "pattern": HOSTILE,
            }
        ],
    }
    seconds, exc = _cpu(read_stix, bundle)
    assert isinstance(exc, StixIngestError), exc
    assert exc.object_id == indicator_id
    assert "longer than" in exc.reason
    assert seconds < 1.0


def test_too_many_comparisons_are_refused() -> None:
    pattern = _ors(MAX_PATTERN_COMPARISONS + 1, "]")
    assert len(pattern) <= MAX_PATTERN_CHARS
    with pytest.raises(InvalidIndicator, match=f"more than {MAX_PATTERN_COMPARISONS:,} comp"):
        pattern_comparisons(pattern)


def test_an_in_set_is_one_comparison_however_many_members() -> None:
    members = [f"m{i}.example" for i in range(MAX_PATTERN_COMPARISONS * 2)]
    pattern = "[domain-name:value IN (" + ", ".join(f"'{m}'" for m in members) + ")]"
    assert len(pattern) <= MAX_PATTERN_CHARS
    assert parse_pattern(pattern) == [("domain", m) for m in members]


@pytest.mark.parametrize("depth", [MAX_PATTERN_DEPTH + 1, 3_000])
def test_deep_nesting_is_refused_without_a_recursion_error(depth: int) -> None:
    pattern = "(" * depth + "[ipv4-addr:value = '1.2.3.4']" + ")" * depth
    with pytest.raises(InvalidIndicator, match="nested deeper than"):
        pattern_comparisons(pattern)


def test_quoted_values_do_not_count() -> None:
    """Colons, commas and brackets inside a string literal are data, not structure."""
    value = "http://x.example/" + "a:b,(" * 2_000
    assert parse_pattern(f"[url:value = '{value}']") == [("url", value)]


# The shapes that cost the ANTLR parser most per character, each at the limits: the full parser
# must still answer (or refuse) well under a second.
def _at_limit(unit: str, join: str, head: str = "", tail: str = "") -> str:
    """``unit`` repeated as often as the limits allow (a unit holds ``unit.count(':')`` comps)."""
    by_chars = (MAX_PATTERN_CHARS - len(head) - len(tail)) // (len(unit) + len(join))
    by_comps = MAX_PATTERN_COMPARISONS // unit.count(":")
    return head + join.join([unit] * min(by_chars, by_comps)) + tail


WORST_CASES = {
    "ors with garbage": _at_limit("ipv4-addr:value = '10.0.0.1'", " OR ", "[", " OR garbage !!"),
    "observations ored": _at_limit("[ipv4-addr:value = '10.0.0.1']", " OR "),
    "ands across types": _at_limit("file:name = 'a' AND url:value = 'b'", " AND ", "[", "]"),
    "observations followed by": _at_limit("[ipv4-addr:value = '10.0.0.1']", " FOLLOWEDBY "),
    "in set": "[ipv4-addr:value IN (" + ", ".join(["'10.0.0.1'"] * 5_400) + ")]",
    "unbalanced closers": _at_limit("[ipv4-addr:value = '1']]", " OR "),
    "nested at the limit": "(" * (MAX_PATTERN_DEPTH - 1)
    + "[a:b = '1']"
    + ")" * (MAX_PATTERN_DEPTH - 1),
}


@pytest.mark.parametrize("name", sorted(WORST_CASES))
def test_patterns_at_the_limits_parse_well_under_a_second(name: str) -> None:
    pattern = WORST_CASES[name]
    assert len(pattern) <= MAX_PATTERN_CHARS
    seconds, exc = _cpu(pattern_comparisons, pattern)
    print(f"{name}: {len(pattern):,} chars, {seconds * 1000:.0f} ms CPU, {type(exc).__name__}")
    assert exc is None or isinstance(exc, InvalidIndicator), exc
    assert seconds < 1.0


def _indicator(n: int, pattern: str) -> dict[str, Any]:
    ts = "2025-01-01T00:00:00.000Z"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": ts,
        "modified": ts,
        "valid_from": ts,
        "pattern_type": "stix",
        "pattern": pattern,
    }


def test_one_input_gets_a_bounded_amount_of_full_parsing() -> None:
    """Many patterns each under the limits add up: one input's parsing is bounded as a whole."""
    # Distinct patterns the fast path cannot read (an IN set), each just under the limits.
    members = ", ".join(f"'10.0.{i // 256}.{i % 256}'" for i in range(4_000))
    unit = f"[ipv4-addr:value IN ({members})]"
    assert len(unit) <= MAX_PATTERN_CHARS
    count = MAX_PARSED_CHARS // len(unit) + 2
    objects = [_indicator(n, unit.replace("'10.", f"'{n}.")) for n in range(count)]
    bundle = {"type": "bundle", "id": "bundle--6f1c5a8e-0d3a-4b8e-9c1f-1a2b3c4d5e6f"}
    seconds, exc = _cpu(read_stix, {**bundle, "objects": objects})
    print(f"{count} patterns of {len(unit):,} chars: refused after {seconds:.2f} s CPU")
    assert isinstance(exc, StixIngestError), exc
    spent = itertools.accumulate(len(o["pattern"]) for o in objects)
    first_over = next(n for n, total in enumerate(spent) if total > MAX_PARSED_CHARS)
    assert exc.object_id == objects[first_over]["id"]  # the first one past the budget
    assert f"{MAX_PARSED_CHARS:,} characters" in exc.reason
    # Under the budget, the same patterns are read.
    assert read_stix({**bundle, "objects": objects[:1]}).nodes["Indicator"]
