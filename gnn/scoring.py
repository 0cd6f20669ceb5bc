"""Inference core: probabilities over actors + unknown for sets of matched entities.

Built once from a trained model (``Scorer.from_trained``); holds only read-only arrays, so one
instance serves concurrent requests. Scoring one activity is a sparse dot product against the
actor profiles plus a lookup in the encoder's precomputed (entity x actor) similarity table (or
a pooled embedding for a jointly trained encoder, or the rarity-weighted mean of the evidence
encoder's stored entity states): no message passing at request time.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch

from actorgraph.gnn.features import PairFeatures, attribution_matrix, cluster_items
from actorgraph.gnn.habit_likelihood import Setup
from actorgraph.gnn.lexical import LexicalMatch, entity_ngrams, ngram_rows, text_of_id
from actorgraph.gnn.model import (
    AttributionModel,
    evidence_similarity,
    pool_queries,
    query_stats,
)
from actorgraph.gnn.nearest import NearestIndex
from actorgraph.gnn.trained import Trained
from actorgraph.graph.errors import ModelError


@contextlib.contextmanager
def _intra_op_threads(threads: int | None) -> Iterator[None]:
    """Run torch with ``threads`` intra-op threads inside the block (None: unchanged).

    One request's forward pass works on a few thousand numbers: split over OpenMP threads it
    waits at every barrier for a thread the scheduler parked, which on a busy machine cost
    more than the arithmetic (measured: 4.4 ms against 0.3 ms for one min-max scaling of a
    172-actor query at load 5). The API server runs with one thread for the same reason
    (``api.main``); this makes the library's own callers (CLI, benchmarks) behave alike.
    """
    before = torch.get_num_threads()
    if threads is None or threads == before:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Scorer:
    """Scores entity sets against every known actor."""

    def __init__(self, trained: Trained) -> None:
        self.trained = trained
        self.model: AttributionModel = trained.model.eval()
        snap, space = trained.snapshot, trained.space
        camps = cluster_items(snap, space, "campaign") if trained.config.campaign_features else None
        self.names = self.model.config.feature_names
        lexical = (
            LexicalMatch(entity_ngrams(snap, space.ids), trained.profile)
            if self.model.config.lexical
            else None
        )
        self.features = PairFeatures(
            space,
            trained.profile,
            trained.idf,
            camps,
            attribution_matrix(snap),
            names=self.names,
            lexical=lexical,
        )
        self.n_actors = trained.snapshot.num_nodes("actor")
        self.n_entities = len(trained.space)
        # torch modules are not documented as re-entrant; the forward is tiny, so serialise it.
        self._lock = threading.Lock()
        self._nearest = None
        if self.model.similarity == "nearest" and trained.entity_emb is not None:
            self._nearest = NearestIndex(trained.entity_emb, trained.profile)

    def probabilities(
        self,
        entity_sets: list[list[int]],
        hidden_actors: np.ndarray | None = None,
        new_values: list[list[str]] | None = None,
        new_setups: list[list[Setup]] | None = None,
    ) -> np.ndarray:
        """(B, A + 1) calibrated probabilities; the last column is "unknown" (the arguments
        are ``scores``'; no signals are computed)."""
        return self.scores(entity_sets, hidden_actors, new_values, new_setups, explain=False)[0]

    def scores(
        self,
        entity_sets: list[list[int]],
        hidden_actors: np.ndarray | None = None,
        new_values: list[list[str]] | None = None,
        new_setups: list[list[Setup]] | None = None,
        *,
        explain: bool = True,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(B, A + 1) calibrated probabilities, the last column "unknown"; and, with
        ``explain``, (B, A, len(SIGNALS)) what each kind of evidence added to each actor's
        log-odds (``AttributionModel.signals``; None without ``explain`` or for a scorer with
        a hidden layer).

        Args:
            entity_sets: per query, indices into the entity space.
            new_values: per query, indicator ids (``kind:value``) the graph does not hold;
                their names still count through the naming-habit cosine (``gnn.lexical``).
            new_setups: per query, the set-ups of its new domains and IPs
                (``gnn.habit_likelihood.activity_setups``), read by ``ctx_habit_lik``.
            hidden_actors: optional (A,) bool: actors that must not be candidates. They leave
                the softmax and the unknown head's statistics (probability 0), exactly as a
                non-candidate leaves a training view; their mass is not added to "unknown"
                (that made "unknown" rise exactly when the hidden actor was the right one).
        """
        n = len(entity_sets)
        names = None
        n_named = np.zeros(n)
        if new_values is not None and self.features.lexical is not None:
            if len(new_values) != n:
                raise ValueError(f"new_values has {len(new_values)} rows for {n} queries")
            flat = [text_of_id(v) for values in new_values for v in values]
            owner = np.repeat(np.arange(n), [len(values) for values in new_values])
            per_query = sp.csr_matrix(
                (np.ones(len(flat)), (owner, np.arange(len(flat)))), shape=(n, len(flat))
            )
            names = (per_query @ ngram_rows(flat)).tocsr()
            n_named = np.bincount(owner[[t is not None for t in flat]], minlength=n).astype(float)
        if n == 1:
            # One request: no sparse matrix at all (scipy's per-object cost outweighed the
            # arithmetic); the features are bit-identical to the batch path.
            indices = np.unique(np.asarray(entity_sets[0], dtype=np.int64))
            indptr = np.array([0, len(indices)])
            feats = torch.from_numpy(
                self.features.one(
                    indices,
                    np.ones(len(indices)),
                    names,
                    None if new_setups is None else new_setups[0],
                )[None]
            )
        else:
            rows = np.repeat(np.arange(n), [len(s) for s in entity_sets])
            cols = (
                np.concatenate([np.asarray(s, dtype=np.int64) for s in entity_sets])
                if n
                else np.zeros(0, np.int64)
            )
            q = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(n, self.n_entities))
            q.sum_duplicates()
            q.data[:] = 1.0
            indices, indptr = q.indices, q.indptr
            feats = torch.from_numpy(self.features(q, names, new_setups))
        # Distinct entities per query, plus the new values whose names count.
        sizes = torch.from_numpy((np.diff(indptr) + n_named).astype(np.float32))
        with self._lock, torch.no_grad(), _intra_op_threads(1 if n == 1 else None):
            sim = None
            if self.trained.evidence is not None:
                batch_of = np.repeat(np.arange(n), np.diff(indptr))
                sim = evidence_similarity(torch.from_numpy(self._pooled(indices, batch_of, n)))
            elif self.trained.entity_emb is not None and self.trained.actor_emb is not None:
                idx = torch.from_numpy(indices.astype(np.int64))
                batch = torch.from_numpy(np.repeat(np.arange(n), np.diff(indptr)).astype(np.int64))
                w = torch.from_numpy(self.trained.idf[indices].astype(np.float32))
                if self._nearest is not None:
                    sim = torch.from_numpy(self._nearest(idx.numpy(), w.numpy(), batch.numpy(), n))
                else:
                    pooled = pool_queries(idx, w, batch, self.trained.entity_emb, n)
                    sim = self.model.embed_similarity(pooled, self.trained.actor_emb)
            hidden = None
            if hidden_actors is not None and hidden_actors.any():
                hidden = torch.from_numpy(np.asarray(hidden_actors, dtype=bool)).expand(n, -1)
            qstats = query_stats(feats, sizes, hidden, self.names)
            inputs = self.model.scorer_inputs(feats, hidden)
            raw = self.model(feats, sim, qstats, mask=hidden, inputs=inputs)
            # An empty query carries no evidence at all: all mass to unknown.
            probs = torch.softmax(self.model.calibrated(raw), -1).numpy().astype(np.float64)
            signals = self.model.signals(inputs, sim) if explain else None
        empty = sizes.numpy() == 0
        probs[empty] = 0.0
        probs[empty, -1] = 1.0
        if hidden_actors is not None and hidden_actors.any():
            # Masked logits leave ~1e-4000 of mass: exactly zero, renormalised.
            probs[:, :-1][:, hidden_actors] = 0.0
            probs /= probs.sum(axis=1, keepdims=True)
        return probs, None if signals is None else signals.numpy().astype(np.float64)

    def evidence_scores(self, entity_sets: list[list[int]]) -> np.ndarray:
        """(B, A) the evidence encoder's own score of each query (``gnn.propagation``): the
        rarity-weighted mean of its entities' final states, before the scorer.

        Raises:
            ModelError: the model has no evidence encoder.
        """
        if self.trained.evidence is None:
            raise ModelError("this model was trained without the evidence encoder")
        sets = [np.unique(np.asarray(s, dtype=np.int64)) for s in entity_sets]
        indices = np.concatenate(sets) if sets else np.zeros(0, np.int64)
        batch_of = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
        return self._pooled(indices, batch_of, len(sets)).astype(np.float64)

    def _pooled(self, indices: np.ndarray, batch_of: np.ndarray, n: int) -> np.ndarray:
        """Rarity-weighted mean of the stored evidence rows per query (``pool_queries``)."""
        evidence = self.trained.evidence
        assert evidence is not None
        w = self.trained.idf[indices].astype(np.float32)
        q = sp.csr_matrix((w, (batch_of, indices)), shape=(n, self.n_entities))
        total = np.asarray(q.sum(axis=1), dtype=np.float32).ravel()
        pooled = np.asarray((q @ evidence).todense(), dtype=np.float32)
        return pooled / np.maximum(total, 1e-9)[:, None]
