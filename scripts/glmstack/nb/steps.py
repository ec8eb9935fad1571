"""DESeq2's method as the workflow runs it: one function per job, each reading like the method.

    genewise_step  (per shard)    baseMean, Cox-Reid gene-wise dispersions
    trend_step     (genome-wide)  dispersion-mean trend, prior variance of log dispersions
    shared_fit_step (per shard)   MAP dispersions and the full design's GLM fit
        (these three are shared by every analysis with the same design and trend type)
    fit_step       (per shard)    reduced fit (LRT), Cook's distances and outlier replacement,
                                  Wald or likelihood-ratio tests of one analysis
    (merge: nb.results builds the tables; inference.fdr filters and adjusts)

`run_analysis` runs the same steps in this process, shard by shard, for notebooks and tests.
Arrays in, dicts of arrays out; entry scripts read and write the files.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..constants import MIN_DISP
from ..design.matrices import Covariates, Model
from ..inference.nested import likelihood_ratio_test
from ..inference.record import ContrastResult, to_arrays
from ..inference.wald import LOG2E, contrast_estimate, wald_test
from ..io.shards import concat_shards, shard_bounds
from ..spec import Analysis
from . import cooks as cooks_mod
from .count_rows import CountRows
from .genewise import fitted_mu, genewise_dispersion
from .irls import GlmFit, fit_nb_glm
from .map_dispersion import map_dispersion
from .prior import dispersion_prior_variance, var_log_disp_ests
from .size_factors import base_means, factor_rows, moments_xim
from .trend import DispersionTrend, fit_trend

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


def genewise_step(
    counts: np.ndarray, size_factors: np.ndarray, design: np.ndarray, xim: float | None = None
) -> dict[str, np.ndarray]:
    """Rule genewise: baseMean and gene-wise dispersion of every gene of one shard.

    size_factors : (N,) size factors or the shard's (G, N) normalization factors.
    xim : the study's `moments_xim` over its non-zero genes (None: size factors, or this
        shard alone). All-zero genes get NaN estimates; `mu_coef` (G, P), the coefficients of
        the fitted means (`genewise_mu`), is NaN on their rows.
    """
    # C order: row reductions then round the same way whatever the caller's layout
    counts = np.ascontiguousarray(counts, dtype=float)
    n_genes = counts.shape[0]
    all_zero = counts.sum(axis=1) == 0
    nz = ~all_zero
    fit = genewise_dispersion(counts[nz], factor_rows(size_factors, nz), design, xim)
    disp = np.full(n_genes, np.nan)
    disp[nz] = fit.disp
    mu_coef = np.full((n_genes, design.shape[1]), np.nan)
    mu_coef[nz] = fit.coef
    converged = np.zeros(n_genes, dtype=bool)
    converged[nz] = fit.converged
    return {
        "base_mean": base_means(counts, size_factors),
        "all_zero": all_zero,
        "disp_gene_est": disp,
        "disp_gene_conv": converged,
        "mu_coef": mu_coef,
    }


def genewise_mu(
    genewise: dict[str, np.ndarray], rows: np.ndarray, size_factors: np.ndarray, design: np.ndarray
) -> dict[str, np.ndarray]:
    """base_mean, disp_gene_est and the fitted means mu (G, N) of `rows` of a shard's
    `genewise_step` result (size_factors : those rows' (N,) size or (G, N) normalization factors)."""
    picked = {k: genewise[k][rows] for k in ("base_mean", "disp_gene_est")}
    return picked | {"mu": fitted_mu(genewise["mu_coef"][rows], size_factors, design)}


def trend_step(
    base_mean: np.ndarray, disp_gene_est: np.ndarray, fit_type: str, n_samples: int, n_coef: int
) -> dict:
    """Rule trend: the dispersion trend and the prior variance, from all non-zero genes, and
    the design's Cook's distance cutoff."""
    nz = ~np.isnan(disp_gene_est)
    trend = fit_trend(base_mean[nz], disp_gene_est[nz], fit_type)
    disp_fit = trend.evaluate(base_mean[nz])
    # the prior's residuals: genes above 100 x minDisp only (DESeq2 estimateDispersionsFit)
    above = disp_gene_est[nz] >= 100 * MIN_DISP
    residuals = np.log(disp_gene_est[nz][above]) - np.log(disp_fit[above])
    prior_var = dispersion_prior_variance(residuals, n_samples, n_coef)
    log.info("trend %s (requested %s), prior variance %.4g", trend.fit_type, fit_type, prior_var)
    return {
        "trend": trend.to_dict(),
        "var_log_disp_ests": var_log_disp_ests(residuals),
        "prior_var": prior_var,
        # the design's Cook's cutoff F(0.99; p, m - p), for model.json and the Cook's plot (this
        # job has scipy.special loaded for the prior; the plot job need not load it)
        "cooks_f_quantile": cooks_mod.cooks_cutoff(n_samples, n_coef) if n_samples > n_coef else None,
    }


@dataclass(frozen=True)
class GeneFits:
    """Per-gene estimates of a set of non-zero genes: dispersions and GLM fit(s)."""

    base_mean: np.ndarray
    disp_gene_est: np.ndarray
    disp_fit: np.ndarray
    dispersion: np.ndarray
    disp_outlier: np.ndarray
    full: GlmFit
    reduced: GlmFit | None

    def with_rows(self, rows: np.ndarray, other: GeneFits) -> GeneFits:
        """These fits with `rows` taken from `other` (the refit of those rows)."""

        def put(a, b):
            if a is None or b is None:
                return a
            if isinstance(a, GlmFit):
                return GlmFit(
                    *(put(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(GlmFit))
                )
            a = a.copy()
            a[rows] = b
            return a

        return GeneFits(
            *(put(getattr(self, f.name), getattr(other, f.name)) for f in dataclasses.fields(self))
        )


def map_dispersions(
    counts: np.ndarray, design: np.ndarray, genewise: dict, trend: DispersionTrend, prior: dict,
    count_rows: CountRows | None = None,
) -> dict[str, np.ndarray]:
    """Trend value, final (MAP, or gene-wise for dispersion outliers) dispersion and outlier
    flag of non-zero genes, from their gene-wise estimates (base_mean, mu, disp_gene_est).
    count_rows : `CountRows.of(counts)` where the caller made it for another step too."""
    disp_fit = trend.evaluate(genewise["base_mean"])
    fit = map_dispersion(
        counts, genewise["mu"], design, genewise["disp_gene_est"], disp_fit,
        prior["prior_var"], prior["var_log_disp_ests"], count_rows,
    )  # fmt: skip
    return {"disp_fit": disp_fit, "dispersion": fit.disp, "disp_outlier": fit.outlier}


def fit_genes(
    counts,
    size_factors,
    model: Model,
    trend: DispersionTrend,
    prior: dict,
    genewise: dict | None = None,
    dispersions: dict | None = None,
    full: GlmFit | None = None,
    count_rows: CountRows | None = None,
) -> GeneFits:
    """MAP dispersions and GLM fits of non-zero genes.

    `genewise` (base_mean, mu, disp_gene_est), `dispersions` (of `map_dispersions`) and the
    full design's fit `full` (on those dispersions) when those steps already ran on these
    counts; else (refits after outlier replacement) they run here. count_rows :
    `CountRows.of(counts)` where the caller made it already.
    """
    design = model.full.matrix
    if genewise is None:
        gw = genewise_dispersion(counts, size_factors, design)
        genewise = {"base_mean": base_means(counts, size_factors), "mu": gw.mu, "disp_gene_est": gw.disp}
    if dispersions is None:
        dispersions = map_dispersions(counts, design, genewise, trend, prior, count_rows)
    disp = dispersions["dispersion"]
    if full is None:  # log likelihoods only for the LRT
        full = fit_nb_glm(counts, size_factors, design, disp, log_like=model.reduced is not None,
                          count_rows=count_rows)
    reduced = (
        fit_nb_glm(counts, size_factors, model.reduced.matrix, disp, count_rows=count_rows)
        if model.reduced is not None
        else None
    )
    return GeneFits(
        genewise["base_mean"], genewise["disp_gene_est"], dispersions["disp_fit"], disp,
        dispersions["disp_outlier"].astype(bool), full, reduced,
    )  # fmt: skip


@dataclass(frozen=True)
class SharedFit:
    """What the analyses of one design and trend share in a fit job, for its non-zero genes
    (`rows`, positions in the shard): the gene-wise step's estimates with their fitted means
    (`genewise_mu`), the MAP dispersions (`map_dispersions`), the full design's GLM fit on them
    and the robust dispersions of the Cook's distances (`cooks.robust_dispersion`); and the
    counts' `CountRows`, sorted once for the line search and every GLM fit of these counts."""

    rows: np.ndarray
    genewise: dict[str, np.ndarray]
    dispersions: dict[str, np.ndarray]
    full: GlmFit
    cooks_dispersion: np.ndarray
    count_rows: CountRows


def shared_fit_step(
    counts: np.ndarray,
    size_factors: np.ndarray,
    design: np.ndarray,
    genewise: dict[str, np.ndarray],
    trend_json: dict,
    log_like: bool,
) -> SharedFit:
    """MAP dispersions and the full design's GLM fit of one shard, made once by a fit job for
    every analysis with this design and trend (each analysis's Cook's handling and tests come
    after, in its fit step). log_like : some analysis is an LRT (it needs the log likelihoods)."""
    nz = np.flatnonzero(~genewise["all_zero"].astype(bool))
    counts = np.ascontiguousarray(counts, dtype=float)[nz]
    factors = factor_rows(size_factors, nz)
    from_genewise = genewise_mu(genewise, nz, factors, design)
    trend = DispersionTrend.from_dict(trend_json["trend"])
    rows = CountRows.of(counts)  # sorted once for the line search and every GLM's deviances
    fitted = map_dispersions(counts, design, from_genewise, trend, trend_json, rows)
    full = fit_nb_glm(counts, factors, design, fitted["dispersion"], log_like=log_like, count_rows=rows)
    robust = cooks_mod.robust_dispersion(counts / factors, design)
    return SharedFit(nz, from_genewise, fitted, full, robust, rows)


def _single_two_level_factor(model: Model) -> bool:
    design = model.full
    variables = list(design.factors) + design.numeric
    return len(variables) == 1 and len(design.factors.get(variables[0], [])) == 2


def cooks_outliers(
    max_cooks: np.ndarray,
    cutoff: float,
    setting: bool | float,
    model: Model,
    counts: np.ndarray,
    cooks: np.ndarray,
) -> np.ndarray:
    """Genes whose p-values DESeq2's Cook's filter removes (results(cooksCutoff = setting))."""
    if setting is False:
        return np.zeros(max_cooks.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        outlier = max_cooks > (cutoff if setting is True else float(setting))
    if outlier.any() and _single_two_level_factor(model):
        kept = cooks_mod.low_count_outlier_kept(counts[outlier], cooks[outlier])
        outlier[np.flatnonzero(outlier)[kept]] = False
    return outlier


def contrast_tests(
    fits: GeneFits, model: Model, analysis: Analysis, counts: np.ndarray
) -> dict[str, ContrastResult]:
    """Every contrast's log2 fold change and SE, with its Wald test or the analysis's LRT.

    DESeq2 reports log2 fold change 0 (Wald: statistic 0, p-value 1) for a contrast whose
    samples all have zero counts.
    """
    if model.reduced is not None:
        df = model.full.matrix.shape[1] - model.reduced.matrix.shape[1]
        lrt_stat, lrt_p = likelihood_ratio_test(fits.full.log_like, fits.reduced.log_like, df)
    results = {}
    for contrast in model.contrasts:
        lfc, se = contrast_estimate(fits.full.beta, fits.full.covariance, contrast.vector)
        if model.reduced is None:
            stat, pvalue = wald_test(lfc, se, analysis.lfc_threshold, analysis.alt_hypothesis)
        else:
            stat, pvalue = lrt_stat.copy(), lrt_p.copy()
        if contrast.zero_samples is not None:
            zero = counts[:, contrast.zero_samples].sum(axis=1) == 0
            lfc = np.where(zero, 0.0, lfc)
            if model.reduced is None:
                stat = np.where(zero, 0.0, stat)
                pvalue = np.where(zero, 1.0, pvalue)
        results[contrast.name] = ContrastResult(lfc, se, stat, pvalue)
    return results


def replace_and_refit(
    fits: GeneFits,
    counts: np.ndarray,
    size_factors: np.ndarray,
    model: Model,
    cooks: np.ndarray,
    cutoff: float,
    min_replicates: int,
    trend: DispersionTrend,
    prior: dict,
) -> tuple[GeneFits, cooks_mod.Replacement | None]:
    """DESeq2's outlier replacement: replace outlying counts of samples in cells of at least
    `min_replicates`, refit the flagged genes (gene-wise and MAP dispersions, GLM) with the
    genome-wide trend and prior, and take their baseMean from the replaced counts."""
    design = model.full.matrix
    normalized = counts / size_factors
    replacement = cooks_mod.replace_outliers(
        counts, normalized, size_factors, cooks, design, cutoff, min_replicates
    )
    if replacement is None:
        return fits, None
    refit = np.flatnonzero(replacement.flagged & ~replacement.now_zero)
    if refit.size:
        log.info("replacing outliers and refitting %d genes", refit.size)
        refit_factors = factor_rows(size_factors, refit)
        fits = fits.with_rows(refit, fit_genes(replacement.counts[refit], refit_factors, model, trend, prior))
    if replacement.n_replaced:
        fits = dataclasses.replace(fits, base_mean=base_means(replacement.counts, size_factors))
    return fits, replacement


def apply_cooks_filter(
    results: dict[str, ContrastResult], removed: np.ndarray, now_zero: np.ndarray
) -> dict[str, ContrastResult]:
    """p-values of Cook's outliers become NaN; genes all zero after replacement report
    log2 fold change 0, SE 0, statistic 0 and p-value 1 (DESeq2)."""
    out = {}
    for name, r in results.items():
        r = dataclasses.replace(r, pvalue=np.where(removed, np.nan, r.pvalue))
        if now_zero.any():
            r = ContrastResult(
                *(
                    np.where(now_zero, value, x)
                    for value, x in zip((0.0, 0.0, 0.0, 1.0), dataclasses.astuple(r))
                )
            )
        out[name] = r
    return out


def fit_step(
    counts: np.ndarray,
    size_factors: np.ndarray,
    model: Model,
    shared: SharedFit,
    trend_json: dict,
    analysis: Analysis,
) -> dict[str, np.ndarray]:
    """Rule fit: reduced fit (LRT), Cook's handling and tests of one analysis for one shard
    (size_factors: (N,), or the shard's (G, N) normalization factors), on the MAP dispersions
    and full-design fit of `shared_fit_step`.

    Follows DESeq2 (DESeq + results); all-zero genes are skipped and reported as NaN.
    """
    trend = DispersionTrend.from_dict(trend_json["trend"])
    design = model.full.matrix
    n_samples, n_coef = design.shape
    n_genes, nz = counts.shape[0], shared.rows
    counts = np.ascontiguousarray(counts, dtype=float)[nz]
    size_factors = factor_rows(size_factors, nz)

    # 1. GLM fits with the MAP dispersions (prior = the trend and its variance): the full
    #    design's is shared, the reduced design's (LRT) made here
    fits = fit_genes(counts, size_factors, model, trend, trend_json, shared.genewise, shared.dispersions, shared.full,
                     shared.count_rows)
    # 2. Cook's distances of the full fit; an LRT uses the gene-wise step's mu, because DESeq2's
    #    nbinomLRT computes them before it stores the full model's mu (bounded at 0.5)
    cooks_mu = shared.genewise["mu"] if model.reduced is not None else fits.full.mu
    cooks = cooks_mod.cooks_distance(counts, cooks_mu, fits.full.hat, shared.cooks_dispersion, n_coef)
    max_cooks = cooks_mod.max_cooks(cooks, design)
    cutoff = cooks_mod.cooks_cutoff(n_samples, n_coef) if n_samples > n_coef else np.inf
    # 3. with enough replicates: replace outliers and refit those genes
    replacement = None
    if analysis.min_replicates_for_replace is not None and n_samples > n_coef:
        fits, replacement = replace_and_refit(
            fits,
            counts,
            size_factors,
            model,
            cooks,
            cutoff,
            analysis.min_replicates_for_replace,
            trend,
            trend_json,
        )
    if replacement is not None:
        max_cooks = cooks_mod.max_cooks_after_replacement(cooks, design, replacement.replaceable)
    # 4. Wald tests of the contrasts, or the LRT against the reduced design
    results = contrast_tests(fits, model, analysis, counts)
    # 5. Cook's filter on the p-values (results(cooksCutoff))
    removed = cooks_outliers(max_cooks, cutoff, analysis.cooks_cutoff, model, counts, cooks)
    none = np.zeros(nz.size, dtype=bool)
    results = apply_cooks_filter(results, removed, replacement.now_zero if replacement is not None else none)

    def full_length(values: np.ndarray, fill=np.nan, dtype=float) -> np.ndarray:
        arr = np.full((n_genes,) + values.shape[1:], fill, dtype=dtype)
        arr[nz] = values
        return arr

    return {
        "base_mean": full_length(fits.base_mean, 0.0),
        "disp_gene_est": full_length(fits.disp_gene_est),
        "disp_fit": full_length(fits.disp_fit),
        "dispersion": full_length(fits.dispersion),
        "disp_outlier": full_length(fits.disp_outlier.astype(float)),
        "max_cooks": full_length(max_cooks),
        # (G, N) of the first full fit, NaN rows for all-zero genes; single precision, since only
        # the Cook's plot reads them (half the bytes to write and read at 1,000 samples)
        "cooks": full_length(cooks, dtype=np.float32),
        "replaced": full_length((replacement.flagged if replacement is not None else none).astype(float)),
        "beta": full_length(fits.full.beta * LOG2E),
        "beta_se": full_length(fits.full.beta_se * LOG2E),
        "beta_conv": full_length(fits.full.converged.astype(float)),
        "n_counts_replaced": np.array(replacement.n_replaced if replacement is not None else 0),
        **to_arrays(
            {name: ContrastResult(*map(full_length, dataclasses.astuple(r))) for name, r in results.items()}
        ),
    }


def run_analysis(
    gene_id: np.ndarray,
    counts: np.ndarray,
    size_factors: np.ndarray,
    samples: pd.DataFrame,
    analysis: Analysis,
    genes_per_shard: int | None = None,
    covariates: Covariates | None = None,
) -> dict:
    """The workflow's steps for one analysis, in this process (for notebooks and tests).

    covariates : surrogate variables (SV1..SVk of each sample) joining the design, or None.

    Runs genewise and fit shard by shard exactly as the Snakemake jobs do, so the numbers
    are those of the workflow. size_factors : (N,) size factors or (G, N) normalization
    factors (e.g. `size_factors.normalization_factors` of tximport lengths). Returns
    {"tables": {name: DataFrame}, "dispersions": DataFrame, "trend": dict, "fit": dict of
    concatenated per-gene arrays}.
    """
    import pandas as pd

    from ..design.model import build_model  # the formula library: not imported by the jobs
    from .results import dispersion_table, results_table

    model = build_model(samples, analysis, covariates)
    design = model.full.matrix
    bounds = shard_bounds(len(gene_id), genes_per_shard or max(1, len(gene_id)))
    rows = [slice(b["start"], b["stop"]) for b in bounds]
    nonzero = np.asarray(counts).sum(axis=1) > 0
    xim = moments_xim(factor_rows(size_factors, nonzero))
    genewise = [genewise_step(counts[r], factor_rows(size_factors, r), design, xim) for r in rows]
    base_mean = np.concatenate([g["base_mean"] for g in genewise])
    disp = np.concatenate([g["disp_gene_est"] for g in genewise])
    trend_json = trend_step(base_mean, disp, analysis.fit_type, *design.shape)
    parts = []
    for r, g in zip(rows, genewise):
        factors = factor_rows(size_factors, r)
        shared = shared_fit_step(counts[r], factors, design, g, trend_json, log_like=model.reduced is not None)
        parts.append(fit_step(counts[r], factors, model, shared, trend_json, analysis))
    fit = concat_shards(parts)
    fit["gene_id"] = np.asarray(gene_id)
    tables = {name: pd.DataFrame(results_table(fit, analysis, name)[0]) for name in analysis.table_names}
    return {"tables": tables, "dispersions": pd.DataFrame(dispersion_table(fit)), "trend": trend_json, "fit": fit}
