"""Parameter values the graph cannot hold are refused by the store with an error that names them.

FalkorDB's client writes parameters into the query text: a NUL character ended the text early
and NaN or an infinity was written as a word the server cannot read, so the engine answered
with a syntax error quoting internal Cypher (``errCtx: CYPHER `q``...); a lone surrogate
failed inside the client's UTF-8 encoding. Each is now a ``ValidationError`` naming the
parameter, where in it the value lies and why, before anything is sent.

So are values no client can write: lists or maps nested about 400 deep came back as "query
failed: maximum recursion depth exceeded" (falkordb-py writes parameters by recursion), and a
map key holding a backtick as "query failed: Cypher map key cannot contain a backtick" (its
``ValueError``), while the Neo4j driver raised a bare ``TypeError`` on a key that is no string.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from actorgraph.graph.errors import ValidationError
from actorgraph.graph.ingest import ingest_object
from actorgraph.graph.store import GraphStore
from actorgraph.graph.store.base import MAX_PARAM_DEPTH, check_values
from actorgraph.graph.tlp import TLP
from tests.helpers.values import nested

BUNDLE = Path(__file__).resolve().parents[2] / "fixtures" / "stix" / "apt28_campaign.json"

NUL = "holds a NUL character at index 1 .*: the graph store cannot hold NUL characters"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("a\x00b", NUL),
        ("a\ud800b", "holds a lone surrogate U\\+D800 at index 1"),
        ("\udfff", "holds a lone surrogate U\\+DFFF at index 0"),
        (math.nan, "is nan: the graph store cannot hold NaN or infinite numbers"),
        (math.inf, "is inf: "),
        (-math.inf, "is -inf: "),
    ],
    ids=["nul", "high-surrogate", "low-surrogate", "nan", "inf", "-inf"],
)
@pytest.mark.parametrize("read_only", [True, False], ids=["read", "write"])
def test_values_the_graph_cannot_hold_are_refused_by_name(
    store: GraphStore, value: Any, says: str, read_only: bool
) -> None:
    cypher = "RETURN $q AS v" if read_only else "CREATE (n:Report {id: 'r1', name: $q}) RETURN 1"
    with pytest.raises(ValidationError, match=f"^parameter \\$q {says}"):
        store.query(cypher, {"q": value}, read_only=read_only)
    assert store.query("MATCH (n) RETURN count(n) AS c") == [{"c": 0}]


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (["ok", "x\x00"], r"\$q\[1\] holds a NUL"),
        ({"names": ["ok", {"deep": "x\x00"}]}, r"\$q\.names\[1\]\.deep holds a NUL"),
        ({"odd key": math.nan}, r"\$q\['odd key'\] is nan"),
    ],
    ids=["list", "map", "odd-key"],
)
def test_where_in_a_list_or_map_is_named(store: GraphStore, value: Any, where: str) -> None:
    with pytest.raises(ValidationError, match=where):
        store.query("RETURN $q AS v", {"q": value}, read_only=True)


def test_a_batch_write_names_the_row_and_property(store: GraphStore) -> None:
    rows = [
        {"id": "report--1", "props": {"name": "fine"}},
        {"id": "report--2", "props": {"name": "fine", "description": "bad\x00bytes"}},
    ]
    cypher = "UNWIND $rows AS row MERGE (r:Report {id: row.id}) SET r += row.props"
    with pytest.raises(
        ValidationError,
        match=r"^parameter \$rows\[1\]\.props\.description \(of id 'report--2'\) holds a NUL",
    ):
        store.write_batches(cypher, rows)
    assert store.query("MATCH (n) RETURN count(n) AS c") == [{"c": 0}]


def test_a_stix_bundle_with_a_nul_is_refused_naming_the_object(store: GraphStore) -> None:
    bundle = json.loads(BUNDLE.read_text())
    actor = next(o for o in bundle["objects"] if o["type"] == "intrusion-set")
    actor["description"] = "Sofacy\u0000group"
    with pytest.raises(
        ValidationError, match=f"description \\(of id '{actor['id']}'\\) holds a NUL"
    ):
        ingest_object(store, bundle, "nul.json", max_tlp=TLP.RED)
    assert store.query("MATCH (n) RETURN count(n) AS c") == [{"c": 0}]


@pytest.mark.parametrize(
    "value",
    ["a\x01b", "a\r\nb", "a\u2028b", "a\U0001f600b", "ends in a backslash\\", 1e308, -0.0, 5e-324],
    ids=["control", "crlf", "line-separator", "emoji", "backslash", "huge", "minus-zero", "tiny"],
)
def test_values_the_graph_can_hold_go_through_unchanged(store: GraphStore, value: Any) -> None:
    store.query("CREATE (:Report {id: 'r1', v: $v})", {"v": value})
    assert store.query("MATCH (r:Report) RETURN r.v AS v", read_only=True) == [{"v": value}]


@pytest.mark.parametrize("kind", ["list", "map"])
@pytest.mark.parametrize("depth", [500, 100_000])
def test_parameters_nested_too_deep_are_refused_naming_depth_and_bound(
    store: GraphStore, kind: str, depth: int
) -> None:
    says = rf"^parameter \$p nests lists and maps {depth} deep; at most {MAX_PARAM_DEPTH} levels"
    with pytest.raises(ValidationError, match=says):
        store.query("RETURN $p AS v", {"p": nested(depth, kind)}, read_only=True)
    with pytest.raises(ValidationError, match=says):
        store.query("CREATE (:Report {id: 'r1'}) RETURN $p AS v", {"p": nested(depth, kind)})
    assert store.query("MATCH (n) RETURN count(n) AS c") == [{"c": 0}]


def test_check_values_walks_any_depth_without_recursion() -> None:
    with pytest.raises(ValidationError, match="nests lists and maps 1000000 deep"):
        check_values({"p": nested(1_000_000, "list")})


@pytest.mark.parametrize("kind", ["list", "map"])
def test_parameters_nested_up_to_the_bound_go_through(store: GraphStore, kind: str) -> None:
    value = nested(MAX_PARAM_DEPTH, kind)
    assert store.query("RETURN $p AS v", {"p": value}, read_only=True) == [{"v": value}]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"p": {"a`b": 1}}, r"^parameter \$p has the map key 'a`b', which holds a backtick"),
        (
            {"p": [{"id": "r1", "props": {"": 1}}]},
            r"^parameter \$p\[0\]\.props \(of id 'r1'\) has the map key '', which is empty",
        ),
        (
            {"p": {1: "one"}},
            r"^parameter \$p has the map key 1, which is of type int, not a string",
        ),
        ({"p": {"a\x00b": 1}}, r"^parameter \$p has the map key 'a\\x00b', which holds a NUL"),
        ({"a`b": 1}, r"^parameter name 'a`b' holds a backtick"),
    ],
    ids=["backtick", "empty", "not-a-string", "nul", "parameter-name"],
)
def test_map_keys_no_client_can_send_are_refused_by_name(
    store: GraphStore, params: dict[Any, Any], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        store.query("RETURN 1 AS v", params, read_only=True)
    with pytest.raises(ValidationError, match=says):
        store.query("CREATE (:Report {id: 'r1'}) RETURN 1 AS v", params)
    assert store.query("MATCH (n) RETURN count(n) AS c") == [{"c": 0}]


def test_map_keys_that_are_not_identifiers_go_through(store: GraphStore) -> None:
    value = {"@type": 1, "x-mitre-id": "T1566", "a b": [{"ünï": None}]}
    assert store.query("RETURN $p AS v", {"p": value}, read_only=True) == [{"v": value}]
