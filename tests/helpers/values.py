"""Hostile parameter values, built in a loop so that a test can make them as deep as it needs."""

from __future__ import annotations

from typing import Any, Literal


def nested(depth: int, kind: Literal["list", "map"] = "list") -> Any:
    """``1`` inside ``depth`` lists (``[[1]]``) or maps (``{"a": {"a": 1}}``)."""
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value
