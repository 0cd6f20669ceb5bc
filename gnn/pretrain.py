"""Self-supervised pre-training of the GraphSAGE encoder by link prediction.

Labelled clusters are scarce (a few dozen attributed campaigns), but the graph itself holds
thousands of "who uses what" edges: actor -> malware/tool/technique and malware/tool ->
technique. Hiding a random share of those edges and asking the encoder to find them again
(dot product of the two end embeddings against random negatives of the same type) teaches it
which entities go together, without touching a label. The encoder then only supplies one
extra similarity feature to the log-linear scorer (see ``gnn.train``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from actorgraph.gnn.dataset import ENTITY_TYPES
from actorgraph.gnn.model import HeteroSAGE

EdgeKey = tuple[str, str, str]


def supervision_keys(edges: dict[EdgeKey, Tensor]) -> list[EdgeKey]:
    """Forward "uses" edges worth predicting: actor -> entity and software -> technique."""
    keys = []
    for st, rel, dt in edges:
        if rel.startswith("rev_"):
            continue
        if (st == "actor" and dt in ENTITY_TYPES) or (rel == "USES" and st in ("malware", "tool")):
            keys.append((st, rel, dt))
    return keys


def pretrain_link_prediction(encoder: HeteroSAGE, edges: dict[EdgeKey, Tensor], epochs: int,
                             lr: float, seed: int, hide_frac: float = 0.3,
                             weight_decay: float = 1e-4, log=None, batch_size: int | None = None,
                             fanouts: tuple[int, ...] | None = None) -> list[float]:
    """Train ``encoder`` in place to predict hidden "uses" edges; returns the loss per epoch.

    Each epoch hides ``hide_frac`` of the supervision edges from message passing (forward and
    reverse), so an actor's embedding cannot simply copy the entity it is asked about.

    Args:
        batch_size: None (the default) trains full batch, one step per epoch over all hidden
            edges. An integer trains on mini-batches of that many hidden edges, one step each,
            embedding only their end points (and negatives) over sampled neighbourhoods
            (``gnn.sampling``): activations follow the sampled sub-graph, while parameters,
            gradients and optimiser state (the entity embedding table) still follow the graph.
            Not chosen automatically: it changes the optimisation (many steps per epoch,
            sampled neighbourhoods), and measured on 200k nodes / 1M edges it cost 40-80x the
            CPU per epoch to save about 0.6 GB of a 1.3 GB peak (benchmarks/RESULTS.md,
            "Training: full batch vs mini-batch").
        fanouts: in-neighbours sampled per node and relation at each hop, one per encoder
            layer (default 10 each); only with ``batch_size``.
    """
    from actorgraph.gnn.train import Adam

    gen = torch.Generator().manual_seed(seed)
    keys = supervision_keys(edges)
    params = [p for p in encoder.parameters() if p.requires_grad]
    opt = Adam(params, lr=lr)
    losses: list[float] = []
    if not keys:
        return losses
    if batch_size is not None:
        return _pretrain_sampled(encoder, edges, keys, epochs, opt, params, gen, hide_frac,
                                 weight_decay, log, batch_size, fanouts)
    for epoch in range(epochs):
        msg, targets = _hide_targets(edges, keys, hide_frac, gen)
        opt.zero_grad()
        h = encoder(msg)
        loss = torch.zeros(())
        n = 0
        for (st, _, dt), pos in targets:
            if pos.shape[1] == 0:
                continue
            neg_dst = torch.randint(0, encoder.num_nodes[dt], (pos.shape[1],), generator=gen)
            ps = (h[st][pos[0]] * h[dt][pos[1]]).sum(-1)
            ns = (h[st][pos[0]] * h[dt][neg_dst]).sum(-1)
            loss = loss + nn.functional.binary_cross_entropy_with_logits(
                torch.cat([ps, ns]), torch.cat([torch.ones_like(ps), torch.zeros_like(ns)]),
                reduction="sum")
            n += 2 * pos.shape[1]
        loss = loss / max(n, 1)
        if weight_decay:
            loss = loss + weight_decay * sum((p ** 2).sum() for p in params)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if log and (epoch % 25 == 0 or epoch == epochs - 1):
            log(f"pretrain epoch {epoch:3d} loss {losses[-1]:.4f}")
    return losses


def _hide_targets(edges: dict[EdgeKey, Tensor], keys: list[EdgeKey], hide_frac: float,
                  gen: torch.Generator) -> tuple[dict[EdgeKey, Tensor], list[tuple[EdgeKey, Tensor]]]:
    """One epoch's message-passing graph and the hidden edges to predict, per key."""
    msg = dict(edges)
    targets: list[tuple[EdgeKey, Tensor]] = []
    for key in keys:
        ei = edges[key]
        if ei.shape[1] < 2:
            continue
        hide = torch.rand(ei.shape[1], generator=gen) < hide_frac
        kept = ei[:, ~hide]
        msg[key] = kept
        st, rel, dt = key
        msg[(dt, f"rev_{rel}", st)] = kept.flip(0)
        targets.append((key, ei[:, hide]))
    return msg, targets


def _pretrain_sampled(encoder: HeteroSAGE, edges: dict[EdgeKey, Tensor], keys: list[EdgeKey],
                      epochs: int, opt, params: list[Tensor], gen: torch.Generator,
                      hide_frac: float, weight_decay: float, log, batch_size: int,
                      fanouts: tuple[int, ...] | None) -> list[float]:
    """``pretrain_link_prediction`` over mini-batches of hidden edges (neighbour sampling)."""
    from actorgraph.gnn.sampling import NeighborSampler, embed_sampled

    if batch_size < 1:
        raise ValueError(f"'batch_size' (got {batch_size}) must be a positive number of edges")
    fanouts = tuple(fanouts) if fanouts is not None else (10,) * len(encoder.self_lin)
    if len(fanouts) != len(encoder.self_lin):
        raise ValueError(f"'fanouts' (got {fanouts}) needs one entry per encoder layer "
                         f"({len(encoder.self_lin)})")
    losses: list[float] = []
    for epoch in range(epochs):
        msg, targets = _hide_targets(edges, keys, hide_frac, gen)
        targets = [(k, pos) for k, pos in targets if pos.shape[1]]
        sampler = NeighborSampler(msg, encoder.num_nodes, fanouts, gen)
        which = torch.cat([torch.full((pos.shape[1],), i) for i, (_, pos) in enumerate(targets)]
                          or [torch.zeros(0, dtype=torch.long)])
        column = torch.cat([torch.arange(pos.shape[1]) for _, pos in targets]
                           or [torch.zeros(0, dtype=torch.long)])
        order = torch.randperm(len(which), generator=gen)
        total, n_total = 0.0, 0
        for lo in range(0, len(order), batch_size):
            sel = order[lo:lo + batch_size]
            # Per key: positive (src, dst), negative dst; seeds are every end point of the batch.
            parts = []  # (src type, dst type, edges, first src seed, first dst seed)
            seeds: dict[str, list[Tensor]] = {}
            at: dict[str, int] = {}
            for i, ((st, _, dt), pos) in enumerate(targets):
                cols = column[sel[which[sel] == i]]
                m = len(cols)
                if not m:
                    continue
                neg = torch.randint(0, encoder.num_nodes[dt], (m,), generator=gen)
                s_at = at.get(st, 0)
                seeds.setdefault(st, []).append(pos[0, cols])
                at[st] = s_at + m
                d_at = at.get(dt, 0)
                seeds.setdefault(dt, []).append(torch.cat([pos[1, cols], neg]))
                at[dt] = d_at + 2 * m
                parts.append((st, dt, m, s_at, d_at))
            sub = sampler.sample({t: torch.cat(v) for t, v in seeds.items()})
            out = embed_sampled(encoder, sub)
            h = {t: out[t][sub.seed_index[t]] for t in seeds}
            opt.zero_grad()
            loss = torch.zeros(())
            n = 0
            for st, dt, m, s_at, d_at in parts:
                hs, hd = h[st][s_at:s_at + m], h[dt][d_at:d_at + 2 * m]
                ps = (hs * hd[:m]).sum(-1)
                ns = (hs * hd[m:]).sum(-1)
                loss = loss + nn.functional.binary_cross_entropy_with_logits(
                    torch.cat([ps, ns]), torch.cat([torch.ones_like(ps), torch.zeros_like(ns)]),
                    reduction="sum")
                n += 2 * m
            loss = loss / max(n, 1)
            if weight_decay:
                loss = loss + weight_decay * sum((p ** 2).sum() for p in params)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * n
            n_total += n
        losses.append(total / max(n_total, 1))
        if log and (epoch % 25 == 0 or epoch == epochs - 1):
            log(f"pretrain epoch {epoch:3d} loss {losses[-1]:.4f} (mini-batch)")
    return losses


def cosine_similarity(query_pool: Tensor, actor_emb: Tensor) -> Tensor:
    """(B, A) cosine between pooled query embeddings and actor embeddings."""
    q = nn.functional.normalize(query_pool, dim=-1)
    a = nn.functional.normalize(actor_emb, dim=-1)
    return q @ a.T


def fit_similarity_weight(base: Tensor, sim: Tensor, target: Tensor) -> tuple[float, float]:
    """Weight of the similarity feature added to fixed logits, fitted by NLL on held-out views.

    Returns ``(weight, nll_gain)``: the weight (>= 0, a similarity that hurts gets 0) and how
    much it lowered the validation NLL (per view), so callers can log whether it helped.
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import logsumexp

    z = base.detach().double().numpy()
    s = np.concatenate([sim.detach().double().numpy(), np.zeros((len(z), 1))], axis=1)
    y = target.numpy()

    def nll(w: float) -> float:
        zz = z + w * s
        return float(np.mean(logsumexp(zz, axis=1) - zz[np.arange(len(y)), y]))

    best = minimize_scalar(nll, bounds=(0.0, 50.0), method="bounded")
    w = float(best.x) if best.fun < nll(0.0) else 0.0
    return w, nll(0.0) - nll(w)


def nearest_overlap(q_idx: Tensor, q_w: Tensor, q_batch: Tensor, num_queries: int,
                    entity_emb: Tensor, prof_rows: Tensor, prof_cols: Tensor,
                    num_actors: int) -> Tensor:
    """(B, A) embedding-space overlap: how close each query entity is to the actor's profile.

    For a query entity and an actor, the highest cosine between the entity and any entity of
    the actor's profile; averaged over the query with rarity weights. It credits near-misses
    the exact features cannot see (a sibling technique, a related family). A maximum, not a
    mean: a large profile is neither diluted nor favoured. Actors without a profile get 0.

    Args:
        q_idx, q_w, q_batch: flattened query entities, their weights and query index.
        num_queries: B.
        entity_emb: (E, d) entity embeddings in entity-space order.
        prof_rows, prof_cols: the actor profiles as (actor, entity) pairs (nnz,).
        num_actors: A.
    """
    e = nn.functional.normalize(entity_emb, dim=-1)
    sims = e[q_idx] @ e[prof_cols].T                                       # (N, nnz)
    best = torch.full((len(q_idx), num_actors), -2.0, dtype=sims.dtype)
    best = best.scatter_reduce(1, prof_rows.expand(len(q_idx), -1), sims, reduce="amax")
    best = torch.where(best < -1.5, torch.zeros_like(best), best)
    w = q_w.unsqueeze(-1)
    out = torch.zeros(num_queries, num_actors, dtype=sims.dtype).index_add_(0, q_batch, best * w)
    norm = torch.zeros(num_queries, 1, dtype=sims.dtype).index_add_(0, q_batch, w)
    return out / norm.clamp_min(1e-9)


def profile_pairs(profile) -> tuple[Tensor, Tensor]:
    """(actor, entity) index tensors of a scipy sparse profile matrix."""
    coo = profile.tocoo()
    return torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64))


class NearestIndex:
    """``nearest_overlap`` for inference, in numpy over precomputed arrays.

    The closest-profile cosine of an entity to an actor does not depend on the query, so for
    graphs of moderate size the whole (entities x actors) table is computed once and a query is
    a row gather plus a weighted mean: no matrix product at request time. (Measured on 2 busy
    cores: the per-request product took 6-16 ms, 50-300 ms spikes in torch, against 0.4 ms on
    one idle thread; the table costs E x A x 4 bytes, 3.4 MB for ATT&CK + the demo world.)
    """

    TABLE_MAX_ENTRIES = 20_000_000

    def __init__(self, entity_emb: Tensor, profile) -> None:
        e = nn.functional.normalize(entity_emb, dim=-1).numpy().astype(np.float32)
        csr = profile.tocsr()
        self.num_actors = csr.shape[0]
        self.emb = e
        cols = np.unique(csr.indices)
        self.col_emb_t = np.ascontiguousarray(e[cols].T)
        # Profile entries grouped by actor, as positions in ``cols``.
        self.gather = np.searchsorted(cols, csr.indices).astype(np.int64)
        counts = np.diff(csr.indptr)
        self.actors = np.flatnonzero(counts)
        self.starts = csr.indptr[:-1][self.actors].astype(np.int64)
        self.table = None
        if len(self.actors) and len(e) * len(self.actors) <= self.TABLE_MAX_ENTRIES:
            self.table = np.concatenate([self._best(np.arange(lo, min(lo + 512, len(e))))
                                         for lo in range(0, len(e), 512)])

    def _best(self, idx: np.ndarray) -> np.ndarray:
        sims = self.emb[idx] @ self.col_emb_t                                  # (N, C)
        return np.maximum.reduceat(sims[:, self.gather], self.starts, axis=1)  # (N, A')

    def __call__(self, q_idx: np.ndarray, q_w: np.ndarray, q_batch: np.ndarray,
                 num_queries: int) -> np.ndarray:
        """(B, A) float32, like ``nearest_overlap``."""
        import scipy.sparse as sp

        out = np.zeros((num_queries, self.num_actors), dtype=np.float32)
        if not len(q_idx) or not len(self.actors):
            return out
        best = self.table[q_idx] if self.table is not None else self._best(q_idx)
        w = q_w.astype(np.float32)
        if num_queries == 1:  # one request: a weighted sum, no sparse pooling matrix
            num, norm = (w @ best)[None, :], np.array([w.sum()], dtype=np.float32)
        else:
            pool = sp.csr_matrix((w, (q_batch, np.arange(len(q_idx)))), shape=(num_queries, len(q_idx)))
            num = np.asarray(pool @ best, dtype=np.float32)
            norm = np.asarray(pool.sum(axis=1), dtype=np.float32).ravel()
        out[:, self.actors] = num / np.maximum(norm, 1e-9)[:, None]
        return out
