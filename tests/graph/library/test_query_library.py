"""The research query library: every file valid, portable, parameterised, TLP-filtered, and useful.

Three graphs: the hand-made one of ``query_fixtures`` (each query finds what it is built for, and
nothing marked TLP:RED leaks below clearance), the demo data (ATT&CK plus the small demo world:
every query runs with its file's example parameters and returns rows), and the CLI on top.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from actorgraph.cypher import QUERIES_DIR
from actorgraph.graph.errors import NotFound, QueryTimeout, ReadOnlyViolation, ValidationError
from actorgraph.graph.library import queries as ql
from actorgraph.graph.store import GraphStore
from actorgraph.graph.store.falkor import FalkorStore
from actorgraph.graph.tlp import TLP
from tests.helpers.backends import fresh_graph, store_env
from tests.helpers.graphs import write_graph
from tests.helpers.query_fixtures import FIXTURE_PARAMS, QUERY_WORLD, SECRET, suggest_examples

FILES = sorted(QUERIES_DIR.glob("*.yml"))
IDS = [f.stem for f in FILES]
LIBRARY = ql.load_library()


@pytest.fixture(scope="module")
def small(backend_server: GraphStore) -> Iterator[GraphStore]:
    """The hand-made graph on each backend, built once for the module (queries only read it).

    The demo data stays on the embedded store here: tests/graph/test_parity.py runs every
    query's examples on it on both backends and compares the rows.
    """
    with fresh_graph(backend_server, "small (test_query_library)") as s:
        write_graph(s, QUERY_WORLD)
        yield s


def _params(q: ql.ResearchQuery) -> dict[str, Any]:
    return {**q.example_params(), **FIXTURE_PARAMS.get(q.name, {})}


# -- the files ----------------------------------------------------------------------------------


def test_library_size_and_categories() -> None:
    assert len(LIBRARY) >= 32
    assert {q.category for q in LIBRARY.values()} == set(ql.CATEGORIES)
    assert len({q.guid for q in LIBRARY.values()}) == len(LIBRARY)


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_file_is_valid(path: Path) -> None:
    q = ql.load_query_file(path)
    assert q.name == path.stem
    assert set(yaml.safe_load(path.read_text())) <= set(ql.ResearchQuery.model_fields)
    assert q.description.strip() and len(q.description.split()) >= 25
    assert all(len(p.description) >= 10 for p in q.parameters)


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_ends_with_limit(path: Path) -> None:
    code, _ = ql.split_literals(ql.load_query_file(path).query)
    assert ql._FINAL_LIMIT.search(code.strip()), "query must end with LIMIT"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_no_value_formatted_into_query(path: Path) -> None:
    q = ql.load_query_file(path)
    assert ql.lint_query(q) == []
    # No example value appears in the text: it comes in as a parameter.
    for p in q.parameters:
        values = p.example if isinstance(p.example, list) else [p.example]
        for v in values:
            if isinstance(v, str) and len(v) >= 3:
                assert v.lower() not in q.query.lower(), f"{p.name} example {v!r} is in the query"
    assert "$max_tlp" in q.query and "tlp_level" in q.query


# -- the lint catches what it should --------------------------------------------------------------

GOOD = LIBRARY["actor_profile"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: t.replace("toLower($actor)", "toLower('APT28')", 1), "literal values ['APT28']"),
        (lambda t: t.replace("<= $max_tlp", "<= 7", 1), "literal numbers ['7']"),
        (lambda t: t.replace("LIMIT $limit", ""), "must end with LIMIT"),
        (lambda t: t.replace("LIMIT $limit", "LIMIT $lim"), "used but not declared: ['lim']"),
        (lambda t: t.replace("ORDER BY actor", "SET a.x = 1 ORDER BY actor"), "write clause"),
        (
            lambda t: t.replace("WHERE coalesce(k", "WHERE EXISTS { MATCH (k) } AND coalesce(k"),
            "EXISTS {}",
        ),
        (lambda t: t.replace("ORDER BY actor", "ORDER BY datetime(a.created)"), "temporal"),
        (lambda t: t.replace("a.name AS actor,", "elementId(a) AS actor,"), "elementId"),
        (lambda t: t.replace("ORDER BY actor", "UNION MATCH (a) RETURN a ORDER BY actor"), "UNION"),
        (
            lambda t: t.replace("toLower(a.name) = toLower($actor)", "a.name =~ $actor"),
            "regular expr",
        ),
        (lambda t: t.replace("$max_tlp", "$clearance"), "must filter"),
        (
            lambda t: t.replace("origin.code AS country,", "exists(a.name) AS country,"),
            "exists()",
        ),
        (
            lambda t: t.replace("WITH a, size([", "WITH a, size((a)--()) AS d, size(["),
            "size((pattern))",
        ),
        (lambda t: t.replace("[o:ORIGINATES_FROM]", "[o:ORIGINATES_FROM|:TARGETS]"), "[:A|:B]"),
        (lambda t: t.replace("RETURN a.name", "RETURN {a.name}"), "formatting placeholder"),
        (lambda t: t.replace("toLower($actor)", "toLower('%s')", 1), "formatting placeholder"),
    ],
)
def test_lint_rejects(change: Any, problem: str) -> None:
    bad = GOOD.model_copy(update={"query": change(GOOD.query)})
    assert any(problem in p for p in ql.lint_query(bad)), ql.lint_query(bad)


def test_lint_rejects_unused_and_reserved_parameters() -> None:
    extra = ql.QueryParameter(
        name="unused", type="string", description="never used here", example="x"
    )
    assert any(
        "declared but not used: ['unused']" in p
        for p in ql.lint_query(GOOD.model_copy(update={"parameters": [*GOOD.parameters, extra]}))
    )
    reserved = ql.QueryParameter(
        name="max_tlp", type="integer", description="the clearance", example=1
    )
    assert any(
        "reserved" in p
        for p in ql.lint_query(GOOD.model_copy(update={"parameters": [*GOOD.parameters, reserved]}))
    )


def test_split_literals_ignores_quotes_in_comments_and_escapes() -> None:
    code, strings = ql.split_literals(
        "MATCH (n) // it's\nWHERE n.k = 'a\\'b' AND n.j = \"c\" RETURN `we'ird` LIMIT 1"
    )
    assert strings == ["a'b", "c"]
    assert "`we'ird`" in code and "it's" not in code


def _write(tmp: Path, q: ql.ResearchQuery) -> None:
    data = q.model_dump(mode="json", exclude_unset=True)
    (tmp / f"{q.name}.yml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_load_library_rejects_duplicate_guid_and_bad_files(tmp_path: Path) -> None:
    _write(tmp_path, GOOD)
    twin = GOOD.model_copy(update={"name": "actor_profile_twin"})
    _write(tmp_path, twin)
    with pytest.raises(ValidationError, match=r"GUID .* already used by 'actor_profile'"):
        ql.load_library(tmp_path)
    (tmp_path / "actor_profile_twin.yml").unlink()
    data = GOOD.model_dump(mode="json", exclude_unset=True) | {"author": "someone"}
    (tmp_path / "extra.yml").write_text(yaml.safe_dump(data))
    with pytest.raises(ValidationError, match=r"(?s)extra\.yml: .*author"):
        ql.load_library(tmp_path)
    (tmp_path / "extra.yml").write_text(
        yaml.safe_dump(GOOD.model_dump(mode="json", exclude_unset=True))
    )
    with pytest.raises(ValidationError, match="named after its query 'actor_profile'"):
        ql.load_library(tmp_path)


# -- parameters -----------------------------------------------------------------------------------


def test_parameters_are_converted_and_checked() -> None:
    q = LIBRARY["actors_similar_to_actor"]
    bound = ql.bind_parameters(
        q, {"actor": "APT28", "min_shared": "4", "limit": "7"}, row_cap=5, tlp_clearance=4
    )
    assert bound == {"actor": "APT28", "min_shared": 4, "limit": 5, "max_tlp": 4}
    with pytest.raises(ValidationError, match="'min_shared' expects integer, got 'four'"):
        ql.bind_parameters(q, {"actor": "x", "min_shared": "four"}, row_cap=10, tlp_clearance=4)
    with pytest.raises(ValidationError, match="needs parameter 'actor'"):
        ql.bind_parameters(q, {}, row_cap=10, tlp_clearance=4)
    with pytest.raises(ValidationError, match="no parameter 'actr'"):
        ql.bind_parameters(q, {"actr": "APT28"}, row_cap=10, tlp_clearance=4)
    with pytest.raises(ValidationError, match="'limit' must be at least 1, got 0"):
        ql.bind_parameters(q, {"actor": "x", "limit": 0}, row_cap=10, tlp_clearance=4)


def test_max_tlp_follows_clearance_and_can_only_be_lowered() -> None:
    q = LIBRARY["actor_profile"]
    assert ql.bind_parameters(q, {"actor": "a"}, row_cap=10, tlp_clearance=2)["max_tlp"] == 2
    assert (
        ql.bind_parameters(q, {"actor": "a", "max_tlp": "1"}, row_cap=10, tlp_clearance=2)[
            "max_tlp"
        ]
        == 1
    )
    with pytest.raises(ValidationError, match="clearance 2, got 4"):
        ql.bind_parameters(q, {"actor": "a", "max_tlp": 4}, row_cap=10, tlp_clearance=2)
    with pytest.raises(
        ValidationError, match=re.escape("clearance must be an integer 0..4, got 7")
    ):
        ql.bind_parameters(q, {"actor": "a"}, row_cap=10, tlp_clearance=7)


@pytest.mark.parametrize(
    ("ptype", "raw", "value"),
    [
        ("boolean", "yes", True),
        ("boolean", "False", False),
        ("boolean", True, True),
        ("float", "0.25", 0.25),
        ("float", 1, 1.0),
        ("integer", 3.0, 3),
        ("integer", " 12 ", 12),
        ("list", "a, b,c", ["a", "b", "c"]),
        ("list", '["x", 2]', ["x", 2]),
        ("list", ["y"], ["y"]),
        ("string", 5, "5"),
    ],
)
def test_coerce_accepts(ptype: str, raw: Any, value: Any) -> None:
    p = ql.QueryParameter(name="p", type=ptype, description="a parameter", example=value)
    assert ql.coerce_value(p, raw) == value


@pytest.mark.parametrize(
    ("ptype", "raw"),
    [
        ("boolean", "maybe"),
        ("float", "nan"),
        ("integer", 2**63),
        ("integer", "9" * 30),
        ("float", "inf"),
        ("integer", True),
        ("integer", "1.5"),
        ("list", "[1, "),
        ("list", [[1]]),
        ("string", None),
        ("string", ["a"]),
        ("float", "abc"),
    ],
)
def test_coerce_rejects_with_the_value_quoted(ptype: str, raw: Any) -> None:
    p = ql.QueryParameter(name="p", type=ptype, description="a parameter", example=None)
    with pytest.raises(ValidationError, match=f"'p' expects {ptype}, got"):
        ql.coerce_value(p, raw)


def test_unknown_query_name() -> None:
    with pytest.raises(NotFound, match="no research query named 'actor_profle'"):
        ql.get_query("actor_profle")


# -- on the hand-made graph ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(LIBRARY), ids=list(LIBRARY))
def test_finds_what_it_is_built_for(small: FalkorStore, name: str) -> None:
    q = LIBRARY[name]
    rows = ql.run_query(small, q, _params(q), timeout_ms=10_000, row_cap=1000, tlp_clearance=4)
    assert rows, f"{name} found nothing in the fixture graph"
    assert all(list(r) == q.returns for r in rows)


@pytest.mark.parametrize("name", list(LIBRARY), ids=list(LIBRARY))
def test_nothing_above_clearance_leaks(small: FalkorStore, name: str) -> None:
    q = LIBRARY[name]
    rows = ql.run_query(small, q, _params(q), timeout_ms=10_000, row_cap=1000, tlp_clearance=3)
    assert SECRET not in json.dumps(rows, default=str).lower()


@pytest.mark.parametrize(
    "name",
    [
        "indicator_to_actors_with_path",
        "actor_campaigns_over_time",
        "actor_domains_by_registrar_and_host",
        "actors_with_alias_collisions",
        "hash_to_malware_and_actors",
    ],
)
def test_red_objects_are_visible_with_clearance(small: FalkorStore, name: str) -> None:
    # The leak test above must be able to fail: these queries do show the red objects at level 4.
    q = LIBRARY[name]
    rows = ql.run_query(small, q, _params(q), timeout_ms=10_000, row_cap=1000, tlp_clearance=4)
    assert SECRET in json.dumps(rows, default=str).lower()


def test_red_relationship_hides_the_claim(small: FalkorStore) -> None:
    def campaigns(level: int) -> set[str]:
        rows = ql.run_query(
            small, "actor_campaigns_over_time", {"actor": "APT28"}, tlp_clearance=level
        )
        return {r["campaign"] for r in rows}

    def actors(level: int) -> set[str]:
        rows = ql.run_query(
            small,
            "indicator_to_actors_with_path",
            {"value": "grid-status.example"},
            tlp_clearance=level,
        )
        return {r["actor"] for r in rows}

    assert campaigns(3) == {"Operation Fancy Mail"}
    assert campaigns(4) == {"Operation Fancy Mail", "Grid Strike", "Secret Operation"}
    assert actors(3) == {"Sandworm Team"} and actors(4) == {"Sandworm Team", "APT28"}


def _run(store: FalkorStore, name: str, **params: Any) -> list[dict[str, Any]]:
    q = LIBRARY[name]
    return ql.run_query(
        store, q, {**_params(q), **params}, timeout_ms=10_000, row_cap=1000, tlp_clearance=3
    )


def test_pivot_path_from_an_ip(small: FalkorStore) -> None:
    rows = _run(small, "indicator_to_actors_with_path", value="203.0.113.10")
    apt28 = [r for r in rows if r["actor"] == "APT28"]
    assert apt28 and apt28[0]["via"] == ["RESOLVES_TO", "INDICATES", "ATTRIBUTED_TO"]
    assert apt28[0]["path"][0] == "203.0.113.10" and apt28[0]["path"][-1] == "APT28"


def test_hub_cap_hides_shared_providers(small: FalkorStore) -> None:
    wide = {
        (r["actor_a"], r["actor_b"]) for r in _run(small, "actors_sharing_hosting", max_actors=5)
    }
    assert ("APT28", "Sandworm Team") in wide and (
        "APT28",
        "APT41",
    ) in wide  # APT41 only via BigCloud
    narrow = _run(small, "actors_sharing_hosting", max_actors=2)
    assert {(r["actor_a"], r["actor_b"]) for r in narrow} == {("APT28", "Sandworm Team")}
    assert narrow[0]["hosts"] == ["asn:AS64500", "hosting_provider:Evil Hosting Ltd"] or set(
        narrow[0]["hosts"]
    ) == {"asn:AS64500", "hosting_provider:Evil Hosting Ltd"}


def test_model_hypotheses(small: FalkorStore) -> None:
    rows = _run(small, "predictions_disagreeing_with_attribution", max_rank=1)
    assert [(r["campaign"], r["predicted_actor"], r["attributed_actor"]) for r in rows] == [
        ("Supply Chain 2020", "Mustang Panda", "APT41")
    ]
    assert rows[0]["same_country"] is True
    assert _run(small, "predictions_disagreeing_with_attribution", max_rank=2) == []
    best = _run(small, "unattributed_campaigns_by_best_hypothesis")
    assert best[0]["best_actor"] == "Mustang Panda" and best[0]["margin"] == pytest.approx(0.5)


def test_technique_rarity_and_uniqueness(small: FalkorStore) -> None:
    unique = {(r["actor"], r["technique"]) for r in _run(small, "techniques_unique_to_one_actor")}
    assert ("APT28", "T1566.001") in unique and ("Sandworm Team", "T1561.002") in unique
    assert not any(t == "T1105" for _, t in unique)
    rarity = _run(small, "actor_techniques_by_rarity", actor="Fancy Bear")
    assert rarity[0]["technique"] == "T1566.001" and rarity[-1]["technique"] == "T1105"
    users = {r["actor"]: r for r in _run(small, "who_uses_technique", technique="T1059")}
    assert set(users) == {"APT28", "Sandworm Team", "FIN7", "APT41"}
    assert users["APT41"]["direct"] is False and users["APT41"]["via_software"] == ["Cobalt Strike"]


def test_hygiene(small: FalkorStore) -> None:
    orphans = {r["indicator"] for r in _run(small, "orphan_indicators")}
    assert "192.0.2.99" in orphans and "203.0.113.10" not in orphans
    pairs = {(r["actor_a"], r["actor_b"]) for r in _run(small, "actors_with_alias_collisions")}
    assert ("APT28", "Sofacy Group (vendor X)") in pairs
    assert [r["actor"] for r in _run(small, "actors_without_country")] == ["FIN7"]


def test_row_cap_and_timeout_are_applied(small: FalkorStore) -> None:
    rows = ql.run_query(
        small, "actor_search", {"text": "a"}, timeout_ms=10_000, row_cap=2, tlp_clearance=4
    )
    assert len(rows) == 2
    # run_query itself must pass the timeout and the read-only flag, whatever the file says.
    heavy = GOOD.model_copy(
        update={
            # Two allowed ranges whose product (10^9) no engine finishes in 1 ms; a single
            # range over 1,000,000 would be refused by the guard before reaching the engine.
            "query": "UNWIND range(1, 1000000) AS x UNWIND range(1, 1000) AS y "
            "WITH x WHERE (x + y) % 7 = 0 RETURN count(x) AS n LIMIT 1",
            "parameters": [],
        }
    )
    with pytest.raises(QueryTimeout):
        ql.run_query(small, heavy, {}, timeout_ms=1, tlp_clearance=4)
    write = GOOD.model_copy(
        update={"query": "CREATE (n:Report {id: 'x'}) RETURN n.id AS id LIMIT 1", "parameters": []}
    )
    with pytest.raises(ReadOnlyViolation):
        ql.run_query(small, write, {}, tlp_clearance=4)
    assert small.query("MATCH (n:Report {id: 'x'}) RETURN count(n) AS n")[0]["n"] == 0


# -- catalogue and export -------------------------------------------------------------------------


def test_readme_catalogue_is_current() -> None:
    text = ql.README_PATH.read_text(encoding="utf-8")
    assert ql.render_catalogue() in text, "run `actorgraph query --catalogue`"
    for q in LIBRARY.values():
        assert f"#### `{q.name}`" in text


def test_library_json_is_current() -> None:
    assert ql.LIBRARY_JSON.read_text(encoding="utf-8") == ql.export_library_json(), (
        "run `actorgraph query --export cypher/library.json`"
    )
    doc = json.loads(ql.export_library_json())
    assert len(doc["queries"]) == len(LIBRARY)
    required = {p["name"] for q in doc["queries"] for p in q["parameters"] if "default" not in p}
    assert "actor" in required and "limit" not in required


def test_update_readme_catalogue(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{ql.CATALOGUE_BEGIN}\nSTALE-CATALOGUE\n{ql.CATALOGUE_END}\n\ntail\n")
    assert ql.update_readme_catalogue(readme) is True
    assert ql.update_readme_catalogue(readme) is False
    text = readme.read_text()
    assert (
        "STALE-CATALOGUE" not in text and text.endswith("tail\n") and "#### `actor_profile`" in text
    )
    readme.write_text("no markers")
    with pytest.raises(ValidationError, match="no catalogue markers"):
        ql.update_readme_catalogue(readme)


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def cli(
    small: GraphStore,
    server_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Any:
    """Run ``actorgraph ...`` in process against the hand-made graph; returns (code, out, err)."""
    from actorgraph.cli import main

    neo4j = request.getfixturevalue("neo4j_settings") if small.backend == "neo4j" else None
    for name, value in store_env(small, neo4j).items():
        monkeypatch.setenv(name, value)

    def invoke(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
        code = main(["--home", str(server_home), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_cli_list(cli: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli("query", "--list", capsys=capsys)
    assert (
        code == 0
        and all(f"{c}:" in out for c in ql.CATEGORIES)
        and f"({len(LIBRARY)} queries" in out
    )
    code, out, _ = cli("query", "--list", "--category", "takedown", "--json", capsys=capsys)
    listed = json.loads(out)
    assert code == 0 and {q["name"] for q in listed} == {
        q.name for q in LIBRARY.values() if q.category == "takedown"
    }
    code, _, err = cli("query", "--list", "--category", "nope", capsys=capsys)
    assert code == 2 and "unknown category 'nope'" in err


def test_cli_runs_a_query(cli: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(
        "query",
        "indicator_to_actors_with_path",
        "--param",
        "value=203.0.113.10",
        "--json",
        capsys=capsys,
    )
    rows = json.loads(out)
    assert code == 0 and {r["actor"] for r in rows} == {"APT28", "Secret Red Actor"}
    code, out, _ = cli(
        "query",
        "indicator_to_actors_with_path",
        "--param",
        "value=203.0.113.10",
        "--max-tlp",
        "2",
        "--json",
        capsys=capsys,
    )
    assert code == 0 and SECRET not in out.lower()
    code, out, _ = cli(
        "query",
        "actors_sharing_hosting",
        "--param",
        "max_actors=2",
        "--max-tlp",
        "3",
        "--csv",
        capsys=capsys,
    )
    lines = out.splitlines()
    assert code == 0 and lines[0] == ",".join(LIBRARY["actors_sharing_hosting"].returns)
    assert lines[1].startswith("APT28,Sandworm Team,2,")
    code, out, _ = cli("query", "actor_profile", "--examples", capsys=capsys)
    assert code == 0 and "APT28" in out and "(1 row)" in out


def test_cli_user_errors(cli: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(
        "query",
        "actors_similar_to_actor",
        "--param",
        "actor=APT28",
        "--param",
        "min_shared=lots",
        capsys=capsys,
    )
    assert code == 2 and "'min_shared' expects integer, got 'lots'" in err
    code, _, err = cli("query", "no_such_query", capsys=capsys)
    assert code == 2 and "no research query named 'no_such_query'" in err
    code, _, err = cli("query", "actor_profile", "--param", "actor", capsys=capsys)
    assert code == 2 and "K=V" in err


def test_cli_export_and_catalogue(
    cli: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "queries.json"
    code, out, _ = cli("query", "--export", str(target), capsys=capsys)
    assert code == 0 and target.read_text() == ql.export_library_json()
    readme = tmp_path / "README.md"
    readme.write_text(f"{ql.CATALOGUE_BEGIN}\n{ql.CATALOGUE_END}\n")
    monkeypatch.setattr(ql, "README_PATH", readme)
    code, out, _ = cli("query", "--catalogue", capsys=capsys)
    assert code == 0 and "catalogue updated" in out and ql.render_catalogue() in readme.read_text()


# -- on the demo data (ATT&CK + the small synthetic world) ----------------------------------------

HYPOTHESES = """
UNWIND $rows AS row
MATCH (c:Campaign {id: row.campaign})
MATCH (a:ThreatActor {name: row.actor})
CREATE (c)-[:PREDICTED_ACTOR {score: row.score, rank: row.rank, model_version: $version,
                              created: $created, sources: ['test']}]->(a)
"""


@pytest.fixture(scope="module")
def demo(server: FalkorStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FalkorStore]:
    """ATT&CK plus the small demo world, loaded once, with a few stand-in model hypotheses."""
    from actorgraph.graph.ingest import ingest_attack, ingest_paths
    from actorgraph.world import generate_world

    out = tmp_path_factory.mktemp("world")
    generate_world(seed=7, scale="small").write(out)
    s = server.with_graph(f"qlib-demo-{uuid.uuid4().hex[:8]}")
    s.ensure_schema()
    ingest_attack(s)
    files = [out / "train.json", *sorted((out / "heldout").glob("*.json"))]
    ingest_paths(s, files, max_tlp=TLP.RED)
    # What `actorgraph attribute --persist` would write, so the model-hypotheses queries have
    # something to read: two unattributed campaigns, and one APT28 campaign the "model" gets wrong.
    unattributed = s.query(
        "MATCH (c:Campaign)<-[:INDICATES]-(:Indicator) WHERE NOT (c)-[:ATTRIBUTED_TO]->() "
        "AND coalesce(c.tlp_level, 0) <= 1 RETURN DISTINCT c.id AS id ORDER BY id LIMIT 2"
    )
    apt28 = s.query(
        "MATCH (c:Campaign)-[:ATTRIBUTED_TO]->(:ThreatActor {name: $name}) "
        "WHERE coalesce(c.tlp_level, 0) <= 1 RETURN c.id AS id ORDER BY id LIMIT 1",
        {"name": "APT28"},
    )
    assert len(unattributed) == 2 and len(apt28) == 1, (
        "demo world lacks the campaigns this test needs"
    )
    rows = [
        {"campaign": unattributed[0]["id"], "actor": "APT28", "score": 0.81, "rank": 1},
        {"campaign": unattributed[0]["id"], "actor": "Sandworm Team", "score": 0.09, "rank": 2},
        {"campaign": unattributed[1]["id"], "actor": "Kimsuky", "score": 0.38, "rank": 1},
        {"campaign": unattributed[1]["id"], "actor": "APT28", "score": 0.33, "rank": 2},
        {"campaign": apt28[0]["id"], "actor": "Sandworm Team", "score": 0.47, "rank": 1},
        {"campaign": apt28[0]["id"], "actor": "APT28", "score": 0.41, "rank": 2},
    ]
    s.write_batches(HYPOTHESES, rows, version="test-standin", created="2026-01-01T00:00:00Z")
    yield s
    s.clear()
    s.close()


@pytest.mark.slow  # the module's demo graph takes 5-15 s to build, charged to the first test
@pytest.mark.parametrize("name", list(LIBRARY), ids=list(LIBRARY))
def test_runs_with_its_examples_on_demo_data(demo: FalkorStore, name: str) -> None:
    q = LIBRARY[name]
    rows = ql.run_query(
        demo, q, q.example_params(), timeout_ms=10_000, row_cap=1000, tlp_clearance=4
    )
    assert rows, (
        f"{name} returns nothing on the demo data with its examples; if the demo world changed, "
        f"values that exist now: {suggest_examples(demo)}"
    )
    assert all(list(r) == q.returns for r in rows)


@pytest.mark.slow
def test_whole_library_on_demo_data(demo: FalkorStore) -> None:
    import time

    timings: dict[str, float] = {}
    for q in LIBRARY.values():
        started = time.perf_counter()
        ql.run_query(demo, q, q.example_params(), timeout_ms=10_000, row_cap=1000, tlp_clearance=2)
        timings[q.name] = time.perf_counter() - started
    total = sum(timings.values())
    slowest = max(timings, key=timings.__getitem__)
    print(
        f"\nquery library on demo data: {len(timings)} queries in {total:.2f} s; "
        f"slowest {slowest} {timings[slowest] * 1000:.0f} ms"
    )
    assert total < 20, timings  # about 1 s on an idle 2-core machine
