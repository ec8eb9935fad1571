"""Shrunken log2 fold changes with an adaptive Cauchy prior (lfc_shrink: apeglm).

Zhu, Ibrahim & Love (2019), Bioinformatics 35:2084, "Heavy-tailed prior distributions for
sequence count data", as DESeq2's lfcShrink(type = "apeglm") uses it: one coefficient is shrunk
with a Cauchy prior (t, 1 df) of scale S; the other coefficients get a wide normal prior
(sd 15); the NB likelihood has the final dispersions and the size factors as offsets; the
estimate is the posterior mode (MAP) and its SE the posterior SD of the Laplace approximation
(the inverse Hessian of the negative log posterior at the mode). S is adaptive: the variance
of a normal prior on the coefficient estimated from all genes' MLEs and SEs (Efron & Morris
1975, the unequal-variance hierarchical model), its square root capped at 1.

Two steps, as the workflow runs them:
    prior_scale   (genome-wide)  S from the MLE fold changes and SEs of the coefficient
    apeglm_fit    (per shard)    MAP and posterior SD by damped Newton, all genes at once
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from ..constants import (
    APEGLM_MAX_ITER,
    APEGLM_MAX_PRIOR_VAR,
    APEGLM_MIN_PRIOR_VAR,
    APEGLM_NO_SHRINK_SD,
    APEGLM_TOL,
)
from ..nb.irls import linear_predictor

log = logging.getLogger(__name__)


def prior_variance(lfc: np.ndarray, lfc_se: np.ndarray) -> float:
    """apeglm's priorVar: the variance A of N(0, A) for the true coefficients, given estimates
    X_g ~ N(beta_g, D_g) (natural-log scale), solving A = sum((X^2 - D) I) / sum(I) with
    I = 1 / (2 (A + D)^2) (Efron & Morris 1975); 1e-6 where that is below 1e-6, root in
    [1e-6, 400]. Genes with NaN estimates are left out.

    R's uniroot stops within 1.2e-4 of the root; this solves to 2e-12.
    """
    keep = ~np.isnan(lfc) & ~np.isnan(lfc_se)
    x2, d = lfc[keep] ** 2, lfc_se[keep] ** 2

    def objective(a: float) -> float:
        info = 1.0 / (2.0 * (a + d) ** 2)
        return float(np.sum((x2 - d) * info) / np.sum(info) - a)

    if objective(APEGLM_MIN_PRIOR_VAR) < 0:
        return APEGLM_MIN_PRIOR_VAR
    return float(brentq(objective, APEGLM_MIN_PRIOR_VAR, APEGLM_MAX_PRIOR_VAR, xtol=2e-12))


def prior_scale(lfc: np.ndarray, lfc_se: np.ndarray) -> float:
    """The Cauchy scale S = min(sqrt(priorVar), 1) from MLE log2 fold changes and SEs (G,)."""
    return float(min(np.sqrt(prior_variance(lfc * np.log(2.0), lfc_se * np.log(2.0))), 1.0))


@dataclass(frozen=True)
class ApeglmFit:
    """(G, P) posterior modes and SDs (natural log), (G,) negative log posterior and convergence."""

    beta: np.ndarray
    sd: np.ndarray
    objective: np.ndarray
    converged: np.ndarray


def _parts(counts, offset, design, size, beta, coef, scale):
    """Negative log posterior (up to a constant), gradient, Newton matrix and exact Hessian."""
    eta = linear_predictor(beta, design) + offset
    log_size = np.log(size)[:, None]
    total = counts + size[:, None]
    log_r_mu = np.logaddexp(log_size, eta)  # log(size + mu)
    p = expit(eta - log_size)  # mu / (size + mu)
    f = np.sum(total * log_r_mu - counts * eta, axis=1)
    resid = counts - total * p  # d loglik / d eta
    weight = total * p * (1.0 - p)  # -d2 loglik / d eta2
    grad = -np.einsum("gn,np->gp", resid, design)
    info = np.einsum("gn,np,nq->gpq", weight, design, design)
    shrunk = beta[:, coef]
    others = np.ones(beta.shape[1], dtype=bool)
    others[coef] = False
    s2 = scale**2
    f = f + np.sum(beta[:, others] ** 2, axis=1) / (2.0 * APEGLM_NO_SHRINK_SD**2) + np.log1p(shrunk**2 / s2)
    grad[:, others] += beta[:, others] / APEGLM_NO_SHRINK_SD**2
    grad[:, coef] += 2.0 * shrunk / (s2 + shrunk**2)
    idx = np.flatnonzero(others)
    info[:, idx, idx] += 1.0 / APEGLM_NO_SHRINK_SD**2
    newton = info.copy()
    # the Cauchy term is not convex beyond |beta| = S: its majoriser's curvature for the steps,
    # the exact curvature for the posterior SD
    newton[:, coef, coef] += 2.0 / (s2 + shrunk**2)
    info[:, coef, coef] += 2.0 * (s2 - shrunk**2) / (s2 + shrunk**2) ** 2
    return f, grad, newton, info


def _newton(counts, offset, design, size, beta, coef, scale):
    """Damped Newton (step halving until the objective does not rise) from `beta`, for every
    gene; a gene stops when no coefficient moves more than APEGLM_TOL."""
    beta = beta.copy()
    f, grad, newton, _ = _parts(counts, offset, design, size, beta, coef, scale)
    converged = np.zeros(beta.shape[0], dtype=bool)
    active = np.arange(beta.shape[0])
    for _ in range(APEGLM_MAX_ITER):
        if active.size == 0:
            break
        step = np.linalg.solve(newton[active], grad[active][..., None])[..., 0]
        t = np.ones(active.size)
        todo = np.arange(active.size)
        new_beta = beta[active].copy()
        new_f = f[active].copy()
        for _ in range(40):  # halve the step until the objective does not rise
            trial = beta[active[todo]] - t[todo, None] * step[todo]
            ft, *_ = _parts(
                counts[active[todo]], offset, design, size[active[todo]], trial, coef, scale
            )
            ok = ft <= f[active[todo]] + 1e-12 * np.abs(f[active[todo]])
            new_beta[todo[ok]] = trial[ok]
            new_f[todo[ok]] = ft[ok]
            todo = todo[~ok]
            t[todo] /= 2.0
            if todo.size == 0:
                break
        moved = np.max(np.abs(new_beta - beta[active]), axis=1)
        beta[active] = new_beta
        done = moved < APEGLM_TOL  # also where no step, however short, lowers the objective
        converged[active[done]] = True
        f[active] = new_f
        active = active[~done]
        if active.size:
            fa, ga, na, _ = _parts(counts[active], offset, design, size[active], beta[active], coef, scale)
            f[active], grad[active], newton[active] = fa, ga, na
    return beta, f, converged


def apeglm_fit(
    counts: np.ndarray,
    size_factors: np.ndarray,
    design: np.ndarray,
    disp: np.ndarray,
    coef: int,
    scale: float,
    beta_start: np.ndarray,
) -> ApeglmFit:
    """Posterior mode and SD of the coefficients with apeglm's priors, for every gene at once.

    Parameters
    ----------
    counts : (G, N) counts of genes with at least one count; size_factors : (N,).
    design : (N, P); disp : (G,) final dispersions; coef : the column shrunk; scale : S.
    beta_start : (G, P) natural-log MLEs. The Cauchy prior can make the posterior bimodal (a
        mode near 0 and one near the MLE), so Newton runs from the MLE and from the MLE with
        the shrunk coefficient at 0, and the lower negative log posterior wins.

    Returns
    -------
    ApeglmFit; sd is NaN for a gene whose inverse Hessian has a non-positive diagonal (as
    apeglm returns NA).
    """
    counts = np.ascontiguousarray(counts, dtype=float)
    offset = np.log(size_factors)
    size = 1.0 / disp
    zero_start = beta_start.copy()
    zero_start[:, coef] = 0.0
    fits = [_newton(counts, offset, design, size, start, coef, scale) for start in (beta_start, zero_start)]
    first = fits[0][1] <= fits[1][1]
    beta = np.where(first[:, None], fits[0][0], fits[1][0])
    objective = np.where(first, fits[0][1], fits[1][1])
    converged = np.where(first, fits[0][2], fits[1][2])
    *_, hessian = _parts(counts, offset, design, size, beta, coef, scale)
    sd = np.full(beta.shape, np.nan)
    if beta.shape[0]:
        with np.errstate(invalid="ignore"):
            cov_diag = np.diagonal(np.linalg.inv(hessian), axis1=1, axis2=2)
        positive = np.all(cov_diag > 0, axis=1)
        sd[positive] = np.sqrt(cov_diag[positive])
    n_bad = int(np.sum(~converged))
    if n_bad:
        log.info("%d genes did not converge in the apeglm fit", n_bad)
    return ApeglmFit(beta, sd, objective, converged)
