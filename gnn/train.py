"""Training: many sampled views of scarce labelled clusters, then calibration on held-out views.

Labels are ``ATTRIBUTED_TO`` edges and the actors' own ``USES`` profiles. Each *episode* hides
part of what is known and asks the model to find it again:

- for every actor, a random 30-60 % of its own items is cut from its profile (and from the graph
  the encoder sees) and becomes a query;
- about half the attributed campaigns lose their ``ATTRIBUTED_TO`` edge and become queries;
- every query is seen through several random sub-views (activity is always partially observed);
- a share of views is marked *unknown*: their true actor is removed from the candidates, so the
  model learns to say "none of these" when the remaining evidence is weak.

Campaign queries are what the model is for, but actor-item queries outnumber them about 15 to 1;
by default campaign views carry 70 % of an episode's loss (``campaign_loss_share``).

A fixed validation split (15 % of each actor's items, some campaigns) is never a training query;
temperature and the unknown shift are fitted on it and its ECE is reported.

The graph enters through the propagated features (``gnn.features``: the context expansion and
one channel per relation family, weighed by the scorer in the attribution loss) and, with
``encoder="evidence"``, through learned message passing (``gnn.propagation``): relation-typed
propagation of actor evidence over the entity graph, trained with the scorer in the same loss on
each episode's profiles (what the episode hid is not among the propagated evidence), restricted
to the neighbourhood of the episode's queries. With ``infra_views`` a share of campaign views
shows only the infrastructure their indicators sit on, the shape of activity made of new
indicators. The older GraphSAGE encoder can be added in one of two ways, both off by default.
With ``pretrain_gnn`` it is pre-trained by link prediction on the validation episode's graph
(``gnn.pretrain``: no labels, so it cannot overfit the few labelled clusters) and adds one
similarity whose weight is fitted on the validation views, on top of the scorer trained without
it (that weight comes out at 0.000). With ``use_gnn`` it is trained jointly with the scorer on
the sampled views (measured to overfit; kept for ablations).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from actorgraph.gnn import sparse_rows
from actorgraph.gnn.config import ENCODERS, GRAPH_MODES, TrainConfig
from actorgraph.gnn.dataset import ENTITY_TYPES, GraphSnapshot
from actorgraph.gnn.entity_cache import EntityCache
from actorgraph.gnn.features import (
    EntitySpace,
    PairFeatures,
    attribution_matrix,
    cluster_items,
    feature_names,
    idf_weights,
    profiles,
)
from actorgraph.gnn.hubs import HubList
from actorgraph.gnn.lexical import LexicalMatch
from actorgraph.gnn.model import (
    AttributionModel,
    HeteroSAGE,
    ModelConfig,
    evidence_similarity,
    pool_queries,
    query_stats,
)
from actorgraph.gnn.nearest import nearest_overlap, profile_pairs
from actorgraph.gnn.optim import Adam
from actorgraph.gnn.pretrain import fit_similarity_weight, pretrain_link_prediction
from actorgraph.gnn.trained import Trained
from actorgraph.graph.errors import ModelError

GNN_RELS_SKIPPED = ("ORIGINATES_FROM",)


@dataclass
class Batch:
    """One episode's views, ready for the model."""

    feats: Tensor  # (B, A, F)
    qstats: Tensor  # (B, 3)
    mask: Tensor  # (B, A) True = not a candidate
    target: Tensor  # (B,) actor index, or A for "unknown"
    q_idx: Tensor  # flattened entity indices of all views
    q_w: Tensor  # their weights
    q_batch: Tensor  # view index of each flattened entry
    edges: dict[tuple[str, str, str], Tensor] = field(default_factory=dict)
    profile: sp.csr_matrix | None = None  # the actor profiles this episode scores against
    weight: Tensor | None = None  # (B,) per-view loss weight (mean 1), None = uniform
    negatives: Tensor | None = None  # (2, K) view index, an actor an analyst rejected for it
    # The evidence encoder's sub-graph around this episode's queries (``Trainer.evidence``).
    neighbourhood: dict[str, Any] | None = None
    # ``AttributionModel.scorer_inputs`` of the features, computed once for the episode.
    inputs: Tensor | None = None


class Trainer:
    """Holds the fixed matrices of one snapshot and runs episodes over them."""

    def __init__(
        self,
        snap: GraphSnapshot,
        config: TrainConfig,
        hubs: HubList | None = None,
        cache: EntityCache | None = None,
    ) -> None:
        if not snap.num_nodes("actor"):
            raise ModelError("no ThreatActor in the training graph")
        if config.graph not in GRAPH_MODES:
            raise ModelError(f"unknown graph mode {config.graph!r} (expected one of {GRAPH_MODES})")
        if config.encoder not in ENCODERS:
            raise ModelError(f"unknown encoder {config.encoder!r} (expected one of {ENCODERS})")
        if config.encoder != "none" and (config.use_gnn or config.pretrain_gnn):
            raise ModelError(
                f"encoder {config.encoder!r} replaces the GraphSAGE encoder: set use_gnn and "
                "pretrain_gnn to False"
            )
        self.snap, self.config = snap, config
        self.names = feature_names(
            config.graph,
            lexical=config.lexical,
            relations=config.relations,
        )
        if cache is None:
            cache = EntityCache(hubs or HubList.load())
        self.space = EntitySpace.build(snap, cache.hubs, propagate=config.graph != "none")
        if not len(self.space):
            raise ModelError(
                "no entities (malware, tools, techniques, indicators) in the training graph"
            )
        self.actor_items = cluster_items(snap, self.space, "actor")
        self.camp_items = cluster_items(snap, self.space, "campaign")
        self.attributed = attribution_matrix(snap)
        self.profile = profiles(self.actor_items, self.camp_items, self.attributed)
        self.idf = idf_weights(self.space.expand(self.profile), self.space.hub)
        self.names_rows = cache.ngrams(snap, self.space.ids) if config.lexical else None
        self.rng = np.random.default_rng(config.seed)
        self.n_actors = snap.num_nodes("actor")
        self.labelled = sorted(set(self.attributed.nonzero()[0].tolist()))
        # The labelled campaigns' items through context, expanded once for every episode
        # (``CampaignMatch``'s ``camp_context``); other campaigns' rows stay empty.
        unlabelled = np.setdiff1d(np.arange(self.camp_items.shape[0]), self.labelled)
        self.camp_context = (
            self.space.expand(_without(self.camp_items, dict.fromkeys(unlabelled.tolist())))
            if config.campaign_features
            else None
        )
        camp_idx, actor_idx = snap.index("campaign"), snap.index("actor")
        self.rejected: dict[int, list[int]] = {}
        for campaign, actor in snap.rejections:
            if campaign in camp_idx and actor in actor_idx:
                self.rejected.setdefault(camp_idx[campaign], []).append(actor_idx[actor])
        self._split_validation()
        self.query_prob = self._campaign_query_prob()
        self.gnn_edges = [k for k in snap.edges if k[1] not in GNN_RELS_SKIPPED]
        self.perm = self._entity_perm()
        self.is_infra = np.zeros(len(self.space), dtype=bool)
        self.is_infra[self.space.positions(snap, "infrastructure")] = True
        self.infra_of: sp.csr_matrix | None = None  # built on first use (``_infra_view``)
        # Its own stream: on a graph without infrastructure the views, and so the model, are
        # exactly those of ``infra_views=0``.
        self.infra_rng = np.random.default_rng([config.seed, 1])
        # The evidence encoder is message passing: a model without the graph has none.
        self.entity_graph = None
        if config.encoder == "evidence" and config.graph != "none":
            from actorgraph.gnn.propagation import EntityGraph

            self.entity_graph = EntityGraph.build(snap, self.space)
            self.adjacency = self.entity_graph.adjacency()

    # -- data ---------------------------------------------------------------------------------
    def _split_validation(self) -> None:
        frac = self.config.val_frac
        self.val_items: dict[int, np.ndarray] = {}
        for a in range(self.n_actors):
            items = self.actor_items[a].indices
            if len(items) >= 5:
                k = max(1, round(frac * len(items)))
                self.val_items[a] = np.sort(self.rng.choice(items, size=k, replace=False))
        n_val = round(frac * len(self.labelled)) if len(self.labelled) >= 4 else 0
        self.val_camps = (
            set(self.rng.choice(self.labelled, size=n_val, replace=False).tolist())
            if n_val
            else set()
        )

    def _campaign_query_prob(self) -> float:
        """``campaign_query_prob``, lowered on a graph whose training campaigns would give an
        episode more than ``batch_campaigns`` campaign queries (a mini-batch of them, drawn
        afresh each episode from the same random stream; unchanged below the bound)."""
        cfg = self.config
        n_train = len(self.labelled) - len(self.val_camps)
        if cfg.batch_campaigns is None or n_train * cfg.campaign_query_prob <= cfg.batch_campaigns:
            return cfg.campaign_query_prob
        return cfg.batch_campaigns / n_train

    def _entity_perm(self) -> np.ndarray:
        """Space index -> row in the concatenation of encoder outputs over ENTITY_TYPES."""
        perm = np.zeros(len(self.space), dtype=np.int64)
        offset = 0
        for t in ENTITY_TYPES:
            n = self.snap.num_nodes(t)
            perm[self.space.positions(self.snap, t)] = offset + np.arange(n)
            offset += n
        return perm

    def episode(self, validation: bool = False) -> Batch:
        """Sample one episode (or build the fixed validation episode)."""
        rng, cfg = self.rng, self.config
        removed_items: dict[int, np.ndarray] = {}
        actor_queries: list[tuple[np.ndarray, int]] = []
        camp_queries: list[tuple[np.ndarray, int, int]] = []
        for a in range(self.n_actors):
            items = sparse_rows.row(self.actor_items, a)
            val = self.val_items.get(a, np.zeros(0, dtype=np.int64))
            if validation:
                if len(val):
                    removed_items[a] = val
                    actor_queries.append((val, a))
                continue
            pool = np.setdiff1d(items, val)
            if len(pool) < 3:
                continue
            # The "novel" part leaves the profile: a new campaign always brings some of it.
            k = max(1, round(rng.uniform(*cfg.query_frac) * len(pool)))
            novel = np.sort(rng.choice(pool, size=k, replace=False))
            removed_items[a] = novel
            actor_queries.append((novel, a))
        hidden_camps: list[int] = []
        for c in self.labelled:
            is_query = (
                (c in self.val_camps)
                if validation
                else (c not in self.val_camps and rng.random() < self.query_prob)
            )
            if not is_query:
                continue
            items = sparse_rows.row(self.camp_items, c)
            actor = int(sparse_rows.row(self.attributed, c)[0])
            hidden_camps.append(c)
            if len(items):
                camp_queries.append((items, actor, c))
        attributed = _without(self.attributed, {c: None for c in hidden_camps})
        kept = _without(self.actor_items, removed_items)
        prof = profiles(kept, self.camp_items, attributed)
        pf = PairFeatures(
            self.space,
            prof,
            self.idf,
            self.camp_items if cfg.campaign_features else None,
            attributed,
            names=self.names,
            lexical=None if self.names_rows is None else LexicalMatch(self.names_rows, prof),
            camp_context=self.camp_context,
        )

        views: list[np.ndarray] = []
        targets: list[int] = []
        masked: list[int] = []
        of_campaign: list[bool] = []
        negatives: list[tuple[int, int]] = []
        n_views = 1 if validation else cfg.views
        for items, actor, known, campaign in [
            (q, a, sparse_rows.row(prof, a), -1) for q, a in actor_queries
        ] + [(q, a, np.zeros(0, dtype=np.int64), c) for q, a, c in camp_queries]:
            for _ in range(n_views):
                v = self._view(items, known, full=validation and not len(known))
                infra = campaign >= 0 and not validation and cfg.infra_views > 0
                if infra and self.infra_rng.random() < cfg.infra_views:
                    v = self._infra_view(v)
                unknown = rng.random() < cfg.unknown_frac
                if not unknown:
                    negatives.extend((len(views), r) for r in self.rejected.get(campaign, ()))
                views.append(v)
                targets.append(self.n_actors if unknown else actor)
                masked.append(actor if unknown else -1)
                of_campaign.append(campaign >= 0)
        batch = self._batch(views, targets, masked, pf)
        batch.weight = _loss_weights(np.array(of_campaign, dtype=bool), cfg.campaign_loss_share)
        if negatives:
            batch.negatives = torch.tensor(negatives, dtype=torch.long).T
        batch.edges = self._edges(removed_items, attributed) if self.sage_edges else {}
        batch.profile = prof
        return batch

    def _infra_view(self, view: np.ndarray) -> np.ndarray:
        """The view as new indicators would show it: its indicators replaced by the
        infrastructure they sit on (network, AS, registrar, name server, registrable domain),
        beside its own infrastructure items; the view itself when that leaves nothing."""
        if self.infra_of is None:
            self.infra_of = _infrastructure_neighbours(self.snap, self.space)
        is_infra = self.is_infra[view]
        reached = sparse_rows.rows(self.infra_of, view[~is_infra])
        out = np.unique(np.concatenate([view[is_infra], reached]).astype(np.int64))
        return out if len(out) else view

    def _view(self, novel: np.ndarray, known: np.ndarray, full: bool = False) -> np.ndarray:
        """A partial observation: part of the novel items plus a share of already-known ones,
        mixed like real campaigns (about half of a held-out ATT&CK campaign is in its actor's
        profile, from 0 to 100 %)."""
        rng, cfg = self.rng, self.config
        if full:
            return novel
        n_novel = max(1, round(rng.uniform(*cfg.view_frac) * len(novel)))
        v = rng.choice(novel, size=min(n_novel, len(novel)), replace=False)
        if len(known):
            share = rng.uniform(*cfg.known_share)  # fraction of the view already known
            n_known = min(len(known), round(n_novel * share / (1.0 - share)))
            if n_known:
                v = np.concatenate([v, rng.choice(known, size=n_known, replace=False)])
        return np.unique(v)

    def _batch(
        self, views: list[np.ndarray], targets: list[int], masked: list[int], pf: PairFeatures
    ) -> Batch:
        n, e = len(views), len(self.space)
        rows = np.repeat(np.arange(n), [len(v) for v in views])
        cols = np.concatenate(views) if views else np.zeros(0, dtype=np.int64)
        q = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(n, e))
        feats = torch.from_numpy(pf(q))
        mask = torch.zeros(n, self.n_actors, dtype=torch.bool)
        for i, m in enumerate(masked):
            if m >= 0:
                mask[i, m] = True
        return Batch(
            feats=feats,
            qstats=query_stats(
                feats,
                torch.tensor([len(v) for v in views], dtype=torch.float32),
                mask,
                self.names,
            ),
            mask=mask,
            target=torch.tensor(targets, dtype=torch.long),
            q_idx=torch.from_numpy(cols.astype(np.int64)),
            q_w=torch.from_numpy(self.idf[cols].astype(np.float32)),
            q_batch=torch.from_numpy(rows.astype(np.int64)),
        )

    def _edges(
        self, removed_items: dict[int, np.ndarray], attributed: sp.csr_matrix | None
    ) -> dict[tuple[str, str, str], Tensor]:
        """Encoder edges of an episode: what it hid is cut, so no query leaks into its actor."""
        e = len(self.space)
        codes = np.array(
            sorted(int(a) * e + int(i) for a, q in removed_items.items() for i in q), dtype=np.int64
        )
        out: dict[tuple[str, str, str], Tensor] = {}
        for key in self.gnn_edges:
            st, rel, dt = key
            ei = self.snap.edges[key]
            keep = np.ones(ei.shape[1], dtype=bool)
            if st == "actor" and dt in self.space_types:
                ent = self._space_pos(dt, ei[1])
                keep &= ~np.isin(ei[0] * e + ent, codes)
            elif dt == "actor" and st in self.space_types:
                ent = self._space_pos(st, ei[0])
                keep &= ~np.isin(ei[1] * e + ent, codes)
            elif key == ("campaign", "ATTRIBUTED_TO", "actor") and attributed is not None:
                keep &= np.asarray(attributed[ei[0], ei[1]]).ravel() > 0
            kept = torch.from_numpy(np.ascontiguousarray(ei[:, keep]))
            out[key] = kept
            out[(dt, f"rev_{rel}", st)] = kept.flip(0)
        return out

    @property
    def sage_edges(self) -> bool:
        """Whether the GraphSAGE encoder, the only reader of ``Batch.edges``, is on."""
        return self.config.use_gnn or self.config.pretrain_gnn

    @property
    def space_types(self) -> set[str]:
        return set(ENTITY_TYPES)

    def _space_pos(self, node_type: str, local: np.ndarray) -> np.ndarray:
        return self.space.positions(self.snap, node_type)[local]

    # -- model --------------------------------------------------------------------------------
    def build_encoder(self) -> HeteroSAGE:
        cfg = self.config
        edge_types = []
        for st, rel, dt in self.gnn_edges:
            edge_types += [(st, rel, dt), (dt, f"rev_{rel}", st)]
        num_nodes = {t: self.snap.num_nodes(t) for t in self.snap.nodes}
        return HeteroSAGE(
            num_nodes,
            edge_types,
            dim=cfg.dim,
            layers=cfg.layers,
            learned_types=ENTITY_TYPES,
            freeze_embeddings=cfg.freeze_embeddings,
        )

    def model_config(self, similarity: str | None) -> ModelConfig:
        """The model's shapes under this configuration, with an encoder similarity or none."""
        cfg = self.config
        return ModelConfig(
            num_features=len(self.names),
            query_norm=cfg.query_norm,
            hidden=cfg.hidden,
            similarity=similarity,
            dim=cfg.dim,
            graph=cfg.graph,
            features=self.names,
        )

    def build_model(self) -> AttributionModel:
        """The model trained by gradient descent: with the evidence encoder, with the jointly
        trained GraphSAGE encoder under ``use_gnn``, else the scorer alone (stage 1 of
        ``pretrain_gnn``)."""
        if self.entity_graph is not None:
            from actorgraph.gnn.propagation import EvidencePropagation

            propagation = EvidencePropagation(
                self.entity_graph.relations,
                self.entity_graph.features.shape[1],
                layers=self.config.encoder_layers,
                dropout=self.config.encoder_dropout,
            )
            return AttributionModel(self.model_config("evidence"), propagation)
        if self.config.use_gnn:
            encoder = self.build_encoder()  # before the scorer: the seed's draws in that order
            return AttributionModel(self.model_config("cosine"), encoder)
        return AttributionModel(self.model_config(None))

    def embeddings(
        self, model: AttributionModel, edges: dict[tuple[str, str, str], Tensor]
    ) -> tuple[Tensor, Tensor] | None:
        """(entity embeddings in space order, actor embeddings) or None without an encoder."""
        if model.encoder is None:
            return None
        h = model.encoder(edges)
        present = [h[t] for t in ENTITY_TYPES if t in h]
        ent = torch.cat(present)[torch.from_numpy(self.perm)]
        return ent, h["actor"]

    def neighbourhood(self, batch: Batch) -> dict[str, Any]:
        """The part of the entity graph whose states reach ``batch``'s queries, built once per
        episode: its nodes, their features, its edges and the queries' local positions."""
        if batch.neighbourhood is None:
            from actorgraph.gnn.propagation import neighbourhood

            graph = self.entity_graph
            assert graph is not None
            seeds = np.unique(batch.q_idx.numpy())
            nodes = neighbourhood(self.adjacency, seeds, self.config.encoder_layers)
            local = np.full(len(self.space), -1, dtype=np.int64)
            local[nodes] = np.arange(len(nodes))
            edges = {}
            for rel, ei in graph.edges.items():
                keep = (local[ei[0]] >= 0) & (local[ei[1]] >= 0)
                edges[rel] = torch.from_numpy(local[ei[:, keep]])
            batch.neighbourhood = {
                "nodes": nodes,
                "x": torch.from_numpy(graph.features[nodes]),
                "edges": edges,
                "q_local": torch.from_numpy(local[batch.q_idx.numpy()]),
            }
        return batch.neighbourhood

    def evidence(
        self,
        model: AttributionModel,
        profile: sp.csr_matrix,
        nodes: np.ndarray | None = None,
        x: Tensor | None = None,
        edges: dict[str, Tensor] | None = None,
    ) -> Tensor:
        """Final evidence states (N, A) of ``nodes`` (default: every entity) under ``profile``."""
        from actorgraph.gnn.propagation import evidence_inputs

        graph = self.entity_graph
        assert graph is not None and model.encoder is not None
        if nodes is None:
            nodes = np.arange(len(self.space))
            x = torch.from_numpy(graph.features)
            edges = {r: torch.from_numpy(ei) for r, ei in graph.edges.items()}
        h0 = torch.from_numpy(evidence_inputs(profile.tocsc()[:, nodes]))
        sizes = torch.from_numpy(np.diff(profile.tocsr().indptr).astype(np.float32))
        return model.encoder(h0, x, edges, sizes, keep_input=self.config.graph != "only")

    def entity_dropout(self, model: AttributionModel, q_w: Tensor) -> Tensor:
        if model.training and self.config.entity_dropout:
            # Drop matched entities from the pooled query only: the encoder must not hinge
            # on one memorised entity of a training view.
            keep = torch.rand(len(q_w)) >= self.config.entity_dropout
            q_w = q_w * keep
        return q_w

    def logits(self, model: AttributionModel, batch: Batch) -> Tensor:
        if model.similarity == "evidence":
            assert batch.profile is not None
            part = self.neighbourhood(batch)
            states = self.evidence(model, batch.profile, part["nodes"], part["x"], part["edges"])
            q_w = self.entity_dropout(model, batch.q_w)
            pooled = pool_queries(part["q_local"], q_w, batch.q_batch, states, len(batch.target))
            similarity = evidence_similarity(pooled)
            return model(batch.feats, similarity, batch.qstats, batch.mask, inputs=batch.inputs)
        emb = self.embeddings(model, batch.edges)
        sim = None
        if emb is not None:
            q_w = self.entity_dropout(model, batch.q_w)
            pooled = pool_queries(batch.q_idx, q_w, batch.q_batch, emb[0], len(batch.target))
            sim = model.embed_similarity(pooled, emb[1])
        return model(batch.feats, sim, batch.qstats, batch.mask, inputs=batch.inputs)


def _without(m: sp.csr_matrix, cut: Mapping[int, np.ndarray | None]) -> sp.csr_matrix:
    """``m`` without the entries of row ``r`` in columns ``cut[r]`` (the whole row for None)."""
    drop = np.zeros(m.nnz, dtype=bool)
    for r, cols in cut.items():
        lo, hi = m.indptr[r], m.indptr[r + 1]
        drop[lo:hi] = True if cols is None else np.isin(m.indices[lo:hi], cols)
    data = np.where(drop, 0.0, m.data).astype(m.dtype)
    out = sp.csr_matrix((data, m.indices.copy(), m.indptr.copy()), shape=m.shape)
    out.eliminate_zeros()
    return out


def _infrastructure_neighbours(snap: GraphSnapshot, space: EntitySpace) -> sp.csr_matrix:
    """(E, E) binary: each indicator's infrastructure neighbours, in either direction."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for (st, _, dt), ei in snap.edges.items():
        if {st, dt} != {"indicator", "infrastructure"}:
            continue
        src = space.positions(snap, st)[ei[0]]
        dst = space.positions(snap, dt)[ei[1]]
        ind, infra = (src, dst) if st == "indicator" else (dst, src)
        rows.append(ind)
        cols.append(infra)
    n = len(space)
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    m = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    m.sum_duplicates()
    return m


def rejection_loss(logits: Tensor, batch: Batch) -> Tensor:
    """Hard negatives from analysts: on a view of a campaign whose attribution an analyst
    decided, each actor they rejected for it should score below the true actor (a softplus of
    the logit margin, 0.69 at a tie)."""
    assert batch.negatives is not None
    view, actor = batch.negatives
    margin = logits[view, actor] - logits[view, batch.target[view]]
    return nn.functional.softplus(margin).mean()


def _loss_weights(of_campaign: np.ndarray, share: float | None) -> Tensor | None:
    """Per-view weights (mean 1) giving campaign views ``share`` of the loss, or None."""
    n_camp = int(of_campaign.sum())
    if share is None or n_camp in (0, len(of_campaign)):
        return None
    if not 0.0 < share < 1.0:
        raise ModelError(f"'campaign_loss_share' (got {share!r}) must lie strictly between 0 and 1")
    w = np.where(of_campaign, share / n_camp, (1.0 - share) / (len(of_campaign) - n_camp))
    return torch.from_numpy((w * len(of_campaign)).astype(np.float32))


def train(
    snap: GraphSnapshot,
    config: TrainConfig | None = None,
    hubs: HubList | None = None,
    log: Any = None,
    cache: EntityCache | None = None,
) -> Trained:
    """Train and calibrate on a snapshot.

    Args:
        snap: the training graph (from ``export_graph``).
        config: hyper-parameters (defaults: ``TrainConfig()``).
        hubs: the warning list (default: the packaged one).
        log: optional ``callable(str)`` for progress lines.
        cache: hub reasons and n-gram rows shared with the other levels of one export
            (``gnn.entity_cache``; its hub list replaces ``hubs``); the model is the same.

    Returns:
        The trained, calibrated model with its inference arrays and validation metrics.

    Raises:
        ModelError: nothing to learn from (no actors, no entities, no labelled items).
    """
    config = config or TrainConfig()
    threads = torch.get_num_threads()
    # One intra-op thread at every size: a training step is a memory-bound pass over one
    # episode's inputs, where more OpenMP threads mostly spin against each other (and against
    # other processes) on a busy machine; and the same seed gives the same model on any
    # machine (the thread count changes the order in which a gradient is summed).
    torch.set_num_threads(1)
    try:
        return _train(snap, config, hubs, log, cache)
    finally:
        torch.set_num_threads(threads)


def _train(
    snap: GraphSnapshot,
    config: TrainConfig,
    hubs: HubList | None,
    log: Any,
    cache: EntityCache | None,
) -> Trained:
    torch.manual_seed(config.seed)
    t0 = time.perf_counter()
    trainer = Trainer(snap, config, hubs, cache)
    if log:
        log(f"{len(trainer.space)} entities ({time.perf_counter() - t0:.1f} s)")
    episodes = [trainer.episode() for _ in range(config.episodes)]
    if log:
        views = sum(len(ep.target) for ep in episodes)
        log(f"{config.episodes} episodes, {views} views ({time.perf_counter() - t0:.1f} s)")
    if not any(len(ep.target) for ep in episodes):
        raise ModelError(
            "no labelled cluster has enough items to learn from (need actors or "
            "attributed campaigns with at least 3 malware/tools/techniques/"
            "indicators)"
        )
    val = trainer.episode(validation=True)
    # The encoder is message passing too: a model without the graph has none.
    if config.graph == "none" and config.use_gnn:
        raise ModelError("use_gnn trains an encoder over the graph: it needs graph 'full'")
    pretrain = config.pretrain_gnn and not config.use_gnn and config.graph != "none"
    if pretrain and config.hidden:
        raise ModelError(
            f"pretrain_gnn keeps the log-linear scorer: hidden must be 0, got "
            f"{config.hidden!r} (or set pretrain_gnn=False)"
        )
    if pretrain and config.gnn_similarity not in ("cosine", "dot", "nearest"):
        raise ModelError(
            f"unknown gnn_similarity {config.gnn_similarity!r} "
            "(expected 'nearest', 'cosine' or 'dot')"
        )
    # With pretrain_gnn, stage 1 is exactly the default scorer (same initial weights for the
    # same seed): the encoder joins in stage 2, so any difference is the encoder's doing.
    model = trainer.build_model()
    # The scorer's inputs depend on no parameter: computed once an episode, not every step.
    with torch.no_grad():
        for batch in [*episodes, val]:
            batch.inputs = model.scorer_inputs(batch.feats, batch.mask)
    if config.monotone:
        model.clamp_evidence()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = Adam(params, lr=config.lr)
    losses: list[float] = []
    best: tuple[float, dict[str, Tensor]] | None = None
    for epoch in range(config.epochs):
        batch = episodes[epoch % len(episodes)]
        if not len(batch.target):
            continue
        model.train()
        opt.zero_grad()
        logits = trainer.logits(model, batch)
        per_view = nn.functional.cross_entropy(logits, batch.target, reduction="none")
        loss = per_view.mean() if batch.weight is None else (per_view * batch.weight).mean()
        if batch.negatives is not None and config.rejection_weight:
            loss = loss + config.rejection_weight * rejection_loss(logits, batch)
        if config.weight_decay:
            loss = loss + config.weight_decay * sum((p**2).sum() for p in params)
        loss.backward()
        opt.step()
        if config.monotone:
            model.clamp_evidence()
        losses.append(float(loss.detach()))
        if config.early_stop and len(val.target):
            model.eval()
            with torch.no_grad():
                vl = float(nn.functional.cross_entropy(trainer.logits(model, val), val.target))
            if best is None or vl < best[0]:
                best = (vl, {k: v.clone() for k, v in model.state_dict().items()})
        if log and (epoch % 10 == 0 or epoch == config.epochs - 1):
            log(f"epoch {epoch:3d} loss {losses[-1]:.4f}")
    if best is not None:
        model.load_state_dict(best[1])
    metrics: dict[str, Any] = {"train_seconds": 0.0, "final_loss": losses[-1] if losses else None}
    if pretrain:
        model = _add_pretrained_encoder(trainer, model, trainer.build_encoder(), val, metrics, log)
    if len(val.target):
        model.eval()
        with torch.no_grad():
            raw = trainer.logits(model, val)
        metrics.update(calibrate(model, raw, val.target))
    full_edges = trainer._edges({}, None) if trainer.sage_edges else {}
    with torch.no_grad():
        emb = trainer.embeddings(model, full_edges) if model.similarity != "evidence" else None
    evidence = None
    if model.similarity == "evidence":
        model.eval()
        with torch.no_grad():
            states = trainer.evidence(model, trainer.profile).numpy()
        evidence = sp.csr_matrix(np.where(np.abs(states) > 1e-6, states, 0.0).astype(np.float32))
        assert model.encoder is not None
        metrics["encoder_weight"] = round(float(model.input_layer.weight[0, -1].detach()), 4)
    metrics["train_seconds"] = round(time.perf_counter() - t0, 2)
    metrics["n_actors"] = trainer.n_actors
    metrics["n_entities"] = len(trainer.space)
    metrics["n_labelled_campaigns"] = len(trainer.labelled)
    return Trained(
        model=model,
        snapshot=snap,
        space=trainer.space,
        profile=trainer.profile,
        idf=trainer.idf,
        entity_emb=None if emb is None else emb[0].detach(),
        actor_emb=None if emb is None else emb[1].detach(),
        config=config,
        metrics=metrics,
        losses=losses,
        evidence=evidence,
    )


def _add_pretrained_encoder(
    trainer: Trainer,
    base: AttributionModel,
    encoder: HeteroSAGE,
    val: Batch,
    metrics: dict[str, Any],
    log: Any,
) -> AttributionModel:
    """Stage 2: link-prediction pre-training, then one fitted weight for the similarity.

    The encoder trains on the validation episode's graph (validation items and campaigns cut),
    so the similarity of a validation view is as honest as that of a new activity, and its
    weight is fitted on those views alone. The stage-1 scorer weights are kept unchanged.
    """
    cfg = trainer.config
    pl = pretrain_link_prediction(
        encoder,
        val.edges,
        epochs=cfg.pretrain_epochs,
        lr=0.01,
        seed=cfg.seed,
        log=log,
        batch_size=cfg.pretrain_batch_size,
        fanouts=cfg.pretrain_fanouts,
    )
    for p in encoder.parameters():
        p.requires_grad_(False)
    model = AttributionModel(trainer.model_config(cfg.gnn_similarity), encoder)
    assert model.query_proj is not None
    with torch.no_grad():
        model.unknown.load_state_dict(base.unknown.state_dict())
        # Identity projection: the similarity is the plain cosine the pre-training shaped.
        model.query_proj.weight.copy_(torch.eye(cfg.dim))
        model.query_proj.bias.zero_()
        weight = torch.zeros(1, model.config.scorer_inputs)
        weight[0, :-1] = base.input_layer.weight[0]
        model.input_layer.weight.copy_(weight)
        model.input_layer.bias.copy_(base.input_layer.bias)
    w, gain = 0.0, 0.0
    if len(val.target):
        model.eval()
        with torch.no_grad():
            emb = trainer.embeddings(model, val.edges)
            assert emb is not None
            ent, act = emb
            if cfg.gnn_similarity == "nearest":
                assert val.profile is not None
                sim = nearest_overlap(
                    val.q_idx,
                    val.q_w,
                    val.q_batch,
                    len(val.target),
                    ent,
                    *profile_pairs(val.profile),
                    trainer.n_actors,
                )
            else:
                pooled = pool_queries(val.q_idx, val.q_w, val.q_batch, ent, len(val.target))
                sim = model.embed_similarity(pooled, act)
            base_raw = base(val.feats, None, val.qstats, val.mask)
        w, gain = fit_similarity_weight(base_raw, sim.masked_fill(val.mask, 0.0), val.target)
        with torch.no_grad():
            model.input_layer.weight[0, -1] = w
    metrics.update(
        {
            "pretrain_final_loss": round(pl[-1], 4) if pl else None,
            "gnn_weight": round(w, 4),
            "gnn_val_nll_gain": round(gain, 4),
        }
    )
    if log:
        log(f"encoder similarity weight {w:.3f} (validation NLL -{gain:.4f})")
    return model


def calibrate(model: AttributionModel, raw: Tensor, target: Tensor) -> dict[str, float]:
    """Fit temperature and the unknown shift on held-out views by NLL; report ECE before/after."""
    before = expected_calibration_error(torch.softmax(raw, -1), target)
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    z = raw.detach().double().numpy()
    y = target.numpy()

    def nll(params: np.ndarray) -> float:
        log_t, shift = params
        zz = z.copy()
        zz[:, -1] += shift
        zz /= np.exp(log_t)
        return float(np.mean(logsumexp(zz, axis=1) - zz[np.arange(len(y)), y]))

    best = minimize(nll, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6})
    model.temperature.fill_(float(np.clip(np.exp(best.x[0]), 0.05, 20.0)))
    model.unknown_shift.fill_(float(np.clip(best.x[1], -20.0, 20.0)))
    probs = torch.softmax(model.calibrated(raw), -1)
    return {
        "val_views": len(target),
        "val_top1": float((probs.argmax(-1) == target).float().mean()),
        "val_ece_before": round(before, 4),
        "val_ece": round(expected_calibration_error(probs, target), 4),
        "temperature": round(float(model.temperature), 4),
        "unknown_shift": round(float(model.unknown_shift), 4),
    }


def expected_calibration_error(probs: Tensor, target: Tensor, bins: int = 10) -> float:
    """ECE of the top-1 prediction (unknown counts as a class) over equal-width bins."""
    conf, pred = probs.max(-1)
    correct = (pred == target).float()
    ece = 0.0
    edges = torch.linspace(0, 1, bins + 1)
    for lo, hi in itertools.pairwise(edges):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            ece += float(sel.float().mean() * (conf[sel].mean() - correct[sel].mean()).abs())
    return ece
