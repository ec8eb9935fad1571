"""R's `glm(y ~ x, family = Gamma(link = "identity"), start = ...)`, the fit of DESeq2's
parametric dispersion trend.

Kept by hand because no Python library fits it as R does: R's IRLS halves a step that leaves
the Gamma family's domain (a fitted mean <= 0) or gives a non-finite deviance, and statsmodels'
does not, so the trend's inner fits stopped elsewhere than DESeq2's (marioni: trend
coefficients 2e-5 apart).

The algorithm is iteratively reweighted least squares as in McCullagh & Nelder (1989), ch. 2.5,
with R's choices: the given start, at most `maxit` iterations, convergence when the deviance
changes by less than `epsilon` relative (|dev - dev_old| / (|dev| + 0.1)), and step halving
towards the previous coefficients while the step is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class GlmFitError(RuntimeError):
    """No valid starting values, or a step that halving cannot bring back into the domain."""


@dataclass(frozen=True)
class GammaFit:
    coefficients: np.ndarray
    converged: bool


def gamma_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """Sum of the Gamma family's unit deviances, 2 (-log(y / mu) + (y - mu) / mu), for y > 0."""
    return float(np.sum(-2.0 * (np.log(y / mu) - (y - mu) / mu)))


def _valid(mu: np.ndarray, dev: float) -> bool:
    return bool(np.isfinite(dev) and np.all(np.isfinite(mu)) and np.all(mu > 0))


def gamma_identity_glm(
    y: np.ndarray, x: np.ndarray, start: np.ndarray, maxit: int = 25, epsilon: float = 1e-8
) -> GammaFit:
    """Coefficients of the Gamma GLM with identity link, y ~ x (x holds the intercept column).

    Parameters
    ----------
    y : (n,) positive responses.
    x : (n, p) full-rank model matrix.
    start : (p,) starting coefficients; their fitted means must be positive.
    maxit, epsilon : R's glm.control defaults.

    Raises
    ------
    GlmFitError when some y is not positive, when the start gives a non-positive mean, or when
    `maxit` halvings do not bring a step back into the domain (R stops there too).
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    if not np.all(y > 0):  # R's Gamma()$initialize refuses them too
        raise GlmFitError("non-positive values are not allowed for the Gamma family")
    coef = np.asarray(start, dtype=float).copy()
    mu = x @ coef  # identity link: eta and mu are the same numbers
    dev_old = gamma_deviance(y, mu) if np.all(mu > 0) else np.nan
    if not _valid(mu, dev_old):
        raise GlmFitError("cannot find valid starting values")
    for _ in range(maxit):
        # working response eta + (y - mu) / (dmu/deta) and weights (dmu/deta)^2 / V(mu), V = mu^2
        z = mu + (y - mu)
        w = np.sqrt(1.0 / mu**2)
        q, r = np.linalg.qr(x * w[:, None])
        new = np.linalg.solve(r, q.T @ (z * w))
        mu_new = x @ new
        dev = gamma_deviance(y, mu_new) if np.all(mu_new > 0) else np.nan
        halvings = 0
        while not _valid(mu_new, dev):
            halvings += 1
            if halvings > maxit:
                raise GlmFitError("cannot correct the step size (fitted means leave the Gamma domain)")
            new = (new + coef) / 2
            mu_new = x @ new
            dev = gamma_deviance(y, mu_new) if np.all(mu_new > 0) else np.nan
        coef, mu = new, mu_new
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            return GammaFit(coef, True)
        dev_old = dev
    return GammaFit(coef, False)
