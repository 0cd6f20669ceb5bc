"""What `actorgraph cypher` prints: strict JSON with --json, and the engine's own rows."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import ag


def _strict(text: str) -> object:
    """``text`` parsed as JSON proper, which has no NaN or Infinity (JSON.parse refuses them)."""

    def refuse(constant: str) -> object:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_json_output_is_strict_json_with_null_for_non_finite_numbers(home: Path) -> None:
    out = ag(
        home,
        "cypher",
        "--json",
        "RETURN 0.0/0.0 AS nan, 1.0/0.0 AS inf, [-1.0/0.0, 1.5] AS l, 'x' AS s",
    )
    assert _strict(out.stdout) == [{"inf": None, "l": [None, 1.5], "nan": None, "s": "x"}]
    assert "null" in ag(home, "cypher", "--help").stdout


def test_a_read_may_begin_with_with_and_garbage_is_no_write(home: Path) -> None:
    out = ag(home, "cypher", "--json", "// one row\nWITH 1 AS x RETURN x")
    assert _strict(out.stdout) == [{"x": 1}]
    garbage = ag(home, "cypher", "THIS IS NOT CYPHER", check=False)
    assert garbage.returncode == 2 and "read-only" not in garbage.stderr, garbage.stderr


def test_every_commands_json_is_strict(capsys) -> None:
    from actorgraph.cli import Context
    from actorgraph.settings import Settings

    Context(Settings()).out({"score": float("nan"), "rows": [float("inf"), 1.0], "n": 2})
    assert _strict(capsys.readouterr().out) == {"score": None, "rows": [None, 1.0], "n": 2}
