"""Least squares for every feature, as limma's lmFit (Smyth 2004, sec. 2: the linear model
E(y_g) = X alpha_g, var(y_g) = W_g^-1 sigma_g^2, fitted feature by feature).

Features are grouped by their pattern of observed samples (finite value and, where weights are
given, a positive finite weight): one QR of the design restricted to those samples serves every
unweighted feature of a group; weighted features of a group are solved together with a stacked
QR of sqrt(w) X. Within a group the estimable columns are chosen as R's pivoting QR (LINPACK
dqrdc2, tolerance 1e-7) chooses them: a column whose norm after projection on the columns kept
before it falls below 1e-7 of its own norm is inestimable; its coefficient and unscaled standard
deviation are NaN, as lmFit reports NA. The residual degrees of freedom are the number of observed
samples minus the rank; sigma is NaN where they are 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import LIMMA_QR_TOL


@dataclass(frozen=True)
class LinearFit:
    """Per-feature least-squares summaries (limma's MArrayLM fields).

    coefficients : (G, P) estimates; NaN where inestimable on the feature's samples.
    stdev_unscaled : (G, P) sqrt of the diagonal of (X'WX)^-1 on the feature's samples.
    cov_unscaled : (G, P, P) (X'WX)^-1 over the estimable columns; NaN rows/columns elsewhere.
    sigma : (G,) residual standard deviation, sqrt(RSS / df_residual); NaN where df_residual is 0.
    df_residual : (G,) observed samples minus rank.
    amean : (G,) mean of the feature's finite values (unweighted, limma's Amean); NaN if none.
    """

    coefficients: np.ndarray
    stdev_unscaled: np.ndarray
    cov_unscaled: np.ndarray
    sigma: np.ndarray
    df_residual: np.ndarray
    amean: np.ndarray

    @property
    def n_features(self) -> int:
        return int(self.sigma.shape[0])


def estimable_columns(design: np.ndarray, tol: float = LIMMA_QR_TOL) -> np.ndarray:
    """(P,) bool: columns kept by R's limited-pivoting QR (dqrdc2) of `design` (n, P).

    A column is dropped when the norm of its part orthogonal to the columns kept before it is at
    most `tol` times its own norm (an all-zero column is always dropped).
    """
    n, p = design.shape
    keep = np.zeros(p, dtype=bool)
    basis = np.zeros((n, 0))
    for j in range(p):
        column = design[:, j]
        norm = np.linalg.norm(column)
        residual = column - basis @ (basis.T @ column)
        residual = residual - basis @ (basis.T @ residual)  # second pass: Gram-Schmidt re-orthogonalisation
        rnorm = np.linalg.norm(residual)
        if norm > 0 and rnorm > tol * norm:
            keep[j] = True
            basis = np.column_stack([basis, residual / rnorm])
    return keep


def _missing_patterns(observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of `observed` (K, N) and each feature's group (G,).

    Rows are packed into bytes and compared as single keys: sorting (G, N) booleans row-wise,
    as np.unique(axis=0) does, costs most of a fit of 50,000 x 1,000 values.
    """
    packed = np.ascontiguousarray(np.packbits(observed, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    _, first, group = np.unique(keys, return_index=True, return_inverse=True)
    return observed[first], group.reshape(-1)


def lm_fit(values: np.ndarray, design: np.ndarray, weights: np.ndarray | None = None) -> LinearFit:
    """Fit y_g = X beta_g by (weighted) least squares for every feature (limma lmFit).

    Parameters
    ----------
    values : (G, N) log-scale values; NaN (or +-inf) marks a missing observation.
    design : (N, P) model matrix shared by all features.
    weights : optional (G, N) precision weights (voom); a sample with weight <= 0 or NaN counts
        as missing for that feature (limma drops such observations too).

    Returns
    -------
    LinearFit with arrays of shape (G, P), (G, P, P) and (G,). G == 0 gives empty arrays.
    """
    values = np.asarray(values, dtype=float)
    design = np.asarray(design, dtype=float)
    g, n = values.shape
    p = design.shape[1]
    if design.shape[0] != n:
        raise ValueError(f"design has {design.shape[0]} rows for {n} samples")
    observed = np.isfinite(values)
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != values.shape:
            raise ValueError(f"weights have shape {weights.shape}, values {values.shape}")
        observed &= np.isfinite(weights) & (weights > 0)

    coefficients = np.full((g, p), np.nan)
    cov_unscaled = np.full((g, p, p), np.nan)
    rss = np.full(g, np.nan)
    df_residual = np.zeros(g)
    finite = np.isfinite(values)
    complete = bool(finite.all())
    with np.errstate(invalid="ignore", divide="ignore"):
        if complete:  # the same sums, without a masked copy of the matrix
            amean = np.sum(values, axis=1) / n
        else:
            amean = np.where(finite.any(axis=1), np.sum(np.where(finite, values, 0.0), axis=1) / finite.sum(axis=1), np.nan)
    if g == 0:
        return LinearFit(coefficients, coefficients.copy(), cov_unscaled, rss, df_residual, amean)

    if complete and bool(observed.all()):  # one pattern, every sample: no grouping, no copies
        patterns, group = np.ones((1, n), dtype=bool), None
    else:
        patterns, group = _missing_patterns(observed)
    for k, pattern in enumerate(patterns):
        rows = np.arange(g) if group is None else np.flatnonzero(group == k)
        x = design[pattern]
        keep = estimable_columns(x) if pattern.any() else np.zeros(p, dtype=bool)
        rank = int(keep.sum())
        df_residual[rows] = pattern.sum() - rank
        if rank == 0:
            rss[rows] = np.sum(values[np.ix_(rows, pattern)] ** 2, axis=1) if pattern.any() else np.nan
            continue
        xk = x[:, keep]
        y = values if group is None else values[np.ix_(rows, pattern)]  # (g_k, n_k)
        if weights is None:
            beta, cov, res = _fit_unweighted(xk, y)
        else:
            beta, cov, res = _fit_weighted(xk, y, weights[np.ix_(rows, pattern)])
        coefficients[np.ix_(rows, keep)] = beta
        block = np.ix_(keep, keep)
        if group is None and keep.all():
            cov_unscaled[:] = cov
        else:
            cov_unscaled[rows[:, None, None], block[0][None], block[1][None]] = cov
        rss[rows] = res

    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.where(df_residual > 0, np.sqrt(rss / np.where(df_residual > 0, df_residual, 1)), np.nan)
    stdev_unscaled = np.sqrt(np.diagonal(cov_unscaled, axis1=1, axis2=2))
    return LinearFit(coefficients, stdev_unscaled, cov_unscaled, sigma, df_residual, amean)


def _fit_unweighted(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One QR of x (n, r) for all rows of y (g, n): coefficients (g, r), cov (r, r), RSS (g,)."""
    q, r = np.linalg.qr(x)
    beta = np.linalg.solve(r, q.T @ y.T).T
    r_inv = np.linalg.inv(r)
    cov = r_inv @ r_inv.T
    residual = beta @ x.T
    np.subtract(y, residual, out=residual)  # in place: one (g, n) temporary, not three
    return beta, cov, np.sum(np.square(residual, out=residual), axis=1)


def _fit_weighted(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stacked QR of sqrt(w_g) x for every row: coefficients (g, r), cov (g, r, r), weighted RSS (g,)."""
    sw = np.sqrt(w)
    xw = sw[:, :, None] * x[None, :, :]  # (g, n, r)
    q, r = np.linalg.qr(xw)
    qty = np.einsum("gnr,gn->gr", q, sw * y)
    beta = np.linalg.solve(r, qty[:, :, None])[:, :, 0]
    r_inv = np.linalg.inv(r)
    cov = r_inv @ np.swapaxes(r_inv, 1, 2)
    residual = sw * (y - beta @ x.T)
    return beta, cov, np.sum(residual**2, axis=1)


def concatenate(fits: list[LinearFit]) -> LinearFit:
    """Stack the fits of consecutive shards (features in shard order)."""
    return LinearFit(*(np.concatenate([getattr(f, name) for f in fits]) for name in LinearFit.__dataclass_fields__))


def fit_arrays(fit: LinearFit) -> dict[str, np.ndarray]:
    """The fit's record arrays by field name (to store a shard's fit in an npz file)."""
    return {name: getattr(fit, name) for name in LinearFit.__dataclass_fields__}


def fit_from_arrays(arrays: dict[str, np.ndarray]) -> LinearFit:
    """The LinearFit stored by `fit_arrays` (other keys, such as gene_id, are ignored)."""
    return LinearFit(**{name: arrays[name] for name in LinearFit.__dataclass_fields__})
