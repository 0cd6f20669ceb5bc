"""`actorgraph cypher` applies the ad hoc limits of the API (issue 18, finding 7).

Each refusal is one line on stderr and a non-zero exit: the query-length bound of
``POST /v1/cypher`` (the CLI had none, and ran a 100 kB query), parameters nested too deep (a
JSON value 60,000 deep was a RecursionError traceback) and map keys no client can send.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actorgraph.graph.library.guard import MAX_QUERY_CHARS
from tests.cli.test_cli import ag


def test_procedures_and_expressions_the_engine_cannot_stop_are_refused(home: Path) -> None:
    ag(home, "cypher", "CREATE (:Campaign {id: 'c1'})-[:USES]->(:Malware {id: 'm1'})", "--write")
    for query, says in [
        ("CALL algo.betweenness({}) YIELD node RETURN count(node) AS n", "CALL algo.betweenness"),
        ("RETURN reduce(s = 'x', i IN range(1, 30) | s + s) AS v", "reduce()"),
    ]:
        proc = ag(home, "cypher", query, check=False)
        assert proc.returncode != 0, proc.stdout
        assert says in proc.stderr and "not allowed" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    out = ag(home, "cypher", "CALL db.labels() YIELD label RETURN label ORDER BY label", "--json")
    assert {"Campaign", "Malware"} <= {r["label"] for r in json.loads(out.stdout)}


def test_integer_parameters_outside_64_bits_are_refused(home: Path) -> None:
    ag(home, "cypher", "CREATE (:Campaign {id: 'c1'})", "--write")
    proc = ag(home, "cypher", "RETURN $x AS v", "--param", f"x={2**63}", check=False)
    assert proc.returncode != 0 and "64-bit" in proc.stderr, (proc.stdout, proc.stderr)


def _refused(proc, says: str) -> None:
    assert proc.returncode != 0, proc.stdout
    assert proc.stderr.startswith("actorgraph: error: ") and says in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr  # one line, no traceback


def test_the_query_length_bound_is_the_apis(home: Path) -> None:
    longest = "RETURN 1 AS one //".ljust(MAX_QUERY_CHARS, "x")
    assert json.loads(ag(home, "cypher", "--json", longest).stdout) == [{"one": 1}]
    big = "UNWIND range(1, 1000000) AS i RETURN '" + "x" * 100_000 + "' AS s"
    for query in (longest + "x", big):
        proc = ag(home, "cypher", query, check=False)
        _refused(proc, f"characters long; ad hoc Cypher may be at most {MAX_QUERY_CHARS:,}")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("[" * 600 + "]" * 600, "parameter $p nests lists and maps 600 deep; at most 32 levels"),
        ("[" * 60_000 + "]" * 60_000, "--param p: the JSON value nests too deep to read"),
        ('{"a`b": 1}', "parameter $p has the map key 'a`b', which holds a backtick"),
    ],
    ids=["600-deep", "60000-deep", "backtick-key"],
)
def test_parameters_no_client_can_send_are_one_line_errors(
    home: Path, value: str, says: str
) -> None:
    for write in ([], ["--write"]):
        proc = ag(home, "cypher", "RETURN $p AS v", "--param", f"p={value}", *write, check=False)
        _refused(proc, says)
