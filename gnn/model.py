"""The attribution model: a heterogeneous GraphSAGE encoder and a scorer over actors.

- ``HeteroSAGE`` embeds every node of the snapshot: entities (indicators, infrastructure,
  malware, tools, techniques, targets) start from learned embeddings; actors and campaigns start
  from a learned per-type vector only, so an actor's embedding is what its neighbourhood says
  (inductive: a new activity is embedded from the entities it matched, without retraining).
  Message passing is mean aggregation per relation (GraphSAGE), summed over relations, written in
  plain torch (PyG's NeighborLoader extras are not installable here). Full batch by default;
  ``gnn.sampling`` gives the same weights sampled neighbourhoods for graphs that do not fit.
- ``AttributionModel`` scores a (query, actor) pair from the rarity-weighted overlap features of
  ``gnn.features`` (raw, and min-max scaled over the query's candidates: ``query_normalise``)
  plus one similarity from the encoder, and gives the open set an explicit
  "unknown" logit from query-level statistics. The similarity is, by default, the
  embedding-space overlap of the query with the actor's profile (``gnn.nearest``) under an
  encoder pre-trained by link prediction (``gnn.pretrain``); with an encoder trained
  jointly on the labels, the cosine between the query's pooled embedding and the actor's.
- ``ModelConfig`` holds every shape of the scorer; the trainer decides it, the model is built
  from it once (in training and when an artefact is loaded) and the artefact stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
from torch import Tensor, nn

from actorgraph.gnn.config import GRAPH_MODES
from actorgraph.gnn.features import FEATURE_NAMES, LEGACY_FEATURES, SIGNALS, signal_of
from actorgraph.graph.errors import ModelError

EdgeKey = tuple[str, str, str]


class HeteroSAGE(nn.Module):
    """Mean-aggregation GraphSAGE over typed edges (forward and reverse)."""

    def __init__(
        self,
        num_nodes: dict[str, int],
        edge_types: list[EdgeKey],
        dim: int = 32,
        layers: int = 2,
        learned_types: tuple[str, ...] = (),
        freeze_embeddings: bool = False,
    ) -> None:
        super().__init__()
        self.node_types = sorted(num_nodes)
        self.edge_types = list(edge_types)
        self.num_nodes = dict(num_nodes)
        self.learned_types = set(learned_types)
        self.emb = nn.ParameterDict(
            {
                t: nn.Parameter(torch.randn(n if t in self.learned_types else 1, dim) * 0.1)
                for t, n in num_nodes.items()
            }
        )
        if freeze_embeddings:
            # Fixed random identities: the layers learn to aggregate, not to memorise entities.
            for t in self.learned_types & set(num_nodes):
                self.emb[t].requires_grad_(False)
        self.self_lin = nn.ModuleList(
            nn.ModuleDict({t: nn.Linear(dim, dim) for t in self.node_types}) for _ in range(layers)
        )
        self.rel_lin = nn.ModuleList(
            nn.ModuleDict({_key(e): nn.Linear(dim, dim, bias=False) for e in self.edge_types})
            for _ in range(layers)
        )

    def forward(self, edge_index_dict: dict[EdgeKey, Tensor]) -> dict[str, Tensor]:
        h = {t: self.emb[t].expand(self.num_nodes[t], -1) for t in self.node_types}
        return self.propagate(h, [(edge_index_dict, self.num_nodes)] * len(self.self_lin))

    def propagate(
        self, h: dict[str, Tensor], layers: list[tuple[dict[EdgeKey, Tensor], dict[str, int]]]
    ) -> dict[str, Tensor]:
        """Run the layers from input features ``h``; one ``(edges, sizes)`` per layer.

        A layer computes outputs for the first ``sizes[t]`` nodes of each type (all of them in
        full batch; fewer on a sampled sub-graph, where later layers need fewer nodes) from
        ``edges``, whose destinations must lie among those nodes.
        """
        blocks = zip(self.self_lin, self.rel_lin, layers, strict=True)
        for layer, (own, rel, (edges, size)) in enumerate(blocks):
            self_lin, rel_lin = cast(nn.ModuleDict, own), cast(nn.ModuleDict, rel)
            out = {t: self_lin[t](h[t][: size[t]]) for t in self.node_types}
            for et, ei in edges.items():
                src, _, dst = et
                if ei.numel() == 0 or _key(et) not in rel_lin:
                    continue
                out[dst] = out[dst] + _mean(rel_lin[_key(et)](h[src])[ei[0]], ei[1], size[dst])
            last = layer == len(self.self_lin) - 1
            h = {t: (v if last else torch.relu(v)) for t, v in out.items()}
        return h


SIMILARITIES = ("cosine", "dot", "nearest", "evidence")
# Floor of the evidence score inside its logarithm (``evidence_similarity``): an actor no
# propagated evidence reaches scores log(EVIDENCE_FLOOR), not minus infinity.
EVIDENCE_FLOOR = 1e-3


def evidence_similarity(score: Tensor) -> Tensor:
    """The scorer input of the evidence encoder (``gnn.propagation``): the log of the
    activity's pooled evidence per actor, so that its learned weight acts as an exponent
    (softmax of ``w * log s`` is proportional to ``s ** w``)."""
    return torch.log(score.clamp_min(0.0) + EVIDENCE_FLOOR)


@dataclass(frozen=True)
class ModelConfig:
    """Every shape of an ``AttributionModel``, decided by the trainer and stored with the model.

    Attributes:
        num_features: pair features per (query, actor) from ``gnn.features``.
        query_norm: each feature also enters min-max scaled over the query's candidates
            (``query_normalise``), so the scorer can weigh "best of the candidates on this
            channel" apart from the raw overlap, whose scale grows with the query's size.
        hidden: width of the scorer's hidden layer; 0 gives a log-linear scorer (fewer ways
            to overfit the sampled views).
        similarity: the encoder's one extra scorer input, or None for a model without it:
            "cosine" (of the projected, pooled query with the actor's embedding), "dot" (the
            link-prediction score itself, for an encoder pre-trained on that objective) or
            "nearest" (``gnn.nearest``: embedding-space overlap with the actor's profile)
            or "evidence" (``gnn.propagation``: the activity's propagated evidence per actor,
            ``evidence_similarity``).
        dim: width of the encoder's embeddings (the query projection is ``dim x dim``).
        graph: the graph mode (``gnn.config.GRAPH_MODES``): "none" builds the entity space
            without context edges.
        features: the pair features' names, in order (``gnn.features.feature_names``); a
            trained model has ``num_features`` of them. Models stored before the list existed
            have ``LEGACY_FEATURES``.
    """

    num_features: int
    query_norm: bool = False
    hidden: int = 0
    similarity: str | None = None
    dim: int = 32
    graph: str = "full"
    features: tuple[str, ...] = LEGACY_FEATURES

    def __post_init__(self) -> None:
        # JSON has no tuples: a stored config gives a list.
        object.__setattr__(self, "features", tuple(self.features))
        unknown = sorted(set(self.features) - set(FEATURE_NAMES))
        if unknown:
            raise ModelError(f"unknown features {unknown} in the model config")
        if self.num_features < 1:
            raise ModelError(f"'num_features' (got {self.num_features!r}) must be at least 1")
        if self.graph not in GRAPH_MODES:
            raise ModelError(f"unknown graph mode {self.graph!r} in the model config")
        if self.hidden < 0:
            raise ModelError(f"'hidden' (got {self.hidden!r}) must be 0 or a positive width")
        if self.similarity is not None and self.similarity not in SIMILARITIES:
            raise ModelError(
                f"'similarity' (got {self.similarity!r}) must be one of {SIMILARITIES} or None"
            )

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The pair features the scorer reads, in order."""
        return self.features

    @property
    def lexical(self) -> bool:
        """Whether the scorer reads the naming-habit cosine (``gnn.lexical``)."""
        return "lexical_cos" in self.features

    @property
    def scorer_inputs(self) -> int:
        """Width of the scorer's input: the features (twice with ``query_norm``) and the
        similarity, if any."""
        width = 2 * self.num_features if self.query_norm else self.num_features
        return width + (1 if self.similarity is not None else 0)


class AttributionModel(nn.Module):
    """Scores queries against actors; returns logits over ``[actors..., unknown]``.

    Args:
        config: every shape of the model.
        encoder: the encoder while training (GraphSAGE, or ``gnn.propagation``'s
            ``EvidencePropagation``; kept in the module so its weights train or stay frozen with
            it); None at inference, where its outputs are precomputed.
            Only a model with a ``config.similarity`` takes one.
    """

    temperature: Tensor
    unknown_shift: Tensor

    def __init__(self, config: ModelConfig, encoder: nn.Module | None = None) -> None:
        super().__init__()
        if encoder is not None and config.similarity is None:
            raise ModelError("an encoder needs a 'similarity' in the model config (got None)")
        self.config = config
        self.encoder = encoder
        # Built in this order (scorer, projection, unknown head): the order fixes which
        # initial weights a seed gives.
        inputs = config.scorer_inputs
        self.scorer = (
            nn.Sequential(nn.Linear(inputs, config.hidden), nn.Tanh(), nn.Linear(config.hidden, 1))
            if config.hidden
            else nn.Sequential(nn.Linear(inputs, 1))
        )
        self.query_proj = (
            nn.Linear(config.dim, config.dim)
            if config.similarity not in (None, "evidence")
            else None
        )
        self.unknown = nn.Linear(3, 1)
        # Fitted after training on held-out views (calibration), not by gradient descent.
        self.register_buffer("temperature", torch.ones(()))
        self.register_buffer("unknown_shift", torch.zeros(()))
        # Which kind of evidence (``SIGNALS``) each scorer input is, fixed by the config: the
        # (inputs x kinds) sum of ``signals`` and the overlap columns ``clamp_evidence`` keeps
        # at or above 0 (every feature column but the prior's; not the encoder's similarity).
        kinds = _input_kinds(config)
        self._signal_groups = torch.zeros(len(kinds), len(SIGNALS))
        self._signal_groups[torch.arange(len(kinds)), [SIGNALS.index(k) for k in kinds]] = 1.0
        n_features = len(kinds) - (config.similarity is not None)
        self._overlap_columns = [i for i in range(n_features) if kinds[i] != "prior"]

    @property
    def input_layer(self) -> nn.Linear:
        """The scorer's first layer: one weight per input (per hidden unit), the similarity's
        last."""
        return cast(nn.Linear, self.scorer[0])

    @property
    def query_norm(self) -> bool:
        """Whether features also enter min-max scaled over the query's candidates."""
        return self.config.query_norm

    @property
    def similarity(self) -> str | None:
        """How encoder embeddings become the similarity input (None: no such input)."""
        return self.config.similarity

    def embed_similarity(self, query_pool: Tensor, actor_emb: Tensor) -> Tensor:
        """Similarity of projected query embeddings (B, d) with actor embeddings (A, d): their
        cosine, or their dot product for ``similarity == "dot"``."""
        assert self.query_proj is not None
        if self.similarity == "dot":
            return self.query_proj(query_pool) @ actor_emb.T
        q = nn.functional.normalize(self.query_proj(query_pool), dim=-1)
        a = nn.functional.normalize(actor_emb, dim=-1)
        return q @ a.T

    def forward(
        self,
        feats: Tensor,
        sim: Tensor | None,
        qstats: Tensor,
        mask: Tensor | None = None,
        norm_mask: Tensor | None = None,
        inputs: Tensor | None = None,
    ) -> Tensor:
        """Raw logits (B, A + 1) before temperature.

        Args:
            feats: (B, A, F) pairwise overlap features.
            sim: (B, A) embedding similarity, or None without an encoder.
            qstats: (B, 3) query statistics for the unknown logit.
            mask: (B, A) bool, True where an actor is NOT a candidate.
            norm_mask: actors left out of the query-level scaling only (default: ``mask``);
                inference passes hidden actors here, so no visible score depends on them.
            inputs: ``scorer_inputs(feats, mask, norm_mask)`` when the caller computed it
                already (training does, once per episode: it depends on no parameter).
        """
        x = self.scorer_inputs(feats, mask, norm_mask) if inputs is None else inputs
        logits = self.scorer(_with_similarity(x, sim)).squeeze(-1)
        if mask is not None:
            # A large finite value: -inf would poison the temperature gradient with NaN.
            logits = logits.masked_fill(mask, -1e4)
        unk = self.unknown(qstats)
        return torch.cat([logits, unk], dim=-1)

    def scorer_inputs(
        self, feats: Tensor, mask: Tensor | None = None, norm_mask: Tensor | None = None
    ) -> Tensor:
        """The pair features (B, A, F) and, with ``query_norm``, their query-normalised copy
        (``forward``'s arguments of the same names)."""
        if not self.query_norm:
            return feats
        scale_mask = mask if norm_mask is None else norm_mask
        b, a, f = feats.shape
        x = torch.empty(b, a, 2 * f, dtype=feats.dtype)
        x[..., :f] = feats
        query_normalise(feats, scale_mask, out=x[..., f:])
        return x

    @torch.no_grad()
    def signals(self, inputs: Tensor, sim: Tensor | None) -> Tensor | None:
        """(B, A, len(SIGNALS)): what each kind of evidence (``gnn.features.signal_of``; an
        encoder's similarity is "graph") adds to each calibrated actor logit, so that the
        log-odds of two actors are the difference of their sums. None for a scorer with a
        hidden layer, whose inputs add up to no such sum.

        Args:
            inputs: ``scorer_inputs`` of the query (B, A, F or 2F).
            sim: the encoder's similarity (B, A), or None.
        """
        if self.config.hidden:
            return None
        x = _with_similarity(inputs, sim)
        groups = self._signal_groups.to(x.dtype)
        return (x * self.input_layer.weight[0]) @ groups / self.temperature

    @torch.no_grad()
    def clamp_evidence(self) -> None:
        """Raise every negative weight of an overlap feature (raw and query-normalised; not
        the profile-size prior ``log_profile``, nor an encoder's similarity) to 0. Only the
        log-linear scorer: a hidden layer's weights have no such reading."""
        if self.config.hidden:
            return
        w, cols = self.input_layer.weight, self._overlap_columns
        w[:, cols] = w[:, cols].clamp_min(0.0)

    def calibrated(self, raw: Tensor) -> Tensor:
        """Apply the fitted unknown shift and temperature; softmax of this sums to 1."""
        shifted = torch.cat([raw[:, :-1], raw[:, -1:] + self.unknown_shift], dim=-1)
        return shifted / self.temperature


def _input_kinds(config: ModelConfig) -> list[str]:
    """The kind of evidence (``gnn.features.signal_of``) of each scorer input: the features,
    again for their query-normalised copies, then the encoder's similarity ("graph")."""
    kinds = [signal_of(n) for n in config.features] * (2 if config.query_norm else 1)
    return kinds + ["graph"] * (config.scorer_inputs - len(kinds))


def _with_similarity(x: Tensor, sim: Tensor | None) -> Tensor:
    """The scorer's inputs with the encoder's similarity as the last column, if any."""
    return x if sim is None else torch.cat([x, sim.unsqueeze(-1)], dim=-1)


def query_normalise(feats: Tensor, mask: Tensor | None, out: Tensor | None = None) -> Tensor:
    """Each feature min-max scaled over the query's candidate actors (B, A, F) -> (B, A, F).

    Learning-to-rank's query-level normalisation (as in the LETOR benchmarks): what separates
    candidates is their order on a feature within one query, while the raw values grow with the
    query's size (a 55-technique campaign overlaps every large actor). Actors under ``mask`` take
    no part in the scaling (and get values clipped to [0, 1]); a feature equal for every
    candidate scales to 0.

    ``out``: a (B, A, F) tensor or view to write into (``AttributionModel.scorer_inputs`` passes
    half of the scorer's input), else a new tensor. The scaling runs in place on it: features
    are data, never a tensor that takes a gradient.
    """
    if feats.shape[1] == 0:
        return feats if out is None else out
    hi, lo = _candidate_bounds(feats, mask)
    span = hi - lo
    scaled = torch.sub(feats, lo, out=out) if out is not None else feats - lo
    return scaled.div_(span.clamp_min(1e-12)).masked_fill_(~(span > 0), 0.0).clamp_(0.0, 1.0)


def _candidate_bounds(feats: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """Each query's largest and smallest value of each feature over its candidates, (B, 1, F)
    twice: over every actor, then again with masked actors left out for the queries that have
    any (few in training, where only an unknown view hides one actor); no masked copy of the
    whole batch."""
    hi, lo = feats.amax(dim=1, keepdim=True), feats.amin(dim=1, keepdim=True)
    if mask is None:
        return hi, lo
    rows = mask.any(dim=1).nonzero().squeeze(1)
    if len(rows):
        m = mask[rows].unsqueeze(-1)
        part = feats[rows].masked_fill(m, float("-inf"))
        hi[rows] = part.amax(dim=1, keepdim=True)
        lo[rows] = part.masked_fill_(m, float("inf")).amin(dim=1, keepdim=True)
    return hi, lo


def query_stats(
    feats: Tensor,
    n_items: Tensor,
    mask: Tensor | None = None,
    names: tuple[str, ...] = LEGACY_FEATURES,
) -> Tensor:
    """Query-level inputs of the unknown logit: size, best overall overlap, best rare match.

    Args:
        feats: (B, A, F) pair features named by ``names``.
        n_items: (B,) distinct entities per query.
        mask: (B, A) bool, True where an actor is not a candidate (its overlaps count as 0).
        names: the features' names (``ModelConfig.feature_names``).

    Returns:
        (B, 3): ``log1p(n_items)``, the best ``ctx_all_cos`` (``all_cos`` without
        propagation) and the best ``max_rare``.
    """
    overall = "ctx_all_cos" if "ctx_all_cos" in names else "all_cos"
    ctx_cos = feats[..., names.index(overall)]
    rare = feats[..., names.index("max_rare")]
    if mask is not None:
        ctx_cos = ctx_cos.masked_fill(mask, 0.0)
        rare = rare.masked_fill(mask, 0.0)
    best = ctx_cos.max(dim=-1).values if ctx_cos.shape[-1] else torch.zeros(len(n_items))
    best_rare = rare.max(dim=-1).values if rare.shape[-1] else torch.zeros(len(n_items))
    return torch.stack([torch.log1p(n_items), best, best_rare], dim=-1)


def pool_queries(
    query_idx: Tensor, query_w: Tensor, batch: Tensor, entity_emb: Tensor, num_queries: int
) -> Tensor:
    """Weighted mean of entity embeddings per query (a new activity node's SAGE aggregation)."""
    w = query_w.unsqueeze(-1)
    out = torch.zeros(num_queries, entity_emb.shape[1], dtype=entity_emb.dtype)
    out.index_add_(0, batch, entity_emb[query_idx] * w)
    norm = torch.zeros(num_queries, 1, dtype=entity_emb.dtype).index_add_(0, batch, w)
    return out / norm.clamp_min(1e-9)


def _mean(msg: Tensor, index: Tensor, size: int) -> Tensor:
    out = torch.zeros(size, msg.shape[1], dtype=msg.dtype).index_add_(0, index, msg)
    ones = torch.ones_like(index, dtype=msg.dtype)
    deg = torch.zeros(size, dtype=msg.dtype).index_add_(0, index, ones)
    return out / deg.clamp_min(1.0).unsqueeze(-1)


def _key(et: EdgeKey) -> str:
    return "__".join(et)
