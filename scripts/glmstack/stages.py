"""One function per workflow step, composing the statistics; arrays in, dicts of arrays out.

Entry scripts read files with `io`, call one of these, and write what they return.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import cooks as cooks_mod
from .io import concat_shards
from .constants import MIN_DISP, MIN_REPLICATES_FOR_REPLACE
from .design import Design, add_bins, build_design, resolve_contrast
from .errors import StudyError, preview
from .genewise import genewise_dispersion
from .irls import GlmFit, fit_nb_glm
from .lrt import likelihood_ratio_test
from .map_dispersion import map_dispersion
from .prior import dispersion_prior_variance, var_log_disp_ests
from .trend import DispersionTrend, fit_trend
from .wald import LOG2E, contrast_estimate, wald_test

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- designs


@dataclass(frozen=True)
class Model:
    """The designs and contrasts of one analysis, built from the sample sheet."""

    full: Design
    reduced: Design | None
    contrasts: list
    samples: pd.DataFrame


def build_model(samples: pd.DataFrame, analysis: dict) -> Model:
    """Design(s) and resolved contrasts of one analysis (samples in count-column order)."""
    samples, bin_levels = add_bins(samples, analysis.get("bins") or {}, "analysis")
    levels = {**bin_levels, **(analysis.get("levels") or {})}
    full = build_design(samples, analysis["design"], levels)
    reduced = build_design(samples, analysis["reduced"], levels) if analysis.get("test") == "lrt" else None
    contrasts = [
        resolve_contrast(full, name, spec, samples, "analysis")
        for name, spec in (analysis.get("contrasts") or {}).items()
    ]
    if not contrasts:
        # DESeq2's default: the last coefficient
        last = full.results_names[-1]
        contrasts = [resolve_contrast(full, "results", {"coef": last}, samples, "analysis")]
    return Model(full, reduced, contrasts, samples)


# ---------------------------------------------------------------- gene-wise


def base_mean_var(counts: np.ndarray, size_factors: np.ndarray):
    """baseMean (rounded as R's rowMeans) and variance of normalised counts per gene."""
    from .size_factors import base_means

    normalized = counts / size_factors
    return base_means(counts, size_factors), normalized.var(axis=1, ddof=1)


def genewise_shard(counts: np.ndarray, size_factors: np.ndarray, design: np.ndarray) -> dict[str, np.ndarray]:
    """Rule genewise: baseMean and gene-wise dispersion of every gene of one shard.

    All-zero genes get NaN estimates; `mu` (G, N) is NaN on their rows.
    """
    # C order: row reductions then round the same way whatever the caller's layout
    counts = np.ascontiguousarray(counts, dtype=float)
    n_genes, n_samples = counts.shape
    base_mean, base_var = base_mean_var(counts, size_factors)
    all_zero = counts.sum(axis=1) == 0
    nz = ~all_zero
    fit = genewise_dispersion(counts[nz], size_factors, design)
    disp = np.full(n_genes, np.nan)
    disp[nz] = fit.disp
    mu = np.full((n_genes, n_samples), np.nan)
    mu[nz] = fit.mu
    iterations = np.zeros(n_genes, dtype=int)
    iterations[nz] = fit.iterations
    converged = np.zeros(n_genes, dtype=bool)
    converged[nz] = fit.converged
    return {
        "base_mean": base_mean,
        "base_var": base_var,
        "all_zero": all_zero,
        "disp_gene_est": disp,
        "disp_gene_iter": iterations,
        "disp_gene_conv": converged,
        "mu": mu,
    }


# ---------------------------------------------------------------- trend + prior


def trend_and_prior(base_mean: np.ndarray, disp_gene_est: np.ndarray, fit_type: str, n_samples: int, n_coef: int) -> dict:
    """Rule trend: the dispersion trend and the prior variance, from all non-zero genes."""
    nz = ~np.isnan(disp_gene_est)
    trend = fit_trend(base_mean[nz], disp_gene_est[nz], fit_type)
    disp_fit = trend.evaluate(base_mean[nz])
    above = disp_gene_est[nz] >= 100 * MIN_DISP
    residuals = np.log(disp_gene_est[nz][above]) - np.log(disp_fit[above])
    var_log = var_log_disp_ests(residuals)
    prior_var = dispersion_prior_variance(residuals, n_samples, n_coef)
    log.info("trend %s (requested %s), prior variance %.4g", trend.fit_type, fit_type, prior_var)
    return {"trend": trend_to_dict(trend), "var_log_disp_ests": var_log, "prior_var": prior_var}


def trend_to_dict(trend: DispersionTrend) -> dict:
    out = {"fit_type": trend.fit_type, "requested": trend.requested, "coefficients": trend.coefficients}
    if trend.local is not None:
        out["local"] = trend.local.to_dict()
    return out


def trend_from_dict(obj: dict) -> DispersionTrend:
    from .locfit import LocalFit

    local = LocalFit.from_dict(obj["local"]) if obj.get("local") else None
    return DispersionTrend(obj["fit_type"], obj["requested"], dict(obj["coefficients"]), local)


# ---------------------------------------------------------------- fit + tests


@dataclass(frozen=True)
class TestSettings:
    """What the fit step needs to know beyond the data (from the study's analysis)."""

    test: str = "wald"
    alpha: float = 0.1
    lfc_threshold: float = 0.0
    alt_hypothesis: str = "greaterAbs"
    cooks_cutoff: bool | float = True
    min_replicates_for_replace: int | None = MIN_REPLICATES_FOR_REPLACE


@dataclass(frozen=True)
class _GeneFits:
    """Per-gene estimates for a set of non-zero genes."""

    base_mean: np.ndarray
    disp_gene_est: np.ndarray
    disp_fit: np.ndarray
    dispersion: np.ndarray
    disp_outlier: np.ndarray
    full: GlmFit
    reduced: GlmFit | None


def _fit_genes(counts, sf, model: Model, trend: DispersionTrend, prior: dict, genewise: dict | None = None) -> _GeneFits:
    """MAP dispersions and GLM fits; `genewise` (base_mean, mu, disp_gene_est) when the
    gene-wise step already ran on these counts, else it runs here."""
    design = model.full.matrix
    if genewise is not None:
        base_mean, mu, disp_gene_est = genewise["base_mean"], genewise["mu"], genewise["disp_gene_est"]
    else:
        base_mean, _ = base_mean_var(counts, sf)
        gw = genewise_dispersion(counts, sf, design)
        mu, disp_gene_est = gw.mu, gw.disp
    disp_fit = trend.evaluate(base_mean)
    fit = map_dispersion(counts, mu, design, disp_gene_est, disp_fit, prior["prior_var"], prior["var_log_disp_ests"])
    # log likelihoods only for the LRT
    full = fit_nb_glm(counts, sf, design, fit.disp, log_like=model.reduced is not None)
    reduced = fit_nb_glm(counts, sf, model.reduced.matrix, fit.disp) if model.reduced is not None else None
    return _GeneFits(base_mean, disp_gene_est, disp_fit, fit.disp, fit.outlier, full, reduced)


def _single_two_level_factor(model: Model) -> bool:
    design = model.full
    variables = list(design.factors) + design.numeric
    return len(variables) == 1 and len(design.factors.get(variables[0], [])) == 2


def fit_shard(
    counts: np.ndarray,
    size_factors: np.ndarray,
    model: Model,
    genewise: dict[str, np.ndarray],
    trend_json: dict,
    settings: TestSettings,
) -> dict[str, np.ndarray]:
    """Rule fit: MAP dispersions, GLM fit(s), Cook's handling and tests for one shard.

    Follows DESeq2 (DESeq + results): Cook's distances from the full fit; with >= 7
    replicates in some design cell, counts with Cook's distance above the F(0.99; p, m-p)
    cutoff are replaced (replaceable samples only) by the 20 %-trimmed mean and the flagged
    genes are refitted (gene-wise and MAP dispersion, GLM) with the genome-wide trend and
    prior; p-values of genes whose max Cook's distance exceeds the cutoff become NaN.
    """
    trend = trend_from_dict(trend_json["trend"])
    counts = np.ascontiguousarray(counts, dtype=float)
    design = model.full.matrix
    n_samples, n_coef = design.shape
    n_genes = counts.shape[0]
    all_zero = genewise["all_zero"].astype(bool)
    nz = np.flatnonzero(~all_zero)
    c_nz = counts[nz]
    fits = _fit_genes(
        c_nz, size_factors, model, trend, trend_json, {k: genewise[k][nz] for k in ("base_mean", "mu", "disp_gene_est")}
    )

    normalized = c_nz / size_factors
    # DESeq2's nbinomLRT computes Cook's distances before it stores the full model's mu, so
    # an LRT uses the gene-wise step's mu (bounded at 0.5); the Wald test uses the fit's mu
    cooks_mu = genewise["mu"][nz] if model.reduced is not None else fits.full.mu
    cooks = cooks_mod.cooks_distance(c_nz, cooks_mu, fits.full.hat, normalized, design)
    max_cooks = cooks_mod.max_cooks(cooks, design)
    cutoff = cooks_mod.cooks_cutoff(n_samples, n_coef) if n_samples > n_coef else np.inf

    replaced = np.zeros(nz.size, dtype=bool)
    n_counts_replaced = 0
    now_zero = np.zeros(nz.size, dtype=bool)
    min_rep = settings.min_replicates_for_replace
    if min_rep is not None and n_samples > n_coef:
        replaceable = cooks_mod.n_or_more_in_cell(design, min_rep)
        if replaceable.any():
            with np.errstate(invalid="ignore"):
                flagged = np.any(cooks > cutoff, axis=1)
                outlier_cells = (cooks > cutoff) & replaceable[None, :]
            new_counts = np.where(
                outlier_cells, cooks_mod.replacement_counts(normalized, size_factors), c_nz
            )
            n_counts_replaced = int(np.sum(new_counts != c_nz))
            replaced = flagged
            now_zero = flagged & (new_counts.sum(axis=1) == 0)
            refit = np.flatnonzero(flagged & ~now_zero)
            if refit.size:
                log.info("replacing outliers and refitting %d genes", refit.size)
                sub = _fit_genes(new_counts[refit], size_factors, model, trend, trend_json)
                fits = _merge_refit(fits, sub, refit)
            if replaceable.all():
                max_cooks = np.full(nz.size, np.nan)
            else:
                max_cooks = cooks_mod.max_cooks(np.where(replaceable[None, :], 0.0, cooks), design)
            if n_counts_replaced:
                base_mean_new, _ = base_mean_var(new_counts, size_factors)
                fits = dataclasses.replace(fits, base_mean=base_mean_new)

    out: dict[str, np.ndarray] = {}

    def full_length(values: np.ndarray, fill=np.nan) -> np.ndarray:
        arr = np.full((n_genes,) + values.shape[1:], fill, dtype=float)
        arr[nz] = values
        return arr

    out["base_mean"] = full_length(fits.base_mean, 0.0)
    out["disp_gene_est"] = full_length(fits.disp_gene_est)
    out["disp_fit"] = full_length(fits.disp_fit)
    out["dispersion"] = full_length(fits.dispersion)
    out["disp_outlier"] = full_length(fits.disp_outlier.astype(float))
    out["max_cooks"] = full_length(max_cooks)
    out["cooks"] = full_length(cooks)  # (G, N) of the first full fit; NaN rows for all-zero genes
    out["replaced"] = full_length(replaced.astype(float))
    out["beta"] = full_length(fits.full.beta * LOG2E)
    out["beta_se"] = full_length(fits.full.beta_se * LOG2E)
    out["beta_conv"] = full_length(fits.full.converged.astype(float))
    out["n_counts_replaced"] = np.array(n_counts_replaced)

    with np.errstate(invalid="ignore"):
        cooks_outlier = max_cooks > (cutoff if settings.cooks_cutoff is True else float(settings.cooks_cutoff))
    if settings.cooks_cutoff is False:
        cooks_outlier[:] = False
    if cooks_outlier.any() and _single_two_level_factor(model):
        kept = cooks_mod.low_count_outlier_kept(c_nz[cooks_outlier], cooks[cooks_outlier])
        cooks_outlier[np.flatnonzero(cooks_outlier)[kept]] = False

    if model.reduced is not None:
        df = n_coef - model.reduced.matrix.shape[1]
        lrt_stat, lrt_p = likelihood_ratio_test(fits.full.log_like, fits.reduced.log_like, df)

    for k, contrast in enumerate(model.contrasts):
        lfc, se = contrast_estimate(fits.full.beta, fits.full.covariance, contrast.vector)
        if model.reduced is None:
            stat, pvalue = wald_test(lfc, se, settings.lfc_threshold, settings.alt_hypothesis)
        else:
            stat, pvalue = lrt_stat.copy(), lrt_p.copy()
        if contrast.zero_samples is not None:
            zero = c_nz[:, contrast.zero_samples].sum(axis=1) == 0
            lfc = np.where(zero, 0.0, lfc)
            if model.reduced is None:
                stat = np.where(zero, 0.0, stat)
                pvalue = np.where(zero, 1.0, pvalue)
        pvalue = np.where(cooks_outlier, np.nan, pvalue)
        if now_zero.any():
            lfc, se, stat, pvalue = (np.where(now_zero, v, x) for v, x in zip((0.0, 0.0, 0.0, 1.0), (lfc, se, stat, pvalue)))
        out[f"lfc_{k}"] = full_length(lfc)
        out[f"lfc_se_{k}"] = full_length(se)
        out[f"stat_{k}"] = full_length(stat)
        out[f"pvalue_{k}"] = full_length(pvalue)
    return out


def _merge_refit(fits: _GeneFits, sub: _GeneFits, idx: np.ndarray) -> _GeneFits:
    def put(a, b):
        a = a.copy()
        a[idx] = b
        return a

    def put_fit(a: GlmFit | None, b: GlmFit | None) -> GlmFit | None:
        if a is None or b is None:
            return a
        return GlmFit(*(put(getattr(a, f), getattr(b, f)) for f in GlmFit.__dataclass_fields__))

    return _GeneFits(
        base_mean=put(fits.base_mean, sub.base_mean),
        disp_gene_est=put(fits.disp_gene_est, sub.disp_gene_est),
        disp_fit=put(fits.disp_fit, sub.disp_fit),
        dispersion=put(fits.dispersion, sub.dispersion),
        disp_outlier=put(fits.disp_outlier, sub.disp_outlier),
        full=put_fit(fits.full, sub.full),
        reduced=put_fit(fits.reduced, sub.reduced),
    )


# ---------------------------------------------------------------- merge

RESULT_COLUMNS = ["gene_id", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]


def merge_contrast(fit: dict[str, np.ndarray], k: int, alpha: float) -> tuple[pd.DataFrame, dict]:
    """Rule merge, one contrast: independent filtering and BH over all genes of the study.

    `fit` holds the fit shards concatenated in input order. Returns the results table and
    a summary (genes tested, significant, filter threshold) for model.json.
    """
    from .filtering import independent_filtering

    pvalue = fit[f"pvalue_{k}"]
    filtered = independent_filtering(fit["base_mean"], pvalue, alpha)
    table = pd.DataFrame(
        {
            "gene_id": fit["gene_id"],
            "baseMean": fit["base_mean"],
            "log2FoldChange": fit[f"lfc_{k}"],
            "lfcSE": fit[f"lfc_se_{k}"],
            "stat": fit[f"stat_{k}"],
            "pvalue": pvalue,
            "padj": filtered.padj,
        }
    )
    summary = {
        "n_tested": int(np.sum(~np.isnan(pvalue))),
        "n_significant": int(np.sum(filtered.padj < alpha)),
        "n_filtered": int(np.sum(~np.isnan(pvalue) & np.isnan(filtered.padj))),
        "filter_theta": filtered.theta,
        "filter_threshold": filtered.threshold,
    }
    return table, summary


def dispersion_table(fit: dict[str, np.ndarray]) -> pd.DataFrame:
    """dispersions.tsv: gene_id, baseMean, dispGeneEst, dispFit, dispersion, dispOutlier, maxCooks."""
    outlier = fit["disp_outlier"]
    return pd.DataFrame(
        {
            "gene_id": fit["gene_id"],
            "baseMean": fit["base_mean"],
            "dispGeneEst": fit["disp_gene_est"],
            "dispFit": fit["disp_fit"],
            "dispersion": fit["dispersion"],
            "dispOutlier": pd.array(np.where(np.isnan(outlier), None, outlier == 1), dtype="boolean"),
            "maxCooks": fit["max_cooks"],
        }
    )


# ---------------------------------------------------------------- validate


AUTO_SHARD_COUNTS = 10_000_000  # counts per shard at most: ~10 s of work per job, ~1 GB of memory


def auto_genes_per_shard(n_genes: int, n_samples: int) -> int:
    """Shard size from the matrix alone (never from the cores, so reruns plan the same jobs).

    The number of shards is the smallest power of two that keeps shards at or below about
    10 million counts (each job's work then outweighs its start-up) and, for matrices of 1000
    genes or more, at least two; a power of two so that the shards of a step split evenly over
    2, 4, 8, ... cores, without a last round where one job runs alone.
    """
    if n_genes < 1000:
        return max(1, n_genes)
    n_shards = 2
    while n_shards * AUTO_SHARD_COUNTS < n_genes * n_samples:
        n_shards *= 2
    return -(-n_genes // n_shards)


def shard_bounds(n_genes: int, genes_per_shard: int) -> list[dict]:
    """Contiguous gene ranges; ids zero-padded so name order is numeric order."""
    n_shards = max(1, -(-n_genes // genes_per_shard))
    return [
        {"id": f"{i:04d}", "start": i * genes_per_shard, "stop": min(n_genes, (i + 1) * genes_per_shard)}
        for i in range(n_shards)
    ]


def study_size_factors(counts: np.ndarray, samples: list[str], method: str, given: pd.Series | None, where: str) -> np.ndarray:
    """Size factors from the counts, or the user's table aligned to the count columns."""
    from .size_factors import size_factors

    if given is None:
        return size_factors(counts, method)
    missing = [s for s in samples if s not in given.index]
    if missing:
        raise StudyError(f"{where}: no size factor for samples {preview(missing)}. Fix: add a row per sample.")
    values = given.loc[samples].to_numpy(dtype=float)
    bad = [s for s, v in zip(samples, values) if not np.isfinite(v) or v <= 0]
    if bad:
        raise StudyError(f"{where}: size factors must be positive numbers; check samples {preview(bad)}.")
    return values


def zero_samples(counts: np.ndarray, samples: list[str], where: str) -> None:
    """Refuse an all-zero matrix and samples whose counts are all zero."""
    if counts.shape[0] == 0 or not counts.any():
        raise StudyError(f"{where}: every count is zero (or there are no features); nothing to fit.")
    empty = [s for s, total in zip(samples, counts.sum(axis=0)) if total == 0]
    if empty:
        raise StudyError(
            f"{where}: sample(s) {preview(empty)} have zero counts for every feature. "
            "Fix: leave them out with `exclude_samples:` in the study YAML."
        )


def settings_from(analysis: dict) -> TestSettings:
    """Test settings of one analysis (schema defaults already filled in)."""
    return TestSettings(
        test=analysis.get("test", "wald"),
        alpha=analysis.get("alpha", 0.1),
        lfc_threshold=float(analysis.get("lfc_threshold", 0.0)),
        alt_hypothesis=analysis.get("alt_hypothesis", "greaterAbs"),
        cooks_cutoff=analysis.get("cooks_cutoff", True),
        min_replicates_for_replace=analysis.get("min_replicates_for_replace", MIN_REPLICATES_FOR_REPLACE),
    )


def results_table(fit: dict[str, np.ndarray], params: dict) -> tuple[pd.DataFrame, dict]:
    """Rule results_table: the table named params["table"] (a contrast, or "lrt").

    For an LRT the statistic and p-value are the LRT's; log2FoldChange and lfcSE are the
    first contrast's, and further contrasts add log2FoldChange_<name>, lfcSE_<name> columns.
    """
    names = params["contrasts"]
    k = 0 if params["table"] == "lrt" else names.index(params["table"])
    table, summary = merge_contrast(fit, k, params["alpha"])
    if params["table"] == "lrt":
        summary["log2FoldChange_refers_to"] = names[0]
        for j, name in enumerate(names[1:], start=1):
            table[f"log2FoldChange_{name}"] = fit[f"lfc_{j}"]
            table[f"lfcSE_{name}"] = fit[f"lfc_se_{j}"]
    summary["table"] = params["table"]
    return table, summary


def model_summary(samples: pd.DataFrame, analysis: dict, fit: dict, trend_json: dict, manifest: dict, summaries: list) -> dict:
    """model.json: formulas, design columns (both namings), size factors, trend, prior, counts."""
    import platform
    from importlib.metadata import version  # no need to import statsmodels (slow) for it

    from . import __version__

    model = build_model(samples, analysis)

    def columns(design: Design) -> list[dict]:
        return [
            {"formula_name": c, "r_name": r, "deseq2_name": d}
            for c, r, d in zip(design.columns, design.r_names, design.results_names)
        ]

    return {
        "design": analysis["design"],
        "reduced": analysis.get("reduced"),
        "test": analysis.get("test", "wald"),
        "design_columns": columns(model.full),
        "reduced_columns": columns(model.reduced) if model.reduced is not None else None,
        "contrasts": [
            {"name": c.name, "description": c.description, "vector": c.vector.tolist()} for c in model.contrasts
        ],
        "size_factors": dict(zip(manifest["samples"], manifest["size_factors"])),
        "trend": {
            "fit_type_requested": trend_json["trend"]["requested"],
            "fit_type": trend_json["trend"]["fit_type"],
            "coefficients": trend_json["trend"]["coefficients"],
        },
        "prior_variance": trend_json["prior_var"],
        "var_log_disp_ests": trend_json["var_log_disp_ests"],
        "n_genes": int(len(fit["gene_id"])),
        "n_all_zero": int(np.sum(fit["base_mean"] == 0)),
        "n_dispersion_outliers": int(np.nansum(fit["disp_outlier"])),
        "n_not_converged": int(np.sum(fit["beta_conv"] == 0)),
        "not_converged_genes": [str(g) for g in fit["gene_id"][fit["beta_conv"] == 0][:100]],
        "n_cooks_replaced_genes": int(np.nansum(fit["replaced"])),
        "n_counts_replaced": int(fit["n_counts_replaced"]),
        "results": summaries,
        "settings": {k: v for k, v in analysis.items() if k not in ("design", "reduced", "contrasts")},
        "versions": {
            "glmstack": __version__,
            "python": platform.python_version(),
            **{package: version(package) for package in ("numpy", "scipy", "statsmodels", "pandas", "formulaic")},
        },
    }


# ---------------------------------------------------------------- in memory


def run_analysis(
    gene_id: np.ndarray,
    counts: np.ndarray,
    size_factors: np.ndarray,
    samples: pd.DataFrame,
    analysis: dict,
    genes_per_shard: int | None = None,
) -> dict:
    """The workflow's steps for one analysis, in this process (for notebooks and tests).

    Runs genewise and fit shard by shard exactly as the Snakemake jobs do, so the numbers
    are those of the workflow. Returns {"tables": {name: DataFrame}, "dispersions":
    DataFrame, "trend": dict, "fit": dict of concatenated per-gene arrays}.
    """
    analysis = {"test": "wald", "fit_type": "parametric", "alpha": 0.1, **analysis}
    model = build_model(samples, analysis)
    design = model.full.matrix
    bounds = shard_bounds(len(gene_id), genes_per_shard or max(1, len(gene_id)))
    genewise = [genewise_shard(counts[b["start"] : b["stop"]], size_factors, design) for b in bounds]
    base_mean = np.concatenate([g["base_mean"] for g in genewise])
    disp = np.concatenate([g["disp_gene_est"] for g in genewise])
    trend_json = trend_and_prior(base_mean, disp, analysis["fit_type"], *design.shape)
    settings = settings_from(analysis)
    parts = [
        fit_shard(counts[b["start"] : b["stop"]], size_factors, model, g, trend_json, settings)
        for b, g in zip(bounds, genewise)
    ]
    fit = concat_shards(parts)
    fit["gene_id"] = np.asarray(gene_id)
    names = [c.name for c in model.contrasts]
    params = {"alpha": analysis["alpha"], "contrasts": names}
    tables = {}
    for table in (["lrt"] if analysis["test"] == "lrt" else names):
        tables[table], _ = results_table(fit, {**params, "table": table})
    return {"tables": tables, "dispersions": dispersion_table(fit), "trend": trend_json, "fit": fit}
