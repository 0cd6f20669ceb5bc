"""The two baselines every evaluation reports beside the model.

- ``TfidfBaseline``: TF-IDF cosine between the objects a cluster uses (techniques, malware,
  tools, indicators, infrastructure) and each actor's profile. No graph context, no hub list.
- ``OverlapBaseline``: exact overlap of values, MISP-style correlation, scored as Jaccard
  similarity so that an actor with a huge profile does not win by size alone.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from actorgraph.gnn.dataset import GraphSnapshot
from actorgraph.gnn.features import EntitySpace, attribution_matrix, cluster_items, profiles
from actorgraph.gnn.hubs import HubList


class _ProfileBaseline:
    name = "baseline"

    def __init__(self, snap: GraphSnapshot, space: EntitySpace | None = None) -> None:
        self.space = space or EntitySpace.build(snap, HubList())
        self.profile = profiles(
            cluster_items(snap, self.space, "actor"),
            cluster_items(snap, self.space, "campaign"),
            attribution_matrix(snap),
        ).tocsr()

    def _query(self, entities: list[int]) -> sp.csr_matrix:
        cols = np.unique(np.asarray(entities, dtype=np.int64))
        return sp.csr_matrix(
            (np.ones(len(cols)), (np.zeros(len(cols), dtype=np.int64), cols)),
            shape=(1, len(self.space)),
        )

    def scores(self, entities: list[int]) -> np.ndarray:
        """(A,) similarity of one query (entity-space indices) to every actor."""
        raise NotImplementedError


class TfidfBaseline(_ProfileBaseline):
    """TF-IDF cosine over actor profiles."""

    name = "tfidf"

    def __init__(self, snap: GraphSnapshot, space: EntitySpace | None = None) -> None:
        super().__init__(snap, space)
        n = self.profile.shape[0]
        df = np.asarray(self.profile.sum(axis=0)).ravel()
        self.idf = np.log((n + 1) / (df + 1)) + 1.0
        self.weighted = self.profile.multiply(self.idf).tocsr()
        norms = np.sqrt(np.asarray(self.weighted.multiply(self.weighted).sum(axis=1)).ravel())
        self.norms = np.where(norms == 0, 1.0, norms)

    def scores(self, entities: list[int]) -> np.ndarray:
        q = self._query(entities).multiply(self.idf).tocsr()
        qn = np.sqrt(q.multiply(q).sum()) or 1.0
        return (self.weighted @ q.T).toarray().ravel() / (self.norms * qn)


class OverlapBaseline(_ProfileBaseline):
    """Exact shared values (Jaccard)."""

    name = "overlap"

    def __init__(self, snap: GraphSnapshot, space: EntitySpace | None = None) -> None:
        super().__init__(snap, space)
        self.sizes = np.asarray(self.profile.sum(axis=1)).ravel()

    def scores(self, entities: list[int]) -> np.ndarray:
        q = self._query(entities)
        inter = (self.profile @ q.T).toarray().ravel()
        union = self.sizes + q.nnz - inter
        return inter / np.where(union == 0, 1.0, union)
