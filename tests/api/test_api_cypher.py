"""Ad hoc Cypher is read-only, bounded, and cannot reach other graphs, files or procedures."""

from __future__ import annotations

import time

import pytest

from actorgraph.graph.errors import ReadOnlyViolation
from actorgraph.graph.library.guard import MAX_QUERY_CHARS, check_read_only
from actorgraph.graph.store.base import MAX_PARAM_DEPTH
from tests.helpers.api_helpers import auth
from tests.helpers.values import nested

WRITES = [
    "CREATE (n:ThreatActor {id: 'x'})",
    "create (n:Pwned) return n",
    "MERGE (n:ThreatActor {id: 'x'}) RETURN n",
    "MATCH (a:ThreatActor) SET a.name = 'pwned'",
    "MATCH (a:ThreatActor) SET a += {name: 'pwned'}",
    "MATCH (a:ThreatActor) DELETE a",
    "MATCH (a:ThreatActor) DETACH DELETE a",
    "MATCH (a:ThreatActor) REMOVE a.name",
    "MATCH (a:ThreatActor) REMOVE a:ThreatActor",
    "UNWIND [1] AS x FOREACH (i IN [1] | CREATE (:Pwned))",
    "MATCH (a) CALL { WITH a CREATE (:Pwned) } RETURN count(*) AS n",
    "CALL db.idx.fulltext.createNodeIndex('ThreatActor', 'name')",
    "CALL db.idx.fulltext.drop('ThreatActor')",
    "CALL dbms.procedures()",
    "CALL apoc.create.node(['X'], {})",
    "CALL algo.nope()",
    "CREATE INDEX FOR (n:Pwned) ON (n.x)",
    "DROP INDEX ON :ThreatActor(id)",
    "GRAPH.DELETE actorgraph",
    "GRAPH.QUERY other 'MATCH (n) RETURN n'",
    "MATCH (n) RETURN n; CREATE (m:Pwned)",
    "LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row",
    "RETURN apoc.load.json('file:///etc/passwd') AS j",
    "USE other MATCH (n) RETURN n",
    "MATCH (n) /* comment */ SET n.x = 1",
    "MATCH (n)\nSET\tn.x = 1",
]

READS = [
    "MATCH (a:ThreatActor) RETURN a.name AS name ORDER BY name",
    "MATCH (a:ThreatActor) WHERE a.name <> 'CREATE (x)' RETURN a.set AS s",
    "MATCH (a:ThreatActor) RETURN a.name AS name // DELETE everything",
    "CALL db.labels() YIELD label RETURN label",
    "MATCH (a:ThreatActor) CALL { WITH a MATCH (a)-[:USES]->(m) RETURN count(m) AS n } "
    "RETURN a.name AS name, n",
]


def count_nodes(store) -> int:
    return store.query("MATCH (n) RETURN count(n) AS c")[0]["c"]


@pytest.mark.parametrize("query", WRITES)
def test_writes_are_refused_and_nothing_changes(client, keys, world, query):
    before = count_nodes(world)
    r = client.post("/v1/cypher", json={"query": query}, headers=auth(keys["admin_red"]))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert count_nodes(world) == before
    assert world.query("MATCH (n:Pwned) RETURN count(n) AS c")[0]["c"] == 0


@pytest.mark.parametrize("query", READS)
def test_reads_are_allowed(client, keys, query):
    r = client.post("/v1/cypher", json={"query": query}, headers=auth(keys["analyst_red"]))
    assert r.status_code == 200, r.text
    assert r.json()["count"] >= 1


def test_an_unnamed_expression_is_returned_on_every_backend(client, keys):
    """Neo4j refuses unnamed columns inside ``CALL {}``; its row cap needs no such wrapper."""
    query = "MATCH (a:ThreatActor {name: 'APT Alpha'}) RETURN a.name"
    r = client.post("/v1/cypher", json={"query": query}, headers=auth(keys["analyst_red"]))
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == [{"a.name": "APT Alpha"}]


@pytest.mark.parametrize(
    "query", [q for q in WRITES if not any(s in q for s in ("GRAPH.", ";", "dbms."))]
)
def test_engine_refuses_writes_even_without_the_keyword_scan(
    client, keys, world, monkeypatch, query
):
    """Defence in depth: with the scan switched off, the read-only path still refuses."""
    monkeypatch.setattr("actorgraph.graph.library.guard.check_read_only", lambda q: None)
    if "RETURN" not in query.upper():
        query += " RETURN 1 AS done"  # ad hoc Cypher must return rows to be run at all
    before = count_nodes(world)
    r = client.post("/v1/cypher", json={"query": query}, headers=auth(keys["admin_red"]))
    assert r.status_code in (400, 403), r.text  # 400: syntax the engine does not know
    assert count_nodes(world) == before
    assert world.query("MATCH (n:Pwned) RETURN count(n) AS c")[0]["c"] == 0


def test_values_only_travel_as_parameters(client, keys):
    evil = "x') CREATE (:Pwned) //"
    r = client.post(
        "/v1/cypher",
        json={
            "query": "MATCH (a:ThreatActor) WHERE a.name = $name RETURN a.name AS n",
            "params": {"name": evil},
        },
        headers=auth(keys["analyst_red"]),
    )
    assert r.status_code == 200 and r.json()["rows"] == []
    r = client.post(
        "/v1/cypher",
        json={"query": "RETURN $v AS v", "params": {"v": evil}},
        headers=auth(keys["analyst_red"]),
    )
    assert r.json()["rows"] == [{"v": evil}]


@pytest.mark.parametrize(
    "params", [{"a b": 1}, {"x`) CREATE (:Pwned) //": 1}, {"ok": {"bad key": 1}}]
)
def test_parameter_names_must_be_identifiers(client, keys, params):
    r = client.post(
        "/v1/cypher",
        json={"query": "RETURN 1 AS one", "params": params},
        headers=auth(keys["analyst_red"]),
    )
    assert r.status_code == 422, r.text


def test_row_cap_truncates(client, keys, api_settings):
    r = client.post(
        "/v1/cypher",
        json={"query": "UNWIND range(1, 1000) AS x RETURN x"},
        headers=auth(keys["analyst_red"]),
    )
    body = r.json()
    assert r.status_code == 200
    assert body["count"] == api_settings.cypher_row_cap == len(body["rows"])
    assert body["truncated"] is True


def test_runaway_query_is_cut_off_and_the_server_keeps_serving(client, keys):
    start = time.monotonic()
    r = client.post(
        "/v1/cypher",
        json={
            "query": "UNWIND range(1, 1000000) AS x UNWIND range(1, 1000000) AS y "
            "WITH x, y WHERE x * y = -1 RETURN count(*) AS c"
        },
        headers=auth(keys["analyst_red"]),
    )
    assert r.status_code == 504, r.text
    assert time.monotonic() - start < 10
    assert r.json()["type"] == "urn:actorgraph:problem:query-timeout"
    assert client.get("/v1/actors", headers=auth(keys["reader_red"])).status_code == 200


@pytest.mark.parametrize(
    ("query", "params"),
    [
        ("UNWIND range(1, 200000000) AS x RETURN count(x) AS c", {}),
        ("UNWIND range(1, $n) AS x RETURN count(x) AS c", {"n": 10**10}),
        ("UNWIND range(1, 1000 * 1000 * 1000) AS x RETURN count(x) AS c", {}),
    ],
)
def test_huge_lists_are_refused_before_the_engine_builds_them(client, keys, query, params):
    # FalkorDB builds a range() list whole before it checks its timeout again.
    start = time.monotonic()
    r = client.post(
        "/v1/cypher", json={"query": query, "params": params}, headers=auth(keys["analyst_red"])
    )
    assert r.status_code == 422, r.text
    assert "range(" in r.json()["detail"]
    assert time.monotonic() - start < 1


def test_large_results_are_capped_by_the_engine(client, keys):
    # Two allowed ranges make two million rows; the engine stops at the cap instead.
    start = time.monotonic()
    r = client.post(
        "/v1/cypher",
        json={"query": "UNWIND range(1, 1000000) AS x UNWIND range(1, 2) AS y RETURN x, y"},
        headers=auth(keys["analyst_red"]),
    )
    assert r.status_code == 200, r.text
    assert r.json()["truncated"] is True and r.json()["count"] == 100
    assert time.monotonic() - start < 2


def test_results_keep_their_order_and_names(client, keys):
    r = client.post(
        "/v1/cypher",
        json={"query": "MATCH (a:ThreatActor) RETURN a.name AS name ORDER BY name DESC"},
        headers=auth(keys["analyst_red"]),
    )
    names = [row["name"] for row in r.json()["rows"]]
    assert names == sorted(names, reverse=True) and len(names) == 4


@pytest.mark.parametrize(
    "query",
    [
        "MATCH (n) RETURN n } RETURN * /*",
        "MATCH (n) RETURN n /* never closed",
        "MATCH (n) RETURN n }",
        "MATCH (n) WHERE n.name = 'open RETURN n",
    ],
)
def test_queries_that_could_escape_the_row_cap_are_refused(client, keys, world, query):
    r = client.post("/v1/cypher", json={"query": query}, headers=auth(keys["analyst_red"]))
    # FalkorDB's cap wraps the query, so the store refuses text that could close the wrapper;
    # Neo4j runs the text as written and its parser refuses it (400, a syntax error), unless
    # the guard already found no RETURN outside the open string (422).
    allowed = {422} if world.backend == "falkordb" else {400, 422}
    assert r.status_code in allowed, r.text


def test_a_statement_without_return_is_422(client, keys):
    r = client.post(
        "/v1/cypher", json={"query": "CALL db.labels()"}, headers=auth(keys["analyst_red"])
    )
    assert r.status_code == 422 and "RETURN" in r.json()["detail"]


def test_syntax_errors_are_400_and_non_finite_numbers_are_null(client, keys):
    h = auth(keys["analyst_red"])
    assert (
        client.post("/v1/cypher", json={"query": "MATCH (n RETURN n"}, headers=h).status_code == 400
    )
    r = client.post(
        "/v1/cypher", json={"query": "RETURN 0.0/0.0 AS nan, 1.0/0.0 AS inf"}, headers=h
    )
    assert r.status_code == 200 and r.json()["rows"] == [{"nan": None, "inf": None}]


def test_scan_ignores_keywords_inside_strings_and_property_names():
    check_read_only("MATCH (n) WHERE n.note = 'SET; DELETE' RETURN n.create, n.merge")
    with pytest.raises(ReadOnlyViolation, match="SET"):
        check_read_only("MATCH (n) SET n.x = 'safe'")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            {"query": "RETURN $p AS v", "params": {"p": nested(500)}},
            f"parameter $p nests lists and maps 500 deep; at most {MAX_PARAM_DEPTH} levels",
        ),
        (
            {"query": "RETURN $p AS v", "params": {"p": nested(500, "map")}},
            f"parameter $p nests lists and maps 500 deep; at most {MAX_PARAM_DEPTH} levels",
        ),
        (
            {"query": "RETURN $p AS v", "params": {"p": {"a`b": 1}}},
            "parameter $p has the map key 'a`b', which holds a backtick",
        ),
        (
            {"query": "RETURN 1 AS one //".ljust(MAX_QUERY_CHARS + 1, "x")},
            f"body.query: String should have at most {MAX_QUERY_CHARS} characters",
        ),
        (
            # 3 MB a row: at the cap of these tests (100 rows), past the bound.
            {"query": "UNWIND range(1, 1000000) AS i RETURN range(1, 30000) AS l"},
            "the query's constants (literals, range() lists, parameters) come to about",
        ),
    ],
    ids=["list-500-deep", "map-500-deep", "backtick-key", "too-long", "constant-on-every-row"],
)
def test_hostile_input_is_422_naming_the_problem(client, keys, body, says):
    r = client.post("/v1/cypher", json=body, headers=auth(keys["analyst_red"]))
    assert r.status_code == 422, r.text[:500]
    assert r.json()["detail"].startswith(says), r.json()["detail"]


def test_a_body_too_deep_for_the_json_reader_is_400_saying_so(client, keys):
    deep = "[" * 20_000 + "]" * 20_000  # 40 kB, past Python's recursion limit
    r = client.post(
        "/v1/cypher",
        content='{"query": "RETURN $p AS v", "params": {"p": ' + deep + "}}",
        headers={**auth(keys["analyst_red"]), "content-type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["detail"] == "the JSON body nests lists or objects too deep to read"
    assert client.get("/v1/actors", headers=auth(keys["reader_red"])).status_code == 200
