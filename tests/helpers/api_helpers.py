"""Helpers shared by the API tests (imported by name: conftest modules are not for importing)."""

from __future__ import annotations


def auth(token: str) -> dict[str, str]:
    """The Authorization header for a key."""
    return {"Authorization": f"Bearer {token}"}
