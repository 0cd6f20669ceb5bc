"""`actorgraph cypher` applies the ad hoc limits of the API (issue 18, finding 7)."""

from __future__ import annotations

import json
from pathlib import Path

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
