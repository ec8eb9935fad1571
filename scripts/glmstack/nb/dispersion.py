"""Cox-Reid adjusted NB log posterior of log dispersion and its maximisation.

Shared by the gene-wise (no prior) and MAP (log-normal prior) steps; matches the
line search and grid fallback of DESeq2's fitDisp / fitDispGrid, run for all genes at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from ..constants import (
    ARMIJO_EPSILON,
    DISP_MAXIT,
    DISP_TOL,
    GRID_POINTS,
    KAPPA_0,
    LOG_ALPHA_LOWER,
    LOG_ALPHA_UPPER,
    MIN_DISP,
)
from .blocks import by_blocks
from .count_rows import CountRows
from .gram import trace_product, weighted_gram


@dataclass(frozen=True)
class Prior:
    """Normal prior on log dispersion: mean (G,) and one variance; None = no prior."""

    mean: np.ndarray
    variance: float


def log_posterior(
    log_disp: np.ndarray, counts: np.ndarray | CountRows, mu: np.ndarray, design: np.ndarray, prior: Prior | None
) -> np.ndarray:
    """Cox-Reid adjusted profile log likelihood (+ log prior) at log_disp, per gene.

    Parameters
    ----------
    log_disp : (G,); counts, mu : (G, N), mu already bounded below; design : (N, P).
    """
    rows = counts if isinstance(counts, CountRows) else CountRows.of(counts)
    counts = rows.counts
    alpha = np.exp(log_disp)[:, None]
    inv = 1.0 / alpha
    # sum_n lgamma(y + 1/a) - lgamma(1/a) - y log(mu + 1/a) - (1/a) log(1 + mu a), with
    # log(mu + 1/a) = log(1/a) + log(1 + mu a): one log per count, and 1 + mu a serves the
    # weights too (the line search calls this for every gene at every step). log(1 + x) as in
    # DESeq2, not log1p: near the 1e-8 floor the likelihood is flat and rounding decides where
    # the line search stops.
    shifted = np.add(counts, inv)
    one_plus = np.multiply(mu, alpha)
    one_plus += 1.0
    w = np.divide(mu, one_plus)  # 1 / (1/mu + a)
    np.log(one_plus, out=one_plus)
    one_plus *= shifted
    if rows.by_distinct:  # the lgamma terms once per distinct count (count_rows)
        ll = rows.shifted_sums(gammaln, inv[:, 0]) - np.sum(one_plus, axis=1)
    else:  # term by term, sample by sample
        terms = gammaln(shifted)
        terms -= gammaln(inv)
        terms -= one_plus
        ll = np.sum(terms, axis=1)
    ll -= np.sum(counts, axis=1) * np.log(inv[:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        cr = -0.5 * np.log(np.linalg.det(weighted_gram(design, w)))
    out = ll + cr
    if prior is not None:
        out = out - 0.5 * (log_disp - prior.mean) ** 2 / prior.variance
    return out


def dlog_posterior(
    log_disp: np.ndarray, counts: np.ndarray | CountRows, mu: np.ndarray, design: np.ndarray, prior: Prior | None
) -> np.ndarray:
    """Derivative of `log_posterior` with respect to log dispersion, per gene."""
    rows = counts if isinstance(counts, CountRows) else CountRows.of(counts)
    counts = rows.counts
    alpha1 = np.exp(log_disp)
    alpha = alpha1[:, None]
    inv = 1.0 / alpha
    # sum_n digamma(1/a) + log(1 + mu a) - mu a/(1 + mu a) - digamma(y + 1/a) + y/(mu + 1/a),
    # term by term as DESeq2 (near the 1e-8 floor this is rounding noise times 1/a^2, and the
    # line search follows it), in two buffers; 1 + mu a serves the weights too
    ratio = np.multiply(mu, alpha)
    terms = ratio + 1.0
    w = np.divide(mu, terms)  # 1 / (1/mu + a)
    ratio /= terms
    np.log(terms, out=terms)
    if rows.by_distinct:  # the digamma terms once per distinct count (count_rows)
        terms -= ratio
        np.add(mu, inv, out=ratio)
        np.divide(counts, ratio, out=ratio)
        terms += ratio
        ll = (np.sum(terms, axis=1) - rows.shifted_sums(digamma, inv[:, 0])) / alpha1**2
    else:
        terms += digamma(inv)
        terms -= ratio
        np.add(counts, inv, out=ratio)
        digamma(ratio, out=ratio)
        terms -= ratio
        np.add(mu, inv, out=ratio)
        np.divide(counts, ratio, out=ratio)
        terms += ratio
        ll = np.sum(terms, axis=1) / alpha1**2
    # d/da of log det(X'WX) = trace(B^-1 X' dW X), B = X'WX, dW = -W^2
    b_inv = np.linalg.inv(weighted_gram(design, w))
    cr = 0.5 * trace_product(b_inv, design, np.square(w, out=w))
    out = (ll + cr) * alpha1
    if prior is not None:
        out = out - (log_disp - prior.mean) / prior.variance
    return out


@dataclass(frozen=True)
class LineSearch:
    """Per-gene outcome of `maximise_log_posterior`."""

    log_disp: np.ndarray
    iterations: np.ndarray
    initial_lp: np.ndarray
    last_lp: np.ndarray


def _take(prior: Prior | None, idx: np.ndarray | slice) -> Prior | None:
    return None if prior is None else Prior(prior.mean[idx], prior.variance)


def maximise_log_posterior(
    counts: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    log_disp_start: np.ndarray,
    prior: Prior | None,
    *,
    min_log_disp: float = float(np.log(MIN_DISP / 10)),
    kappa_0: float = KAPPA_0,
    tol: float = DISP_TOL,
    maxit: int = DISP_MAXIT,
    count_rows: CountRows | None = None,
) -> LineSearch:
    """Backtracking gradient ascent on log dispersion with the Armijo rule (DESeq2 fitDisp).

    Each gene follows exactly DESeq2's sequence of proposals: step kappa along the
    derivative, proposals clipped to [-30, 10], accept when the gain is at least
    1e-4 * kappa * dlp^2 else halve kappa; after an accepted step stop when the gain is
    below `tol` or log dispersion fell below `min_log_disp`; kappa grows by 1.1 (capped at
    kappa_0) and halves every fifth accepted step. All genes advance together; a gene
    leaves the active set when it stops, so the per-gene numbers do not depend on the others.
    count_rows : `CountRows.of(counts)` where the caller made it for another step too.

    Returns
    -------
    LineSearch with iterations == maxit where the search did not converge.
    """
    settings = {"min_log_disp": min_log_disp, "kappa_0": kappa_0, "tol": tol, "maxit": maxit}
    if count_rows is not None:
        count_rows.check_of(counts)

    def search(block: slice) -> LineSearch:
        rows = CountRows.of(counts[block]) if count_rows is None else count_rows.block(block)
        return _line_search(rows, mu[block], design, log_disp_start[block], _take(prior, block), **settings)

    return by_blocks(search, *counts.shape)


def _line_search(
    rows: CountRows,
    mu: np.ndarray,
    design: np.ndarray,
    log_disp_start: np.ndarray,
    prior: Prior | None,
    *,
    min_log_disp: float,
    kappa_0: float,
    tol: float,
    maxit: int,
) -> LineSearch:
    """`maximise_log_posterior` for one block of genes."""
    n = rows.counts.shape[0]
    a = log_disp_start.astype(float).copy()
    lp = log_posterior(a, rows, mu, design, prior)
    dlp = dlog_posterior(a, rows, mu, design, prior)
    initial_lp = lp.copy()
    kappa = np.full(n, kappa_0)
    iterations = np.zeros(n, dtype=int)
    accepted = np.zeros(n, dtype=int)
    active = np.arange(n)
    for _ in range(maxit):
        if active.size == 0:
            break
        iterations[active] += 1
        ai, di, ki = a[active], dlp[active], kappa[active]
        proposal = ai + ki * di
        with np.errstate(divide="ignore", invalid="ignore"):
            ki = np.where(proposal < LOG_ALPHA_LOWER, (LOG_ALPHA_LOWER - ai) / di, ki)
            ki = np.where(proposal > LOG_ALPHA_UPPER, (LOG_ALPHA_UPPER - ai) / di, ki)
        step = ai + ki * di
        sub = _take(prior, active)
        lp_new = log_posterior(step, rows.take(active), mu[active], design, sub)
        armijo = -lp_new <= -lp[active] - ki * ARMIJO_EPSILON * di**2
        # rejected proposals: halve the step and try again
        rejected = active[~armijo]
        kappa[rejected] = ki[~armijo] / 2.0
        acc = active[armijo]
        if acc.size:
            accepted[acc] += 1
            change = lp_new[armijo] - lp[acc]
            a[acc] = step[armijo]
            small_gain = change < tol
            # DESeq2 keeps the previous log posterior when it stops at the lower bound
            keep_lp = small_gain | (a[acc] >= min_log_disp)
            lp[acc[keep_lp]] = lp_new[armijo][keep_lp]
            stop = small_gain | (a[acc] < min_log_disp)
            going = acc[~stop]
            if going.size:
                dlp[going] = dlog_posterior(a[going], rows.take(going), mu[going], design, _take(prior, going))
                k = np.minimum(ki[armijo][~stop] * 1.1, kappa_0)
                k = np.where(accepted[going] % 5 == 0, k / 2.0, k)
                kappa[going] = k
            stopped = acc[stop]
        else:
            stopped = acc
        active = np.setdiff1d(active, stopped, assume_unique=True)
    return LineSearch(log_disp=a, iterations=iterations, initial_lp=initial_lp, last_lp=lp)


def grid_search(
    counts: np.ndarray, mu: np.ndarray, design: np.ndarray, prior: Prior | None, max_disp: float
) -> np.ndarray:
    """Coarse then fine grid maximisation of the log posterior (DESeq2 fitDispGrid).

    20 points evenly spaced on log dispersion from log(1e-8) to log(max_disp), then 20 points
    spanning one coarse step either side of the best. Returns (G,) dispersions.
    """
    n = counts.shape[0]
    if n == 0:
        return np.zeros(0)
    rows = CountRows.of(counts)
    grid = np.linspace(np.log(MIN_DISP), np.log(max_disp), GRID_POINTS)
    delta = grid[1] - grid[0]

    def best(points: np.ndarray) -> np.ndarray:
        # points: (G, K)
        values = np.stack(
            [log_posterior(points[:, k], rows, mu, design, prior) for k in range(points.shape[1])], axis=1
        )
        return points[np.arange(n), np.argmax(values, axis=1)]

    coarse = best(np.broadcast_to(grid, (n, GRID_POINTS)))
    fine = coarse[:, None] + np.linspace(-delta, delta, GRID_POINTS)[None, :]
    return np.exp(best(fine))
