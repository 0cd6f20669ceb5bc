"""The key file and the home it creates are private to their owner (issue 18, finding 12)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from actorgraph.api.keys import KeyStore


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_key_file_and_its_new_home_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        home = tmp_path / "home"
        KeyStore(home / "keys.sqlite").create("reader")
    finally:
        os.umask(old)
    assert _mode(home) == 0o700
    for path in home.glob("keys.sqlite*"):  # the database and its WAL files
        assert _mode(path) == 0o600, f"{path.name} {oct(_mode(path))}"


def test_an_existing_key_file_with_loose_modes_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    KeyStore(path).create("reader")
    for loose in tmp_path.glob("keys.sqlite*"):
        loose.chmod(0o644)
    KeyStore(path)
    for tight in tmp_path.glob("keys.sqlite*"):
        assert _mode(tight) == 0o600, f"{tight.name} {oct(_mode(tight))}"
