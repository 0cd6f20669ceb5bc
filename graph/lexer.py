"""The one Cypher lexer: code, string literals, comments and backtick-quoted names.

Every check that reads Cypher text works on these tokens: the ad hoc guard
(``graph/library/guard.py``), the query library's lint (``graph/library/queries.py``) and the
bounded-query check that every store runs before its engine (``GraphStore._check_query``). So a
keyword inside a string, a quote inside a comment or ``//`` inside a quoted name means the same
thing to all of them.

The rules follow Cypher (Neo4j 5 and FalkorDB agree on them):

- strings are ``'...'`` or ``"..."`` and take backslash escapes (``\\'``, ``\\\\``, ``\\n``);
- names are quoted with backticks and escape a backtick by doubling it (```a``b``` is the
  name ``a`b``); a backslash in a name is just a backslash;
- comments are ``// ...`` up to the end of the line and ``/* ... */`` (not nested);
- an unterminated string, name or block comment runs to the end of the text.

A comment separates tokens: it becomes a space, never nothing, so ``n/**/SET`` is still a
``SET``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Literal, NamedTuple, TypeVar

from actorgraph.graph.errors import ValidationError

TokenKind = Literal["code", "string", "name", "comment"]

# Clauses and commands that write, administer, or reach outside the graph. ``LOAD`` alone, not
# ``LOAD CSV``: Cypher has no other LOAD, and a comment or newline between the words must not
# hide it.
WRITE_KEYWORDS = frozenset(
    {
        "CREATE",
        "MERGE",
        "SET",
        "DELETE",
        "DETACH",
        "REMOVE",
        "DROP",
        "FOREACH",
        "LOAD",
        "USE",
        "ALTER",
        "GRANT",
        "DENY",
        "REVOKE",
        "SHOW",
        "START",
        "STOP",
        "TERMINATE",
        "RENAME",
        "CYPHER",
    }
)

# The procedures ad hoc Cypher may call: what research needs to find its way around the graph
# and search its text. The graph algorithms (``algo.*``) read, but the engine cannot stop them at
# a timeout (docs/SECURITY.md, TLP finding 7, has the measurements), so they stay out.
ADHOC_PROCEDURE_NAMES = (
    "db.labels",
    "db.relationshipTypes",
    "db.propertyKeys",
    "db.indexes",
    "db.constraints",
    "db.idx.fulltext.queryNodes",
    "db.idx.fulltext.queryRelationships",
    "db.idx.vector.queryNodes",
)
ADHOC_PROCEDURES = frozenset(name.lower() for name in ADHOC_PROCEDURE_NAMES)

# Read-only procedures that may be CALLed: those above and the graph algorithms. Every other
# procedure (index and constraint creation, configuration, anything not listed) counts as a write.
READ_PROCEDURES = ADHOC_PROCEDURES | frozenset(
    name.lower()
    for name in (
        "algo.SPpaths",
        "algo.SSpaths",
        "algo.BFS",
        "algo.pageRank",
        "algo.WCC",
        "algo.betweenness",
    )
)

# Namespaces whose procedures and functions reach files, the network, the server or other
# databases, whatever the name after the dot.
FORBIDDEN_NAMESPACES = ("graph", "apoc", "dbms", "gds")

MAX_RANGE = 1_000_000
"""The longest list ``range()`` may build. FalkorDB builds the whole list before its query
timeout is checked again, so ``UNWIND range(1, 1e9)`` would hold the server (and gigabytes
of memory) far past any timeout."""

MAX_NESTING = 10
"""How deep brackets ``(``, ``[`` and ``{`` may nest in one query, counted together.
FalkorDB's parser takes about twice as long for each level, and its query timeout starts only
after parsing: one ``((...))`` 20 deep took 1.9 s and 24 deep 24 s, whatever the timeout;
5,000 deep held an engine thread until the server was restarted. Groups side by side add up: a query
of 20,000 characters (the API's longest ad hoc query) made only of groups 10 deep parsed in
1.4 to 2.4 s, inside the default 5 s timeout; 12 deep, in 5.3 s. actorgraph's own queries
nest at most 6 deep (7 inside ``write_atomic``'s ``CALL {}``)."""

# One alternation, tried left to right at each position: whichever of a string, a name or a
# comment starts first wins, so a quote inside a comment (or `//` inside a string) is inert.
# No capturing groups: with them the engine loses its first-character scan and stripping a long
# query is ten times slower. A token's first character tells its kind.
_TOKEN = re.compile(
    r"""'(?:[^'\\]|\\.?)*'?|"(?:[^"\\]|\\.?)*"?"""  # strings
    r"""|`(?:[^`]|``)*`?"""  # names
    r"""|//[^\n]*|/\*.*?(?:\*/|\Z)""",  # comments
    re.DOTALL,
)
_KIND: dict[str, TokenKind] = {"'": "string", '"': "string", "`": "name", "/": "comment"}
_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f"}
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.?)", re.DOTALL)

_NAMESPACE = re.compile(r"\b(" + "|".join(FORBIDDEN_NAMESPACES) + r")\s*\.", re.IGNORECASE)
# Not after `.` (a property such as n.create) or `$` (a parameter such as $set), nor inside a
# longer word (STARTS, created).
_KEYWORD = re.compile(
    r"(?<![.$\w])(" + "|".join(sorted(WRITE_KEYWORDS)) + r")(?!\w)", re.IGNORECASE
)
_CALL = re.compile(r"(?<![.$\w])CALL\s*([A-Za-z_][\w.]*|\{|\()?", re.IGNORECASE)
_LOAD_CSV = re.compile(r"\bLOAD\s+CSV\b", re.IGNORECASE)
_RANGE = re.compile(r"(?<![.\w])range\s*\(", re.IGNORECASE)
_INT = re.compile(r"^[-+]?\d+$")
_PARAM_REF = re.compile(r"^\$([A-Za-z_]\w*)$")
_NOT_BRACKET = re.compile(r"[^()\[\]{}]+")
_BIG_NUMBER = re.compile(r"\d{7,}")
_SUSPECT = re.compile(r"[*^$]|\d[eE][+-]?\d|\bto(?:integer|float)\b|\brange\s*\(", re.IGNORECASE)

# The store checks every query it runs, and actorgraph's own queries repeat the same few texts
# (what scanning them uncached costs: benchmarks/RESULTS.md, "Moved from code comments"), so
# the scans it uses are cached. Bounded: at most 256 texts of 16 KB each per cache, whatever
# users send.
_CACHED_TEXT_MAX = 16_384
_CACHE_SIZE = 256
_T = TypeVar("_T")


def _cached(scan: Callable[[str], _T]) -> Callable[[str], _T]:
    """``scan`` with its results for texts up to ``_CACHED_TEXT_MAX`` characters cached."""
    cached = functools.lru_cache(maxsize=_CACHE_SIZE)(scan)

    @functools.wraps(scan)
    def wrapper(cypher: str) -> _T:
        return cached(cypher) if len(cypher) <= _CACHED_TEXT_MAX else scan(cypher)

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return wrapper


class Token(NamedTuple):
    """One piece of Cypher text; the texts of all tokens, in order, are the whole text."""

    kind: TokenKind
    text: str  # as written: quotes and comment markers included

    @property
    def closed(self) -> bool:
        """False for a string, name or block comment that runs off the end of the text."""
        t = self.text
        if self.kind == "string":
            # The closing quote counts only after an even run of backslashes ('a\\' is closed).
            backslashes = len(t) - 1 - len(t[:-1].rstrip("\\"))
            return len(t) >= 2 and t[-1] == t[0] and backslashes % 2 == 0
        if self.kind == "name":
            # Doubled backticks are one backtick of the name; an odd run at the end closes it.
            body = t[1:]
            return (len(body) - len(body.rstrip("`"))) % 2 == 1
        if self.kind == "comment":
            return t.startswith("//") or (len(t) >= 4 and t.endswith("*/"))
        return True

    @property
    def value(self) -> str:
        """What a string or name stands for (quotes removed, escapes resolved); else the text."""
        t = self.text
        if self.kind == "string":
            return _ESCAPE.sub(_unescape, t[1:-1] if self.closed else t[1:])
        if self.kind == "name":
            return (t[1:-1] if self.closed else t[1:]).replace("``", "`")
        return t


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if not code:  # a backslash at the very end of an unterminated string
        return "\\"
    if len(code) == 5:
        return chr(int(code[1:], 16))
    return _ESCAPES.get(code, code)


def tokenize(cypher: str) -> list[Token]:
    """Split Cypher text into code, string, name and comment tokens (nothing is lost)."""
    tokens: list[Token] = []
    pos = 0
    for match in _TOKEN.finditer(cypher):
        if match.start() > pos:
            tokens.append(Token("code", cypher[pos : match.start()]))
        tokens.append(Token(_KIND[match.group(0)[0]], match.group(0)))
        pos = match.end()
    if pos < len(cypher):
        tokens.append(Token("code", cypher[pos:]))
    return tokens


@_cached
def strip_literals(cypher: str) -> str:
    """The code of ``cypher``: each string, name and comment replaced by one space."""
    return _TOKEN.sub(" ", cypher)


def split_literals(cypher: str) -> tuple[str, list[str]]:
    """The code with names kept, comments as a space and each string as ``''``; the strings.

    For linting query files: the code still shows which names it uses, and the string values
    (escapes resolved) can be checked apart from it.
    """
    out: list[str] = []
    strings: list[str] = []
    for token in tokenize(cypher):
        if token.kind == "string":
            out.append("''")
            strings.append(token.value)
        elif token.kind == "comment":
            out.append(" ")
        else:
            out.append(token.text)
    return "".join(out), strings


def unterminated(cypher: str) -> str | None:
    """The text of the first string, name or block comment left open, or None."""
    for match in _TOKEN.finditer(cypher):
        token = Token(_KIND[match.group(0)[0]], match.group(0))
        if not token.closed:
            return token.text
    return None


class Write(NamedTuple):
    """Something in a query that writes, administers or reaches outside the graph."""

    kind: Literal["namespace", "keyword", "procedure"]
    name: str
    """``apoc`` (as written), ``SET`` (upper case), ``db.idx.fulltext.createNodeIndex`` (as
    written; ``(`` for a scoped ``CALL (x) {...}``, empty for a ``CALL`` without a target)."""

    def __str__(self) -> str:
        if self.kind == "namespace":
            return f"{self.name}."
        if self.kind == "procedure":
            return f"CALL {self.name}".strip()
        return self.name


def find_write(cypher: str) -> Write | None:
    """The first write in ``cypher``, outside strings, names and comments, or None.

    Looked for in this order: a forbidden namespace (``apoc.``, ``dbms.``, ...), a write keyword
    (``WRITE_KEYWORDS``, any case), a ``CALL`` of anything but ``READ_PROCEDURES``. A
    ``CALL { ... }`` subquery is not a write by itself: its body is scanned like the rest.
    """
    code = strip_literals(cypher)
    namespace = _NAMESPACE.search(code)
    if namespace:
        return Write("namespace", namespace.group(1))
    keyword = _KEYWORD.search(code)
    if keyword:
        return Write("keyword", keyword.group(1).upper())
    for call in _CALL.finditer(code):
        target = call.group(1)
        if target == "{":
            continue
        if target is None or target == "(" or target.lower() not in READ_PROCEDURES:
            return Write("procedure", target or "")
    return None


def called_procedures(cypher: str) -> tuple[str, ...]:
    """The procedures ``cypher`` CALLs (as written), outside strings, names and comments.

    ``CALL { ... }`` subqueries are not procedures and are left out; a ``CALL`` without a
    target shows as ``""``, a scoped ``CALL (x) {...}`` as ``"("``.
    """
    code = strip_literals(cypher)
    return tuple(m.group(1) or "" for m in _CALL.finditer(code) if m.group(1) != "{")


@_cached
def has_load_csv(cypher: str) -> bool:
    """Whether ``cypher`` has a ``LOAD CSV`` clause (it reads files and URLs)."""
    code = strip_literals(cypher)
    # A plain substring test first: the regex costs tens of microseconds on a long query.
    return "load" in code.lower() and _LOAD_CSV.search(code) is not None


# -- work inside one expression --------------------------------------------------------------------

# FalkorDB checks its timeout between records. An expression is evaluated in one go, so a list
# iteration inside another (or a reduce() that grows its accumulator) runs to the end whatever
# the timeout. Matched on code whose strings are '' and whose quoted names are one word (see
# _words), so brackets inside either cannot be miscounted.
_WORD = r"[A-Za-z_]\w*"
_REDUCE = re.compile(r"(?<![.$\w])reduce\s*\(", re.IGNORECASE)
_ITERATION = re.compile(
    # a list comprehension [x IN list ...] or a pattern comprehension [(a)-->(b) | ...]
    rf"(\[)\s*(?:{_WORD}\s+IN\b|(?:{_WORD}\s*=\s*)?\()"
    # a quantifier any/all/none/single(x IN list WHERE ...)
    rf"|(?<![.$\w])(?:any|all|none|single)\s*(\()\s*{_WORD}\s+IN\b",
    re.IGNORECASE,
)


class Uninterruptible(NamedTuple):
    """Work inside one expression that the engine's timeout cannot stop."""

    kind: Literal["reduce", "nested"]
    text: str
    """The start of the construct as written in the scanned code (strings shown as '')."""


def _words(cypher: str) -> str:
    """The code of ``cypher`` with each string as ``''``, each quoted name as ``n``, each
    comment as a space: the same structure, with no brackets but the code's own."""
    out = []
    for token in tokenize(cypher):
        if token.kind == "code":
            out.append(token.text)
        else:
            out.append({"string": "''", "name": "n", "comment": " "}[token.kind])
    return "".join(out)


def find_uninterruptible(cypher: str) -> Uninterruptible | None:
    """The first ``reduce()`` or list iteration nested in another, outside strings, or None.

    A list iteration is a list comprehension (``[x IN list | ...]``), a pattern comprehension
    (``[(a)-->(b) | ...]``) or a quantifier (``any``/``all``/``none``/``single(x IN ...)``).
    One alone costs as much as its list is long; nested, their lengths multiply. ``reduce()``
    is refused even alone: its accumulator may grow at every step (``s + s`` doubles a string
    each time), which makes one step cost more than the last.
    """
    code = _words(cypher)
    if reduce := _REDUCE.search(code):
        return Uninterruptible("reduce", code[reduce.start() : reduce.start() + 40])
    opens = {m.start(1) if m.group(1) else m.start(2) for m in _ITERATION.finditer(code)}
    if len(opens) < 2:
        return None
    stack: list[bool] = []
    for pos, ch in enumerate(code):
        if ch in "([{":
            iteration = pos in opens
            if iteration and any(stack):
                return Uninterruptible("nested", code[pos : pos + 40])
            stack.append(iteration)
        elif ch in ")]}" and stack:
            stack.pop()
    return None


# -- nesting -------------------------------------------------------------------------------------


@_cached
def nesting_depth(cypher: str) -> int:
    """How deep brackets ``(``, ``[`` and ``{`` nest in ``cypher``, all kinds counted together,
    outside strings, names and comments; an open bracket never closed counts too."""
    depth = deepest = 0
    for bracket in _NOT_BRACKET.sub("", strip_literals(cypher)):
        if bracket in "([{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            # A stray closing bracket is a syntax error, not a way to hide nesting after it.
            depth = max(depth - 1, 0)
    return deepest


def check_nesting(cypher: str) -> None:
    """Refuse brackets nested deeper than ``MAX_NESTING``: the engine's parse time doubles with
    each level, and no query timeout covers it.

    Raises:
        ValidationError: saying how deep the query nests, and the bound.
    """
    depth = nesting_depth(cypher)
    if depth > MAX_NESTING:
        raise ValidationError(
            f"brackets nested {depth} deep; at most {MAX_NESTING} levels of (, [ and {{ are "
            "allowed (the engine's parse time doubles with each level, and no query timeout "
            "covers parsing)"
        )


# -- range() bounds ------------------------------------------------------------------------------


@_cached
def range_calls(cypher: str) -> tuple[tuple[str, ...], ...]:
    """The argument texts of every ``range(...)`` call outside strings, names and comments."""
    code = strip_literals(cypher)
    if "range" not in code.lower():  # as in has_load_csv: skip the regex when it cannot match
        return ()
    return tuple(_call_args(code, m.end()) for m in _RANGE.finditer(code))


def check_bounded(cypher: str, params: dict[str, object] | None = None) -> None:
    """Refuse ``range()`` calls that could build a list longer than ``MAX_RANGE``.

    Literal and parameter bounds are checked exactly; other expressions are allowed unless
    they multiply or contain a number of seven digits or more.

    Args:
        cypher: the query text.
        params: its parameters (a ``$name`` bound is read from them).

    Raises:
        ValidationError: a ``range()`` that is, or may be, too long, or a ``$name`` bound that
            is not an integer.
    """
    calls = range_calls(cypher)
    if not calls:
        return
    params = params or {}
    for args in calls:
        values: list[int | None] = []
        for arg in args:
            values.append(_int_value(arg, params))
            if values[-1] is None and _unbounded(arg):
                raise ValidationError(f"range({', '.join(args)}) may be too long to build")
        if len(values) >= 2 and values[0] is not None and values[1] is not None:
            step = values[2] if len(values) > 2 and values[2] else 1
            if abs((values[1] - values[0]) // step) > MAX_RANGE:
                raise ValidationError(
                    f"range({', '.join(args)}) is longer than {MAX_RANGE:,} elements"
                )


def _unbounded(arg: str) -> bool:
    """A bound we cannot evaluate that could still be huge: arithmetic that grows (``*``,
    ``^``), exponent literals (``1e9``), parameters converted at run time
    (``toInteger($n)``), nested ranges, or a literal of seven digits or more."""
    return bool(_SUSPECT.search(arg) or _BIG_NUMBER.search(arg))


def _call_args(code: str, start: int) -> tuple[str, ...]:
    depth = 0
    args: list[str] = []
    current: list[str] = []
    for ch in code[start:]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    args.append("".join(current).strip())
    return tuple(args)


def _int_value(arg: str, params: dict[str, object]) -> int | None:
    if _INT.match(arg):
        return int(arg)
    ref = _PARAM_REF.match(arg)
    if ref and isinstance(params.get(ref.group(1)), int):
        return int(params[ref.group(1)])  # type: ignore[call-overload]
    if ref and ref.group(1) in params:
        raise ValidationError(f"range() bound ${ref.group(1)} must be an integer")
    return None
