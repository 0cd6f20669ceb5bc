"""Settle the audit intents a crashed process left without an outcome, from the graph.

Every audited graph change writes its event id into the graph in the same atomic unit as the
change (``graph.audit``), so the graph says whether an intent was applied: a decision by its
``Decision`` node, a naming by its provisional actor, a merge by the ``merge_event`` it leaves on
the merged actor.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from actorgraph.graph.audit import AuditLog
from actorgraph.graph.decisions import decisions_exist
from actorgraph.graph.provisional import merges_exist, names_exist
from actorgraph.graph.store import GraphStore

__all__ = ["APPLIED", "reconcile"]

# For each audited action whose intent is settled from the graph: which event ids it holds.
APPLIED: dict[str, Callable[[GraphStore, list[str]], set[str]]] = {
    "decision": decisions_exist,
    "cluster.name": names_exist,
    "cluster.merge": merges_exist,
}


def reconcile(store: GraphStore, log: AuditLog, *, older_than_s: float = 300.0) -> int:
    """Settle every pending intent at least ``older_than_s`` old (``AuditLog.reconcile``).

    Returns:
        The number of intents settled.
    """
    return sum(
        log.reconcile(action, partial(held, store), older_than_s=older_than_s)
        for action, held in APPLIED.items()
    )
