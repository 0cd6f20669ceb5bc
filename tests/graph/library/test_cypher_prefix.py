"""``CYPHER`` is refused only where it means something: as a prefix, at the start of a query.

FalkorDB reads ``CYPHER k=v`` before a query as inline parameters, Neo4j as engine options. The
word was once on the write-keyword list, so ``THIS IS NOT CYPHER`` was refused as "'CYPHER' is
not allowed: ad hoc Cypher is read-only", which was not why it could not run.
"""

from __future__ import annotations

import pytest

from actorgraph.graph.errors import QueryError, ReadOnlyViolation, ValidationError
from actorgraph.graph.lexer import Write, find_write
from actorgraph.graph.library.guard import check_read_only, run_guarded
from actorgraph.graph.library.queries import lint_query, load_library
from actorgraph.graph.store import GraphStore


def _run(store: GraphStore, cypher: str) -> list[dict]:
    rows, _ = run_guarded(store, cypher, timeout_ms=2000, row_cap=10)
    return rows


@pytest.mark.parametrize(
    "cypher", ["CYPHER x=1 RETURN $x AS x", "// a note\ncypher runtime=slotted RETURN 1 AS x"]
)
def test_the_cypher_prefix_is_refused_as_a_prefix(cypher: str) -> None:
    assert find_write(cypher) == Write("prefix", "CYPHER")
    with pytest.raises(ValidationError, match="may not begin with CYPHER"):
        check_read_only(cypher)
    bad = load_library()["actor_profile"].model_copy(update={"query": cypher})
    assert any("'CYPHER'" in problem for problem in lint_query(bad))


def test_text_that_is_not_cypher_is_not_called_a_write(store: GraphStore) -> None:
    with pytest.raises(ValidationError, match="must end with RETURN") as no_return:
        _run(store, "THIS IS NOT CYPHER")
    assert not isinstance(no_return.value, ReadOnlyViolation)
    with pytest.raises(QueryError) as syntax:
        _run(store, "THIS IS NOT CYPHER RETURN 1 AS x")
    assert not isinstance(syntax.value, ReadOnlyViolation)
    assert "read-only" not in str(syntax.value)


def test_the_word_cypher_elsewhere_is_a_name_like_any_other(store: GraphStore) -> None:
    store.query("CREATE (:Malware {id: 'm1', cypher: 'yes'})")
    cypher = "MATCH (m:Malware) RETURN m.cypher AS cypher, 'CYPHER' AS word"
    assert _run(store, cypher) == [{"cypher": "yes", "word": "CYPHER"}]
