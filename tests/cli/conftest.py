"""Fixtures of the CLI tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli import ag


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """An empty data directory; the store a test's commands started there is stopped after.
    Modules that need a prepared home define their own."""
    h = tmp_path / "home"
    yield h
    ag(h, "store", "stop", check=False)
