"""Rows of CSR matrices read without building matrices.

scipy's row indexing (``m[i]``, ``m[idx]``) builds a new matrix per call, which cost more than
the arithmetic around it on every per-query and per-episode path of the model; these read
``indptr`` and ``indices`` directly.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def row_positions(
    m: sp.csr_matrix, idx: np.ndarray, per_row: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Where the stored entries of rows ``idx`` of CSR ``m`` sit in ``m.indices`` and
    ``m.data`` (row after row, in ``idx``'s order), and each row's length: ``m[idx]`` read
    without building a matrix. ``per_row``: only each row's first ``per_row`` entries."""
    starts = m.indptr[idx]
    lengths = m.indptr[idx + 1] - starts
    if per_row is not None:
        lengths = np.minimum(lengths, per_row)
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return offsets + np.arange(int(lengths.sum())), lengths


def row(m: sp.csr_matrix, i: int) -> np.ndarray:
    """Column indices of row ``i`` of CSR ``m``, as ``m[i].indices`` (a view)."""
    return m.indices[m.indptr[i] : m.indptr[i + 1]]


def rows(m: sp.csr_matrix, idx: np.ndarray) -> np.ndarray:
    """Column indices of rows ``idx`` of CSR ``m``, concatenated, as ``m[idx].indices``."""
    return m.indices[row_positions(m, idx)[0]]


def binary(m: sp.spmatrix) -> sp.csr_matrix:
    """``m`` as a CSR matrix of ones where it holds a non-zero (duplicates summed first)."""
    out = sp.csr_matrix(m)
    out.sum_duplicates()
    out.eliminate_zeros()
    out.data[:] = 1.0
    return out
