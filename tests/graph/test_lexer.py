"""graph.lexer: the one Cypher lexer used by the guard, the query library lint and every store."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actorgraph.graph import lexer
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.lexer import (
    Token,
    Write,
    check_bounded,
    find_write,
    has_load_csv,
    split_literals,
    strip_literals,
    tokenize,
    unterminated,
)

# -- tokens ------------------------------------------------------------------------------------


def test_tokens_cover_the_text_and_know_their_kind() -> None:
    q = "MATCH (n) // it's\nWHERE n.k = 'a' RETURN `x` /* c */ LIMIT 1"
    tokens = tokenize(q)
    assert "".join(t.text for t in tokens) == q
    assert [t.kind for t in tokens] == [
        "code",
        "comment",
        "code",
        "string",
        "code",
        "name",
        "code",
        "comment",
        "code",
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r"'a\'b'", "a'b"),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'back\\'", "back\\"),
        (r"'tab\tnew\nline'", "tab\tnew\nline"),
        (r"'\u00e9t\u00e9'", "été"),
        ("'it''s'", "it"),  # two adjacent strings, not a doubled-quote escape
    ],
)
def test_escaped_quotes_stay_inside_the_string(text: str, value: str) -> None:
    first = tokenize(text)[0]
    assert first.kind == "string" and first.closed
    assert first.value == value


def test_an_escaped_closing_quote_leaves_the_string_open() -> None:
    assert unterminated(r"RETURN 'abc\'") == r"'abc\'"
    assert unterminated(r"RETURN 'abc\\'") is None
    assert unterminated("RETURN 1 /* open") == "/* open"
    assert unterminated("RETURN `open") == "`open"
    assert unterminated("RETURN 'a' // a line comment needs no end") is None


def test_comment_markers_inside_strings_are_text() -> None:
    q = "RETURN '/* not a comment */' AS a, \"// nor this\" AS b"
    assert [t.kind for t in tokenize(q)] == ["code", "string", "code", "string", "code"]
    assert split_literals(q)[1] == ["/* not a comment */", "// nor this"]


def test_quotes_inside_comments_are_text() -> None:
    code = strip_literals("MATCH (n) /* it's */ CREATE (m) // don't\nRETURN n")
    assert "CREATE" in code and "'" not in code


def test_backtick_names_double_their_backticks_and_take_no_backslash_escapes() -> None:
    assert tokenize("`we``ird`") == [Token("name", "`we``ird`")]
    assert tokenize("`we``ird`")[0].value == "we`ird"
    # A backslash ends nothing in a name: the name closes at the second backtick, so the
    # CREATE after it is code (the query library's old lexer read it as an escape).
    q = "MATCH (n) RETURN n.`a\\` CREATE (m) //`"
    assert find_write(q) == Write("keyword", "CREATE")
    code, _ = split_literals(q)
    assert "CREATE (m)" in code


# -- writes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        "MATCH (n) WHERE n.name = 'CREATE (x)' RETURN n",
        'MATCH (n) WHERE n.note = "SET; DELETE" RETURN n',
        "MATCH (n) RETURN n.`SET` AS `DELETE`",
        "MATCH (n) // MERGE (m)\nRETURN n",
        "MATCH (n) /* DETACH DELETE n */ RETURN n",
        "MATCH (n) RETURN n.create, n.merge, $set",
        "MATCH (n) WHERE n.name STARTS WITH $p RETURN n.created",
        "CALL db.labels() YIELD label RETURN label",
        "call DB.Labels() YIELD label RETURN label",
        "CALL { MATCH (n) RETURN n } RETURN n",
        # Keywords as aliases, labels, types and map keys name things; they write nothing.
        "RETURN 1 AS start, 2 AS show, 3 as use",
        "MATCH (n:Start)-[:SET]->(m) RETURN m",
        "RETURN {set: 1, delete : 2} AS m",
    ],
)
def test_reads_are_not_writes(q: str) -> None:
    assert find_write(q) is None


@pytest.mark.parametrize(
    ("q", "write"),
    [
        ("MATCH (n) SET n.x = 1", Write("keyword", "SET")),
        ("match (n) detach delete n", Write("keyword", "DETACH")),
        ("MATCH (n) DeLeTe n", Write("keyword", "DELETE")),
        ("LOAD CSV FROM $u AS row RETURN row", Write("keyword", "LOAD")),
        ("MATCH (n) WITH n/**/SET n.x = 1", Write("keyword", "SET")),
        ("CALL { CREATE (:X) } RETURN 1", Write("keyword", "CREATE")),
        (
            "CALL db.idx.fulltext.createNodeIndex('Indicator', 'id')",
            Write("procedure", "db.idx.fulltext.createNodeIndex"),
        ),
        (
            "call Db.Idx.FullText.CreateNodeIndex('I', 'id')",
            Write("procedure", "Db.Idx.FullText.CreateNodeIndex"),
        ),
        ("CALL (n) { RETURN n } RETURN 1", Write("procedure", "(")),
        ("RETURN apoc.text.join(['a'], '')", Write("namespace", "apoc")),
        ("RETURN DBMS.info()", Write("namespace", "DBMS")),
        ("MATCH (n) WITH n AS x SET n:Evil", Write("keyword", "SET")),
        ("MATCH (n) WITH n AS detach DELETE n", Write("keyword", "DELETE")),
        ("MATCH (n) WITH n AS create RETURN create", Write("keyword", "CREATE")),
    ],
)
def test_writes_are_found_in_any_case(q: str, write: Write) -> None:
    assert find_write(q) == write


def test_write_names_read_like_the_query() -> None:
    assert str(Write("keyword", "SET")) == "SET"
    assert str(Write("procedure", "db.idx.fulltext.createNodeIndex")) == (
        "CALL db.idx.fulltext.createNodeIndex"
    )
    assert str(Write("namespace", "apoc")) == "apoc."


def test_load_csv_is_found_across_comments_but_not_in_strings() -> None:
    assert has_load_csv("LOAD /* x */ CSV FROM $u AS r RETURN r")
    assert has_load_csv("load\ncsv from $u as r return r")
    assert not has_load_csv("RETURN 'LOAD CSV' AS x")


def test_split_literals_turns_comments_into_a_space() -> None:
    # Removing a comment outright would glue `n` and `SET` into one word and hide the write.
    code, strings = split_literals("WITH n/**/SET n.k = 'v'")
    assert code == "WITH n SET n.k = ''"
    assert strings == ["v"]


def test_long_texts_are_stripped_like_short_ones() -> None:
    q = "MATCH (n) WHERE n.k = 'CREATE' " + "AND n.x = 1 " * 2000 + "SET n.y = 2"
    assert len(q) > lexer._CACHED_TEXT_MAX
    assert "CREATE" not in strip_literals(q)
    assert find_write(q) == Write("keyword", "SET")


# -- range() bounds ----------------------------------------------------------------------------


def test_range_bounds_read_code_only() -> None:
    check_bounded("RETURN 'range(1, 1000000000)' AS text // range(1, 1e9)")
    check_bounded("UNWIND range(1, $n) AS i RETURN i", {"n": 1000})
    with pytest.raises(ValidationError, match="longer than 1,000,000"):
        check_bounded("UNWIND RANGE(0, $n, 1) AS i RETURN i", {"n": 10**7})
    with pytest.raises(ValidationError, match=r"\$n must be an integer"):
        check_bounded("UNWIND range(1, $n) AS i RETURN i", {"n": "10"})


# -- properties --------------------------------------------------------------------------------

CYPHERISH = st.text(alphabet="ab( )\n'\"`\\/*{}$.;,CREATEset", max_size=60)


@given(CYPHERISH)
def test_tokens_always_rebuild_the_text(text: str) -> None:
    assert "".join(t.text for t in tokenize(text)) == text


@given(CYPHERISH)
def test_stripping_never_leaves_a_quote_or_comment_marker(text: str) -> None:
    code = strip_literals(text)
    assert not set(code) & set("'\"`")
    assert "//" not in code and "/*" not in code


CODE = st.text(alphabet="abcMATCHRETURN ()=.,$", max_size=20)


@given(CODE, st.text(max_size=30), CODE, st.sampled_from("'\""))
def test_any_string_value_round_trips_and_is_never_code(
    before: str, value: str, after: str, quote: str
) -> None:
    literal = quote + value.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
    q = f"{before} {literal} {after}"
    code, strings = split_literals(q)
    assert strings == [value]
    assert code == f"{before} '' {after}"
    assert find_write(f"RETURN {literal} AS v") is None
