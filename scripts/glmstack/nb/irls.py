"""Negative-binomial GLM fits for many genes at once (DESeq2 fitNbinomGLMs / fitBeta).

Coefficients are on the natural-log scale here (`beta`); callers convert to log2 for output.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from ..constants import BETA_MAXIT, BETA_TOL, LARGE_BETA, MIN_MU, RIDGE_LOG2
from ..rmath.summation import row_sums
from .blocks import by_blocks
from .count_rows import CountRows
from .gram import quadratic_diagonal, row_combinations, row_products, weighted_gram
from .size_factors import factor_rows

log = logging.getLogger(__name__)

LOG2 = np.log(2.0)


def nb_log_likelihood(counts: np.ndarray, mu: np.ndarray, disp: np.ndarray) -> np.ndarray:
    """Element-wise NB log density, R's dnbinom(counts, mu=mu, size=1/disp, log=TRUE).

    Parameters
    ----------
    counts, mu : (G, N) arrays; disp : (G,) natural-scale dispersions.
    """
    size = 1.0 / disp[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_mu_term = np.where(counts > 0, counts * (np.log(mu) - np.log(size + mu)), 0.0)
        return (
            gammaln(counts + size)
            - gammaln(size)
            - gammaln(counts + 1.0)
            - size * np.log1p(mu / size)
            + log_mu_term
        )


def nb_gene_log_likelihood(
    counts: np.ndarray, mu: np.ndarray, disp: np.ndarray, mu_free: np.ndarray | None = None
) -> np.ndarray:
    """(G,) each gene's NB log likelihood, R's rowSums(dnbinom(..., log=TRUE)) (the LRT's).

    With many samples (count_rows) the mu-free lgamma terms are summed over the gene's
    distinct counts and only the terms with mu over its samples, those in R's order.
    mu_free : those sums where already made (`mu_free_sums`).
    """
    if mu_free is None:
        mu_free = mu_free_sums(counts, disp)
    if mu_free is None:
        return row_sums(nb_log_likelihood(counts, mu, disp))
    size = 1.0 / disp[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_mu_term = np.where(counts > 0, counts * (np.log(mu) - np.log(size + mu)), 0.0)
        return mu_free + row_sums(log_mu_term - size * np.log1p(mu / size))


def nb_log_likelihood_parts(counts: np.ndarray, disp: np.ndarray, mu_free: np.ndarray | None = None) -> np.ndarray:
    """(G,) the part of each gene's NB log likelihood that does not depend on mu.

    sum_n lgamma(y + r) - lgamma(r) - lgamma(y + 1) - y log r with r = 1/disp; the rest,
    `nb_log_likelihood_mu_part`, is y log mu - (y + r) log(1 + mu/r). IRLS evaluates the
    likelihood at every step with the dispersion fixed, so the lgammas (most of the cost) are
    summed once per fit. mu_free : `mu_free_sums` where already made.
    """
    if mu_free is None:
        mu_free = mu_free_sums(counts, disp)
    if mu_free is not None:  # the lgammas once per distinct count of a gene (count_rows)
        return mu_free - np.sum(counts, axis=1) * np.log(1.0 / disp)
    size = 1.0 / disp[:, None]
    return np.sum(gammaln(counts + size) - gammaln(size) - gammaln(counts + 1.0) - counts * np.log(size), axis=1)


def mu_free_sums(counts: np.ndarray | CountRows, disp: np.ndarray) -> np.ndarray | None:
    """(G,) sum_n lgamma(y + r) - lgamma(r) - lgamma(y + 1), r = 1/disp, over each gene's
    distinct counts, where the samples are many (count_rows); None where they are few. Each
    term formed whole, as per sample (its lgammas nearly cancel for large counts). The same
    for a gene's full and reduced fits and for its deviance and log likelihood."""
    rows = counts if isinstance(counts, CountRows) else CountRows.of(counts)
    if not rows.by_distinct:
        return None
    size = 1.0 / disp
    y, r = rows.distinct, rows.repeat(size)
    terms = gammaln(y + r)
    terms -= rows.repeat(gammaln(size))
    terms -= gammaln(y + 1.0)
    return rows.total(terms)


def nb_log_likelihood_mu_part(counts: np.ndarray, mu: np.ndarray, disp: np.ndarray) -> np.ndarray:
    """(G,) sum_n y log mu - (y + r) log(1 + mu/r), r = 1/disp, for mu > 0 (see above)."""
    size = 1.0 / disp[:, None]
    return np.sum(counts * np.log(mu) - (counts + size) * np.log1p(mu / size), axis=1)


def ridge_penalty(n_coef: int) -> np.ndarray:
    """DESeq2's default ridge on natural-log coefficients: 1e-6 on the log2 scale."""
    return np.full(n_coef, RIDGE_LOG2 / LOG2**2)


def linear_predictor(beta: np.ndarray, design: np.ndarray) -> np.ndarray:
    """(G, N) = beta (G, P) times design' (P, N), gene by gene (gram.row_combinations: a gene's
    numbers do not depend on which other genes share its shard)."""
    return row_combinations(beta, design.T)


def initial_beta(counts: np.ndarray, size_factors: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Least-squares fit of log(normalised counts + 0.1) on the design (DESeq2's start).

    Returns (G, P) natural-log coefficients.
    """
    y = np.log(counts / size_factors + 0.1)
    return row_products(y, np.linalg.pinv(design))


@dataclass(frozen=True)
class GlmFit:
    """Result of `fit_nb_glm` for G genes, P coefficients, N samples.

    beta : (G, P) natural-log coefficients.
    beta_se : (G, P) standard errors (sandwich form with the ridge, as DESeq2).
    covariance : (G, P, P) covariance of beta.
    mu : (G, N) fitted means, not bounded (DESeq2 stores nf * exp(X beta)).
    hat : (G, N) diagonals of the weighted hat matrix (for Cook's distances).
    log_like : (G,) NB log likelihood at mu (NaN when not asked for).
    converged : (G,) IRLS (or the optimiser fallback) converged.
    iterations : (G,) IRLS iterations.
    """

    beta: np.ndarray
    beta_se: np.ndarray
    covariance: np.ndarray
    mu: np.ndarray
    hat: np.ndarray
    log_like: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray


def _weights(mu_bounded: np.ndarray, disp: np.ndarray) -> np.ndarray:
    return mu_bounded / (1.0 + disp[:, None] * mu_bounded)


def sandwich(design: np.ndarray, w: np.ndarray, ridge: np.ndarray):
    """Covariance (A^-1 X'WX A^-1, A = X'WX + ridge) and hat diagonals for each gene.

    Parameters
    ----------
    design : (N, P); w : (G, N) IRLS weights; ridge : (P,) natural-log-scale ridge.

    Returns
    -------
    covariance : (G, P, P); hat : (G, N) diagonal of W^1/2 X A^-1 X' W^1/2.
    """
    xtwx = weighted_gram(design, w)
    a_inv = np.linalg.inv(xtwx + np.diag(ridge))
    covariance = a_inv @ xtwx @ a_inv
    hat = w * quadratic_diagonal(design, a_inv)
    return covariance, hat


def fit_nb_glm(
    counts: np.ndarray,
    size_factors: np.ndarray,
    design: np.ndarray,
    disp: np.ndarray,
    *,
    ridge: np.ndarray | None = None,
    beta_start: np.ndarray | None = None,
    min_mu: float = MIN_MU,
    tol: float = BETA_TOL,
    maxit: int = BETA_MAXIT,
    log_like: bool = True,
    count_rows: CountRows | None = None,
) -> GlmFit:
    """IRLS fit of log(mu) = log(sf) + X beta with NB(mu, disp) for every gene at once.

    Matches DESeq2's fitBeta (QR-based IRLS with a ridge): weights mu/(1 + disp mu) with mu
    bounded below by `min_mu`, working response log(mu/sf) + (y - mu)/mu, stop when the
    relative deviance change |dev - dev_old| / (|dev| + 0.1) < tol (not at the first
    iteration), or fail when any |beta| > 30 or the test is NaN. Genes that fail go to a
    bounded quasi-Newton optimiser of the penalised likelihood (DESeq2's optim fallback).
    A design that is only an intercept column uses DESeq2's closed form.

    Parameters
    ----------
    counts : (G, N) counts; design : (N, P); disp : (G,).
    size_factors : (N,) size factors or (G, N) normalization factors (offsets log nf).
    ridge : (P,) natural-log-scale ridge (default: DESeq2's 1e-6 on the log2 scale).
    log_like : False skips the final log likelihoods (for callers that need only mu).
    count_rows : `CountRows.of(counts)` where the caller made it for another step too.

    Returns
    -------
    GlmFit. G == 0 gives empty arrays of the right shapes.
    """
    counts = np.ascontiguousarray(counts, dtype=float)
    if count_rows is not None:
        count_rows.check_of(counts)
    if ridge is None:
        ridge = ridge_penalty(design.shape[1])
    if design.shape[1] == 1 and np.all(design == 1.0):
        return _fit_intercept_only(counts, size_factors, disp)
    settings = {"ridge": ridge, "min_mu": min_mu, "tol": tol, "maxit": maxit, "want_log_like": log_like}

    def fit(block: slice) -> GlmFit:
        start = None if beta_start is None else beta_start[block]
        factors = factor_rows(size_factors, block)
        rows = CountRows.of(counts[block]) if count_rows is None else count_rows.block(block)
        return _irls(counts[block], factors, design, disp[block], beta_start=start, count_rows=rows, **settings)

    return by_blocks(fit, *counts.shape)


def _irls(
    counts: np.ndarray,
    size_factors: np.ndarray,
    design: np.ndarray,
    disp: np.ndarray,
    *,
    ridge: np.ndarray,
    beta_start: np.ndarray | None,
    min_mu: float,
    tol: float,
    maxit: int,
    want_log_like: bool,
    count_rows: CountRows,
) -> GlmFit:
    """`fit_nb_glm` for one block of genes (count_rows: `CountRows.of` its counts)."""
    n_genes = counts.shape[0]

    beta = initial_beta(counts, size_factors, design) if beta_start is None else beta_start.copy()
    iterations = np.zeros(n_genes, dtype=int)
    failed = np.zeros(n_genes, dtype=bool)
    dev_old = np.zeros(n_genes)
    log_sf = np.log(size_factors)
    mu = np.maximum(size_factors * np.exp(linear_predictor(beta, design)), min_mu)
    active = np.arange(n_genes)
    ridge_m = np.diag(ridge)
    design_t = np.ascontiguousarray(design.T)
    mu_free = mu_free_sums(count_rows, disp)  # for the deviances and the final log likelihoods
    ll_fixed = nb_log_likelihood_parts(counts, disp, mu_free)
    for t in range(maxit):
        if active.size == 0:
            break
        iterations[active] += 1
        y, m, a = counts[active], mu[active], disp[active]
        sf_active = factor_rows(size_factors, active)
        w = _weights(m, a)
        z = np.log(m) - factor_rows(log_sf, active) + (y - m) / m
        lhs = weighted_gram(design, w) + ridge_m
        rhs = row_products(w * z, design_t)
        b = np.linalg.solve(lhs, rhs[..., None])[..., 0]
        too_large = np.any(np.abs(b) > LARGE_BETA, axis=1)
        with np.errstate(over="ignore"):  # diverged genes are dropped just below
            m_new = np.maximum(sf_active * np.exp(linear_predictor(b, design)), min_mu)
        with np.errstate(invalid="ignore"):  # inf - inf for diverged genes: NaN, dropped below
            dev = -2.0 * (ll_fixed[active] + nb_log_likelihood_mu_part(y, m_new, a))
        with np.errstate(invalid="ignore"):
            conv_test = np.abs(dev - dev_old[active]) / (np.abs(dev) + 0.1)
        bad = too_large | np.isnan(conv_test)
        ok = ~too_large
        # DESeq2 keeps the last beta when it aborts on |beta| > large, else the new one
        beta[active[ok]] = b[ok]
        mu[active[ok]] = m_new[ok]
        failed[active[bad]] = True
        iterations[active[bad]] = maxit
        done = bad | ((t > 0) & (conv_test < tol))
        dev_old[active] = dev
        active = active[~done]
    converged = iterations < maxit

    fit_mu = size_factors * np.exp(linear_predictor(beta, design))
    w = _weights(np.maximum(fit_mu, min_mu), disp)
    covariance, hat = sandwich(design, w, ridge)
    variances = np.diagonal(covariance, axis1=1, axis2=2)
    stable = np.all(np.isfinite(beta), axis=1) & np.all(variances > 0, axis=1)
    log_like = nb_gene_log_likelihood(counts, fit_mu, disp, mu_free) if want_log_like else np.full(n_genes, np.nan)
    beta_se = np.sqrt(np.maximum(variances, 0.0))

    for_optim = np.flatnonzero(~converged | ~stable)
    if for_optim.size:
        log.debug("%d genes did not converge in IRLS; refitting them with L-BFGS-B", for_optim.size)
        # DESeq2 restarts from the values IRLS started from (its beta_mat)
        starts = (
            initial_beta(counts[for_optim], factor_rows(size_factors, for_optim), design)
            if beta_start is None
            else beta_start[for_optim]
        )
        for k, g in enumerate(for_optim):
            # DESeq2 restarts from the initial estimate when IRLS diverged or broke down, or
            # when a coefficient exceeds 30 on the log2 scale
            keep = stable[g] and not failed[g] and np.all(np.abs(beta[g] / LOG2) < LARGE_BETA)
            # DESeq2 hands the restart values to optim unconverted: natural-log coefficients
            # read as log2 ones. We do the same, since where optim starts decides where it
            # stops on these flat likelihoods.
            start_log2 = beta[g] / LOG2 if keep else starts[k]
            res = _optim_one(counts[g], factor_rows(size_factors, g), design, disp[g], ridge, start_log2)
            beta[g] = res.x
            converged[g] = bool(res.success)
        sub_mu = factor_rows(size_factors, for_optim) * np.exp(linear_predictor(beta[for_optim], design))
        fit_mu[for_optim] = sub_mu
        bounded = np.maximum(sub_mu, min_mu)
        # DESeq2 keeps the IRLS hat diagonals (for Cook's) and uses bounded mu here
        sub_cov, _ = sandwich(design, _weights(bounded, disp[for_optim]), ridge)
        covariance[for_optim] = sub_cov
        beta_se[for_optim] = np.sqrt(np.maximum(np.diagonal(sub_cov, axis1=1, axis2=2), 0.0))
        if want_log_like:
            sub_free = None if mu_free is None else mu_free[for_optim]
            log_like[for_optim] = nb_gene_log_likelihood(counts[for_optim], bounded, disp[for_optim], sub_free)
    return GlmFit(
        beta=beta,
        beta_se=beta_se,
        covariance=covariance,
        mu=fit_mu,
        hat=hat,
        log_like=log_like,
        converged=converged,
        iterations=iterations,
    )


def _optim_one(y, size_factors, design, disp, ridge, start_log2):
    """Penalised NB likelihood maximised by L-BFGS-B on the log2 scale, bounds +-30.

    Set up as DESeq2 calls R's optim: 5 correction pairs, factr 1e7, pgtol 0, at most 100
    iterations, and the gradient by central differences with step 1e-3 (shortened at the
    bounds), because R is given no analytic gradient. These genes sit on flat likelihood
    ridges (a group of zeros), where the optimiser's settings decide where it stops.
    """
    lam_log2 = ridge * LOG2**2  # ridge on log2 coefficients
    lower, upper = -LARGE_BETA, LARGE_BETA
    step = 1e-3

    def objective(p_log2: np.ndarray) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            mu = size_factors * np.exp2(design @ p_log2)
            ll = nb_log_likelihood(y[None, :], mu[None, :], np.array([disp])).sum()
        val = -(ll - 0.5 * np.sum(lam_log2 * p_log2**2))
        return float(val) if np.isfinite(val) else 1e300

    def gradient(p_log2: np.ndarray) -> np.ndarray:
        grad = np.empty_like(p_log2)
        for i in range(p_log2.size):
            up, down = p_log2.copy(), p_log2.copy()
            up[i] = min(p_log2[i] + step, upper)
            down[i] = max(p_log2[i] - step, lower)
            grad[i] = (objective(up) - objective(down)) / (up[i] - down[i])
        return grad

    from scipy import optimize  # only for the few genes IRLS leaves; a slow import

    res = optimize.minimize(
        objective,
        np.clip(start_log2, lower, upper),
        jac=gradient,
        method="L-BFGS-B",
        bounds=[(lower, upper)] * design.shape[1],
        options={"maxcor": 5, "ftol": 1e7 * np.finfo(float).eps, "gtol": 0.0, "maxiter": 100},
    )
    res.x = res.x * LOG2
    return res


def _fit_intercept_only(counts: np.ndarray, size_factors: np.ndarray, disp: np.ndarray) -> GlmFit:
    """Closed form for the design ~ 1 (DESeq2 fitNbinomGLMs' justIntercept branch)."""
    n_genes, n_samples = counts.shape
    with np.errstate(divide="ignore"):
        beta = np.log((counts / size_factors).mean(axis=1))[:, None]
    mu = size_factors * np.exp(beta)
    w = 1.0 / (1.0 / mu + disp[:, None])
    xtwx = w.sum(axis=1)
    covariance = (1.0 / xtwx)[:, None, None]
    return GlmFit(
        beta=beta,
        beta_se=np.sqrt(covariance[:, :, 0]),
        covariance=covariance,
        mu=mu,
        hat=w / xtwx[:, None],
        log_like=nb_gene_log_likelihood(counts, mu, disp),
        converged=np.ones(n_genes, dtype=bool),
        iterations=np.ones(n_genes, dtype=int),
    )
