"""Naming habits: hashed character n-grams of domains, URLs and e-mail addresses.

Operators reuse naming themes, TLDs, URL paths and sender styles long after they change every
value. A never-seen domain matches nothing exactly, but its n-grams can match the actor's past
names: this is the one input that reads a value itself rather than its identity, so it works
for values the graph has never held. Hashing (scikit-learn's ``HashingVectorizer``) keeps the
vocabulary fixed and needs nothing stored beside the model: the same value always gives the
same row, in training and at inference.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from actorgraph.gnn.dataset import GraphSnapshot

LEXICAL_KINDS: tuple[str, ...] = ("domain", "url", "email")
N_FEATURES = 2**18
_VECTORIZER = HashingVectorizer(
    analyzer="char_wb",
    ngram_range=(3, 5),
    n_features=N_FEATURES,
    alternate_sign=False,
    norm=None,
    dtype=np.float64,
)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_SEPARATORS = re.compile(r"[^0-9a-z]+")


def text_of(kind: str, value: str) -> str | None:
    """The words of a value whose kind has a name worth reading, else None.

    ``login.micr0soft-update.info`` -> ``login micr0soft update info``: n-grams stay inside a
    label (char_wb), so ``update`` matches across domains while ``.info`` matches as a TLD.
    """
    if kind not in LEXICAL_KINDS or not value:
        return None
    text = _SCHEME.sub("", value.strip().lower())
    return _SEPARATORS.sub(" ", text).strip() or None


def text_of_id(indicator_id: str) -> str | None:
    """``text_of`` for an indicator id (``kind:value``, ``graph.formats.indicators``)."""
    kind, sep, value = indicator_id.partition(":")
    return text_of(kind, value) if sep else None


def ngram_rows(texts: Sequence[str | None]) -> sp.csr_matrix:
    """(len(texts), N_FEATURES) binary n-gram rows; a None text gives an empty row."""
    if not len(texts):  # HashingVectorizer raises StopIteration on no documents
        return sp.csr_matrix((0, N_FEATURES))
    m = _VECTORIZER.transform([t or "" for t in texts]).tocsr()
    m.data[:] = 1.0
    return m


def entity_ngrams(snap: GraphSnapshot, ids: Sequence[str]) -> sp.csr_matrix:
    """(len(ids), N_FEATURES) n-gram rows of a snapshot's entities, empty for entities
    without a readable name (hashes, IPs, techniques, malware)."""
    texts = []
    for nid in ids:
        p = snap.props[nid]
        texts.append(
            text_of(p.get("kind") or "", p.get("value") or "")
            if p.get("type") == "indicator"
            else None
        )
    return ngram_rows(texts)


class LexicalMatch:
    """The profile side of the naming-habit cosine, fixed for one set of actor profiles.

    An actor's n-gram profile is the sum of its names' rows (log-scaled), weighted by an IDF
    over actors, so n-grams every actor's names contain (``com``, ``www``, ``mail``) count little.
    """

    def __init__(self, entity_rows: sp.csr_matrix, prof: sp.csr_matrix) -> None:
        self.entity_rows = entity_rows
        p = (prof.tocsr() @ entity_rows).tocsr()
        p.data = np.log1p(p.data)
        # Document frequency over the actors that have names at all: counting the many actors
        # without a single domain or URL (most ATT&CK groups) would give an n-gram every named
        # actor shares (a TLD, a common host label) the weight of a rare one.
        named = int((np.diff(p.indptr) > 0).sum())
        df = np.bincount(p.indices, minlength=N_FEATURES)
        self.idf = np.log((named + 1) / (df + 1)) + 1.0
        pw = p.multiply(self.idf).tocsr()
        self.t = pw.T.tocsr()
        self.norm = np.sqrt(np.asarray(pw.multiply(pw).sum(axis=1)).ravel())
        self.norm[self.norm == 0] = 1.0

    def __call__(self, q_entities: sp.csr_matrix, extra: sp.csr_matrix | None = None) -> np.ndarray:
        """(B, A) cosines of query rows (entity rows, plus n-gram rows of values the graph
        does not hold) with every actor's names."""
        q = (q_entities.tocsr() @ self.entity_rows).tocsr()
        if extra is not None:
            q = (q + extra).tocsr()
        q.data = np.log1p(q.data)
        q = q.multiply(self.idf).tocsr()
        qn = np.sqrt(np.asarray(q.multiply(q).sum(axis=1)).ravel())
        qn[qn == 0] = 1.0
        return (q @ self.t).toarray() / (qn[:, None] * self.norm[None, :])
