"""Per-gene products with the design, for many genes at once: weighted Gram matrices
X' diag(w_g) X, quadratic forms x_n' A_g x_n, X' v_g and X b_g.

The Gram and quadratic forms go through the P(P+1)/2 products of design columns, x_np x_nq
for p <= q, so the work per gene is one pass over its N weights per product instead of a
pass over (N, P, P). Each gene's product is one BLAS matrix-vector call (numpy's matvec and
vecmat gufuncs loop over the genes): the same call on the same shapes whichever genes share
its block or shard, so a gene's numbers depend on its own row only; three to five times
faster than einsum's own loops, which the line searches and IRLS spend a fifth of their time
in. OpenBLAS splits a large matrix-vector product (many coefficients times many thousand
samples) over its threads, which rounds differently: a workflow job runs it on one thread
(Snakemake sets OPENBLAS_NUM_THREADS to the job's threads), so a rerun gives the same bits.
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
    return row_products(w, column_products(design))


def quadratic_diagonal(design: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(G, N) x_n' A_g x_n for each sample n, for symmetric A (G, P, P)."""
    return row_combinations(_symmetric_weights(a), column_products(design))


def row_products(rows: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """(G, K) dot products of each row (G, N) with each vector (K, N): for a design's
    columns (X', P x N), X' v_g of each gene's v_g."""
    return np.matvec(np.ascontiguousarray(vectors, dtype=float), np.ascontiguousarray(rows, dtype=float))


def row_combinations(coefficients: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """(G, N) sum_k c_gk v_k of each gene's coefficients (G, K) and vectors (K, N): for a
    design's columns (X', P x N), the linear predictor X b_g of each gene's b_g."""
    return np.vecmat(np.ascontiguousarray(coefficients, dtype=float), np.ascontiguousarray(vectors, dtype=float))


def _symmetric_weights(a: np.ndarray) -> np.ndarray:
    """(G, K) upper-triangle entries of symmetric A with off-diagonal ones counted twice."""
    rows, cols = _upper(a.shape[1])
    return a[:, rows, cols] * np.where(rows == cols, 1.0, 2.0)
