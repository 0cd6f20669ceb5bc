"""Entity space, actor profiles, rarity weights and the pairwise evidence features.

Everything an activity can share with an actor is an *entity* (indicator, infrastructure,
malware, tool, technique, targeted sector or country). An actor's *profile* is what it and its
attributed campaigns use, indicate or target. Both sides are expanded through graph context
(malware -> its techniques, sub-technique -> technique, domain -> IP -> ASN, hash -> malware),
weighted by rarity (IDF over actors) and damped for known hubs. The features of a (query, actor)
pair are overlap scores per channel, plus the query's best match among the actor's attributed
campaigns kept apart (a campaign is compared with campaigns, not only with the actor-wide union);
the model learns how to weigh them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from actorgraph.gnn.dataset import ENTITY_TYPES, GraphSnapshot
from actorgraph.gnn.habit_likelihood import Setup, SetupLikelihood, SetupSpace
from actorgraph.gnn.habits import HabitShare, habit_counts
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.lexical import LexicalMatch
from actorgraph.gnn.sparse_rows import row_positions
from actorgraph.graph.attribution import Signals
from actorgraph.graph.errors import ModelError

# Channels group entity types whose overlaps mean different things to an analyst.
CHANNELS: tuple[str, ...] = ("technique", "software", "infrastructure", "target")
CHANNEL_OF: dict[str, int] = {
    "technique": 0,
    "malware": 1,
    "tool": 1,
    "indicator": 2,
    "infrastructure": 2,
    "sector": 3,
    "country": 3,
}
# Context edges (entity -> entity) and how much of a match travels along them.
CONTEXT_WEIGHTS: dict[str, float] = {
    "USES": 0.3,  # malware/tool -> technique
    "SUBTECHNIQUE_OF": 0.5,
    "RESOLVES_TO": 0.7,
    "HOSTED_ON": 0.5,
    "REGISTERED_WITH": 0.3,
    "USES_NAMESERVER": 0.3,
    "PRESENTS_CERT": 0.7,
    "COMMUNICATES_WITH": 0.5,
    "CONSISTS_OF": 0.7,
    "VARIANT_OF": 0.5,
    "INDICATES": 0.7,  # hash -> malware family
    "BELONGS_TO": 0.5,
}
# Relation families, each its own propagation channel: the scorer learns how much a match
# reached through each family counts (a shared name server is not a shared certificate), in the
# attribution loss, instead of one hand-set weight per relation.
RELATION_FAMILIES: dict[str, tuple[str, ...]] = {
    "hosting": ("RESOLVES_TO", "HOSTED_ON", "BELONGS_TO", "CONSISTS_OF"),
    "registration": ("REGISTERED_WITH", "USES_NAMESERVER", "PRESENTS_CERT"),
    "tooling": ("USES", "INDICATES", "VARIANT_OF", "COMMUNICATES_WITH"),
    "taxonomy": ("SUBTECHNIQUE_OF",),
}
CLUSTER_RELS: tuple[tuple[str, str], ...] = (
    ("USES", "out"),
    ("TARGETS", "out"),
    ("INDICATES", "in"),
)
# A context edge spreads a match only from an entity with at most this many edges of its
# relation: a malware family's command-and-control addresses, or a domain's addresses, grow
# with the graph (a query of 57 entities reached 27,000 through them at a million indicators),
# and a match spread over thousands of entities says nothing about any one of them. ATT&CK's
# largest software entries use fewer techniques than this.
CONTEXT_MAX_FANOUT = 128
# The per-campaign features (``CampaignMatch``) count an entity only while at most this many
# attributed campaigns hold it (directly, or through context for the context side). An entity
# held by more (a common technique, a shared ASN, a country) says nothing about which campaign
# an activity resembles, and reading its campaigns would make a query's cost grow with the
# graph (about 4 M terms per query at a million indicators): left out of the dot products, not
# of the norms, so a campaign's cosine stays comparable across queries.
CAMPAIGN_MAX_POSTINGS = 512
# The smallest rarity weight of an ordinary entity (``idf_weights``: log(1) + 1, an entity
# every actor uses); only hub-damped weights fall below it. Cosine norms are floored here.
NORM_FLOOR = 1.0
# The features of models trained before the relation families and the naming habits: an
# artefact whose model config names no features has these.
LEGACY_FEATURES: tuple[str, ...] = tuple(
    [f"{v}_{c}_{n}" for v in ("direct", "context") for c in CHANNELS for n in ("cos", "sqrt")]
    + ["all_cos", "all_sqrt", "ctx_all_cos", "ctx_all_sqrt", "max_rare", "n_shared", "log_profile"]
    + ["campaign_cos", "ctx_campaign_cos"]
)
FEATURE_NAMES: tuple[str, ...] = (
    LEGACY_FEATURES
    + tuple(f"rel_{f}_cos" for f in RELATION_FAMILIES)
    + ("lexical_cos", "ctx_habit_share", "ctx_habit_lik")
)
# What message passing computes: every feature of the propagated (context-expanded) query and
# profiles. The direct-overlap features see only the entities themselves. ``max_rare``,
# ``n_shared`` and ``log_profile`` follow the space: propagated in a space with context edges.
PROPAGATED_FEATURES: frozenset[str] = frozenset(
    n for n in FEATURE_NAMES if n.startswith(("context_", "ctx_", "rel_"))
)
# Features that are no overlap: the profile's size, a prior of how often an actor turns up.
PRIOR_FEATURES: frozenset[str] = frozenset({"log_profile"})
# The kinds of evidence an attribution reports per candidate: ``graph.attribution.Signals``'
# fields, in their order.
SIGNALS: tuple[str, ...] = tuple(f.name for f in fields(Signals))
DIRECT_FEATURES: frozenset[str] = frozenset(
    n
    for n in FEATURE_NAMES
    if n.startswith("direct_") or n in ("all_cos", "all_sqrt", "campaign_cos")
)


def signal_of(name: str) -> str:
    """The kind of evidence (``SIGNALS``) a feature is: "graph" what ``train --no-graph`` does
    not read (the propagated features), "naming" the naming habits, "campaigns" the best
    match among an actor's attributed campaigns, "prior" the profile's size, "direct" the
    rest (the shared items, the rarest of them, how many)."""
    if name in PROPAGATED_FEATURES:
        return "graph"
    if name == "lexical_cos":
        return "naming"
    if name == "campaign_cos":
        return "campaigns"
    return "prior" if name in PRIOR_FEATURES else "direct"


def feature_names(graph: str, *, lexical: bool, relations: bool) -> tuple[str, ...]:
    """The scorer's inputs under a graph mode (``gnn.config.GRAPH_MODES``): "full" all of them,
    "none" no propagated feature (the space then has no context edges either), "only" no
    direct-overlap feature. ``lexical_cos`` (``gnn.lexical``, a property of the values, not
    of the graph) only with ``lexical``; the per-family ``rel_*`` features with ``relations``."""
    if graph == "full":
        drop: frozenset[str] = frozenset()
    elif graph == "none":
        drop = PROPAGATED_FEATURES
    elif graph == "only":
        drop = DIRECT_FEATURES
    else:
        raise ModelError(f"unknown graph mode {graph!r} (expected 'full', 'none' or 'only')")
    if not lexical:
        drop = drop | {"lexical_cos"}
    if not relations:
        drop = drop | {n for n in FEATURE_NAMES if n.startswith("rel_")}
    return tuple(n for n in FEATURE_NAMES if n not in drop)


@dataclass
class EntitySpace:
    """The entity vocabulary of a snapshot, ordered by channel, with context and hub weights."""

    ids: list[str]
    channel: np.ndarray  # (E,) channel index per entity
    hub: np.ndarray  # (E,) multiplier from the warning list (1.0 or small)
    hub_reason: dict[int, str]
    context: sp.csr_matrix  # (E, E) weighted context edges
    pos: dict[str, int]
    families: dict[str, sp.csr_matrix]  # (E, E) binary context edges of each relation family
    # Entity type -> the space index of each of the snapshot's nodes of that type, in node order.
    where: dict[str, np.ndarray] = field(default_factory=dict)

    @cached_property
    def setups(self) -> SetupSpace:
        """Every domain's and IP's set-up (``gnn.habit_likelihood``), built on first use and
        shared by every profile of this space (a training run's episodes)."""
        return SetupSpace(self)

    def positions(self, snap: GraphSnapshot, node_type: str) -> np.ndarray:
        """Space index of each ``node_type`` node of ``snap`` (the snapshot it was built on)."""
        if node_type not in self.where:
            self.where[node_type] = np.array(
                [self.pos[n] for n in snap.nodes.get(node_type, [])], dtype=np.int64
            )
        return self.where[node_type]

    @classmethod
    def build(
        cls,
        snap: GraphSnapshot,
        hubs: HubList,
        *,
        propagate: bool = True,
        max_fanout: int = CONTEXT_MAX_FANOUT,
    ) -> EntitySpace:
        """The space of ``snap``; ``propagate=False`` leaves out every context edge, so that
        ``expand`` is the identity (a model without message passing). An entity with more than
        ``max_fanout`` edges of one relation keeps none of them (``CONTEXT_MAX_FANOUT``)."""
        ids = [nid for t in ENTITY_TYPES for nid in snap.nodes.get(t, [])]
        ids.sort(key=lambda nid: (CHANNEL_OF[snap.props[nid]["type"]], nid))
        pos = {nid: i for i, nid in enumerate(ids)}
        channel = np.array([CHANNEL_OF[snap.props[n]["type"]] for n in ids], dtype=np.int64)
        reasons = {i: r for i, n in enumerate(ids) if (r := hubs.reason(n, snap.props[n]))}
        hub = np.array(
            [hubs.weight(n, snap.props[n]) if i in reasons else 1.0 for i, n in enumerate(ids)]
        )
        where = {t: np.array([pos[n] for n in snap.nodes.get(t, [])], np.int64) for t in CHANNEL_OF}
        parts: list[tuple[np.ndarray, np.ndarray, str]] = []
        for (st, rel, dt), ei in snap.edges.items() if propagate else ():
            if st not in CHANNEL_OF or dt not in CHANNEL_OF or rel not in CONTEXT_WEIGHTS:
                continue
            parts.append((where[st][ei[0]], where[dt][ei[1]], rel))
        n = len(ids)
        parts = _cap_fanout(parts, n, max_fanout)
        rows = np.concatenate([r for r, _, _ in parts] or [np.zeros(0, np.int64)])
        cols = np.concatenate([c for _, c, _ in parts] or [np.zeros(0, np.int64)])
        weights = np.concatenate(
            [np.full(len(r), CONTEXT_WEIGHTS[rel]) for r, _, rel in parts] or [np.zeros(0)]
        )
        ctx = sp.csr_matrix((weights, (rows, cols)), shape=(n, n))
        ctx.sum_duplicates()
        families = {}
        for family, members in RELATION_FAMILIES.items():
            keep = np.concatenate(
                [np.full(len(r), rel in members) for r, _, rel in parts] or [np.zeros(0, bool)]
            )
            m = sp.csr_matrix(
                (np.ones(int(keep.sum())), (rows[keep], cols[keep])),
                shape=(n, n),
            )
            m.sum_duplicates()
            m.data[:] = 1.0
            families[family] = m
        return cls(ids, channel, hub, reasons, ctx, pos, families, where)

    def __len__(self) -> int:
        return len(self.ids)

    def expand(
        self, x: sp.csr_matrix, hops: int = 2, context: sp.csr_matrix | None = None
    ) -> sp.csr_matrix:
        """Spread matches through context edges (a hop multiplies by the edge weight), max 1;
        ``context`` another edge matrix (default: all context edges, hand-weighted)."""
        edges = self.context if context is None else context
        out, frontier = x.tocsr().astype(np.float64), x.tocsr().astype(np.float64)
        for _ in range(hops):
            frontier = frontier @ edges
            if frontier.nnz == 0:
                break
            out = _maximum(out, frontier)
        return out

    def expand_row(
        self,
        idx: np.ndarray,
        val: np.ndarray,
        hops: int = 2,
        context: sp.csr_matrix | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``expand`` of one row given as sorted (indices, values), without building sparse
        matrices: for a single request scipy's per-object bookkeeping costs more than the
        arithmetic. Same hops, weights and cap."""
        edges = self.context if context is None else context
        out_i, out_v = idx, val.astype(np.float64)
        f_i, f_v = out_i, out_v
        for _ in range(hops):
            f_i, f_v = _sum_by_column(*_row_times(edges, f_i, f_v))
            if not len(f_i):
                break
            out_i, inv = np.unique(np.concatenate([out_i, f_i]), return_inverse=True)
            best = np.zeros(len(out_i))
            np.maximum.at(best, inv, np.concatenate([out_v, f_v]))
            out_v = np.minimum(best, 1.0)
        return out_i, out_v


def _cap_fanout(
    parts: list[tuple[np.ndarray, np.ndarray, str]], n: int, max_fanout: int
) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """``parts`` (sources, targets, relation) without the edges of a source that has more than
    ``max_fanout`` edges of that relation (counted over every part of the relation)."""
    counts: dict[str, np.ndarray] = {}
    for src, _, rel in parts:
        counts[rel] = counts.get(rel, np.zeros(n, np.int64)) + np.bincount(src, minlength=n)
    out = []
    for src, dst, rel in parts:
        keep = counts[rel][src] <= max_fanout
        out.append((src[keep], dst[keep], rel))
    return out


def _row_times(m: sp.csr_matrix, idx: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The terms of a sparse row (idx, val) times CSR ``m``: (column, value) pairs in the row's
    order, columns repeated; ``np.bincount`` over them is the product."""
    pos, lengths = row_positions(m, idx)
    return m.indices[pos], m.data[pos] * np.repeat(val, lengths)


def _dense_rows(m: sp.csr_matrix, idx: np.ndarray, width: int) -> np.ndarray:
    """Rows ``idx`` of CSR ``m`` as a dense (len(idx), width) array of ``m``'s dtype."""
    pos, lengths = row_positions(m, idx)
    out = np.zeros((len(idx), width), dtype=m.dtype)
    out[np.repeat(np.arange(len(idx)), lengths), m.indices[pos]] = m.data[pos]
    return out


def _sum_by_column(cols: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sparse result of ``_row_times``: sorted columns and their sums."""
    uniq, inv = np.unique(cols, return_inverse=True)
    return uniq, np.bincount(inv, weights=vals, minlength=len(uniq))


def _maximum(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    out = a.maximum(b)
    out.data = np.minimum(out.data, 1.0)
    return out.tocsr()


def cluster_items(snap: GraphSnapshot, space: EntitySpace, node_type: str) -> sp.csr_matrix:
    """(nodes of ``node_type``) x E binary matrix of what each actor or campaign directly uses,
    targets, or is indicated by."""
    n = snap.num_nodes(node_type)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for (st, rel, dt), ei in snap.edges.items():
        for want, direction in CLUSTER_RELS:
            if rel != want:
                continue
            if direction == "out" and st == node_type and dt in CHANNEL_OF:
                rows.append(ei[0])
                cols.append(space.positions(snap, dt)[ei[1]])
            elif direction == "in" and dt == node_type and st in CHANNEL_OF:
                rows.append(ei[1])
                cols.append(space.positions(snap, st)[ei[0]])
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    m = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, len(space)))
    m.data[:] = 1.0
    return m


def attribution_matrix(snap: GraphSnapshot) -> sp.csr_matrix:
    """(campaigns x actors) binary ``ATTRIBUTED_TO``."""
    ei = snap.pairs("campaign", "ATTRIBUTED_TO", "actor")
    shape = (snap.num_nodes("campaign"), snap.num_nodes("actor"))
    return sp.csr_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=shape)


def profiles(
    actor_items: sp.csr_matrix, camp_items: sp.csr_matrix, attributed: sp.csr_matrix
) -> sp.csr_matrix:
    """Actor profiles: own items plus the items of its attributed campaigns (binary)."""
    p = (actor_items + attributed.T.tocsr() @ camp_items).tocsr()
    p.data[:] = 1.0
    return p


def idf_weights(expanded_profiles: sp.csr_matrix, hub: np.ndarray) -> np.ndarray:
    """Smoothed IDF over actors (an entity used by few actors is telling), damped for hubs."""
    n = expanded_profiles.shape[0]
    df = np.asarray((expanded_profiles > 0).sum(axis=0)).ravel()
    return (np.log((n + 1) / (df + 1)) + 1.0) * hub


class PairFeatures:
    """Computes the (query, actor) feature tensor for fixed profiles and weights.

    ``camp_items`` and ``attributed`` (campaigns x entities, campaigns x actors) give the
    per-campaign features; without them those two features are zero. ``lexical`` gives the
    naming-habit cosine (``gnn.lexical``), needed when ``names`` holds ``lexical_cos``.
    ``names`` selects the features returned, in ``FEATURE_NAMES`` order (``feature_names``).
    ``campaign_postings``: ``CAMPAIGN_MAX_POSTINGS``; ``camp_context``: as ``CampaignMatch``'s.
    """

    def __init__(
        self,
        space: EntitySpace,
        prof: sp.csr_matrix,
        idf: np.ndarray,
        camp_items: sp.csr_matrix | None = None,
        attributed: sp.csr_matrix | None = None,
        names: tuple[str, ...] = LEGACY_FEATURES,
        lexical: LexicalMatch | None = None,
        campaign_postings: int = CAMPAIGN_MAX_POSTINGS,
        camp_context: sp.csr_matrix | None = None,
    ) -> None:
        if "lexical_cos" in names and lexical is None:
            raise ModelError("the feature 'lexical_cos' needs the actors' names (lexical)")
        self.space = space
        self.idf = idf
        self.lexical = lexical if "lexical_cos" in names else None
        # How often the actor's items sat on each hub (``gnn.habits``), not only whether.
        self.habits = (
            HabitShare(habit_counts(space.families, prof)) if "ctx_habit_share" in names else None
        )
        # How likely each of the query's domains and servers is under the actor's set-ups
        # (``gnn.habit_likelihood``), indicator by indicator.
        self.setup_lik = SetupLikelihood(space.setups, prof) if "ctx_habit_lik" in names else None
        # One propagation per relation family asked for, profile side laid out once (as
        # ``_sides``).
        self.families = {
            family: (edges, _Cosine(space.expand(prof, context=edges).multiply(idf).tocsr()))
            for family, edges in space.families.items()
            if f"rel_{family}_cos" in names
        }
        self.columns = np.array([FEATURE_NAMES.index(n) for n in names], dtype=np.int64)
        self.direct = prof.tocsr()
        self.context = space.expand(prof)
        self._dw = self.direct.multiply(idf).tocsr()
        self._cw = self.context.multiply(idf).tocsr()
        # Entity-major and float32 (the values ``max_rare`` was fitted on): a view gathers the
        # rows of its entities; a dense (A, E) copy passed a gigabyte at a million indicators.
        self._cw_t = self._cw.T.tocsr().astype(np.float32)
        self.n_actors = prof.shape[0]
        # The profile side of every cosine is fixed: laid out and normed once here, so that a
        # request costs one sparse product per side instead of ~50 small ones (which took
        # 2/3 of a request's time in sparse-matrix bookkeeping).
        self._sides = [_ChannelSide(p, space.channel, len(CHANNELS)) for p in (self._dw, self._cw)]
        self.log_profile = np.log1p(np.asarray(self.direct.sum(axis=1)).ravel())
        self.idf_max = float(idf.max()) if len(idf) else 1.0
        self.campaigns = CampaignMatch(
            space,
            idf,
            prof.shape[0],
            camp_items,
            attributed,
            max_postings=campaign_postings,
            camp_context=camp_context,
        )

    def __call__(
        self,
        queries: sp.csr_matrix,
        new_names: sp.csr_matrix | None = None,
        new_setups: list[list[Setup]] | None = None,
    ) -> np.ndarray:
        """Features of shape (B, A, F) for B query rows (binary or weighted, width E).

        One row (an API request) takes a numpy path over its indices; batches (training,
        evaluation) take sparse products. Both end in the same arithmetic (``_assemble``).
        ``new_names``: (B, ``gnn.lexical.N_FEATURES``) n-gram rows of the query's values that
        are not entities (``gnn.lexical.ngram_rows``), or None.
        """
        q_direct = queries.tocsr().astype(np.float64)
        if q_direct.shape[0] == 1:
            idx = q_direct.indices.astype(np.int64)
            return self.one(
                idx, q_direct.data, new_names, None if new_setups is None else new_setups[0]
            )[None]
        q_context = self.space.expand(q_direct)
        weighted = [q.multiply(self.idf).tocsr() for q in (q_direct, q_context)]
        sides = [side.cos_sqrt(qw) for qw, side in zip(weighted, self._sides, strict=True)]
        rare = self._max_rare(q_context)
        families = {
            family: cos(self.space.expand(q_direct, context=edges).multiply(self.idf).tocsr())
            for family, (edges, cos) in self.families.items()
        }
        lexical = None if self.lexical is None else self.lexical(q_direct, new_names)
        habits = None if self.habits is None else self.habits(weighted[0])
        campaigns = self.campaigns(*weighted)
        setups = None if self.setup_lik is None else self.setup_lik.rows(q_direct, new_setups)
        return self._assemble(sides, rare, campaigns, families, lexical, habits, setups)

    def one(
        self,
        idx: np.ndarray,
        val: np.ndarray,
        new_names: sp.csr_matrix | None = None,
        new_setups: list[Setup] | None = None,
    ) -> np.ndarray:
        """Features (A, F) of one query row given as (entity indices, values), no duplicates;
        ``new_names`` as in ``__call__`` (one row)."""
        order = np.argsort(idx, kind="stable")
        rows = [(idx[order], val[order])]
        rows.append(self.space.expand_row(*rows[0]))
        weighted = [(i, v * self.idf[i]) for i, v in rows]
        sides = [side.cos_sqrt_row(*qw) for qw, side in zip(weighted, self._sides, strict=True)]
        max_rare, n_shared = self._rare_row(*rows[1])
        families = {}
        for family, (edges, cos) in self.families.items():
            f_i, f_v = self.space.expand_row(*rows[0], context=edges)
            families[family] = cos.row(f_i, f_v * self.idf[f_i])
        lexical = None
        if self.lexical is not None:
            q = sp.csr_matrix(
                (rows[0][1], rows[0][0], np.array([0, len(idx)])), shape=(1, len(self.space))
            )
            lexical = self.lexical(q, new_names)
        rare = (max_rare[None], n_shared[None])
        habits = None if self.habits is None else self.habits.row(*weighted[0])
        campaigns = self.campaigns.row(*weighted)
        setups = None if self.setup_lik is None else self._setup_row(idx, new_setups)[None]
        return self._assemble(sides, rare, campaigns, families, lexical, habits, setups)[0]

    def _setup_row(self, idx: np.ndarray, new_setups: list[Setup] | None) -> np.ndarray:
        """``ctx_habit_lik`` of one query: its known domains and IPs, and the new ones'
        set-ups (``new_setups``, from ``gnn.habit_likelihood.activity_setups``)."""
        assert self.setup_lik is not None
        known = self.space.setups.of_items(idx, exclude_self=False)
        return self.setup_lik(known + list(new_setups or ()))

    def _assemble(
        self,
        sides: list[tuple[list[np.ndarray], list[np.ndarray]]],
        rare: tuple[np.ndarray, np.ndarray],
        campaigns: list[np.ndarray],
        families: dict[str, np.ndarray],
        lexical: np.ndarray | None,
        habits: np.ndarray | None = None,
        setups: np.ndarray | None = None,
    ) -> np.ndarray:
        feats = [f for channels, _ in sides for f in channels]
        feats.extend(f for _, whole in sides for f in whole)
        max_rare, n_shared = rare
        feats.extend([max_rare, n_shared])
        feats.append(np.broadcast_to(self.log_profile[None, :], max_rare.shape))
        feats.extend(campaigns)
        # Features not asked for (``names``) are not computed: zeros, dropped by ``columns``.
        feats.extend(families.get(f, np.zeros_like(max_rare)) for f in RELATION_FAMILIES)
        feats.append(np.zeros_like(max_rare) if lexical is None else lexical)
        feats.append(np.zeros_like(max_rare) if habits is None else habits)
        feats.append(np.zeros_like(max_rare) if setups is None else setups)
        # Feature-major in float32, then one transposing copy: stacking on the last axis in
        # float64 and casting afterwards wrote the whole tensor twice, strided (same values).
        out = np.empty((len(self.columns), *max_rare.shape), dtype=np.float32)
        for j, c in enumerate(self.columns):
            out[j] = feats[c]
        return np.ascontiguousarray(np.moveaxis(out, 0, -1))

    def _max_rare(self, q: sp.csr_matrix, chunk: int = 2_000_000) -> tuple[np.ndarray, np.ndarray]:
        """``_rare_row`` of every row of ``q`` over the stored (entity, actor) weights only, in
        blocks of about ``chunk`` of them: the same products, maxima and sums."""
        b, a = q.shape[0], self.n_actors
        max_rare = np.zeros(b * a, dtype=np.float32)
        shared = np.zeros(b * a)
        rows = np.repeat(np.arange(b), np.diff(q.indptr))
        lengths = np.diff(self._cw_t.indptr)[q.indices]
        # Blocks end on row boundaries: a row's sum runs in one pass, in entity order.
        before = np.zeros(b + 1, dtype=np.int64)
        before[1:] = np.cumsum(np.bincount(rows, weights=lengths, minlength=b).astype(np.int64))
        r0 = 0
        while r0 < b:
            r1 = int(np.searchsorted(before, before[r0] + chunk, side="right")) - 1
            r1 = min(max(r1, r0 + 1), b)
            start, stop = int(q.indptr[r0]), int(q.indptr[r1])
            r0 = r1
            if start == stop:
                continue
            part = slice(start, stop)
            pos, n = row_positions(self._cw_t, q.indices[part])
            actors, weights = self._cw_t.indices[pos], self._cw_t.data[pos]
            prod = weights * np.repeat(q.data[part].astype(np.float32), n)
            code = np.repeat(rows[part], n) * a + actors
            np.maximum.at(max_rare, code, prod)
            rare = np.repeat((self.idf[q.indices[part]] / self.idf_max) ** 2, n)
            hit = prod > 0
            if not hit.all():
                code, rare = code[hit], rare[hit]
            shared += np.bincount(code, weights=rare, minlength=b * a)
        # Count shared entities weighted by rarity, so a dozen common techniques add little.
        return (max_rare / self.idf_max).reshape(b, a), np.log1p(shared).astype(np.float32).reshape(
            b, a
        )

    def _rare_row(self, idx: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = self.n_actors
        if not len(idx):
            return np.zeros(a, dtype=np.float32), np.zeros(a, dtype=np.float32)
        block = np.ascontiguousarray(_dense_rows(self._cw_t, idx, a).T)
        block *= val.astype(np.float32)[None, :]
        # Count shared entities weighted by rarity, so a dozen common techniques add little.
        return (
            block.max(axis=1) / self.idf_max,
            np.log1p((block > 0).astype(np.float32) @ (self.idf[idx] / self.idf_max) ** 2),
        )


class CampaignMatch:
    """Best match of a query among each actor's attributed campaigns, kept apart.

    A new campaign is the same kind of object as the actor's earlier campaigns; its closest one
    (rarity-weighted cosine, on direct items and through context) is evidence that the
    actor-wide union, dominated by many common techniques, washes out. Zero for an actor
    without attributed campaigns, and for a campaign that shares with the query only entities
    held by more than ``max_postings`` campaigns (``CAMPAIGN_MAX_POSTINGS``): a query reads at
    most ``max_postings`` campaigns per entity, whatever the number of campaigns.

    ``camp_context``: ``space.expand(camp_items)``, when the caller holds it. A row of the
    expansion depends on that row alone, so training expands every campaign once per level and
    each episode takes the rows of its own campaigns (the postings still count those only).
    """

    def __init__(
        self,
        space: EntitySpace,
        idf: np.ndarray,
        n_actors: int,
        camp_items: sp.csr_matrix | None,
        attributed: sp.csr_matrix | None,
        *,
        max_postings: int = CAMPAIGN_MAX_POSTINGS,
        camp_context: sp.csr_matrix | None = None,
    ) -> None:
        self.idf, self.n_actors = idf, n_actors
        # (campaign, actor) pairs grouped by actor: a max per group is a max per actor.
        pairs = (
            sp.coo_matrix(attributed)
            if camp_items is not None and attributed is not None
            else sp.coo_matrix((0, n_actors))
        )
        keep = pairs.data > 0
        order = np.lexsort((pairs.row[keep], pairs.col[keep]))
        self.camp, self.pair_actor = pairs.row[keep][order], pairs.col[keep][order]
        self.actors, self.starts = np.unique(self.pair_actor, return_index=True)
        self._cosines: tuple[_Cosine, ...] = ()
        if not len(self.camp):
            return
        assert camp_items is not None
        items = camp_items[self.camp].tocsr()
        context = space.expand(items) if camp_context is None else camp_context[self.camp]
        self._cosines = (
            _Cosine(items.multiply(idf).tocsr(), max_postings=max_postings),
            _Cosine(context.multiply(idf).tocsr(), max_postings=max_postings),
        )

    def __call__(self, qw_direct: sp.csr_matrix, qw_context: sp.csr_matrix) -> list[np.ndarray]:
        """[direct, context] maxima of shape (B, A), for rarity-weighted query rows."""
        if not len(self.camp):
            return self._per_actor([np.zeros((qw_direct.shape[0], 0))] * 2)
        queries = (qw_direct, qw_context)
        return self._per_actor(
            [cosine(qw) for qw, cosine in zip(queries, self._cosines, strict=True)]
        )

    def row(
        self, direct: tuple[np.ndarray, np.ndarray], context: tuple[np.ndarray, np.ndarray]
    ) -> list[np.ndarray]:
        """``__call__`` for one query row given as (indices, rarity-weighted values): only the
        campaigns the query's entities reach are touched (the same maxima: the others are 0)."""
        out = [np.zeros(self.n_actors) for _ in range(2)]
        if not len(self.camp):
            return [o[None, :].astype(np.float32) for o in out]
        for o, qw, cosine in zip(out, (direct, context), self._cosines, strict=True):
            pairs, cos = cosine.touched(*qw)
            np.maximum.at(o, self.pair_actor[pairs], cos)
        return [o[None, :].astype(np.float32) for o in out]

    def terms(self, direct: np.ndarray, context: np.ndarray) -> int:
        """How many stored (entity, campaign) terms a query row of these direct and context
        entity indices reads: at most ``max_postings`` per entity."""
        if not len(self.camp):
            return 0
        return sum(c.terms(i) for i, c in zip((direct, context), self._cosines, strict=True))

    def _per_actor(self, cosines: list[np.ndarray]) -> list[np.ndarray]:
        """(B, attributed pairs) cosines -> per-actor maxima (B, A); zero without campaigns."""
        out = [np.zeros((len(cos), self.n_actors), dtype=np.float32) for cos in cosines]
        if len(self.camp):
            for o, cos in zip(out, cosines, strict=True):
                o[:, self.actors] = np.maximum.reduceat(cos, self.starts, axis=1)
        return out


class _ChannelSide:
    """Profiles (A x E) laid out for per-channel and whole cosines in one sparse product.

    Column ``c * A + a`` of the (E x C*A) layout holds actor ``a``'s weights on the entities of
    channel ``c``; a query row times it gives every channel's dot products at once.
    """

    def __init__(self, p: sp.csr_matrix, channel: np.ndarray, n_channels: int) -> None:
        coo = p.tocoo()
        self.n_actors, self.n_channels = p.shape[0], n_channels
        cols = channel[coo.col] * self.n_actors + coo.row
        self.layout = sp.csr_matrix(
            (coo.data, (coo.col, cols)), shape=(p.shape[1], n_channels * self.n_actors)
        )
        self.indicator = sp.csr_matrix(
            (np.ones(len(channel)), (np.arange(len(channel)), channel)),
            shape=(len(channel), n_channels),
        )
        sq = (p.multiply(p) @ self.indicator).toarray()  # (A, C)
        self.norm = _safe(np.sqrt(sq.T))  # (C, A)
        self.whole_norm = _safe(np.sqrt(sq.sum(axis=1)))  # (A,)
        self.channel = channel

    def cos_sqrt(self, q: sp.csr_matrix) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per channel [cosine, dot / (|q| sqrt|p|)] pairs, then the same over all channels."""
        b = q.shape[0]
        dots = (q @ self.layout).toarray().reshape(b, self.n_channels, self.n_actors)
        q_sq = np.asarray((q.multiply(q) @ self.indicator).todense())  # (B, C)
        return self._from_dots(dots, q_sq)

    def cos_sqrt_row(
        self, idx: np.ndarray, w: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``cos_sqrt`` of one query row given as (indices, weights)."""
        cols, vals = _row_times(self.layout, idx, w)
        dots = np.bincount(cols, weights=vals, minlength=self.layout.shape[1])
        q_sq = np.bincount(self.channel[idx], weights=w * w, minlength=self.n_channels)
        return self._from_dots(dots.reshape(1, self.n_channels, self.n_actors), q_sq[None, :])

    def _from_dots(
        self, dots: np.ndarray, q_sq: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        q_norm = _safe(np.sqrt(q_sq))[:, :, None]
        channels: list[np.ndarray] = []
        for c in range(self.n_channels):
            d, qn, pn = dots[:, c], q_norm[:, c], self.norm[c][None, :]
            channels.extend([d / (qn * pn), d / (qn * np.sqrt(pn))])
        d = dots.sum(axis=1)
        qn = _safe(np.sqrt(q_sq.sum(axis=1)))[:, None]
        pn = self.whole_norm[None, :]
        return channels, [d / (qn * pn), d / (qn * np.sqrt(pn))]


def _safe(norm: np.ndarray) -> np.ndarray:
    """Norms floored at ``NORM_FLOOR``: empty rows divide as 1 (their dot products are zero),
    and so do rows made only of listed hubs. A cosine is scale-free: without the floor, a
    channel whose only shared item is Mimikatz (hub-damped to 0.05 of its weight) scored 1.0,
    as much as a shared rare malware; measured on ATT&CK, Whitefly (software: Mimikatz alone)
    topped the Triton campaign's candidates that way. Rows holding any ordinary item (weight
    >= 1) are unchanged."""
    return np.maximum(norm, NORM_FLOOR)


class _Cosine:
    """The fixed (profile) side of a rarity-weighted cosine: transposed and normed once.

    ``max_postings``: an entity held by more rows than that is left out of the dot products
    (its row of the transposed side is emptied), not of the norms.
    """

    def __init__(self, p: sp.csr_matrix, max_postings: int | None = None) -> None:
        t = p.T.tocsr()
        t.sort_indices()
        if max_postings is not None:
            lengths = np.diff(t.indptr)
            kept = np.where(lengths <= max_postings, lengths, 0)
            keep = np.repeat(lengths <= max_postings, lengths)
            indptr = np.concatenate([[0], np.cumsum(kept)]).astype(t.indptr.dtype)
            t = sp.csr_matrix((t.data[keep], t.indices[keep], indptr), shape=t.shape)
        self.t = t
        self.norm = _safe(np.sqrt(np.asarray(p.multiply(p).sum(axis=1)).ravel()))[None, :]

    def terms(self, idx: np.ndarray) -> int:
        """Stored terms read by a query row over these entity indices."""
        return int((self.t.indptr[idx + 1] - self.t.indptr[idx]).sum())

    def touched(self, idx: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``row`` at the profile rows the query reaches only: (sorted row indices, cosines);
        every other row's cosine is 0. Same sums, in the same order, as ``__call__``."""
        cols, vals = _row_times(self.t, idx, w)
        # A bincount over all rows costs less than sorting the terms (up to a few hundred
        # thousand): same sums, each in the terms' order.
        dots = np.bincount(cols, weights=vals, minlength=self.t.shape[1])
        rows = np.flatnonzero(np.bincount(cols, minlength=self.t.shape[1]))
        return rows, dots[rows] / (_safe(np.sqrt(np.sum(w * w))) * self.norm[0, rows])

    def __call__(self, q: sp.csr_matrix) -> np.ndarray:
        """(B, P) cosine of each query row against each profile row."""
        qn = _safe(np.sqrt(np.asarray(q.multiply(q).sum(axis=1)).ravel()))[:, None]
        return (q @ self.t).toarray() / (qn * self.norm)

    def row(self, idx: np.ndarray, w: np.ndarray) -> np.ndarray:
        """(1, P) cosine of one query row given as (indices, weights)."""
        if self.terms(idx) > _LONG_ROW:
            # Many terms (a long query whose entities many profile rows hold): scipy's
            # compiled product is 4x faster than the gathers below there (same sums), while
            # for short rows its per-object cost dominates.
            q = sp.csr_matrix((w, idx, np.array([0, len(idx)])), shape=(1, self.t.shape[0]))
            return (q @ self.t).toarray() / (_safe(np.sqrt(np.sum(w * w))) * self.norm)
        cols, vals = _row_times(self.t, idx, w)
        dots = np.bincount(cols, weights=vals, minlength=self.t.shape[1])
        return dots[None, :] / (_safe(np.sqrt(np.sum(w * w))) * self.norm)


_LONG_ROW = 50_000
"""Terms above which ``_Cosine.row`` takes scipy's sparse product."""
