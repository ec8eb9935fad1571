"""Prior variance of the log dispersions (DESeq2 1.38 ``estimateDispersionsPriorVar``).

The dispersion MAP step shrinks each gene's log dispersion towards the fitted trend
with a normal prior whose variance is estimated here from the residuals
``log(dispGeneEst) - log(dispFit)`` of the genes with ``dispGeneEst >= 1e-6``
(100 x DESeq2's ``minDisp``):

* ``m - p > 3``: the robust variance of the residuals (``mad(x)^2``) minus the
  sampling variance of a log dispersion estimate, ``trigamma((m - p) / 2)``, floored
  at 0.25;
* ``m == p`` (no residual degrees of freedom; R's code does the same for
  ``m < p``): the residual variance itself;
* ``1 <= m - p <= 3``: the sampling distribution of the residuals is far from
  normal, so the variance is found by matching histograms: for a grid of candidate
  prior variances the distribution ``log(chi2_{m-p}/(m-p)) + N(0, v)`` is simulated,
  the Kullback-Leibler divergence of the observed histogram from the simulated one
  is smoothed over the grid by loess, and the minimiser (floored at 0.25) is taken.

The simulated histograms are DESeq2's own: R's random stream after ``set.seed(2)``,
reproduced without R and shipped as a table (:mod:`glmstack.rmath.prior_simulation`),
so this branch gives DESeq2's number, not just one from the same distribution.
"""

from __future__ import annotations

import numpy as np
from scipy.special import polygamma

from ..constants import PRIOR_VAR_MIN
from ..rmath.loess import loess_quadratic
from ..rmath.prior_simulation import deseq2_simulated_counts

__all__ = [
    "MAD_CONSTANT",
    "dispersion_prior_variance",
    "histogram_density",
    "kl_divergence_grid",
    "var_log_disp_ests",
]

MAD_CONSTANT = 1.4826  # R stats::mad default `constant`
SIM_BREAKS = np.arange(-20, 21) / 2.0  # DESeq2: brks <- -20:20/2
SIM_GRID_POINTS = 200  # DESeq2: obsVarGrid <- seq(0, 8, length = 200)
SIM_FINE_GRID_POINTS = 1000  # DESeq2: obsVarFineGrid <- seq(0, 8, length = 1000)
SIM_GRID_MAX = 8.0
SIM_LOESS_SPAN = 0.2  # DESeq2: loess(klDivs ~ obsVarGrid, span = 0.2)
HIST_FUZZ = 1e-7  # R hist.default `fuzz`


def var_log_disp_ests(log_residuals: np.ndarray) -> float:
    """Robust variance of the log-dispersion residuals, R's ``mad(x, na.rm = TRUE)^2``.

    Matches DESeq2's ``attr(dispersionFunction(dds), "varLogDispEsts")``:
    ``(1.4826 * median(|x - median(x)|))^2`` over the non-NaN residuals.

    Parameters
    ----------
    log_residuals : (G,) ``log(dispGeneEst) - log(dispFit)`` of the genes with
        ``dispGeneEst >= 1e-6``; NaN entries are ignored (R ``na.rm = TRUE``).

    Returns
    -------
    The squared scaled median absolute deviation; NaN when no value is left
    (R's ``median`` of an empty vector).
    """
    x = np.asarray(log_residuals, dtype=float).reshape(-1)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan")
    centre = np.median(x)
    mad = MAD_CONSTANT * float(np.median(np.abs(x - centre)))
    return mad * mad


def histogram_density(values: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """Density of a histogram on fixed breaks, as R's ``hist(x, breaks, plot = FALSE)$density``.

    R's defaults: right-closed bins ``(b_j, b_{j+1}]`` with the first bin closed on
    the left, breaks widened by ``1e-7 * median(diff(breaks))`` (R's "fuzz"), and
    density ``count / (n * width)`` with ``n`` the number of finite values. Values
    outside the breaks are not allowed (R stops); callers filter them first.

    Parameters
    ----------
    values : (n,) or (r, n) values; with 2 dimensions one histogram per row, where
        NaN marks an unused slot (excluded from the count ``n`` of that row).
    breaks : (B + 1,) increasing break points (more than 5 of them).

    Returns
    -------
    (B,) or (r, B) densities.
    """
    b = np.asarray(breaks, dtype=float)
    v = np.asarray(values, dtype=float)
    single = v.ndim == 1
    v2 = v[None, :] if single else v
    n_bins = b.size - 1
    diddle = HIST_FUZZ * float(np.median(np.diff(b)))
    fuzzy = b + diddle
    fuzzy[0] = b[0] - diddle
    ok = np.isfinite(v2)
    if np.any(ok & ((v2 < fuzzy[0]) | (v2 > fuzzy[-1]))):
        raise ValueError("some values lie outside the histogram breaks")
    # right-closed bins: x in (fuzzy[j], fuzzy[j+1]] -> j
    idx = np.searchsorted(fuzzy, np.where(ok, v2, b[0]), side="left") - 1
    idx = np.clip(idx, 0, n_bins - 1)
    rows = np.broadcast_to(np.arange(v2.shape[0])[:, None], v2.shape)
    flat = (rows * n_bins + idx)[ok]
    counts = np.bincount(flat, minlength=v2.shape[0] * n_bins).reshape(v2.shape[0], n_bins)
    n = ok.sum(axis=1, keepdims=True).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        dens = counts / (n * np.diff(b)[None, :])
    return dens[0] if single else dens


def kl_divergence_grid(obs_density: np.ndarray, sim_density: np.ndarray) -> np.ndarray:
    """DESeq2's discrepancy between the observed and each simulated histogram.

    For each row ``s`` of ``sim_density``: ``small`` is the smallest positive
    density among ``obs_density`` and ``s``, and the divergence is
    ``sum(obs * (log(obs + small) - log(s + small)))`` (bins with zero observed
    density contribute nothing).

    Parameters
    ----------
    obs_density : (B,) observed histogram density.
    sim_density : (r, B) simulated densities, one row per candidate variance.

    Returns
    -------
    (r,) divergences.
    """
    obs = np.asarray(obs_density, dtype=float)
    sim = np.asarray(sim_density, dtype=float)
    obs_pos = obs[obs > 0]
    obs_min = float(obs_pos.min()) if obs_pos.size else np.inf
    sim_min = np.where(sim > 0, sim, np.inf).min(axis=1)
    small = np.minimum(obs_min, sim_min)
    return np.sum(
        obs[None, :] * (np.log(obs[None, :] + small[:, None]) - np.log(sim + small[:, None])),
        axis=1,
    )


def _simulated_prior_variance(residuals: np.ndarray, df_resid: int) -> float:
    """Histogram-matching estimate of DESeq2 for 1 <= m - p <= 3 (see module docstring)."""
    lo, hi = SIM_BREAKS[0], SIM_BREAKS[-1]
    obs = residuals[np.isfinite(residuals)]
    obs = obs[(obs > lo) & (obs < hi)]
    if obs.size == 0:
        raise ValueError("no dispersion residual lies inside (-10, 10)")
    obs_density = histogram_density(obs, SIM_BREAKS)

    grid = np.linspace(0.0, SIM_GRID_MAX, SIM_GRID_POINTS)
    # R's hist densities of DESeq2's draws after set.seed(2): counts / (n * bin width)
    sim_counts = deseq2_simulated_counts(df_resid)
    n_inside = sim_counts.sum(axis=1, keepdims=True).astype(float)
    sim_density = sim_counts / (n_inside * np.diff(SIM_BREAKS)[None, :])

    kl = kl_divergence_grid(obs_density, sim_density)
    fine_grid = np.linspace(0.0, SIM_GRID_MAX, SIM_FINE_GRID_POINTS)
    smooth = loess_quadratic(grid, kl, fine_grid, span=SIM_LOESS_SPAN)
    arg_min = float(fine_grid[int(np.argmin(smooth))])
    return max(arg_min, PRIOR_VAR_MIN)


def dispersion_prior_variance(log_residuals: np.ndarray, m: int, p: int) -> float:
    """Variance of the normal prior on log dispersions, DESeq2 ``estimateDispersionsPriorVar``.

    Parameters
    ----------
    log_residuals : (G,) ``log(dispGeneEst) - log(dispFit)`` for the genes with
        ``dispGeneEst >= 1e-6`` (NaN ignored).
    m : number of samples (rows of the model matrix).
    p : number of coefficients (columns of the model matrix).

    Returns
    -------
    ``max(varLogDispEsts - trigamma((m - p) / 2), 0.25)`` when ``m - p > 3``;
    ``varLogDispEsts`` when ``m <= p``; the simulation estimate floored at 0.25 when
    ``1 <= m - p <= 3``. ``varLogDispEsts`` is :func:`var_log_disp_ests`.

    Notes
    -----
    The simulation branch reproduces DESeq2's ``set.seed(2)`` draws exactly (from a
    table, :func:`glmstack.rmath.prior_simulation.deseq2_simulated_counts`), and every
    other step is R's: histogram bins and fuzz of ``hist``, the divergence, and
    ``loess`` with its default interpolated surface (reproduced to ~1e-14; a direct
    local fit would move the estimate by 0.03-0.08). The result is one of the
    1000 fine-grid points, the same one as DESeq2's unless two smoothed divergences
    tie to ~1e-14. With other seeds the estimate would vary by 0.005 (true variance
    0.5, m - p = 2, 4000 genes) to 0.06 (variance 1.5-2.5): the Monte Carlo noise
    DESeq2's fixed seed freezes.

    Raises
    ------
    ValueError if there is no non-NaN residual (DESeq2 stops with "no data found
    which is greater than minDisp"), or none within (-10, 10) in the simulation
    branch.
    """
    x = np.asarray(log_residuals, dtype=float).reshape(-1)
    if not np.any(~np.isnan(x)):
        raise ValueError(
            "no gene-wise dispersion estimate above the minimum (all residuals missing)"
        )
    df_resid = int(m) - int(p)
    if 1 <= df_resid <= 3:
        return _simulated_prior_variance(x, df_resid)
    var_log = var_log_disp_ests(x)
    if df_resid > 0:
        expected = float(polygamma(1, df_resid / 2.0))
        return max(var_log - expected, PRIOR_VAR_MIN)
    return var_log
