"""The "nearest" similarity between a query and an actor in the encoder's embedding space.

For each entity of the query, the highest cosine to any entity of the actor's profile,
averaged over the query with rarity weights. ``nearest_overlap`` computes it in torch over a
training episode; ``NearestIndex`` serves it at inference from precomputed arrays, with the
same numbers.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn


def nearest_overlap(
    q_idx: Tensor,
    q_w: Tensor,
    q_batch: Tensor,
    num_queries: int,
    entity_emb: Tensor,
    prof_rows: Tensor,
    prof_cols: Tensor,
    num_actors: int,
) -> Tensor:
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
    sims = e[q_idx] @ e[prof_cols].T  # (N, nnz)
    best = torch.full((len(q_idx), num_actors), -2.0, dtype=sims.dtype)
    best = best.scatter_reduce(1, prof_rows.expand(len(q_idx), -1), sims, reduce="amax")
    best = torch.where(best < -1.5, torch.zeros_like(best), best)
    w = q_w.unsqueeze(-1)
    out = torch.zeros(num_queries, num_actors, dtype=sims.dtype).index_add_(0, q_batch, best * w)
    norm = torch.zeros(num_queries, 1, dtype=sims.dtype).index_add_(0, q_batch, w)
    return out / norm.clamp_min(1e-9)


def profile_pairs(profile: sp.spmatrix) -> tuple[Tensor, Tensor]:
    """(actor, entity) index tensors of a scipy sparse profile matrix."""
    coo = profile.tocoo()
    return torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64))


class NearestIndex:
    """``nearest_overlap`` for inference, in numpy over precomputed arrays.

    The closest-profile cosine of an entity to an actor does not depend on the query, so for
    graphs of moderate size the whole (entities x actors) table, E x A x 4 bytes, is computed
    once and a query is a row gather plus a weighted mean: no matrix product at request time,
    whose cost in torch varied widely on a busy machine. Above ``TABLE_MAX_ENTRIES`` the rows a
    query needs are computed per request.
    """

    TABLE_MAX_ENTRIES = 20_000_000

    def __init__(self, entity_emb: Tensor, profile: sp.spmatrix) -> None:
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
            self.table = np.concatenate(
                [self._best(np.arange(lo, min(lo + 512, len(e)))) for lo in range(0, len(e), 512)]
            )

    def _best(self, idx: np.ndarray) -> np.ndarray:
        sims = self.emb[idx] @ self.col_emb_t  # (N, C)
        return np.maximum.reduceat(sims[:, self.gather], self.starts, axis=1)  # (N, A')

    def __call__(
        self, q_idx: np.ndarray, q_w: np.ndarray, q_batch: np.ndarray, num_queries: int
    ) -> np.ndarray:
        """(B, A) float32, like ``nearest_overlap``."""
        out = np.zeros((num_queries, self.num_actors), dtype=np.float32)
        if not len(q_idx) or not len(self.actors):
            return out
        best = self.table[q_idx] if self.table is not None else self._best(q_idx)
        w = q_w.astype(np.float32)
        if num_queries == 1:  # one request: a weighted sum, no sparse pooling matrix
            num, norm = (w @ best)[None, :], np.array([w.sum()], dtype=np.float32)
        else:
            pool = sp.csr_matrix(
                (w, (q_batch, np.arange(len(q_idx)))), shape=(num_queries, len(q_idx))
            )
            num = np.asarray(pool @ best, dtype=np.float32)
            norm = np.asarray(pool.sum(axis=1), dtype=np.float32).ravel()
        out[:, self.actors] = num / np.maximum(norm, 1e-9)[:, None]
        return out
