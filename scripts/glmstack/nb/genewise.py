"""Gene-wise dispersion estimates (DESeq2 estimateDispersionsGeneEst)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import DISP_MAXIT, MIN_DISP, MIN_MU, NO_INCREASE_RTOL
from .blocks import by_blocks, rows_by_blocks
from .count_rows import CountRows
from .dispersion import grid_search, maximise_log_posterior
from .gram import row_products
from .irls import fit_nb_glm, linear_predictor
from .size_factors import factor_rows, moments_xim


def max_dispersion(n_samples: int) -> float:
    """DESeq2's upper bound on dispersions: max(10, number of samples)."""
    return float(max(10, n_samples))


def is_groups_only(design: np.ndarray) -> bool:
    """True when the design has as many distinct rows as columns (a one-way layout).

    DESeq2 then estimates mu by group means of normalised counts instead of a GLM fit.
    """
    return np.unique(design, axis=0).shape[0] == design.shape[1]


def linear_model_coef(normalized: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Least-squares coefficients (G, P) of normalised counts on the design.

    Fitted values through them rather than the N x N hat matrix DESeq2 forms, so the cost
    grows linearly with the number of samples; gene by gene, see gram.row_products.
    """
    return row_products(normalized, np.linalg.pinv(design))


def fitted_mu(coef: np.ndarray, size_factors: np.ndarray, design: np.ndarray) -> np.ndarray:
    """The gene-wise step's mu (G, N) from its coefficients (`GenewiseFit.coef`, G x P).

    Linear-scale group means times the size factors for one-way designs, else the NB GLM's
    exp(X beta) times them; bounded below by 0.5. The step's own arithmetic, so the same
    numbers: the jobs after it store G x P coefficients and recompute mu rather than write
    and read G x N means.
    """
    groups = is_groups_only(design)

    def block(rows: slice) -> np.ndarray:
        predictor = linear_predictor(coef[rows], design)
        factors = factor_rows(size_factors, rows)
        mu = predictor * factors if groups else factors * np.exp(predictor)
        return np.maximum(mu, MIN_MU)

    return rows_by_blocks(block, coef.shape[0], design.shape[0])


def rough_dispersion(
    normalized: np.ndarray, design: np.ndarray, coef: np.ndarray | None = None
) -> np.ndarray:
    """DESeq2 roughDispEstimate: moments around a linear fit (mu bounded at 1), >= 0.

    coef : the fit's `linear_model_coef` where the caller has it.
    """
    m, p = design.shape
    coef = linear_model_coef(normalized, design) if coef is None else coef
    mu = np.maximum(linear_predictor(coef, design), 1.0)
    est = np.sum(((normalized - mu) ** 2 - mu) / mu**2, axis=1) / (m - p)
    return np.maximum(est, 0.0)


def moments_dispersion(normalized: np.ndarray, xim: float) -> np.ndarray:
    """DESeq2 momentsDispEstimate: (var - xim mean) / mean^2 of normalised counts.

    xim : mean(1 / sf), or with normalization factors mean(1 / colMeans(nf)) (`moments_xim`).
    """
    base_mean = normalized.mean(axis=1)
    base_var = normalized.var(axis=1, ddof=1)
    return (base_var - xim * base_mean) / base_mean**2


@dataclass(frozen=True)
class StartingValues:
    """start : (G,) min(rough, moments) estimate (NaN where undefined), before its bounds;
    coef : (G, P) least-squares coefficients of the normalised counts (`linear_model_coef`)."""

    start: np.ndarray
    coef: np.ndarray


def starting_values(
    counts: np.ndarray, size_factors: np.ndarray, design: np.ndarray, xim: float
) -> StartingValues:
    """The line search's starting dispersions and the least-squares fit of normalised counts,
    gene block by gene block (nb.blocks): the normalised counts and the moments around the
    fit stay in the CPU cache, and each gene's numbers are those of the whole matrix."""

    def block_values(block: slice) -> StartingValues:
        normalized = counts[block] / factor_rows(size_factors, block)
        coef = linear_model_coef(normalized, design)
        with np.errstate(divide="ignore", invalid="ignore"):
            start = np.minimum(
                rough_dispersion(normalized, design, coef), moments_dispersion(normalized, xim)
            )
        return StartingValues(start, coef)

    return by_blocks(block_values, *counts.shape)


@dataclass(frozen=True)
class GenewiseFit:
    """Gene-wise estimates for non-all-zero genes.

    disp : (G,) dispersion estimates bounded to [1e-8, max(10, N)].
    mu : (G, N) fitted means (bounded below by 0.5) used for the MAP step.
    coef : (G, P) coefficients that give mu (`fitted_mu`).
    iterations : (G,) line-search iterations; converged : (G,) line search converged.
    """

    disp: np.ndarray
    mu: np.ndarray
    coef: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


def genewise_dispersion(
    counts: np.ndarray, size_factors: np.ndarray, design: np.ndarray, xim: float | None = None
) -> GenewiseFit:
    """Cox-Reid adjusted ML dispersion per gene (DESeq2 estimateDispersionsGeneEst, niter=1).

    Start at min(rough, moments) bounded to [1e-8, max(10, N)]; fit mu by group means
    (one-way designs) or by the NB GLM at the starting dispersion, bounded below by 0.5;
    maximise the Cox-Reid profile likelihood in log dispersion; undo moves that did not
    raise the likelihood by a millionth; grid search where the line search did not
    converge (or stopped after one step) and the estimate is above 1e-7.

    Parameters
    ----------
    counts : (G, N) counts of genes that are not all zero; design : (N, P).
    size_factors : (N,) size factors, or (G, N) normalization factors (DESeq2's
        normalizationFactors, e.g. length offsets from tximport), used as offsets throughout.
    xim : the moments estimate's mean(1 / colMeans(nf)) over the genes DESeq2's step sees
        (the study's non-zero genes: the ingest step's `moments_xim`); None: from these rows.
    """
    n_genes, n_samples = counts.shape
    max_disp = max_dispersion(n_samples)
    if n_genes == 0:
        empty = np.zeros(0)
        return GenewiseFit(
            empty, np.zeros((0, n_samples)), np.zeros((0, design.shape[1])), np.zeros(0, dtype=int),
            np.zeros(0, dtype=bool),
        )  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        xim = moments_xim(size_factors) if xim is None else xim
    initial = starting_values(counts, size_factors, design, xim)
    start = np.clip(np.where(np.isnan(initial.start), MIN_DISP, initial.start), MIN_DISP, max_disp)

    rows = CountRows.of(counts)  # sorted once for the GLM's deviances and the line search
    if is_groups_only(design):
        coef = initial.coef
    else:
        coef = fit_nb_glm(counts, size_factors, design, start, log_like=False, count_rows=rows).beta
    mu = fitted_mu(coef, size_factors, design)

    search = maximise_log_posterior(counts, mu, design, np.log(start), prior=None, count_rows=rows)
    disp = np.minimum(np.exp(search.log_disp), max_disp)
    no_increase = search.last_lp < search.initial_lp + np.abs(search.initial_lp) * NO_INCREASE_RTOL
    disp = np.where(no_increase, start, disp)
    converged = (search.iterations < DISP_MAXIT) & (search.iterations != 1)
    refit = ~converged & (disp > MIN_DISP * 10)
    if refit.any():
        disp[refit] = grid_search(counts[refit], mu[refit], design, None, max_disp)
    return GenewiseFit(
        disp=np.clip(disp, MIN_DISP, max_disp),
        mu=mu,
        coef=coef,
        iterations=search.iterations,
        converged=converged,
    )
