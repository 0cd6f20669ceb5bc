"""Infrastructure habits: how often an actor's past servers and domains sat on each hub.

The profile features (``gnn.features``) count presence: an actor that once registered a domain
at a registrar and one that registers every domain there look alike, and so do an actor with one
server at a hoster and one with thirty. Operators repeat themselves: the next server is rented
from the same hoster, in the same /24, its domain registered with the same registrar and name
servers as the earlier ones. The habit of an actor on an infrastructure entity is the number of
paths of one or two hosting or registration edges from the actor's profile items to it (each
past domain that resolves to an IP in AS 9009 adds one to AS 9009): a message passed from the
actor's items to their hubs that keeps the count the binary profile drops. The scorer reads it
as each actor's share of the query's infrastructure (``HabitShare``, feature ``ctx_habit_share``
of ``gnn.features``).

Computed from the profile it is given, so a training episode's cut profile gives the habits of
what the episode left visible (nothing a view hides leaks into its features).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# The relation families (``gnn.features.RELATION_FAMILIES``) whose edges lead from an item to
# the infrastructure it sits on: hosting (IP -> network, AS, provider; domain -> IP) and
# registration (domain -> registrar, name server, certificate).
HABIT_FAMILIES: tuple[str, ...] = ("hosting", "registration")
# Paths of up to two edges: domain -> IP -> AS, IP -> AS -> provider.
HABIT_HOPS = 2


def habit_counts(families: dict[str, sp.csr_matrix], prof: sp.csr_matrix) -> sp.csr_matrix:
    """(actors x entities) number of hosting or registration paths of 1..``HABIT_HOPS`` edges
    from each actor's profile items to each entity.

    Args:
        families: the entity space's binary edges per relation family
            (``EntitySpace.families``), all of the same (E x E) shape.
        prof: (actors x E) binary profiles.
    """
    n = prof.shape[1]
    edges = sp.csr_matrix((n, n))
    for family in HABIT_FAMILIES:
        if family in families:
            edges = edges + families[family]
    edges = edges.tocsr()
    edges.data[:] = 1.0  # two families on one pair of entities are one edge
    walk = prof.tocsr().astype(np.float64) @ edges
    counts = walk
    for _ in range(HABIT_HOPS - 1):
        walk = walk @ edges
        counts = counts + walk
    counts = counts.tocsr()
    counts.eliminate_zeros()
    return counts


class HabitShare:
    """Each actor's share of the query's infrastructure: per entity, the actor's habit count
    over every actor's (a hoster with thirty of one actor's servers and one of another's is
    that first actor's), averaged over the query's entities with their rarity weights. A
    personalised-PageRank step from the query's entities to the actors, in closed form."""

    def __init__(self, counts: sp.csr_matrix) -> None:
        total = np.asarray(counts.sum(axis=0)).ravel()
        share = counts.tocsr().multiply(1.0 / np.maximum(total, 1e-12)[None, :])
        self.t = share.T.tocsr()  # (E, A)

    def __call__(self, qw: sp.csr_matrix) -> np.ndarray:
        """(B, A) for rarity-weighted query rows (B x E)."""
        mass = np.maximum(np.asarray(qw.sum(axis=1)).ravel(), 1e-12)[:, None]
        return (qw @ self.t).toarray() / mass

    def row(self, idx: np.ndarray, w: np.ndarray) -> np.ndarray:
        """(1, A) for one query row given as (indices, rarity weights)."""
        q = sp.csr_matrix((w, idx, np.array([0, len(idx)])), shape=(1, self.t.shape[0]))
        return self(q)
