"""Helpers shared by the API tests (imported by name: conftest modules are not for importing)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def auth(token: str) -> dict[str, str]:
    """The Authorization header for a key."""
    return {"Authorization": f"Bearer {token}"}


def attribute(client: TestClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/attributions`` with ``key``; the answer's JSON, which must be a 200."""
    r = client.post("/v1/attributions", json=body, headers=auth(key))
    assert r.status_code == 200, r.text
    return r.json()
