"""When an element arrived: the ``added`` property of every node and relationship.

TAXII serves each object with a ``date_added`` and lets a client fetch only what was added
after its last poll (``added_after``), so that time must be the store's, stable from one export
to the next. The writers stamp it: ``added`` is set when a node or relationship is created, and
again when a write brings a newer version of it (a ``modified`` later than the stored one), so
a poll fetches an object once per version. Re-sending the same version, or merging sources,
aliases or ids into it, leaves the stamp as it is.

Elements written by an older actorgraph, before the stamp existed, get one from
``actorgraph store migrate`` (:func:`stamp_unstamped`): their own ``modified`` or ``created``,
which is what TAXII served as their ``date_added`` until then, else the time of the migration.
It is a command of its own, not a step of every store opening: finding the unstamped elements
scans every node and relationship (0.22 s on a 56k-node, 183k-relationship graph, growing with
it), which every CLI command would pay.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

__all__ = [
    "ADDED",
    "AT_WRITE",
    "STAMP_UNSTAMPED",
    "added_item",
    "now",
    "resolve",
    "stamp_unstamped",
]

ADDED = "added"

# A pattern, not a label scan per label: the stamp is on every node and relationship. Once
# every element is stamped they change nothing.
STAMP_UNSTAMPED = {
    "nodes": "MATCH (n) WHERE n.added IS NULL "
    "SET n.added = coalesce(n.modified, n.created, $added) RETURN count(n) AS stamped",
    "relationships": "MATCH ()-[r]->() WHERE r.added IS NULL "
    "SET r.added = coalesce(r.modified, r.created, $added) RETURN count(r) AS stamped",
}


AT_WRITE = "arrival:at-write"
"""The value of ``$added`` that asks the store for the time it applies the write
(:func:`resolve`): under the embedded store's write lock, or inside Neo4j's transaction
function. A write of several queries then stamps each with its own, later time, so a TAXII client
that polls between two of them and asks for what came ``added_after`` the newest stamp it saw
misses none of the rest; a time taken once before a long write would be older than what the
poll saw of it."""

_MS = timedelta(milliseconds=1)
_last = datetime.min.replace(tzinfo=UTC)
_last_lock = threading.Lock()


def now() -> str:
    """The time now as ``added`` holds it: UTC, milliseconds, ``Z`` (STIX's form, which TAXII's
    ``added_after`` is compared with as text); later than any this process gave before, by a
    millisecond if the clock has not moved."""
    global _last
    with _last_lock:
        d = datetime.now(UTC)
        d = d.replace(microsecond=d.microsecond // 1000 * 1000)
        _last = d = max(d, _last + _MS)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{d.microsecond // 1000:03d}Z"


def resolve(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """``params`` with an ``added`` of :data:`AT_WRITE` replaced by :func:`now` (a copy), for a
    store about to apply a write; other parameters as they are."""
    if params and params.get(ADDED) == AT_WRITE:
        return {**params, ADDED: now()}
    return params


def added_item(var: str, *, modified: str | None = "row.props.modified") -> str:
    """The ``SET`` item that stamps ``var`` with ``$added``: when it has no stamp yet (it was
    just created), or when ``modified`` (the incoming version's time; None: the writer brings
    no versions) is later than the stored ``modified``.

    It must come before any item of the same ``SET`` that copies ``modified`` in: it compares
    with the stored one, whether the engine applies the items one by one or all at the end.
    """
    newer = "" if modified is None else f" OR {modified} > {var}.modified"
    return f"{var}.added = CASE WHEN {var}.added IS NULL{newer} THEN $added ELSE {var}.added END"


class _Writable(Protocol):
    # A GraphStore (graph.store): named by its one method used here, as the readers, which use
    # the constants above, may not import the store.
    def query(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]: ...


def stamp_unstamped(store: _Writable) -> dict[str, int]:
    """Stamp every node and relationship that has no ``added`` (written before the stamp
    existed) with its ``modified``, else ``created``, else now; a stamp already there is kept.

    Returns:
        How many were stamped: ``{"nodes": n, "relationships": m}``.
    """
    added = now()
    return {
        kind: int(store.query(cypher, {"added": added})[0]["stamped"])
        for kind, cypher in STAMP_UNSTAMPED.items()
    }
