"""Helpers shared by the API tests (imported by name: conftest modules are not for importing)."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.helpers.paths import ROOT  # noqa: F401 (re-exported)


def auth(token: str) -> dict[str, str]:
    """The Authorization header for a key."""
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    """A TCP port free on localhost right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
