"""Weighted Gram matrices X' diag(w_g) X and quadratic forms x_n' A_g x_n for many genes at once.

Both go through the P(P+1)/2 products of design columns, x_np x_nq for p <= q, so the work per
gene is one pass over its N weights per product (two-operand einsum) instead of a
three-operand einsum over (N, P, P) -- about ten times faster at P = 3. einsum's own loops
rather than BLAS: a gene's numbers then depend only on its own row, never on which other genes
share its shard or on the number of BLAS threads (kept C-contiguous for the same reason).
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache  # the line searches ask for it thousands of times; np.triu_indices costs ~40 us each
def _upper(n_coef: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.triu_indices(n_coef)
    rows.flags.writeable = cols.flags.writeable = False  # shared by every caller
    return rows, cols


def column_products(design: np.ndarray) -> np.ndarray:
    """(K, N) products x_np x_nq of the design's columns, p <= q in row-major upper order."""
    rows, cols = _upper(design.shape[1])
    return np.ascontiguousarray((design[:, rows] * design[:, cols]).T)


def weighted_gram(design: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(G, P, P) stack of X' diag(w_g) X for design (N, P) and weights w (G, N)."""
    n_coef = design.shape[1]
    rows, cols = _upper(n_coef)
    upper = weighted_gram_upper(design, w)
    gram = np.empty((w.shape[0], n_coef, n_coef))
    gram[:, rows, cols] = upper
    gram[:, cols, rows] = upper
    return gram


def trace_product(a: np.ndarray, design: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(G,) trace(A_g X' diag(w_g) X) = sum_n w_gn x_n' A_g x_n, for symmetric A (G, P, P).

    The P(P+1)/2 terms are added column by column, in one order for every gene: np.sum along
    the rows of a (G, K) array picks its loop (and so its rounding) from the array's shape, so a
    gene's trace could depend on how many genes share its block.
    """
    terms = _symmetric_weights(a) * weighted_gram_upper(design, w)
    total = terms[:, 0].copy()
    for k in range(1, terms.shape[1]):
        total += terms[:, k]
    return total


def weighted_gram_upper(design: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(G, K) upper triangle (p <= q) of X' diag(w_g) X."""
    return np.einsum("gn,kn->gk", np.ascontiguousarray(w), column_products(design))


def quadratic_diagonal(design: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(G, N) x_n' A_g x_n for each sample n, for symmetric A (G, P, P)."""
    return np.einsum("gk,nk->gn", _symmetric_weights(a), np.ascontiguousarray(column_products(design).T))


def _symmetric_weights(a: np.ndarray) -> np.ndarray:
    """(G, K) upper-triangle entries of symmetric A with off-diagonal ones counted twice."""
    rows, cols = _upper(a.shape[1])
    return a[:, rows, cols] * np.where(rows == cols, 1.0, 2.0)
