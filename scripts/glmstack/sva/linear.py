"""Least-squares pieces shared by the SVA steps: projections, residual cross-products, F tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from scipy import stats


def basis(design: np.ndarray) -> np.ndarray:
    """(N, rank) orthonormal basis of the column space of `design` (N, P)."""
    q, r = np.linalg.qr(np.asarray(design, dtype=float))
    diag = np.abs(np.diag(r))
    keep = diag > diag.max() * 1e-10 if diag.size else np.zeros(0, dtype=bool)
    return q[:, keep]


def residuals(y: np.ndarray, q: np.ndarray) -> np.ndarray:
    """(G, N) residuals of every feature (row of y) on the basis q (N, r): y - y q q'."""
    return y - (y @ q) @ q.T


def crossprod(blocks: Iterable[np.ndarray], transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """sum over blocks of transform(block)' transform(block): (N, N), one block in memory."""
    total = None
    for block in blocks:
        x = transform(block)
        part = x.T @ x
        total = part if total is None else total + part
    return total


def eigen_desc(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (decreasing) and eigenvectors of a symmetric matrix (R eigen's order)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return values[::-1], vectors[:, ::-1]


def f_pvalues(y: np.ndarray, full: np.ndarray, null: np.ndarray) -> np.ndarray:
    """(G,) p-values of the F test of `full` against the nested `null` design, per feature.

    F = ((RSS0 - RSS1) / (df1 - df0)) / (RSS1 / (N - df1)), upper tail of F(df1 - df0, N - df1);
    df = number of design columns, as sva's f.pvalue. full, null : (N, P1), (N, P0).
    """
    n = y.shape[1]
    df1, df0 = full.shape[1], null.shape[1]
    rss1 = np.sum(residuals(y, basis(full)) ** 2, axis=1)
    rss0 = np.sum(residuals(y, basis(null)) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fstat = ((rss0 - rss1) / (df1 - df0)) / (rss1 / (n - df1))
    return stats.f.sf(fstat, df1 - df0, n - df1)
