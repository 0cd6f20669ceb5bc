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

import bisect
import functools
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Literal, NamedTuple, TypeVar

from actorgraph.graph.errors import ValidationError

TokenKind = Literal["code", "string", "name", "comment"]

# Clauses and commands that write, administer, or reach outside the graph. ``LOAD`` alone, not
# ``LOAD CSV``: Cypher has no other LOAD, and a comment or newline between the words must not
# hide it. ``CYPHER`` is not here: it is no clause, only a prefix (see ``_PREFIX``).
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
    }
)

# The procedures ad hoc Cypher may call, per backend: what research needs to find its way around
# the graph and search its text. Neo4j 5 has no db.indexes or db.constraints (it lists them with
# SHOW commands, refused with every SHOW) and names its index queries db.index.*, FalkorDB
# db.idx.*. The graph algorithms (``algo.*``) read, but the engine cannot stop them at a timeout
# (docs/SECURITY.md, TLP finding 7, has the measurements), so they stay out.
ADHOC_PROCEDURE_NAMES: dict[str, tuple[str, ...]] = {
    "falkordb": (
        "db.labels",
        "db.relationshipTypes",
        "db.propertyKeys",
        "db.indexes",
        "db.constraints",
        "db.idx.fulltext.queryNodes",
        "db.idx.fulltext.queryRelationships",
        "db.idx.vector.queryNodes",
    ),
    "neo4j": (
        "db.labels",
        "db.relationshipTypes",
        "db.propertyKeys",
        "db.index.fulltext.queryNodes",
        "db.index.fulltext.queryRelationships",
        "db.index.vector.queryNodes",
    ),
}
ADHOC_PROCEDURES = {
    backend: frozenset(name.lower() for name in names)
    for backend, names in ADHOC_PROCEDURE_NAMES.items()
}
# What a query may call on some backend (the text alone does not say which engine runs it).
ANY_ADHOC_PROCEDURE = frozenset().union(*ADHOC_PROCEDURES.values())

# Read-only procedures that may be CALLed: those above and the graph algorithms. Every other
# procedure (index and constraint creation, configuration, anything not listed) counts as a write.
READ_PROCEDURES = ANY_ADHOC_PROCEDURE | frozenset(
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
5,000 deep held an engine thread until the server was restarted. Groups side by side add up: a
query of 20,000 characters (``guard.MAX_QUERY_CHARS``, the longest ad hoc query) made only of
groups 10 deep parsed in 1.4 to 2.4 s, inside the default 5 s timeout; 12 deep, in 5.3 s.
actorgraph's own queries nest at most 6 deep (7 inside ``write_atomic``'s ``CALL {}``)."""

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
# Not after `.` (a property such as n.create), `$` (a parameter such as $set) or `:` (a label
# or type such as :Start), nor before `:` (a map key such as {set: 1}), nor inside a longer word
# (STARTS, created). An alias (`AS start`) is taken out before the search (``_ALIAS``).
_KEYWORD = re.compile(
    r"(?<![.$:\w])(" + "|".join(sorted(WRITE_KEYWORDS)) + r")(?!\w)(?!\s*:)", re.IGNORECASE
)
_ALIAS = re.compile(r"(?<![.$:\w])(AS\s+)[A-Za-z_]\w*", re.IGNORECASE)
# ``CYPHER k=v ...`` before a query sets inline parameters (FalkorDB) or engine options (Neo4j):
# refused, but only where it means that, at the very start.
_PREFIX = re.compile(r"\A\s*(CYPHER)(?!\w)", re.IGNORECASE)
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


_RETURN = re.compile(r"(?<![.$\w])RETURN(?!\w)", re.IGNORECASE)


def returned_order(cypher: str, columns: Sequence[str]) -> list[str]:
    """``columns`` in the order the query's last ``RETURN`` names them (``AS name``, or the
    expression as written); as given when one cannot be placed. FalkorDB's row-cap wrapper
    (``RETURN *``) gives them in name order."""
    code = split_literals(cypher)[0]
    returns = list(_RETURN.finditer(code))
    if not returns:
        return list(columns)
    tail = code[returns[-1].end() :]
    where: dict[str, int] = {}
    for name in columns:
        alias = re.search(
            r"(?<![.$\w])AS\s+(?:" + re.escape(name) + r"|`" + re.escape(name) + r"`)(?![\w`])",
            tail,
            re.IGNORECASE,
        )
        found = alias or re.search(r"(?<![.$\w])" + re.escape(name) + r"(?!\w)", tail)
        if found is None:
            return list(columns)
        where[name] = found.start()
    return sorted(columns, key=where.__getitem__)


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

    kind: Literal["namespace", "keyword", "procedure", "prefix"]
    name: str
    """``apoc`` (as written), ``SET`` (upper case), ``db.idx.fulltext.createNodeIndex`` (as
    written; ``(`` for a scoped ``CALL (x) {...}``, empty for a ``CALL`` without a target),
    ``CYPHER`` (upper case) for the prefix."""

    def __str__(self) -> str:
        if self.kind == "namespace":
            return f"{self.name}."
        if self.kind == "procedure":
            return f"CALL {self.name}".strip()
        return self.name


def find_write(cypher: str) -> Write | None:
    """The first write in ``cypher``, outside strings, names and comments, or None.

    Looked for in this order: a ``CYPHER`` prefix at the start of the query (inline parameters
    or engine options), a forbidden namespace (``apoc.``, ``dbms.``, ...), a write keyword
    (``WRITE_KEYWORDS``, any case), a ``CALL`` of anything but ``READ_PROCEDURES``. A
    ``CALL { ... }`` subquery is not a write by itself: its body is scanned like the rest.
    """
    code = strip_literals(cypher)
    if _PREFIX.match(code):
        return Write("prefix", "CYPHER")
    namespace = _NAMESPACE.search(code)
    if namespace:
        return Write("namespace", namespace.group(1))
    keyword = _KEYWORD.search(_ALIAS.sub(r"\1_", code))
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


# -- where the query's parts begin ----------------------------------------------------------------

# The start of the query or of a UNION branch, then WITH: the position matched is the WITH's.
_PART_OPENS_WITH = re.compile(
    r"(?:\A|(?<![.$\w])UNION(?:\s+ALL)?(?!\w))\s*(?=WITH(?!\w))", re.IGNORECASE
)


def _blanked(cypher: str) -> str:
    """The code of ``cypher`` at its own offsets: every string, name and comment as spaces."""
    return "".join(
        token.text if token.kind == "code" else " " * len(token.text) for token in tokenize(cypher)
    )


def opening_withs(cypher: str) -> tuple[int, ...]:
    """The offsets of each ``WITH`` that opens the query or one of its top-level UNION branches.

    Comments before it are skipped; a ``WITH`` that opens a ``CALL { ... }`` body is not one of
    these (there it imports variables from outside).
    """
    code = _blanked(cypher)
    offsets = []
    depth, scanned = 0, 0
    for match in _PART_OPENS_WITH.finditer(code):
        between = code[scanned : match.start()]
        depth += sum(between.count(b) for b in "([{") - sum(between.count(b) for b in ")]}")
        scanned = match.start()
        if depth == 0:
            offsets.append(match.end())
    return tuple(offsets)


# -- work inside one expression --------------------------------------------------------------------

# FalkorDB checks its timeout between records, and its memory cap too. An expression is evaluated
# in one go, so a list iteration inside another (or a reduce() that grows its accumulator) runs to
# the end whatever the timeout. Matched on code whose strings are '' and whose quoted names are
# one word (see _words), so brackets inside either cannot be miscounted.
_WORD = r"[A-Za-z_]\w*"
_IDENTIFIER = re.compile(_WORD + r"\Z")
_REDUCE = re.compile(r"(?<![.$\w])reduce\s*\(", re.IGNORECASE)
_ITERATION = re.compile(
    # a list comprehension [x IN list ...] or a pattern comprehension [(a)-->(b) | ...]
    rf"(\[)\s*(?:{_WORD}\s+IN\b|(?:{_WORD}\s*=\s*)?\()"
    # a quantifier any/all/none/single(x IN list WHERE ...)
    rf"|(?<![.$\w])(?:any|all|none|single)\s*(\()\s*{_WORD}\s+IN\b",
    re.IGNORECASE,
)
_HEAD = re.compile(rf"\s*({_WORD})\s+IN\b", re.IGNORECASE)  # the `x IN` of [x IN list ...]
_WHERE = re.compile(r"(?<![.$\w])WHERE(?!\w)", re.IGNORECASE)

# The rule for what a list iteration does for each element (its filter and projection, its body,
# evaluated in one go per element): it builds no list and aggregates nothing (no range(), no
# collect() or other aggregate, no other iteration) and, unless the iteration walks one graph
# element's own list (nodes(p), relationships(p), labels(n), keys(n), a property), it reads a
# value from outside the iteration (a variable, a list or map parameter) only through a property
# (a.name) or by comparing the element with it (m <> a, x.score > mean): anything else may copy
# or walk that value again for every element.
_BUILDER = re.compile(
    r"(?<![.$\w])(range|collect|count|sum|avg|min|max|stdevp?|percentile(?:cont|disc))\s*\(",
    re.IGNORECASE,
)
_PROPERTY = rf"{_WORD}(?:\s*\.\s*{_WORD})+"
_ELEMENT_LIST = re.compile(
    rf"(?:nodes|relationships|labels|keys)\s*\(\s*{_WORD}\s*\)"
    rf"|{_PROPERTY}|coalesce\s*\(\s*{_PROPERTY}\s*,\s*\[\s*\]\s*\)",
    re.IGNORECASE,
)
# A name as used, with what comes right before it (`.` of a property key, `:` of a label or map
# value) and after it (`(` of a call, `.` of a property read, `:` of a label test or map key).
_NAME_USE = re.compile(rf"([.:])?\s*(?<![\w$])(\$?{_WORD})(?!\w)(?=\s*([(.:]?))")
_KEYWORDS = frozenset(
    {
        "and",
        "or",
        "xor",
        "not",
        "in",
        "is",
        "null",
        "true",
        "false",
        "starts",
        "ends",
        "with",
        "contains",
        "case",
        "when",
        "then",
        "else",
        "end",
        "where",
        "distinct",
    }
)


class Uninterruptible(NamedTuple):
    """Work inside one expression that the engine's timeout cannot stop."""

    kind: Literal["reduce", "nested", "builds", "outside", "doubles"]
    text: str
    """The start of the construct as written (strings shown as '', comments as a space)."""
    name: str = ""
    """For ``builds``, the function (``range``, ``collect``); for ``outside``, the variable or
    ``$parameter`` read from outside the iteration; for ``doubles``, the variable added to
    itself."""


class _Iteration(NamedTuple):
    """One list iteration, split where its per-element part (filter and projection) starts."""

    start: int
    body: str  # WHERE ... | ..., evaluated once per element
    own: frozenset[str]  # names the iteration binds itself (Cypher's names are case-sensitive)
    bounded: bool  # it walks one graph element's own list


# How _words writes a quoted name that is no plain identifier: "²" is a word character to the
# regular expressions here, but no unquoted Cypher name holds one, so no other name reads alike.
_QUOTED = "n\u00b2"


_QUOTED_WORD = re.compile(_QUOTED + r"(?:[0-9a-f]{2})*")


def _as_written(word: str) -> str:
    """A name from ``_words`` as the query wrote it."""
    if word.startswith(_QUOTED):
        name = bytes.fromhex(word[len(_QUOTED) :]).decode(errors="replace")
        return "`" + name.replace("`", "``") + "`"
    return word


def _shown(code: str, start: int) -> str:
    """The 40 characters of ``_words`` code from ``start``, quoted names as written."""
    return _QUOTED_WORD.sub(lambda m: _as_written(m.group(0)), code[start : start + 40])


def _words(cypher: str) -> str:
    """The code of ``cypher`` with each string as ``''``, each comment as a space and each quoted
    name as one word: its name when that is a plain identifier (```x``` is ``x``), else a word no
    unquoted name can be. The same structure, with no brackets but the code's own."""
    out = []
    for token in tokenize(cypher):
        if token.kind == "name":
            name = token.value
            out.append(name if _IDENTIFIER.match(name) else _QUOTED + name.encode().hex())
        elif token.kind == "code":
            out.append(token.text)
        else:
            out.append({"string": "''", "comment": " "}[token.kind])
    return "".join(out)


# A sum of bare variables and literals (``s + s``, ``s + '-' + s``, ``l + [0] + l``; a string
# reads as ``''`` here): the terms of one ``+`` chain.
_TERM = r"(?:[A-Za-z_]\w*(?![\w.(])|\d+(?:\.\d+)?|''|\[[^\[\]]*\])"
_SUM = re.compile(r"(?<![.\w$])" + _TERM + r"(?:\s*\+\s*" + _TERM + r")+")
_VARIABLE = re.compile(r"(?<![.\w$])[A-Za-z_]\w*(?![\w.(])")


def _self_sum(code: str) -> Uninterruptible | None:
    """A variable added to itself in one sum (``WITH s + s AS s``): a string or list that
    doubles at each step, which a chain of ``WITH`` clauses makes exponential within one
    record (eight doublings of ten characters ran a Neo4j server out of heap, FalkorDB to
    19 GB, whatever the timeout). Properties (``a.x + a.x``) and function results are not
    variables here."""
    for chain in _SUM.finditer(code):
        names = [n.lower() for n in _VARIABLE.findall(chain.group(0))]
        for name in names:
            if names.count(name) > 1:
                return Uninterruptible("doubles", _shown(code, chain.start()), name)
    return None


def find_uninterruptible(
    cypher: str, params: dict[str, object] | None = None
) -> Uninterruptible | None:
    """The first ``reduce()``, nested list iteration or unbounded per-element work, or None.

    A list iteration is a list comprehension (``[x IN list | ...]``), a pattern comprehension
    (``[(a)-->(b) | ...]``) or a quantifier (``any``/``all``/``none``/``single(x IN ...)``).
    One alone costs as much as its list is long; nested, their lengths multiply. ``reduce()``
    is refused even alone: its accumulator may grow at every step (``s + s`` doubles a string
    each time), which makes one step cost more than the last. Within one iteration, the body's
    cost is multiplied by the list's length the same way, so what a body may hold is bounded
    too (see ``_BUILDER``): ``[x IN range(1, 1000000) | range(1, 100)]`` and
    ``[x IN l | l]`` are refused, ``[n IN nodes(p) WHERE n <> a]`` and
    ``[(a)-[:USES]->(m) WHERE m.tlp_level <= $max | m.name]`` are not.

    Args:
        cypher: the query text (strings, names and comments are never code).
        params: its parameters; a list or map one read in a body counts as from outside.
    """
    code = _words(cypher)
    if reduce := _REDUCE.search(code):
        return Uninterruptible("reduce", _shown(code, reduce.start()))
    if doubled := _self_sum(code):
        return doubled
    opens = sorted({m.start(1) if m.group(1) else m.start(2) for m in _ITERATION.finditer(code)})
    if nested := _nested(code, set(opens)):
        return nested
    for start in opens:
        if found := _unbounded_body(_iteration(code, start), code, params or {}):
            return found
    return None


def _nested(code: str, opens: set[int]) -> Uninterruptible | None:
    if len(opens) < 2:
        return None
    stack: list[bool] = []
    for pos, ch in enumerate(code):
        if ch in "([{":
            iteration = pos in opens
            if iteration and any(stack):
                return Uninterruptible("nested", _shown(code, pos))
            stack.append(iteration)
        elif ch in ")]}" and stack:
            stack.pop()
    return None


def _iteration(code: str, start: int) -> _Iteration:
    """The iteration whose bracket opens at ``start`` (none nested in it: see ``_nested``)."""
    head = _HEAD.match(code, start + 1)
    walks_from = head.end() if head else start + 1
    depth, split, end = 0, None, len(code)
    for pos in range(walks_from, len(code)):
        ch = code[pos]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                end = pos
                break
            depth -= 1
        elif depth == 0 and split is None and (ch == "|" or _WHERE.match(code, pos)):
            split = pos
    split = end if split is None else split
    walks = code[walks_from:split].strip()
    if head:
        own = frozenset({head.group(1)})
        bounded = _ELEMENT_LIST.fullmatch(walks) is not None
    else:  # a pattern comprehension binds every name in its pattern, all nodes or relationships
        own = frozenset(re.findall(_WORD, walks))
        bounded = False
    return _Iteration(start, code[split:end], own, bounded)


def _unbounded_body(
    iteration: _Iteration, code: str, params: dict[str, object]
) -> Uninterruptible | None:
    text = _shown(code, iteration.start)
    if builder := _BUILDER.search(iteration.body):
        return Uninterruptible("builds", text, builder.group(1))
    if iteration.bounded:
        return None
    for use in _name_uses(iteration.body):
        if use.name.lower() in _KEYWORDS or use.name in iteration.own:
            continue
        if use.name.startswith("$"):
            if isinstance(params.get(use.name[1:]), (list, dict)):
                return Uninterruptible("outside", text, _as_written(use.name))
        elif not use.harmless and not _compared_with(iteration.body, use, iteration.own):
            return Uninterruptible("outside", text, _as_written(use.name))
    return None


class _NameUse(NamedTuple):
    name: str
    start: int
    end: int
    harmless: bool  # a property key, a label or type, a call, a property read, a map key


def _name_uses(body: str) -> list[_NameUse]:
    """Each name in ``body``, and whether it is one whose value is not read as a whole."""
    uses = []
    brackets: list[str] = []
    scanned = 0
    for use in _NAME_USE.finditer(body):
        for ch in _NOT_BRACKET.sub("", body[scanned : use.start()]):
            if ch in "([{":
                brackets.append(ch)
            elif brackets:
                brackets.pop()
        scanned = use.start()
        before, after = use.group(1), use.group(3)
        in_map = bool(brackets) and brackets[-1] == "{"
        harmless = before == "." or (before == ":" and not in_map) or bool(after)
        uses.append(_NameUse(use.group(2), use.start(2), use.end(2), harmless))
    return uses


# A comparison with the iteration's own name or a property of it on the other side: `m <> a`,
# `x.score > mean`, `a IN x.tags`. It costs at most the size of what the element holds.
_OWN = rf"({_WORD})(?:\s*\.\s*{_WORD})*"
_COMPARED_BEFORE = re.compile(rf"(?<![.\w]){_OWN}\s*(?:<>|<=|>=|=|<|>)\s*\Z")
_ARITHMETIC_BEFORE = re.compile(r"[-+*/%^]\s*\Z")
_ARITHMETIC_AFTER = re.compile(r"\s*(?:[-+*/%^\[]|\.\.)")
_COMPARED_AFTER = re.compile(rf"\s*(?:<>|<=|>=|=|<|>|(?i:IN)\b)\s*{_OWN}(?![\w.(\[])")


def _compared_with(body: str, use: _NameUse, own: frozenset[str]) -> bool:
    """Whether ``use`` is, as a whole, compared with one of ``own`` (or a property of it).

    As a whole: ``x = l + 1`` builds ``l + 1`` (a copy of ``l``) before it compares.
    """
    before_text = body[max(use.start - 200, 0) : use.start]
    if _ARITHMETIC_BEFORE.search(before_text) or _ARITHMETIC_AFTER.match(body, use.end):
        return False
    before = _COMPARED_BEFORE.search(before_text)
    after = _COMPARED_AFTER.match(body, use.end)
    return any(m is not None and m.group(1) in own for m in (before, after))


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


# -- constants repeated on every row -------------------------------------------------------------

VALUE_BYTES = 100
"""What one value costs once a client has read it, beside a string's own bytes: a list literal
of 2,000 numbers returned on each of 10,000 rows took falkordb-py 1.9 GB (95 bytes a value) and
21 s to read, past a 5 s timeout, since the engine's timeout and memory cap stop at the reply."""

# A number, boolean or null literal in code (strings stripped): each becomes a value of its own.
_SCALAR = re.compile(
    r"(?<![\w$.])(?:0x[0-9a-f]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+|true|false|null)(?!\w)",
    re.IGNORECASE,
)
_MEMBER_OF = re.compile(r"(?<![.$\w])IN\s*\Z", re.IGNORECASE)
# `[x IN`, `any(x IN`, `reduce(acc = [], x IN`: the head of an iteration over a list (a name
# in backticks is blanked to spaces, so the name is optional), unlike a membership test `a IN`.
_ITERATION_HEAD = re.compile(rf"[\[(,]\s*(?:{_WORD})?\s*IN\s*\Z", re.IGNORECASE)
# `any(x IN`, `size(`: what walks or measures a list and returns one value.
_ONE_VALUE_HEAD = re.compile(
    rf"(?<![.$\w])(?:(?:any|all|none|single)\s*\(\s*(?:{_WORD})?\s*IN|size\s*\()\s*\Z",
    re.IGNORECASE,
)
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")
_PROJECTION = re.compile(r"(?<![.$\w])(?:WITH|RETURN)(?!\w)", re.IGNORECASE)
_UNWIND_LIST = re.compile(r"(?<![.$\w])UNWIND(?!\w)", re.IGNORECASE)
_AS = re.compile(r"(?<![.$\w])AS(?!\w)", re.IGNORECASE)
# The clauses (and sub-clauses) that end a WITH's or RETURN's list of items.
_ITEMS_END = re.compile(
    r"(?<![.$\w])(?:WITH|RETURN|WHERE|MATCH|OPTIONAL|UNWIND|CALL|UNION|ORDER|SKIP|LIMIT|CREATE"
    r"|MERGE|SET|DELETE|DETACH|REMOVE|FOREACH|LOAD)(?!\w)",
    re.IGNORECASE,
)
_STRING_TEST_WITH = re.compile(r"(?<![.$\w])(?:STARTS|ENDS)\s+(WITH)(?!\w)", re.IGNORECASE)


def _depths(code: str) -> list[int]:
    """The bracket depth at each offset of ``code`` (and one past its end)."""
    depth, level = [0] * (len(code) + 1), 0
    for i, ch in enumerate(code):
        depth[i] = level
        if ch in "([{":
            level += 1
        elif ch in ")]}":
            level -= 1
    depth[len(code)] = level
    return depth


def _clause_spans(
    code: str, depth: list[int], heads: re.Pattern[str], stops: re.Pattern[str]
) -> Iterator[tuple[re.Match[str], int, int]]:
    """``(head, start, end)`` for each clause keyword ``heads`` finds: from after it to the next
    ``stops`` match at the same bracket depth, or to the bracket that closes around it. The WITH
    of STARTS WITH and ENDS WITH is no clause."""
    tests = {m.start(1) for m in _STRING_TEST_WITH.finditer(code)}
    ends = [m for m in stops.finditer(code) if m.start() not in tests]
    for head in heads.finditer(code):
        if head.start() in tests:
            continue
        d, end = depth[head.start()], len(code)
        for i in range(bisect.bisect_left(ends, head.end(), key=lambda m: m.start()), len(ends)):
            if depth[ends[i].start()] == d:
                end = ends[i].start()
                break
        for i in range(head.end(), end):
            if depth[i] < d:
                end = i
                break
        yield head, head.end(), end


def _masked(cypher: str) -> tuple[str, list[tuple[int, Token]]]:
    """``cypher`` with each string, name and comment blanked to spaces of the same length (so
    offsets match the text), and the string tokens with their offsets."""
    out: list[str] = []
    strings: list[tuple[int, Token]] = []
    pos = 0
    for token in tokenize(cypher):
        if token.kind == "code":
            out.append(token.text)
        else:
            out.append(" " * len(token.text))
            if token.kind == "string":
                strings.append((pos, token))
        pos += len(token.text)
    return "".join(out), strings


def _squeezed(code: str) -> tuple[str, list[int]]:
    """``code`` with each run of whitespace as one space, and for each offset of ``code`` (and
    one past its end) the offset where it falls in the squeezed text."""
    out: list[str] = []
    at = [0] * (len(code) + 1)
    for i, ch in enumerate(code):
        at[i] = len(out)
        if not ch.isspace():
            out.append(ch)
        elif not out or out[-1] != " ":
            out.append(" ")
    at[len(code)] = len(out)
    return "".join(out), at


class _Weigher:
    """What the constants between two offsets of a query weigh (see :func:`row_weight`)."""

    def __init__(self, cypher: str, params: dict[str, object]) -> None:
        self.code, strings = _masked(cypher)
        self.params = params
        self.string_at = {at: token for at, token in strings}
        self.string_starts = sorted(self.string_at)
        self.depth = _depths(self.code)
        # What comes before a parameter is read with spaces squeezed (a comment is blanked to
        # spaces, however long): squeezed once for the query, not once per parameter.
        self.squeezed, self.squeezed_at = _squeezed(self.code)

    def __call__(self, lo: int, hi: int) -> int:
        code = self.code
        first = bisect.bisect_left(self.string_starts, lo)
        last = bisect.bisect_left(self.string_starts, hi)
        weight = sum(
            VALUE_BYTES + len(self.string_at[at].text.encode("utf-8", "surrogatepass"))
            for at in self.string_starts[first:last]
        )
        part = code[lo:hi]
        weight += VALUE_BYTES * (len(_SCALAR.findall(part)) + part.count("[") + part.count("{"))
        for call in _RANGE.finditer(code, lo, hi):
            bounds = [_int_or_none(arg, self.params) for arg in _call_args(code, call.end())]
            if len(bounds) >= 2 and bounds[0] is not None and bounds[1] is not None:
                step = bounds[2] if len(bounds) > 2 and bounds[2] else 1
                weight += VALUE_BYTES * max(0, (bounds[1] - bounds[0]) // step + 1)
        for ref in _PARAM.finditer(code, lo, hi):
            if ref.group(1) not in self.params:
                continue
            value = self.params[ref.group(1)]
            end = self.squeezed_at[ref.start()]
            before = self.squeezed[max(0, end - 200) : end]
            one_value = _ONE_VALUE_HEAD.search(before) or (
                _MEMBER_OF.search(before) and not _ITERATION_HEAD.search(before)
            )
            if one_value and isinstance(value, (list, tuple)):
                weight += max((value_bytes(item) for item in value), default=0)
            else:
                weight += value_bytes(value)
        return weight

    def largest_element(self, lo: int, hi: int) -> int:
        """The weight of the heaviest element of the list ``UNWIND`` reads between ``lo`` and
        ``hi`` (a literal list or a parameter; anything else weighs nothing here)."""
        text = self.code[lo:hi]
        stripped = text.strip()
        start = lo + len(text) - len(text.lstrip())
        ref = _PARAM_REF.fullmatch(stripped)
        if ref:
            value = self.params.get(ref.group(1))
            if isinstance(value, (list, tuple)):
                return max((value_bytes(item) for item in value), default=0)
            return value_bytes(value) if ref.group(1) in self.params else 0
        if not stripped.startswith("["):
            return 0
        inner, cuts = self.depth[start] + 1, [start + 1]
        for i in range(start + 1, hi):
            if self.code[i] == "," and self.depth[i] == inner:
                cuts.append(i + 1)
        cuts.append(hi)
        return max(self(a, b) for a, b in itertools.pairwise(cuts))


def row_weight(cypher: str, params: dict[str, object] | None = None) -> int:
    """About how many bytes of constants ``cypher`` could put on each row it returns.

    A constant is evaluated again for every row, so what it costs is multiplied by the rows
    (``UNWIND range(1, 1000000) AS i RETURN '<100 kB>' AS s``). Counted where a row carries
    them: among the items of a ``WITH`` or ``RETURN`` (a constant in a ``WHERE``, a pattern or
    an ``ORDER BY`` puts nothing on the row, so a pasted list of indicators in
    ``WHERE i.value IN [...]`` costs nothing here), and the heaviest element of the list an
    ``UNWIND`` reads (each row carries one):

    - each string literal: its UTF-8 bytes and ``VALUE_BYTES``;
    - each number, boolean or null literal and each ``[`` or ``{`` (a list or map literal,
      also a pattern comprehension): ``VALUE_BYTES``;
    - each ``range()`` whose length is known (literal or parameter bounds): its length times
      ``VALUE_BYTES``;
    - each reference to a parameter: its size (strings' bytes and ``VALUE_BYTES`` a value);
      only its largest element as the list of a membership test (``a IN $list``), of
      ``any``/``all``/``none``/``single`` or of ``size()``, which return one value.

    Not counted, so not bounded here: a constant bound to a variable and then named many times
    in one row (``WITH '...' AS s RETURN [s, s, s, ...]``), a list collected from an unwound
    parameter, a ``range()`` whose bounds are expressions, and lists built from graph data.
    """
    weigh = _Weigher(cypher, params or {})
    code, depth = weigh.code, weigh.depth
    weight = sum(weigh(lo, hi) for _, lo, hi in _clause_spans(code, depth, _PROJECTION, _ITEMS_END))
    for _, lo, hi in _clause_spans(code, depth, _UNWIND_LIST, _AS):
        weight += weigh.largest_element(lo, hi)
    return weight


# Only these clauses make more than one row of one: a query with none of them returns one row
# for each UNION branch (WITH and WHERE keep or drop the row, aggregates keep one).
_ROW_SOURCE = re.compile(r"(?<![.$\w])(?:MATCH|UNWIND|CALL|LOAD|FOREACH)(?!\w)", re.IGNORECASE)
_UNION = re.compile(r"(?<![.$\w])UNION(?!\w)", re.IGNORECASE)


def most_rows(cypher: str) -> int | None:
    """The most rows ``cypher`` can return, when that is known from its text: one per UNION
    branch for a query with no ``MATCH``, ``UNWIND`` or ``CALL``; else None."""
    code = strip_literals(cypher)
    if _ROW_SOURCE.search(code):
        return None
    return len(_UNION.findall(code)) + 1


def value_bytes(value: object) -> int:
    """About what ``value`` costs a client: its strings' UTF-8 bytes and ``VALUE_BYTES`` for
    each value, list and map in it (a loop: a parameter may nest deeply)."""
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        total += VALUE_BYTES
        if isinstance(item, str):
            total += len(item.encode("utf-8", "surrogatepass"))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return total


def _int_or_none(arg: str, params: dict[str, object]) -> int | None:
    """``arg``'s integer value when it is a literal or an integer parameter, else None."""
    try:
        return _int_value(arg, params)
    except ValidationError:  # a parameter that is no integer: check_bounded's to refuse
        return None
