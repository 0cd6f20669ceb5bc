"""Constants repeated on every row are bounded by the row cap (``guard.check_result_size``).

Found: a constant is evaluated again for each row, and nothing stopped one from being large.
``UNWIND range(1, 1000000) AS i RETURN [<2,000 numbers>] AS s`` passed every check; capped at
10,000 rows, the engine built them within its timeout and sent them in one reply, which
falkordb-py then read for 21 s (past the 5 s timeout) and 1.9 GB. The same held for a string
literal (a 100 kB one through ``actorgraph cypher``), a ``range()`` and a list parameter.
Now the guard refuses a query whose constants, times the rows it may return, could come to
more than ``MAX_RESULT_BYTES``, before the engine sees it. Ranges and lists that are unwound
into rows, membership tests against a list parameter, and queries that return one row are
still served.
"""

from __future__ import annotations

import time

import pytest

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.lexer import most_rows, row_weight
from actorgraph.graph.library.guard import (
    MAX_QUERY_CHARS,
    MAX_RESULT_BYTES,
    check_result_size,
    run_guarded,
)
from actorgraph.graph.store import GraphStore

ROW_CAP = 10_000  # the default cap (Settings.cypher_row_cap)
ROWS = "UNWIND range(1, 1000000) AS i "
LIST = "[" + ", ".join(["7"] * 400) + "]"
REFUSED = r"^the query's constants \(literals, range\(\) lists, parameters\) come to about"


def _run(store: GraphStore, cypher: str, params: dict | None = None, row_cap: int = ROW_CAP):
    return run_guarded(store, cypher, params, timeout_ms=5000, row_cap=row_cap)


@pytest.mark.parametrize(
    ("cypher", "params", "row_cap"),
    [
        (ROWS + f"RETURN {LIST} AS l", {}, ROW_CAP),
        (ROWS + f"WITH i, {LIST} AS l RETURN l", {}, ROW_CAP),
        (ROWS + "RETURN range(1, 400) AS l", {}, ROW_CAP),
        (ROWS + "RETURN $l AS l", {"l": list(range(400))}, ROW_CAP),
        (ROWS + "RETURN [x IN $l | x] AS l", {"l": list(range(400))}, ROW_CAP),
        (ROWS + "RETURN $s AS s", {"s": "x" * 30_000}, ROW_CAP),
        (ROWS + f"RETURN '{'x' * 19_000}' AS s", {}, 20_000),
        # Bound before the rows are made, then carried on each (found by review).
        (f"WITH {LIST} AS l " + ROWS + "RETURN i, l", {}, ROW_CAP),
        ("WITH $l AS l " + ROWS + "RETURN l", {"l": list(range(400))}, ROW_CAP),
        # The heaviest element of an unwound list is on each of its rows.
        (ROWS + f"UNWIND [{LIST}] AS l RETURN l", {}, ROW_CAP),
        (ROWS + "UNWIND $w AS l RETURN l", {"w": [list(range(400))]}, ROW_CAP),
        # Iterations that return the list they walk, however the head is written (reduce(),
        # refused in ad hoc Cypher anyway, is weighed the same).
        (ROWS + "RETURN [`x` IN $l] AS l", {"l": list(range(400))}, ROW_CAP),
        (ROWS + f"RETURN [x /* {'c' * 250} */ IN $l] AS l", {"l": list(range(400))}, ROW_CAP),
    ],
    ids=[
        "list-literal",
        "list-literal-through-with",
        "range",
        "list-parameter",
        "list-parameter-walked",
        "string-parameter",
        "string-literal-at-a-higher-cap",
        "list-bound-before-the-rows",
        "parameter-bound-before-the-rows",
        "unwound-literal-of-lists",
        "unwound-parameter-of-lists",
        "quoted-iteration-name",
        "comment-before-in",
    ],
)
def test_constants_repeated_on_every_row_are_refused_before_the_engine(
    store: GraphStore, cypher: str, params: dict, row_cap: int
) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ValidationError, match=REFUSED) as info:
        _run(store, cypher, params, row_cap)
    assert time.perf_counter() - t0 < 1
    assert f"at most {MAX_RESULT_BYTES // 2**20} MiB are allowed" in str(info.value)


@pytest.mark.parametrize(
    ("cypher", "params", "rows"),
    [
        (ROWS + "RETURN i, 'APT28' AS name, [1, 2, 3] AS l", {}, ROW_CAP),
        ("UNWIND $ids AS id RETURN id", {"ids": list(range(100_000))}, ROW_CAP),
        ("UNWIND range(1, 1000000) AS x UNWIND range(1, 3) AS y RETURN x, y", {}, ROW_CAP),
        (ROWS + "WITH i WHERE i IN $ids RETURN i", {"ids": list(range(100_000))}, ROW_CAP),
        (f"RETURN {LIST} AS l, range(1, 10000) AS r, $s AS s", {"s": "x" * 100_000}, 1),
        (f"RETURN {LIST} AS l UNION RETURN [1] AS l", {}, 2),
    ],
    ids=["small-constants", "unwound", "unwound-ranges", "membership", "one-row", "union"],
)
def test_what_the_rows_do_not_repeat_is_still_served(
    store: GraphStore, cypher: str, params: dict, rows: int
) -> None:
    found, truncated = _run(store, cypher, params)
    assert len(found) == rows and truncated == (rows == ROW_CAP)


def test_the_longest_string_literal_fits_the_default_cap() -> None:
    # What MAX_QUERY_CHARS lets through as one string is within the bound at the default cap,
    # so the bound refuses lists and parameters there, not the longest literal.
    literal = "x" * (MAX_QUERY_CHARS - 40)
    assert row_weight(ROWS + f"RETURN '{literal}' AS s") * (ROW_CAP + 1) <= MAX_RESULT_BYTES


@pytest.mark.parametrize(
    ("cypher", "rows"),
    [
        ("RETURN 1 AS x", 1),
        ("WITH 1 AS x WHERE x > 0 RETURN x UNION ALL RETURN 2 AS x", 2),
        ("MATCH (n) RETURN n", None),
        ("RETURN 1 AS x UNION ALL UNWIND [1, 2] AS x RETURN x", None),
        ("CALL db.labels() YIELD label RETURN label", None),
        ("RETURN 'MATCH' AS match_word", 1),
    ],
)
def test_most_rows_is_known_only_where_nothing_makes_rows(cypher: str, rows: int | None) -> None:
    assert most_rows(cypher) == rows


IOC_LIST = "[" + ", ".join(f"'host{i}.evil-domain.net'" for i in range(230)) + "]"
IDS = [f"indicator--{i:036d}" for i in range(400)]


@pytest.mark.parametrize(
    ("cypher", "params"),
    [
        # A pasted list of indicators to look up: a filter, nothing on the rows.
        (f"MATCH (i:Indicator) WHERE i.value IN {IOC_LIST} RETURN i.value", {}),
        # A pasted list unwound into rows: one indicator a row.
        (f"UNWIND {IOC_LIST} AS ioc MATCH (i:Indicator {{value: ioc}}) RETURN i.value", {}),
        ("MATCH (n) RETURN n.id, size($ids) AS asked", {"ids": IDS}),
        ("MATCH (n) RETURN n.id, any(d IN $ids WHERE n.id ENDS WITH d) AS hit", {"ids": IDS}),
        ("MATCH (n) WHERE any(d IN $ids WHERE n.id ENDS WITH d) RETURN n.id", {"ids": IDS}),
    ],
    ids=["pasted-list-filter", "pasted-list-unwound", "size", "any-returned", "any-filter"],
)
def test_constants_a_row_does_not_carry_are_not_counted(cypher: str, params: dict) -> None:
    # Each was refused by the first version of the bound (28-57 kB counted a row).
    check_result_size(cypher, params, ROW_CAP)
    assert row_weight(cypher, params) * (ROW_CAP + 1) <= MAX_RESULT_BYTES
