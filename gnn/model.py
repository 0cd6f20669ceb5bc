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
  embedding-space overlap of the query with the actor's profile under an encoder pre-trained
  by link prediction (``gnn.pretrain``, ``similarity = "nearest"``); with an encoder trained
  jointly on the labels, the cosine between the query's pooled embedding and the actor's.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

EdgeKey = tuple[str, str, str]


class HeteroSAGE(nn.Module):
    """Mean-aggregation GraphSAGE over typed edges (forward and reverse)."""

    def __init__(self, num_nodes: dict[str, int], edge_types: list[EdgeKey], dim: int = 32,
                 layers: int = 2, learned_types: tuple[str, ...] = (),
                 freeze_embeddings: bool = False) -> None:
        super().__init__()
        self.node_types = sorted(num_nodes)
        self.edge_types = list(edge_types)
        self.num_nodes = dict(num_nodes)
        self.learned_types = set(learned_types)
        self.emb = nn.ParameterDict({
            t: nn.Parameter(torch.randn(n if t in self.learned_types else 1, dim) * 0.1)
            for t, n in num_nodes.items()
        })
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

    def propagate(self, h: dict[str, Tensor],
                  layers: list[tuple[dict[EdgeKey, Tensor], dict[str, int]]]) -> dict[str, Tensor]:
        """Run the layers from input features ``h``; one ``(edges, sizes)`` per layer.

        A layer computes outputs for the first ``sizes[t]`` nodes of each type (all of them in
        full batch; fewer on a sampled sub-graph, where later layers need fewer nodes) from
        ``edges``, whose destinations must lie among those nodes.
        """
        for layer, ((self_lin, rel_lin), (edges, size)) in enumerate(
                zip(zip(self.self_lin, self.rel_lin), layers)):
            out = {t: self_lin[t](h[t][:size[t]]) for t in self.node_types}
            for et, ei in edges.items():
                src, _, dst = et
                if ei.numel() == 0 or _key(et) not in rel_lin:
                    continue
                out[dst] = out[dst] + _mean(rel_lin[_key(et)](h[src])[ei[0]], ei[1], size[dst])
            last = layer == len(self.self_lin) - 1
            h = {t: (v if last else torch.relu(v)) for t, v in out.items()}
        return h


class AttributionModel(nn.Module):
    """Scores queries against actors; returns logits over ``[actors..., unknown]``."""

    def __init__(self, num_features: int, encoder: HeteroSAGE | None, dim: int = 32,
                 hidden: int = 16, query_norm: bool = False) -> None:
        super().__init__()
        self.encoder = encoder
        extra = 1 if encoder is not None else 0
        # query_norm: each feature also enters min-max scaled over the query's candidates
        # (``query_normalise``), so the scorer can weigh "best of the candidates on this
        # channel" apart from the raw overlap, whose scale grows with the query's size.
        self.query_norm = query_norm
        num_features = self.scorer_inputs(num_features, query_norm)
        # hidden=0: a log-linear scorer (fewer ways to overfit the sampled views).
        self.scorer = (nn.Sequential(nn.Linear(num_features + extra, hidden), nn.Tanh(),
                                     nn.Linear(hidden, 1)) if hidden
                       else nn.Sequential(nn.Linear(num_features + extra, 1)))
        self.query_proj = nn.Linear(dim, dim) if encoder is not None else None
        # "cosine", or "dot": the link-prediction score itself (idf-weighted mean over the
        # query's entities of <entity, actor>), for an encoder pre-trained on that objective.
        self.similarity = "cosine"
        self.unknown = nn.Linear(3, 1)
        # Fitted after training on held-out views (calibration), not by gradient descent.
        self.register_buffer("temperature", torch.ones(()))
        self.register_buffer("unknown_shift", torch.zeros(()))

    def embed_similarity(self, query_pool: Tensor, actor_emb: Tensor) -> Tensor:
        """Cosine between projected query embeddings (B, d) and actor embeddings (A, d)."""
        assert self.query_proj is not None
        if self.similarity == "dot":
            return self.query_proj(query_pool) @ actor_emb.T
        q = nn.functional.normalize(self.query_proj(query_pool), dim=-1)
        a = nn.functional.normalize(actor_emb, dim=-1)
        return q @ a.T

    @staticmethod
    def scorer_inputs(num_features: int, query_norm: bool) -> int:
        """Width of the scorer's input for ``num_features`` pair features (before ``sim``)."""
        return 2 * num_features if query_norm else num_features

    def forward(self, feats: Tensor, sim: Tensor | None, qstats: Tensor,
                mask: Tensor | None = None, norm_mask: Tensor | None = None) -> Tensor:
        """Raw logits (B, A + 1) before temperature.

        Args:
            feats: (B, A, F) pairwise overlap features.
            sim: (B, A) embedding similarity, or None without an encoder.
            qstats: (B, 3) query statistics for the unknown logit.
            mask: (B, A) bool, True where an actor is NOT a candidate.
            norm_mask: actors left out of the query-level scaling only (default: ``mask``);
                inference passes hidden actors here, so no visible score depends on them.
        """
        if self.query_norm:
            feats = torch.cat([feats, query_normalise(feats, mask if norm_mask is None else norm_mask)], dim=-1)
        x = feats if sim is None else torch.cat([feats, sim.unsqueeze(-1)], dim=-1)
        logits = self.scorer(x).squeeze(-1)
        if mask is not None:
            # A large finite value: -inf would poison the temperature gradient with NaN.
            logits = logits.masked_fill(mask, -1e4)
        unk = self.unknown(qstats)
        return torch.cat([logits, unk], dim=-1)

    def calibrated(self, raw: Tensor) -> Tensor:
        """Apply the fitted unknown shift and temperature; softmax of this sums to 1."""
        shifted = torch.cat([raw[:, :-1], raw[:, -1:] + self.unknown_shift], dim=-1)
        return shifted / self.temperature


def query_normalise(feats: Tensor, mask: Tensor | None) -> Tensor:
    """Each feature min-max scaled over the query's candidate actors (B, A, F) -> (B, A, F).

    Learning-to-rank's query-level normalisation (as in the LETOR benchmarks): what separates
    candidates is their order on a feature within one query, while the raw values grow with the
    query's size (a 55-technique campaign overlaps every large actor). Actors under ``mask`` take
    no part in the scaling (and get values clipped to [0, 1]); a feature equal for every
    candidate scales to 0.
    """
    if feats.shape[1] == 0:
        return feats
    if mask is None:
        hi, lo = feats.max(dim=1, keepdim=True).values, feats.min(dim=1, keepdim=True).values
    else:
        m = mask.unsqueeze(-1)
        hi = feats.masked_fill(m, float("-inf")).max(dim=1, keepdim=True).values
        lo = feats.masked_fill(m, float("inf")).min(dim=1, keepdim=True).values
    span = hi - lo
    scaled = (feats - lo) / span.clamp_min(1e-12)
    return torch.where(span > 0, scaled, torch.zeros_like(feats)).clamp(0.0, 1.0)


def pool_queries(query_idx: Tensor, query_w: Tensor, batch: Tensor, entity_emb: Tensor,
                 num_queries: int) -> Tensor:
    """Weighted mean of entity embeddings per query (a new activity node's SAGE aggregation)."""
    w = query_w.unsqueeze(-1)
    out = torch.zeros(num_queries, entity_emb.shape[1], dtype=entity_emb.dtype)
    out.index_add_(0, batch, entity_emb[query_idx] * w)
    norm = torch.zeros(num_queries, 1, dtype=entity_emb.dtype).index_add_(0, batch, w)
    return out / norm.clamp_min(1e-9)


def _mean(msg: Tensor, index: Tensor, size: int) -> Tensor:
    out = torch.zeros(size, msg.shape[1], dtype=msg.dtype).index_add_(0, index, msg)
    deg = torch.zeros(size, dtype=msg.dtype).index_add_(0, index, torch.ones_like(index, dtype=msg.dtype))
    return out / deg.clamp_min(1.0).unsqueeze(-1)


def _key(et: EdgeKey) -> str:
    return "__".join(et)
