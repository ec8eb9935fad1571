"""Maximum a posteriori dispersions with the trend as prior mean (DESeq2 estimateDispersionsMAP)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import DISP_MAXIT, MIN_DISP, OUTLIER_SD
from .count_rows import CountRows
from .dispersion import Prior, grid_search, maximise_log_posterior
from .genewise import max_dispersion


@dataclass(frozen=True)
class MapFit:
    """Final dispersions: disp (G,), disp_map (G,), outlier (G,) bool, iterations (G,)."""

    disp: np.ndarray
    disp_map: np.ndarray
    outlier: np.ndarray
    iterations: np.ndarray


def map_dispersion(
    counts: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    disp_gene_est: np.ndarray,
    disp_fit: np.ndarray,
    prior_var: float,
    var_log_disp_ests: float,
    count_rows: CountRows | None = None,
) -> MapFit:
    """MAP log dispersion under a normal prior centred on log(disp_fit).

    Start at the gene-wise estimate unless it lies more than a factor 10 below the trend
    (then at the trend); same line search as the gene-wise step with the prior added; grid
    search where it did not converge; bound to [1e-8, max(10, N)]. Genes whose gene-wise
    estimate lies more than 2 SD (sqrt of `var_log_disp_ests`) above the trend are
    dispersion outliers and keep their gene-wise estimate.

    Parameters
    ----------
    counts, mu : (G, N), mu as stored by the gene-wise step; design : (N, P).
    disp_gene_est, disp_fit : (G,).
    count_rows : `CountRows.of(counts)` where the caller made it for another step too.
    """
    max_disp = max_dispersion(counts.shape[1])
    start = np.where(disp_gene_est > 0.1 * disp_fit, disp_gene_est, disp_fit)
    prior = Prior(np.log(disp_fit), prior_var)
    search = maximise_log_posterior(counts, mu, design, np.log(start), prior, count_rows=count_rows)
    disp_map = np.exp(search.log_disp)
    refit = search.iterations >= DISP_MAXIT
    if refit.any():
        sub = Prior(prior.mean[refit], prior_var)
        disp_map[refit] = grid_search(counts[refit], mu[refit], design, sub, max_disp)
    disp_map = np.clip(disp_map, MIN_DISP, max_disp)
    outlier = np.log(disp_gene_est) > np.log(disp_fit) + OUTLIER_SD * np.sqrt(var_log_disp_ests)
    final = np.where(outlier, disp_gene_est, disp_map)
    return MapFit(disp=final, disp_map=disp_map, outlier=outlier, iterations=search.iterations)
