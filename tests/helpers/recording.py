"""A real store that records what it is asked: the query texts and parameters a test then
inspects (how many round-trips, what was sent, the last query to profile again)."""

from __future__ import annotations

from typing import Any


class RecordingStore:
    """Wraps a real ``GraphStore``; every ``query`` goes through to it and is kept in order."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.queries: list[tuple[str, dict[str, Any]]] = []

    def query(self, cypher: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self.queries.append((cypher, params or {}))
        return self.store.query(cypher, params, **kwargs)

    @property
    def sent(self) -> list[dict[str, Any]]:
        """The parameters of every query, in order."""
        return [params for _, params in self.queries]

    @property
    def last(self) -> tuple[str, dict[str, Any]] | None:
        """The last query's text and parameters (None before the first)."""
        return self.queries[-1] if self.queries else None
