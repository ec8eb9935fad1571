"""limma's method in the order it runs (lmFit -> contrasts.fit -> eBayes/treat -> topTable).

The per-feature least squares (`fit_step`, lmfit.lm_fit) runs per shard (shard_steps); its records are
concatenated in feature order (lmfit.concatenate) and everything after it runs genome-wide on
per-feature summaries: the prior needs every feature's variance, the B-statistic's v0 the
genome-wide ranking of t, and BH all p-values. Nothing per feature depends on the sharding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import contrasts as contrast_ops
from . import ebayes, results, squeeze, treat
from .lmfit import LinearFit
from .shard_steps import fit_step, voom_fit_step, voom_points_step, voom_trend_step
from .voom import effective_library_sizes, voom


@dataclass(frozen=True)
class Moderation:
    """The genome-wide moderation of one fit: prior (G,) arrays, s2_post (G,), df_total (G,)."""

    prior: squeeze.Prior
    s2_post: np.ndarray
    df_total: np.ndarray


def moderate(fit: LinearFit, trend: bool = False, robust: bool = False) -> Moderation:
    """Genome-wide: the variance prior, posterior variances and total df (limma eBayes's squeezeVar).

    trend : s0^2 depends on Amean (limma-trend); robust : the prior is estimated robustly and
    outlying variances get a smaller df_prior (Phipson et al. 2016, limma's robust = TRUE;
    robust.fit_prior_robust).
    """
    s2 = fit.sigma**2
    covariate = fit.amean if trend else None
    if robust:
        from .robust import fit_prior_robust  # scipy.stats (0.4 s of start-up): robust only

        prior = fit_prior_robust(s2, fit.df_residual, covariate)
    else:
        prior = squeeze.fit_prior(s2, fit.df_residual, covariate)
    s2_post = squeeze.posterior_var(s2, fit.df_residual, prior)
    return Moderation(prior, s2_post, ebayes.total_df(fit.df_residual, prior.df_prior))


def contrast_table(
    feature_id: np.ndarray,
    fit: LinearFit,
    design: np.ndarray,
    contrast: np.ndarray,
    moderation: Moderation,
    lfc_threshold: float = 0.0,
) -> pd.DataFrame:
    """Genome-wide: topTable of one contrast (P,), or topTreat when lfc_threshold > 0."""
    cf = contrast_ops.contrast_fit(fit, design, contrast)
    if lfc_threshold > 0:
        t, p = treat.treat_tests(cf.coefficients, cf.stdev_unscaled, moderation.s2_post, moderation.df_total, lfc_threshold)
        return results.t_table(feature_id, cf.coefficients[:, 0], fit.amean, t[:, 0], p[:, 0], None)
    t = ebayes.moderated_t(cf.coefficients, cf.stdev_unscaled, moderation.s2_post)
    p = ebayes.t_pvalue(t, moderation.df_total[:, None])
    v0 = ebayes.prior_coef_var(t, cf.stdev_unscaled, moderation.df_total, moderation.prior.s2_prior)
    b = ebayes.b_statistic(t, cf.stdev_unscaled, moderation.df_total, v0, df_prior=moderation.prior.df_prior)
    return results.t_table(feature_id, cf.coefficients[:, 0], fit.amean, t[:, 0], p[:, 0], b[:, 0])


def f_table(
    feature_id: np.ndarray,
    fit: LinearFit,
    design: np.ndarray,
    contrast_matrix: np.ndarray,
    names: list[str],
    moderation: Moderation,
) -> pd.DataFrame:
    """Genome-wide: topTableF of the (P, K) contrasts tested jointly (the moderated F)."""
    cf = contrast_ops.contrast_fit(fit, design, contrast_matrix)
    t = ebayes.moderated_t(cf.coefficients, cf.stdev_unscaled, moderation.s2_post)
    test = ebayes.moderated_f(t, cf.correlation, moderation.df_total)
    return results.f_table(feature_id, cf.coefficients, names, fit.amean, test.F, test.p_value)


def moderated_tests(
    feature_id: np.ndarray,
    values: np.ndarray,
    design: np.ndarray,
    contrasts: dict[str, np.ndarray],
    reduced: np.ndarray | None = None,
    coefficient_names: list[str] | None = None,
    trend: bool = False,
    robust: bool = False,
    lfc_threshold: float = 0.0,
    weights: np.ndarray | None = None,
) -> dict:
    """All of one analysis in one process (for notebooks and tests).

    Returns {"tables": {contrast name: topTable, ..., "lrt": topTableF}, "fit": LinearFit,
    "moderation": Moderation}; "lrt" (the moderated F of the design columns the reduced design
    drops) only when `reduced` (N, P0) is given. coefficient_names : the design's column names
    (the F table's coefficient columns).
    """
    fit = fit_step(values, design, weights)
    return tests_step(feature_id, fit, design, contrasts, reduced, coefficient_names, trend, robust, lfc_threshold)


def tests_step(
    feature_id: np.ndarray,
    fit: LinearFit,
    design: np.ndarray,
    contrasts: dict[str, np.ndarray],
    reduced: np.ndarray | None = None,
    coefficient_names: list[str] | None = None,
    trend: bool = False,
    robust: bool = False,
    lfc_threshold: float = 0.0,
) -> dict:
    """Genome-wide, on the concatenated fit records: moderation, then every table (see moderated_tests)."""
    moderation = moderate(fit, trend=trend, robust=robust)
    tables = {name: contrast_table(feature_id, fit, design, c, moderation, lfc_threshold) for name, c in contrasts.items()}
    if reduced is not None:
        dropped = contrast_ops.dropped_contrasts(design, reduced)
        names = coefficient_names or [f"column{j + 1}" for j in range(design.shape[1])]
        unit = np.all(np.isin(dropped, (0.0, 1.0))) and np.all(dropped.sum(axis=0) == 1)
        labels = [names[int(np.argmax(dropped[:, k]))] for k in range(dropped.shape[1])] if unit else [f"contrast{k + 1}" for k in range(dropped.shape[1])]
        tables["lrt"] = f_table(feature_id, fit, design, dropped, labels, moderation)
    return {"tables": tables, "fit": fit, "moderation": moderation}


def voom_tests(
    feature_id: np.ndarray,
    counts: np.ndarray,
    design: np.ndarray,
    contrasts: dict[str, np.ndarray],
    normalization: str | None = None,
    lib_size: np.ndarray | None = None,
    **options,
) -> dict:
    """voom (after TMM when normalization == "tmm"), then the moderated tests with the voom weights,
    in one process through the workflow's steps: voom_points_step (per shard), voom_trend_step
    (genome-wide), voom_fit_step (per shard), tests_step (genome-wide).

    Returns tests_step's dict plus "voom" (log-CPM, weights and trend of every gene) and
    "norm_factors" (None without TMM). options : tests_step's keywords.
    """
    from .tmm import tmm_factors  # scipy.stats (0.4 s of start-up): rule library_sizes's, in-process only

    lib = counts.sum(axis=0) if lib_size is None else np.asarray(lib_size, dtype=float)
    factors = tmm_factors(counts, lib) if normalization == "tmm" else None
    effective = effective_library_sizes(lib, factors)
    trend = voom_trend_step(*voom_points_step(counts, design, effective))
    fit = voom_fit_step(counts, design, effective, trend.x, trend.y)
    out = tests_step(feature_id, fit, design, contrasts, **options)
    v = voom(counts, design, lib_size=lib, norm_factors=factors)
    out["voom"] = v
    out["norm_factors"] = factors
    return out
