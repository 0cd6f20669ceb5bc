"""The query library's TLP rule: every pattern a query matches passes the TLP filter there.

A research query runs for readers of every clearance. Filtering the nodes it returns is not
enough: a relationship matched without its marking decides which rows exist and what they
count, so ``NOT (c)-[:ATTRIBUTED_TO]->()`` drops a campaign whose only attribution is red, and
``size([(i)-[:HOSTED_ON]->(h) | i])`` counts red hosting; either tells a clear reader that the
hidden relationship exists. So :func:`tlp_problems` asks of every pattern of a query:

- a relationship with a variable ``r`` is filtered with ``coalesce(r.tlp_level, 0) <= $max_tlp``
  in the clause (or pattern comprehension) that matches it, or for an ``OPTIONAL MATCH`` in the
  ``WITH`` right after it (``count(CASE WHEN <filter> THEN x END)``);
- a relationship without a variable, or of variable length, lies in a named path ``p`` filtered
  there with ``all(e IN relationships(p) WHERE coalesce(e.tlp_level, 0) <= $max_tlp)``;
- a node with a variable is filtered the same way where it is matched or earlier in the query
  (a variable bound and filtered once stays filtered), or lies in a path whose
  ``nodes(p)`` are all filtered; a node without a variable lies in such a path.

Aggregates (``count``, ``collect``, ``size([...])``, ``min``/``max``) only see the rows and the
comprehension elements of patterns, so with every pattern filtered every aggregate is too.
A bare pattern predicate (``WHERE NOT (a)-->(b)``) cannot be filtered at all: write it as
``size([(a)-[r:T]->(b) WHERE ... | b]) = 0``.

This reads the query text (literals and comments already blanked by the caller), not a parse
tree; it errs on the side of refusing, and each problem names the pattern it refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["tlp_problems"]

_PARAM = "$max_tlp"
_REL = re.compile(r"(<?-)\s*\[([^\[\]]*)\]\s*(->|-)")
_BARE_REL = re.compile(r"(?<=\))\s*(<--|-->|--)\s*(?=\()")
_NODE = re.compile(
    r"(?<![\w$.])\(\s*([A-Za-z_]\w*)?\s*((?::\s*[A-Za-z_]\w*\s*)*)(\{[^{}]*\})?\s*\)"
)
_VAR = re.compile(r"\s*([A-Za-z_]\w*)")
_PATH_NAME = re.compile(r"([A-Za-z_]\w*)\s*=\s*$")
_CLAUSE = re.compile(
    r"\b(MATCH|WITH|RETURN|UNWIND|CALL|UNION|ORDER\s+BY|SKIP|LIMIT)\b", re.IGNORECASE
)
_OPEN, _CLOSE = "([{", ")]}"


def _covered(var: str) -> re.Pattern[str]:
    return re.compile(
        rf"coalesce\(\s*{re.escape(var)}\s*\.\s*tlp_level\s*,\s*0\s*\)\s*<=\s*\$max_tlp\b"
    )


def _path_covered(path: str, what: str) -> re.Pattern[str]:
    return re.compile(
        rf"all\(\s*([A-Za-z_]\w*)\s+IN\s+{what}\(\s*{re.escape(path)}\s*\)\s+WHERE\s+"
        r"coalesce\(\s*\1\s*\.\s*tlp_level\s*,\s*0\s*\)\s*<=\s*\$max_tlp\s*\)",
        re.IGNORECASE,
    )


@dataclass
class _Element:
    start: int
    end: int
    text: str
    var: str | None
    variable_length: bool = False


@dataclass
class _Chain:
    nodes: list[_Element]
    rels: list[_Element]
    path: str | None = None

    @property
    def start(self) -> int:
        return self.nodes[0].start

    @property
    def end(self) -> int:
        return self.nodes[-1].end


def tlp_problems(code: str) -> list[str]:
    """Every pattern of ``code`` the TLP filter does not cover (empty: the query passes).

    Args:
        code: the query with string literals and comments blanked (``lexer.split_literals``).

    Returns:
        One message per refused pattern, naming it.
    """
    brackets = _Brackets(code)
    chains, loose = _patterns(code)
    problems: list[str] = []
    # Node variables bound and filtered so far: a later pattern may reuse them unfiltered.
    done: set[str] = set()
    items: list[_Chain | _Element] = [*chains, *loose]
    for item in sorted(items, key=lambda x: x.start):
        if isinstance(item, _Element):
            lo, hi = brackets.scope(item.start, item.end)
            if not _node_covered(item, code, hi, code[lo:hi], done):
                problems.append(_node_problem(item))
            continue
        chain = item
        lo, hi = brackets.scope(chain.start, chain.end)
        scope = code[lo:hi]
        path_rels = chain.path is not None and bool(
            _path_covered(chain.path, "relationships").search(scope)
        )
        path_nodes = chain.path is not None and bool(
            _path_covered(chain.path, "nodes").search(scope)
        )
        for rel in chain.rels:
            if path_rels:
                continue
            if rel.var and not rel.variable_length and _covered(rel.var).search(scope):
                continue
            problems.append(_rel_problem(rel, chain))
        for node in chain.nodes:
            if path_nodes:
                done.update([node.var] if node.var else [])
            elif not _node_covered(node, code, hi, scope, done):
                problems.append(_node_problem(node))
    return list(dict.fromkeys(problems))


def _node_covered(node: _Element, code: str, scope_end: int, scope: str, done: set[str]) -> bool:
    """Filtered where it is matched, or earlier; records a filtered variable in ``done``."""
    if node.var is None:
        return False
    covered = _covered(node.var)
    if node.var in done or covered.search(scope) or covered.search(code[:scope_end]):
        done.add(node.var)
        return True
    return False


def _rel_problem(rel: _Element, chain: _Chain) -> str:
    if rel.var is None or rel.variable_length:
        how = (
            f"name the path ({chain.path or 'p'} = ...) and filter it with "
            f"all(e IN relationships({chain.path or 'p'}) WHERE "
            f"coalesce(e.tlp_level, 0) <= {_PARAM})"
        )
    else:
        how = f"filter it with coalesce({rel.var}.tlp_level, 0) <= {_PARAM} where it is matched"
    return f"TLP: relationship pattern {rel.text!r} is not filtered by its marking: {how}"


def _node_problem(node: _Element) -> str:
    name = node.var or "n"
    return (
        f"TLP: node pattern {node.text!r} is not filtered by its marking: give it a variable and "
        f"filter it with coalesce({name}.tlp_level, 0) <= {_PARAM}, or put it in a named path "
        f"filtered with all(n IN nodes(p) WHERE coalesce(n.tlp_level, 0) <= {_PARAM})"
    )


def _patterns(code: str) -> tuple[list[_Chain], list[_Element]]:
    """The chains ``(node)-[rel]-(node)...`` of ``code`` and the nodes matched on their own."""
    rels: list[_Element] = []
    for m in _REL.finditer(code):
        if not code[: m.start()].rstrip().endswith(")"):
            continue  # a list or a subscript after a minus sign, not a relationship
        inner = m.group(2)
        var = _VAR.match(inner)
        rels.append(
            _Element(
                m.start(),
                m.end(),
                " ".join(m.group(0).split()),
                var.group(1) if var else None,
                "*" in inner.split("{")[0],
            )
        )
    taken = [(r.start, r.end) for r in rels]
    for m in _BARE_REL.finditer(code):
        if not any(a <= m.start(1) < b for a, b in taken):
            rels.append(_Element(m.start(1), m.end(1), m.group(1), None))
    rels.sort(key=lambda r: r.start)
    nodes = {
        m.start(): _Element(m.start(), m.end(), " ".join(m.group(0).split()), m.group(1))
        for m in _NODE.finditer(code)
    }
    by_end = {n.end: n for n in nodes.values()}
    chains: list[_Chain] = []
    in_chain: set[int] = set()
    for rel in rels:
        left = by_end.get(len(code[: rel.start].rstrip()))
        right_at = rel.end + (len(code[rel.end :]) - len(code[rel.end :].lstrip()))
        right = nodes.get(right_at)
        if left is None or right is None:
            continue
        if chains and chains[-1].nodes[-1] is left:
            chains[-1].rels.append(rel)
            chains[-1].nodes.append(right)
        else:
            chains.append(_Chain([left, right], [rel]))
        in_chain.update((left.start, right.start))
    for chain in chains:
        named = _PATH_NAME.search(code[: chain.start])
        chain.path = named.group(1) if named else None
    loose = [
        n
        for n in nodes.values()
        if n.start not in in_chain and _matched_alone(code, n.start) and (n.var or n.text != "()")
    ]
    return chains, loose


def _matched_alone(code: str, start: int) -> bool:
    """A node pattern on its own: right after MATCH, or after a comma that follows a node."""
    before = code[:start].rstrip()
    if re.search(r"\bMATCH$", before, re.IGNORECASE):
        return True
    return before.endswith(",") and before[:-1].rstrip().endswith(")")


class _Brackets:
    """Where each bracket of the code opens and closes, and the clause around a position."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.parent = [-1] * (len(code) + 1)
        self.close: dict[int, int] = {}
        stack: list[int] = []
        for i, ch in enumerate(code):
            self.parent[i] = stack[-1] if stack else -1
            if ch in _OPEN:
                stack.append(i)
            elif ch in _CLOSE and stack:
                self.close[stack.pop()] = i
        self.parent[len(code)] = -1
        self.clauses = [
            m.start()
            for m in _CLAUSE.finditer(code)
            if not re.search(r"\b(STARTS|ENDS)\s*$", code[: m.start()], re.IGNORECASE)
        ]

    def _container(self, pos: int) -> int:
        """The list or subquery around ``pos``, skipping parentheses of expressions."""
        c = self.parent[pos]
        while c != -1 and self.code[c] == "(":
            c = self.parent[c]
        return c

    def scope(self, start: int, end: int) -> tuple[int, int]:
        """The text a pattern's filter must sit in: its pattern comprehension, or its clause
        (from the clause keyword before it to the next one at the same level)."""
        c = self._container(start)
        if c != -1 and self.code[c] == "[":
            return c, self.close.get(c, len(self.code))
        lo = c + 1 if c != -1 else 0
        hi = self.close.get(c, len(self.code)) if c != -1 else len(self.code)
        level = [k for k in self.clauses if lo <= k < hi and self._container(k) == c]
        before = [k for k in level if k <= start]
        after = [k for k in level if k >= end]
        first = before[-1] if before else lo
        if (
            after
            and re.search(r"\bOPTIONAL\s*$", self.code[:first], re.IGNORECASE)
            and re.match(r"WITH\b", self.code[after[0] :], re.IGNORECASE)
        ):
            # An OPTIONAL MATCH may filter in the WITH that aggregates it,
            # count(CASE WHEN <filter> THEN x END): FalkorDB runs that several times faster
            # than a WHERE on the OPTIONAL MATCH, and it counts the same rows.
            return first, (after[1] if len(after) > 1 else hi)
        return first, (after[0] if after else hi)
