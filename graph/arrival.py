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

from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = ["ADDED", "STAMP_UNSTAMPED", "added_item", "now", "stamp_unstamped"]

ADDED = "added"

# A pattern, not a label scan per label: the stamp is on every node and relationship. Once
# every element is stamped they change nothing.
STAMP_UNSTAMPED = {
    "nodes": "MATCH (n) WHERE n.added IS NULL "
    "SET n.added = coalesce(n.modified, n.created, $added) RETURN count(n) AS stamped",
    "relationships": "MATCH ()-[r]->() WHERE r.added IS NULL "
    "SET r.added = coalesce(r.modified, r.created, $added) RETURN count(r) AS stamped",
}


def now() -> str:
    """The time now as ``added`` holds it: UTC, milliseconds, ``Z`` (STIX's form, which TAXII's
    ``added_after`` is compared with as text)."""
    d = datetime.now(UTC)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{d.microsecond // 1000:03d}Z"


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
