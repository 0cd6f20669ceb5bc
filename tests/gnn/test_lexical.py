"""The naming-habit cosine (gnn.lexical): n-grams every named actor shares count little, however
many actors have no names at all."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from actorgraph.gnn.lexical import LexicalMatch, ngram_rows, text_of

NAMES = [
    ("domain", "energy-grid-update.com"),
    ("domain", "portal-minjust.com"),
    ("domain", "steam-play-cdn.com"),
]


def _profiles(nameless: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Entity n-gram rows (three domains), and profiles: actor i holds domain i, then
    ``nameless`` actors holding nothing readable."""
    rows = ngram_rows([text_of(k, v) for k, v in NAMES])
    prof = sp.vstack([sp.identity(3, format="csr"), sp.csr_matrix((nameless, 3))]).tocsr()
    return rows, prof


def test_actors_without_names_do_not_change_the_cosines_of_those_with_names() -> None:
    query = ngram_rows([text_of("domain", "grid-update-power.com")])
    few = LexicalMatch(*_profiles(0))(sp.csr_matrix((1, 3)), query)
    many = LexicalMatch(*_profiles(150))(sp.csr_matrix((1, 3)), query)
    np.testing.assert_allclose(many[:, :3], few, rtol=1e-9)
    assert not many[:, 3:].any()
    assert few.argmax() == 0


def test_an_n_gram_every_named_actor_shares_weighs_least() -> None:
    match = LexicalMatch(*_profiles(150))
    shared = ngram_rows(["com"]).indices  # ".com": all three actors
    own = ngram_rows(["steam"]).indices  # one actor's theme
    assert match.idf[shared].max() == 1.0
    assert match.idf[own].min() > 1.5
