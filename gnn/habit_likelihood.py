"""Infrastructure-habit likelihood: how probable each of a query's domains and servers is under
each actor's habits, one indicator at a time.

``gnn.habits`` counts how often an actor's past items sat on each hub, hub by hub: the query is
read as the set of hubs it reaches. Operators repeat whole set-ups: a new domain registered with
the registrar *and* the name servers of one of their earlier domains, a new server in the /24 of
an earlier one. Which registrar went with which name servers, and which network with which
address, is lost in a set: on the development worlds of the infrastructure split the best
possible top-1 of a query read as a set is 0.91, read indicator by indicator 0.95.

Each domain or IP of the query has a *set-up*: a domain its registrar, name servers and
registered name; an IP its AS, /24 network and hoster. Under actor ``a`` its likelihood is the
share of ``a``'s past items of the same kind with that set-up, where a past item lacking ``m``
of the set-up's attributes counts ``MISMATCH ** m`` (a past server in the same AS but another
/24 counts 0.01; lacking a shared service costs only ``MISMATCH_SHARED``), smoothed towards
the share over every actor's items. The feature is the sum of the log-likelihoods over the
query's set-ups minus the best actor's (0 for the most likely actor, floored at ``FLOOR``).

Bounded per query: an attribute held by more than ``MAX_POSTINGS`` past items (a popular hoster,
Cloudflare's name servers) is left out of the match (``HabitShare`` and the rarity-weighted
cosines read those); the rest reads only the posting lists of the query's own attributes, so a
query's cost does not grow with the graph.

Computed from the profile it is given: a training episode's cut profile gives the habits of what
the episode left visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import scipy.sparse as sp

from actorgraph.gnn import sparse_rows
from actorgraph.gnn.sparse_rows import binary

if TYPE_CHECKING:
    from actorgraph.gnn.activity import LinkedActivity
    from actorgraph.gnn.features import EntitySpace

# Weight of a past item per attribute of the query's set-up it lacks: operators copy whole
# set-ups, so a partial match is far weaker evidence than a whole one.
MISMATCH = 0.01
# Lacking a shared service (warning list: Cloudflare's name servers, a big cloud's AS) says
# little: anybody's set-up may sit there.
MISMATCH_SHARED = 0.3
SMOOTHING = 1.0  # pseudo-items drawn from every actor's set-ups
MAX_POSTINGS = 512
FLOOR = -30.0
# Entries of the (set-ups, actors) block a batch computes at once.
_BLOCK = 1 << 22
# A set-up is read only with at least this many attributes of its own (not shared services): an
# address known only by its AS is a hub count, which ``HabitShare`` reads, and alone it is a
# noisy habit (on the Unit 42 development reports it cost queries).
MIN_SPECIFIC = 2
# Item kinds: a domain's set-up is compared with past domains', an IP's with past IPs'.
DOMAIN, IP = 1, 2
_KIND_OF_PREFIX = {"domain": DOMAIN, "ipv4": IP, "ipv6": IP}
# The edge families (``gnn.features.RELATION_FAMILIES``) a set-up is read along.
SETUP_FAMILIES: tuple[str, ...] = ("registration", "hosting")
# Relations of a new indicator, stated by the activity itself, that name its set-up.
SETUP_RELATIONS = frozenset({"REGISTERED_WITH", "USES_NAMESERVER", "HOSTED_ON", "BELONGS_TO"})


class Setup(NamedTuple):
    """One domain or IP of a query: its kind, its set-up's attribute entities (space indices),
    and the item itself when it is a known entity that must not match itself (-1: none)."""

    kind: int
    attributes: np.ndarray
    exclude: int = -1


def _kind(entity_id: str) -> int:
    return _KIND_OF_PREFIX.get(entity_id.split(":", 1)[0], 0)


class SetupSpace:
    """The set-up of every domain and IP entity of a space (from its context edges): built once
    per space (``EntitySpace.setups``), shared by every profile of it (a training run's
    episodes)."""

    def __init__(self, space: EntitySpace) -> None:
        n = len(space)
        indicators = space.where.get("indicator", np.zeros(0, np.int64))
        self.kind = np.zeros(n, np.int8)
        self.kind[indicators] = [_kind(space.ids[i]) for i in indicators]
        # Shared services on the warning list (Cloudflare, the big clouds): anybody's set-up.
        self.shared = space.hub < 1.0
        is_attribute = np.ones(n, bool)
        is_attribute[indicators] = False
        edges = sp.csr_matrix((n, n))
        for family in SETUP_FAMILIES:
            if family in space.families:
                edges = edges + space.families[family]
        edges = edges.tocsr()
        edges.data[:] = 1.0
        keep_attr = sp.diags(is_attribute.astype(np.float64))
        self._step = (edges @ keep_attr).tocsr()  # one hop to attribute entities only
        items = sp.diags((self.kind > 0).astype(np.float64))
        first = items @ self._step
        self.attributes = binary(first + first @ self._step)
        is_ip = sp.diags((self.kind == IP).astype(np.float64))
        self.resolves = binary(sp.diags((self.kind == DOMAIN).astype(np.float64)) @ edges @ is_ip)
        self._is_item = sp.diags((self.kind > 0).astype(np.float64))

    def close(self, first: np.ndarray) -> np.ndarray:
        """A set-up from the attributes an indicator names directly, plus one hop (an AS's
        hoster), as ``attributes`` holds them for known items."""
        first = np.unique(np.asarray(first, np.int64))
        return np.union1d(first, sparse_rows.rows(self._step, first))

    def items_of(self, queries: sp.csr_matrix) -> sp.csr_matrix:
        """(B, E) binary: per row of ``queries``, the items ``of_items(row, exclude_self=False)``
        gives set-ups for (its domains and IPs, and the IPs its domains resolve to)."""
        queries = queries.tocsr()
        pattern = sp.csr_matrix(
            (np.ones(len(queries.indices)), queries.indices, queries.indptr), shape=queries.shape
        )
        items = pattern @ self._is_item
        return binary(items + items @ self.resolves)

    def of_items(self, items: Iterable[int], *, exclude_self: bool) -> list[Setup]:
        """The set-ups of known items and of the IPs a domain among them resolves to;
        ``exclude_self``: an item must not match itself (a view that hides what it holds)."""
        items = np.unique(np.asarray(list(items), np.int64))
        items = items[self.kind[items] > 0]
        out = []
        seen = set(items.tolist())
        for i in items.tolist():
            own = sparse_rows.row(self.attributes, i)
            out.append(Setup(int(self.kind[i]), own, i if exclude_self else -1))
            if self.kind[i] != DOMAIN:
                continue
            for j in sparse_rows.row(self.resolves, i).tolist():
                if j not in seen:
                    seen.add(j)
                    own = sparse_rows.row(self.attributes, j)
                    out.append(Setup(IP, own, j if exclude_self else -1))
        return out


class SetupLikelihood:
    """Per-actor log-likelihood of a query's set-ups under the actors' past items: their profile
    items and the addresses their past domains resolve to."""

    def __init__(self, setups: SetupSpace, prof: sp.csr_matrix) -> None:
        self.setups = setups
        # A past domain's addresses are past servers too, reported or not.
        prof = binary(prof + prof @ setups.resolves)
        self.n_actors = prof.shape[0]
        held = np.asarray(prof.sum(axis=0)).ravel() > 0
        kind = setups.kind * held
        past = (sp.diags(held.astype(np.float64)) @ setups.attributes).tocsr()  # item -> set-up
        owners = prof.T.tocsr()  # item -> actors
        n_items = _count_kinds(prof, kind)
        virtual, virtual_kind, virtual_owner = _hub_setups(setups, prof, kind, past, n_items)
        if len(virtual_kind):
            past = sp.vstack([past, virtual]).tocsr()
            kind = np.concatenate([kind, virtual_kind])
            owners = sp.vstack(
                [
                    owners,
                    sp.csr_matrix(
                        (np.ones(len(virtual_kind)), (np.arange(len(virtual_kind)), virtual_owner)),
                        shape=(len(virtual_kind), self.n_actors),
                    ),
                ]
            ).tocsr()
        self._actors_of = owners
        # Actors whose only past set-up of a kind is their hubs: a set-up that does not match
        # those is no evidence against them (their domains and servers are unknown, not absent).
        virtual_at = (virtual_owner, virtual_kind.astype(np.int64) - 1)
        self._hubs_only = np.zeros(n_items.shape, bool)
        self._hubs_only[virtual_at] = True
        np.add.at(n_items, virtual_at, 1.0)
        # (A, 2): each actor's past domains and past IPs.
        self.n_items: np.ndarray = n_items
        self.total: np.ndarray = self.n_items.sum(axis=0)
        self._postings = past.T.tocsr()
        self._postings.eliminate_zeros()
        self._lengths = np.diff(self._postings.indptr)
        # attribute -> past items, one matrix per kind of item
        self._postings_of_kind = {
            k: (self._postings @ sp.diags((kind == k).astype(np.float64))).tocsr()
            for k in (DOMAIN, IP)
        }

    def __call__(self, setups: Sequence[Setup]) -> np.ndarray:
        """(A,) sum of log-likelihoods minus the best actor's, floored; zeros for no set-up."""
        return _floor(self._of_setups(setups).sum(axis=0)[None])[0]

    def rows(
        self, queries: sp.csr_matrix, new: Sequence[Sequence[Setup]] | None = None
    ) -> np.ndarray:
        """(B, A): ``__call__`` of every row of ``queries`` (a batch) at once: the set-ups of
        each row's known domains and IPs (as ``SetupSpace.of_items`` gives them, nothing
        excluded) plus ``new[b]``. A known item's likelihood does not depend on the row, so each
        distinct item is computed once and summed into its rows by a sparse product."""
        held = self.setups.items_of(queries)
        ll = np.zeros((held.shape[0], self.n_actors))
        items = np.unique(held.indices).astype(np.int64)
        # Blocks of items, so that the (items, actors) intermediate stays small at scale.
        step = max(1, _BLOCK // max(self.n_actors, 1))
        held = held.tocsc()
        for lo in range(0, len(items), step):
            block = items[lo : lo + step]
            pos, lengths = sparse_rows.row_positions(self.setups.attributes, block)
            attrs = self.setups.attributes.indices[pos].astype(np.int64)
            owner = np.repeat(np.arange(len(block)), lengths)
            kinds = self.setups.kind[block].astype(np.int64)
            ll += held[:, block] @ self._many(kinds, np.full(len(block), -1), attrs, owner)
        if new is not None and any(new):
            counts = [len(r) for r in new]
            per_row = sp.csr_matrix(
                (np.ones(sum(counts)), np.arange(sum(counts)), np.cumsum([0, *counts])),
                shape=(len(new), sum(counts)),
            )
            ll += per_row @ self._of_setups([s for r in new for s in r])
        return _floor(ll)

    def _of_setups(self, setups: Sequence[Setup]) -> np.ndarray:
        """(S, A) log-likelihood of each set-up."""
        attrs = [np.unique(np.asarray(s.attributes, np.int64)) for s in setups]
        return self._many(
            np.array([s.kind for s in setups], np.int64),
            np.array([s.exclude for s in setups], np.int64),
            np.concatenate(attrs) if attrs else np.zeros(0, np.int64),
            np.repeat(np.arange(len(setups)), [len(a) for a in attrs]),
        )

    def _many(
        self, kinds: np.ndarray, exclude: np.ndarray, attrs: np.ndarray, owner: np.ndarray
    ) -> np.ndarray:
        """(S, A) log-likelihood of S set-ups, given as (kind, excluded item) per set-up and
        (attribute, set-up) pairs, distinct within a set-up: one pass over the postings."""
        n_setups = len(kinds)
        lengths = self._lengths[attrs]
        # Held by nobody: every actor lacks it alike. Held by too many: a hub, read elsewhere.
        keep = (lengths > 0) & (lengths <= MAX_POSTINGS)
        attrs, owner = attrs[keep], owner[keep]
        shared = self.setups.shared[attrs]
        specific = np.bincount(owner, weights=(~shared).astype(np.float64), minlength=n_setups)
        valid = (specific >= MIN_SPECIFIC) & (kinds > 0)
        keep = valid[owner]
        attrs, owner, shared = attrs[keep], owner[keep], shared[keep]
        # log of the penalty for lacking each attribute: a shared service (warning list) is
        # anybody's, so lacking it costs little.
        miss = np.log(np.where(shared, MISMATCH_SHARED, MISMATCH))
        miss_sum = np.bincount(owner, weights=miss, minlength=n_setups)
        base = np.exp(miss_sum)
        n = self._actors_of.shape[0]  # past items, hub set-ups included
        # (S, E): per set-up and past item of its kind, the log-penalty of the attributes the
        # item shares with it (a sum over the attributes' postings).
        matched = sp.csr_matrix((n_setups, n))
        for kind, postings in self._postings_of_kind.items():
            mine = kinds[owner] == kind
            penalty = sp.csr_matrix(
                (miss[mine], (owner[mine], attrs[mine])), shape=(n_setups, postings.shape[0])
            )
            matched = matched + penalty @ postings
        matched = matched.tocoo()
        row, col = matched.row, matched.col
        ok = col != exclude[row]
        row, col = row[ok], col[ok]
        excess = np.exp(miss_sum[row] - matched.data[ok]) - base[row]
        per_actor = (
            sp.csr_matrix((excess, (row, col)), shape=(n_setups, n)) @ self._actors_of
        ).toarray()
        k = np.clip(kinds - 1, 0, 1)
        past = self.n_items[:, k].T
        num = past * base[:, None] + per_actor
        bg = num.sum(axis=1) / np.maximum(self.total[k], 1.0)
        ll = np.log((num + SMOOTHING * bg[:, None]) / (past + SMOOTHING) + 1e-300)
        # No lower than an actor with no past set-up of the kind at all (the background).
        if self._hubs_only.any():
            floor = np.maximum(ll, np.log(bg + 1e-300)[:, None])
            ll = np.where(self._hubs_only[:, k].T, floor, ll)
        ll[~valid] = 0.0
        return ll


def activity_setups(
    linked: LinkedActivity,
    position: Callable[[str], int | None],
    setups: SetupSpace,
) -> list[Setup]:
    """The set-ups of an activity's new domains and IPs: the known attributes each one names
    through the activity's own relations (registrar, name servers, AS) and its enrichment facts
    (/24 network, registered name), closed by one hop of the graph.

    Args:
        linked: the linked activity (``gnn.activity.link``).
        position: entity id -> space index, None for an entity the requester may not see or the
            graph does not hold.
        setups: the space's set-ups.
    """
    from actorgraph.graph.enrich import facts

    new = [v for v in linked.new_indicators() if _kind(v)]
    named: dict[str, set[int]] = {v: set() for v in new}
    for src, rel, dst in linked.activity.context:
        if src in named and rel in SETUP_RELATIONS and (p := position(dst)) is not None:
            named[src].add(p)
    for v in new:
        for fact in facts(v):
            if (p := position(fact.node_id)) is not None:
                named[v].add(p)
    return [
        Setup(_kind(v), setups.close(np.fromiter(named[v], np.int64, len(named[v]))))
        for v in new
        if named[v]
    ]


def _hub_setups(
    setups: SetupSpace,
    prof: sp.csr_matrix,
    kind: np.ndarray,
    past: sp.csr_matrix,
    n_items: np.ndarray,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """One past set-up per (actor, kind) for actors whose profile holds hubs of that kind's
    set-ups (registrars, name servers, networks; not shared services) but no item of it: those
    hubs together. A profile can name the hubs without the domains and servers on them (a
    report that lists an actor's registrars and networks only; a decided campaign whose activity
    brought no domain or server of that kind), and such an actor would otherwise have no set-up
    at all and lose to every actor whose items half match. ``past``: each held item's set-up
    (rows); ``n_items``: ``_count_kinds(prof, kind)``. Returns (set-ups as rows over the entity
    space, their kinds, their actors)."""
    # The kind of the item each stored entry of ``past`` belongs to.
    entry_kind = np.repeat(kind, np.diff(past.indptr))
    blocks, kinds, owners = [], [], []
    for k in (DOMAIN, IP):
        lacking = np.flatnonzero(n_items[:, k - 1] == 0)
        hub = np.zeros(len(kind), bool)
        hub[past.indices[entry_kind == k]] = True
        hub &= ~setups.shared
        hubs = binary(prof[lacking] @ sp.diags(hub.astype(np.float64)))
        some = np.flatnonzero(np.diff(hubs.indptr) > 0)
        blocks.append(hubs[some])
        kinds.append(np.full(len(some), k, kind.dtype))
        owners.append(lacking[some])
    return sp.vstack(blocks).tocsr(), np.concatenate(kinds), np.concatenate(owners)


def _count_kinds(prof: sp.csr_matrix, kind: np.ndarray) -> np.ndarray:
    """(A, 2) per actor (row of ``prof``), its items of kind DOMAIN and of kind IP."""
    onehot = sp.csr_matrix(
        (np.ones(int((kind > 0).sum())), (np.flatnonzero(kind > 0), kind[kind > 0] - 1)),
        shape=(len(kind), 2),
    )
    return np.asarray((prof @ onehot).todense())


def _floor(ll: np.ndarray) -> np.ndarray:
    """Per row, minus the best actor's, floored (a row of zeros stays zeros)."""
    if ll.shape[1] == 0:
        return ll
    return np.maximum(ll - ll.max(axis=1, keepdims=True), FLOOR)
