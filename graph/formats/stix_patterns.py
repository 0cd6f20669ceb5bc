"""STIX 2.1 patterns -> the observable values they compare against.

``[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'evil.example']`` names two
indicators. The OASIS ``stix2-patterns`` parser validates the syntax and lists the comparisons;
this module keeps the ones that pin a concrete observable value (``=`` and ``IN``) on the
object paths actorgraph models, and maps them to indicator kinds, and address ranges
(``ipv4-addr:value ISSUBSET '198.51.100.0/24'``), which the reader keeps as networks. Wildcards
(``LIKE``, ``MATCHES``), ordering comparisons and negations name no single value and are left
out (the reader names such indicators in its report).

Patterns arrive from anyone holding an analyst or ingest key, and the ANTLR parser costs about
5 ms of CPU per kilobyte, recurses once per joined comparison and once per nesting level. So a
pattern is measured by a linear scan before any parser sees it, and refused when it is longer
than ``MAX_PATTERN_CHARS``, makes more than ``MAX_PATTERN_COMPARISONS`` comparisons or nests
brackets and parentheses deeper than ``MAX_PATTERN_DEPTH``. Within those bounds the worst
shapes parse in well under a second (tests/graph/formats/test_stix_pattern_bounds.py), which is
how parse time is bounded: the parser itself cannot be interrupted. Many patterns each within
the bounds add up, so one input (a bundle) also gets a ``ParseBudget``: at most
``MAX_PARSED_CHARS`` characters of patterns through the full parser, a few seconds of CPU.
Patterns the fast path reads (nearly all real ones) cost nothing against it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from stix2patterns.exceptions import ParseException
from stix2patterns.v21.pattern import Pattern

from actorgraph.graph.errors import InvalidIndicator

# The documented bounds of one pattern (docs/SECURITY.md). Real indicators name one to a few
# values; a feed with more splits them over several indicators.
MAX_PATTERN_CHARS = 65_536
"""Longest pattern accepted, in characters."""
MAX_PATTERN_COMPARISONS = 500
"""Most comparisons (``object-type:path <op> value``) in one pattern; an ``IN`` set is one."""
MAX_PATTERN_DEPTH = 64
"""Deepest nesting of ``[...]`` and ``(...)``."""
MAX_PARSED_CHARS = 1_048_576
"""Most characters of patterns one input may send through the full parser, in total."""


class ParseBudget:
    """What is left of one input's ``MAX_PARSED_CHARS`` (one per bundle being validated)."""

    def __init__(self, chars: int = MAX_PARSED_CHARS) -> None:
        self.chars = chars
        self.left = chars

    def spend(self, pattern: str) -> None:
        """Charge ``pattern`` before the full parser reads it.

        Raises:
            InvalidIndicator: the input's patterns need more than the budget.
        """
        self.left -= len(pattern)
        if self.left < 0:
            raise _refused(
                pattern,
                f"this input's patterns need more than {self.chars:,} characters of full "
                "parsing; split it into smaller inputs",
            )


# (object type, object path) -> indicator kind; None = detect from the value.
_HASH_KINDS = {
    "md5": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha512": "sha512",
    "sha-512": "sha512",
}
_VALUE_PATHS: dict[tuple[str, str], str | None] = {
    ("ipv4-addr", "value"): "ipv4",
    ("ipv6-addr", "value"): "ipv6",
    ("domain-name", "value"): "domain",
    ("url", "value"): "url",
    ("email-addr", "value"): "email",
    ("email-message", "from_ref.value"): "email",
    ("email-message", "sender_ref.value"): "email",
    ("autonomous-system", "number"): "asn",
    ("network-traffic", "dst_ref.value"): None,
    ("network-traffic", "src_ref.value"): None,
}


@dataclass(frozen=True)
class Comparison:
    """One concrete comparison of a pattern: ``file:hashes.'SHA-256' = '...'``."""

    object_type: str
    path: str
    operator: str
    kind: str | None
    value: str | int


def parse_pattern(
    pattern: str, comparisons: list[Comparison] | None = None
) -> list[tuple[str | None, str | int]]:
    """The ``(kind, raw value)`` pairs a STIX pattern names, in pattern order, deduplicated.

    ``kind`` is an indicator kind (``ipv4``, ``domain``, ``sha256`` ...) or ``None`` when
    the value decides (``network-traffic:dst_ref.value``). Values are not yet normalised.

    Args:
        pattern: a STIX 2.1 pattern string.
        comparisons: its ``pattern_comparisons``, when already computed (validation does).

    Returns:
        The observable values, one per ``=`` comparison and per member of an ``IN`` set.

    Raises:
        InvalidIndicator: the pattern is not valid STIX 2.1 pattern syntax.
    """
    seen: set[tuple[str | None, str | int]] = set()
    out: list[tuple[str | None, str | int]] = []
    for comp in comparisons if comparisons is not None else pattern_comparisons(pattern):
        key = (comp.kind, comp.value)
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


# The shape of nearly every indicator pattern in the wild: one observation of ``=`` comparisons
# joined by OR, or by AND on one object type (``[domain-name:value = 'x' AND
# domain-name:resolves_to_refs[*].value = '1.2.3.4']``), no qualifiers. This expression reads
# them far faster than the ANTLR parser with the same result
# (tests/graph/formats/test_stix_patterns.py checks both agree), and everything else goes
# through the full parser. Mixed object types joined by AND go there too: that rule is the
# parser's.
_FAST_PATH_PART = r"(?:[A-Za-z0-9_]+|'[A-Za-z0-9_-]+')"
# (object type):(property path) = '(value)'
_FAST_COMP = (
    r"([a-z0-9][a-z0-9-]*)"
    rf":([a-z0-9_]+(?:\.{_FAST_PATH_PART}|\[(?:\*|\d+)\])*)"
    r"\s*=\s*'((?:[^'\\]|\\['\\])*)'"
)
_FAST_COMP_RE = re.compile(_FAST_COMP)
_FAST_PATTERN = re.compile(
    r"^\[\s*"
    + _FAST_COMP.replace("(", "(?:").replace("(?:?:", "(?:")
    + r"(?:\s+(?:OR|AND)\s+"
    + _FAST_COMP.replace("(", "(?:").replace("(?:?:", "(?:")
    + r")*\s*\]$"
)


# The commonest shape of all, one comparison (``[ipv4-addr:value = '198.51.100.7']``): one
# match instead of the general expression's several steps, with the same result.
_FAST_ONE = re.compile(r"\[\s*" + _FAST_COMP + r"\s*\]")
_FAST_PATH_PART_RE = re.compile(_FAST_PATH_PART)
_ESCAPED = re.compile(r"\\(.)")


def _fast_comparisons(pattern: str) -> list[Comparison] | None:
    """The comparisons of a simple pattern, or None when it needs the full parser."""
    text = pattern.strip()
    if not _FAST_PATTERN.match(text):
        return None
    found = list(_FAST_COMP_RE.finditer(text))
    joins = {text[a.end() : b.start()].strip() for a, b in itertools.pairwise(found)}
    if "AND" in joins and len({m.group(1) for m in found}) > 1:
        return None
    return _matched(found)


def _matched(found: list[re.Match[str]]) -> list[Comparison]:
    """The modelled comparisons among the fast path's matches."""
    out: list[Comparison] = []
    for object_type, path, literal in (m.groups() for m in found):
        if "[" in path:  # a list step (resolves_to_refs[*].value) names no modelled value
            continue
        parts = [p.strip("'") for p in _FAST_PATH_PART_RE.findall(path)]
        kind = _kind_of(object_type, parts)
        if kind is False:
            continue
        value = _ESCAPED.sub(r"\1", literal) if "\\" in literal else literal
        out.append(Comparison(object_type, ".".join(parts), "=", kind, value))  # type: ignore[arg-type]
    return out


def pattern_comparisons(pattern: str, budget: ParseBudget | None = None) -> list[Comparison]:
    """Every modelled ``=``/``IN`` comparison of ``pattern`` (see :func:`parse_pattern`).

    Args:
        pattern: a STIX 2.1 pattern string.
        budget: the input's full-parsing budget, charged when the fast path cannot read it.

    Raises:
        InvalidIndicator: the pattern is empty, over the bounds of this module or the budget,
            or not valid STIX 2.1 pattern syntax.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        raise InvalidIndicator(str(pattern), "invalid STIX pattern: empty")
    one = _FAST_ONE.fullmatch(pattern.strip()) if len(pattern) <= MAX_PATTERN_CHARS else None
    if one is not None:
        # One comparison: one colon outside its literal, two brackets deep at most, so within
        # every bound; what the general fast path reads it as.
        return _matched([one])
    check_pattern_bounds(pattern)
    fast = _fast_comparisons(pattern)
    if fast is not None:
        return fast
    if budget is not None:
        budget.spend(pattern)
    return _full_comparisons(pattern)


# A string literal of a pattern ('...', b'...', h'...', t'...'): data, not structure.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'", re.DOTALL)
_NESTING = re.compile(r"[\[\]()]")
_SHOWN_CHARS = 80


def check_pattern_bounds(pattern: str) -> None:
    """Refuse a pattern over the documented bounds, in time linear in its length.

    Raises:
        InvalidIndicator: longer than ``MAX_PATTERN_CHARS``, more than
            ``MAX_PATTERN_COMPARISONS`` comparisons, or nested deeper than ``MAX_PATTERN_DEPTH``.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise _refused(pattern, f"longer than {MAX_PATTERN_CHARS:,} characters ({len(pattern):,})")
    structure = _QUOTED.sub("''", pattern)
    # Outside string literals a colon only separates an object type from its path: one per
    # comparison. An unterminated literal leaves its colons in, which can only over-count.
    comparisons = structure.count(":")
    if comparisons > MAX_PATTERN_COMPARISONS:
        raise _refused(
            pattern, f"more than {MAX_PATTERN_COMPARISONS:,} comparisons ({comparisons:,})"
        )
    depth = 0
    for match in _NESTING.finditer(structure):
        depth += 1 if match.group() in "[(" else -1
        if depth > MAX_PATTERN_DEPTH:
            raise _refused(pattern, f"nested deeper than {MAX_PATTERN_DEPTH} brackets")


def _refused(pattern: str, why: str) -> InvalidIndicator:
    return InvalidIndicator(_shown(pattern), f"invalid STIX pattern: {why}")


def _shown(pattern: str) -> str:
    """The pattern as an error quotes it: its start, not megabytes of it."""
    if len(pattern) <= _SHOWN_CHARS:
        return pattern
    return f"{pattern[:_SHOWN_CHARS]}... ({len(pattern):,} characters)"


def _full_comparisons(pattern: str) -> list[Comparison]:
    """The OASIS ANTLR parser's reading of ``pattern`` (validates every STIX 2.1 form)."""
    try:
        data = Pattern(pattern).inspect()
    except ParseException as exc:
        raise InvalidIndicator(_shown(pattern), f"invalid STIX pattern: {exc}") from exc
    except RecursionError as exc:
        # The bounds keep patterns well inside Python's stack; this is the last line behind them
        # for a caller already deep in its own stack.
        raise _refused(pattern, "nested too deeply for the parser") from exc
    out: list[Comparison] = []
    for object_type, comparisons in data.comparisons.items():
        for path_parts, operator, literal in comparisons:
            path = ".".join(str(p) for p in path_parts)
            kind = _kind_of(object_type, path_parts)
            if kind is False:
                continue
            if operator == "=":
                values = [_literal(literal, pattern)]
            elif operator == "IN":
                values = _set_literal(literal, pattern)
            elif operator == "ISSUBSET" and kind in ("ipv4", "ipv6"):
                values = [_literal(literal, pattern)]  # an address range (graph/formats/ranges.py)
            else:  # comparisons, wildcards, negations (NOT =, !=): no single value
                continue
            for value in values:
                if value is None:
                    continue
                out.append(Comparison(object_type, path, operator, kind, value))  # type: ignore[arg-type]
    return out


def _kind_of(object_type: str, path_parts: list) -> str | bool | None:
    """The indicator kind of an object path; ``False`` when actorgraph does not model it."""
    if len(path_parts) == 2 and path_parts[0] == "hashes":
        algorithm = str(path_parts[1]).lower()
        if object_type == "file" and algorithm in _HASH_KINDS:
            return _HASH_KINDS[algorithm]
        if object_type == "x509-certificate" and _HASH_KINDS.get(algorithm) in ("sha1", "sha256"):
            return "x509"
        return False
    key = (object_type, ".".join(str(p) for p in path_parts))
    return _VALUE_PATHS.get(key, False)


_STRING = re.compile(r"^'((?:[^'\\]|\\.)*)'$", re.DOTALL)


def _literal(literal: str, pattern: str) -> str | int | None:
    """A pattern literal as Python: quoted strings unescaped, integers as int.

    Binary (``b'..'``), hex (``h'..'``) and timestamp (``t'..'``) literals name no observable
    value actorgraph stores, so they come back as ``None``.
    """
    literal = literal.strip()
    match = _STRING.match(literal)
    if match:
        return re.sub(r"\\(.)", r"\1", match.group(1))
    if re.fullmatch(r"-?\d+", literal):
        return int(literal)
    if re.fullmatch(r"[bht]'.*'", literal, re.DOTALL) or literal in ("true", "false"):
        return None
    if re.fullmatch(r"-?\d+\.\d+", literal):
        return None
    raise InvalidIndicator(_shown(pattern), f"invalid STIX pattern: unexpected literal {literal!r}")


def _set_literal(literal: str, pattern: str) -> list[str | int | None]:
    inner = literal.strip()
    if not (inner.startswith("(") and inner.endswith(")")):
        raise InvalidIndicator(_shown(pattern), f"invalid STIX pattern: unexpected set {literal!r}")
    items = re.findall(r"'(?:[^'\\]|\\.)*'|[^,\s()]+", inner[1:-1])
    return [_literal(item, pattern) for item in items]
