"""Shrunken log2 fold changes with a zero-centred normal prior (DESeq2 1.38 lfcShrink type "normal").

Love, Huber & Anders (2014), "Empirical Bayes shrinkage of logarithmic fold changes": every
coefficient but the intercept gets a normal prior N(0, s_j^2) whose variance matches the upper
tail of the maximum-likelihood fold changes of all genes; the GLM is refitted per gene with
that prior as a ridge, the MAP dispersions fixed, and the contrast read from the refit.

Two steps, as the workflow runs them:
    beta_prior_variance (genome-wide)  prior variances from every gene's MLE fold changes
    shrink_fit          (per shard)    the penalised refit and each contrast's shrunken
                                       fold change and standard error
The jobs' step functions (`shrink_prior_step`, `shrink_step`) also run lfc_shrink: apeglm,
whose method is in nb/apeglm.py.

A contrast [factor, numerator, denominator] is shrunk on DESeq2's *expanded* design (an
indicator column for every level of every factor, beside the intercept), so the prior treats
all levels alike; a {coef: NAME} contrast on the design as it stands (DESeq2's "standard"
model matrix). DESeq2 defines no normal shrinkage for designs with interactions or for numeric
contrast vectors over the standard columns; study.py refuses both.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from ..constants import BETA_PRIOR_MAX_ABS_LFC, BETA_PRIOR_UPPER_QUANTILE, BETA_PRIOR_WIDE_VAR
from ..design.contrasts import Contrast
from ..design.formula import Design, factor_level, r_make_names
from ..inference.record import array_key, from_arrays
from ..inference.wald import contrast_estimate
from ..spec import Analysis
from . import apeglm
from .irls import LOG2, fit_nb_glm
from .size_factors import factor_rows

if TYPE_CHECKING:
    from ..design.model import Model

log = logging.getLogger(__name__)

INTERCEPT_TERM = "1"  # formulaic's label of the intercept term


@dataclass(frozen=True)
class PriorBasis:
    """The columns a normal prior is put on.

    matrix : (N, Q) the design the penalised refit uses (standard, or expanded for factors).
    names : DESeq2's names of its columns (`Intercept`, `tissueLiver`, `run_R2_vs_R1`, ...).
    sources : per column, where its prior variance comes from: ("intercept", j) the wide prior;
        ("column", j) the MLE fold changes of standard column j; ("factor", f) the mean over
        factor f's standard columns and all their pairwise differences (expanded only).
    factor_columns : factor -> its main-effect columns of the standard design.
    level_columns : (factor, level) -> its indicator column (expanded only).
    expanded : True for DESeq2's expanded model matrix.
    """

    matrix: np.ndarray
    names: list[str]
    sources: list[tuple[str, object]]
    factor_columns: dict[str, list[int]]
    level_columns: dict[tuple[str, str], int]
    expanded: bool


def _factor_terms(design: Design) -> dict[str, list[int]]:
    return {label: cols for label, cols in design.terms.items() if label in design.factors}


def has_interaction(design: Design) -> bool:
    """The design has a term of more than one variable (DESeq2: attr(terms, "order") > 1)."""
    return any(":" in label for label in design.terms)


def prior_basis(design: Design, expanded: bool) -> PriorBasis:
    """The standard design, or DESeq2's expanded one (makeExpandedModelMatrix).

    Expanded: the intercept and numeric columns stay; the main-effect columns of each factor
    become one indicator column per level (the reference level's is one minus the others
    where the design codes the factor against it). Column order follows the design's terms.
    """
    if has_interaction(design):
        raise ValueError(f"normal shrinkage is not defined for a design with interactions ({design.formula})")
    factor_cols = _factor_terms(design)
    matrix = design.matrix
    columns, names, sources = [], [], []
    level_columns = {}
    for label, cols in design.terms.items():
        if expanded and label in factor_cols:
            levels = design.factors[label]
            by_level = {factor_level(design.columns[j], {label: levels})[1]: j for j in cols}
            coded = matrix[:, cols].sum(axis=1)
            for level in levels:
                level_columns[(label, level)] = len(columns)
                columns.append(matrix[:, by_level[level]] if level in by_level else 1.0 - coded)
                names.append(r_make_names(f"{label}{level}"))
                sources.append(("factor", label))
            continue
        for j in cols:
            columns.append(matrix[:, j])
            names.append(r_make_names(design.r_names[j]) if expanded else design.results_names[j])
            sources.append(("intercept" if label == INTERCEPT_TERM else "column", j))
    if expanded:
        names = ["Intercept" if s[0] == "intercept" else n for n, s in zip(names, sources)]
    return PriorBasis(np.column_stack(columns), names, sources, factor_cols, level_columns, expanded)


def weighted_upper_quantile(x: np.ndarray, weights: np.ndarray, prob: float) -> float:
    """Weighted quantile as Hmisc's wtd.quantile(type = "quantile", normwt = TRUE), which
    DESeq2 carries as Hmisc.wtd.quantile.

    Weights are rescaled to sum to the number of values; the quantile interpolates between the
    order statistics at cumulative weight floor(1 + (n - 1) p) and the next one, each being the
    smallest value whose cumulative weight reaches that position.
    """
    keep = ~np.isnan(x + weights) & (weights != 0)
    x, weights = x[keep], weights[keep]
    weights = weights * x.size / weights.sum()
    values, index = np.unique(x, return_inverse=True)  # sorted; ties pool their weights
    cumulative = np.cumsum(np.bincount(index, weights))
    n = float(np.sum(weights))
    position = 1.0 + (n - 1.0) * prob
    low = max(np.floor(position), 1.0)
    high = min(low + 1.0, n)
    frac = position % 1.0

    def at(v: float) -> float:
        return float(values[min(int(np.searchsorted(cumulative, v, side="left")), values.size - 1)])

    return (1.0 - frac) * at(low) + frac * at(high)


def _column_prior_variance(lfc: np.ndarray, weights: np.ndarray) -> float:
    """DESeq2's matchWeightedUpperQuantileForVariance on one column of MLE log2 fold changes:
    the variance of the zero-centred normal whose upper 5 % two-sided quantile equals the
    weighted 95 % quantile of |LFC| (genes with |LFC| < 10 only; none: the wide prior)."""
    with np.errstate(invalid="ignore"):
        finite = np.abs(lfc) < BETA_PRIOR_MAX_ABS_LFC
    if not finite.any():
        return BETA_PRIOR_WIDE_VAR
    q = weighted_upper_quantile(np.abs(lfc[finite]), weights[finite], 1.0 - BETA_PRIOR_UPPER_QUANTILE)
    return float((q / ndtri(1.0 - BETA_PRIOR_UPPER_QUANTILE / 2.0)) ** 2)


def beta_prior_variance(
    mle_lfc: np.ndarray, base_mean: np.ndarray, disp_fit: np.ndarray, basis: PriorBasis
) -> np.ndarray:
    """Prior variance of each column of `basis` (DESeq2 estimateBetaPriorVar, "weighted").

    Parameters
    ----------
    mle_lfc : (G, P) MLE log2 coefficients of the standard design, genes with counts only.
    base_mean, disp_fit : (G,) baseMean and trend dispersion; a gene weighs 1/(1/baseMean +
        dispFit), the inverse of the approximate variance of its log count.

    Returns
    -------
    (Q,) log2-scale prior variances: the intercept 1e6; other columns from their own MLEs;
    in the expanded basis every level of a factor gets the mean of the variances of the
    factor's coded columns and of all their pairwise differences (averagePriorsOverLevels).
    A single gene gives its squared coefficients, as DESeq2 does.
    """
    weights = 1.0 / (1.0 / base_mean + disp_fit)

    def variance(lfc: np.ndarray) -> float:
        return float(lfc[0] ** 2) if lfc.size == 1 else _column_prior_variance(lfc, weights)

    standard = [variance(mle_lfc[:, j]) for j in range(mle_lfc.shape[1])]
    out = np.empty(len(basis.sources))
    for q, (kind, ref) in enumerate(basis.sources):
        if kind == "intercept":
            out[q] = BETA_PRIOR_WIDE_VAR
        elif kind == "column":
            out[q] = standard[ref]
        else:
            cols = basis.factor_columns[ref]
            pairs = [variance(mle_lfc[:, i] - mle_lfc[:, j]) for j, i in itertools.combinations(cols, 2)]
            out[q] = np.mean([standard[j] for j in cols] + pairs)
    return out


@dataclass(frozen=True)
class ShrunkContrast:
    """(G,) shrunken log2 fold change and its standard error (NaN for all-zero genes)."""

    lfc: np.ndarray
    lfc_se: np.ndarray


def start_values(counts: np.ndarray, size_factors: np.ndarray, basis: PriorBasis) -> np.ndarray | None:
    """DESeq2 fitNbinomGLMs' start for a design that is not full rank (the expanded one):
    zeros with the intercept at log of the mean normalised count (all ones without an
    intercept). None for a full-rank design: the least-squares start of `fit_nb_glm`."""
    p = basis.matrix.shape[1]
    if np.linalg.matrix_rank(basis.matrix) == p:
        return None
    intercept = [q for q, s in enumerate(basis.sources) if s[0] == "intercept"]
    if not intercept:
        return np.ones((counts.shape[0], p))
    beta = np.zeros((counts.shape[0], p))
    with np.errstate(divide="ignore"):
        beta[:, intercept[0]] = np.log((counts / size_factors).mean(axis=1))
    return beta


def shrink_fit(
    counts: np.ndarray,
    size_factors: np.ndarray,
    disp: np.ndarray,
    basis: PriorBasis,
    prior_var: np.ndarray,
    contrasts: list[tuple[Contrast, np.ndarray]],
) -> dict[str, ShrunkContrast]:
    """MAP fit with the normal prior and each contrast's shrunken LFC and SE.

    Parameters
    ----------
    counts : (G, N) counts of genes with counts (the original counts: DESeq2 keeps them in
        counts(dds) after replacing outliers, and lfcShrink refits those); size_factors : (N,).
    disp : (G,) the final (MAP) dispersions.
    basis, prior_var : the design of the refit and its (Q,) log2-scale prior variances.
    contrasts : (contrast, (Q,) weights over the basis columns).

    Returns
    -------
    name -> ShrunkContrast. The SE is DESeq2's sandwich (X'WX + L)^-1 X'WX (X'WX + L)^-1 at
    the MAP coefficients with L the prior's ridge; a contrast whose compared samples all have
    zero counts reports LFC 0 (DESeq2 results).
    """
    ridge = 1.0 / (prior_var * LOG2**2)  # the prior on log2 coefficients as a natural-log ridge
    start = start_values(counts, size_factors, basis)
    fit = fit_nb_glm(counts, size_factors, basis.matrix, disp, ridge=ridge, beta_start=start, log_like=False)
    n_failed = int(np.sum(~fit.converged))
    if n_failed:
        log.info("%d genes did not converge in the shrinkage refit", n_failed)
    out = {}
    for contrast, weights in contrasts:
        lfc, se = contrast_estimate(fit.beta, fit.covariance, weights)
        if contrast.zero_samples is not None:
            lfc = np.where(counts[:, contrast.zero_samples].sum(axis=1) == 0, 0.0, lfc)
        out[contrast.name] = ShrunkContrast(lfc, se)
    return out


def basis_contrast(contrast: Contrast, basis: PriorBasis, spec) -> np.ndarray:
    """The contrast's weights over the basis columns.

    [factor, numerator, denominator] on the expanded basis: +1 and -1 on the two levels'
    indicator columns; {coef: NAME} on the standard basis: the design's own weights.
    """
    if not basis.expanded:
        return contrast.vector
    factor, num, den = (str(s) for s in spec)
    weights = np.zeros(len(basis.names))
    for level, w in ((num, 1.0), (den, -1.0)):
        weights[basis.level_columns[(factor, level)]] += w
    return weights


def uses_expanded(spec) -> bool:
    """DESeq2's lfcShrink(contrast = c(factor, num, den)) uses the expanded design; coef, the standard one."""
    return isinstance(spec, (list, tuple))


def needed_bases(analysis: Analysis) -> list[str]:
    """The refits an analysis's contrasts need: "expanded" ([factor, num, den]) and/or
    "standard" ({coef: NAME}, and the default contrast, the last coefficient)."""
    specs = [(analysis.contrasts or {}).get(name) for name in analysis.contrast_names]
    kinds = {"expanded" if uses_expanded(spec) else "standard" for spec in specs}
    return [kind for kind in ("expanded", "standard") if kind in kinds]


def apeglm_coefficient(contrast: Contrast) -> int | None:
    """The design column a contrast is, when it is one (weight 1 on one column), else None:
    apeglm shrinks one coefficient (DESeq2's lfcShrink(coef = ..., type = "apeglm"))."""
    nonzero = np.flatnonzero(contrast.vector)
    return int(nonzero[0]) if nonzero.size == 1 and contrast.vector[nonzero[0]] == 1.0 else None


def shrink_prior_step(fit: dict[str, np.ndarray], model: Model, analysis: Analysis) -> dict:
    """Rule shrink_prior (genome-wide): the prior of every refit the analysis needs.

    fit : the analysis's fit shards concatenated (beta: (G, P) log2 MLEs, base_mean, disp_fit;
    for apeglm each contrast's estimate and std_error, the table's log2FoldChange and lfcSE).
    normal: genes with counts enter (baseMean > 0, after any outlier replacement, as DESeq2's
    allZero); returns {kind: {"columns": names, "prior_variance": [...]}} for kind in
    needed_bases. apeglm: {"apeglm": {contrast: {"coef": j, "column": name,
    "prior_scale": S}}} from the genes with a fold change.
    """
    design = model.full
    if analysis.lfc_shrink == "apeglm":
        out = {}
        for contrast in model.contrasts:
            j = apeglm_coefficient(contrast)
            if j is None:
                raise ValueError(f"contrast {contrast.name!r} is not one coefficient; apeglm shrinks one")
            result = from_arrays(fit, contrast.name)
            scale = apeglm.prior_scale(result.estimate, result.std_error)
            out[contrast.name] = {"coef": j, "column": design.results_names[j], "prior_scale": scale}
            log.info("apeglm %s (%s): Cauchy prior scale %.6g", contrast.name, design.results_names[j], scale)
        return {"apeglm": out}
    with_counts = fit["base_mean"] > 0
    out = {}
    for kind in needed_bases(analysis):
        basis = prior_basis(design, expanded=kind == "expanded")
        var = beta_prior_variance(
            fit["beta"][with_counts], fit["base_mean"][with_counts], fit["disp_fit"][with_counts], basis
        )
        out[kind] = {"columns": basis.names, "prior_variance": var.tolist()}
        log.info("%s prior variances: %s", kind, ", ".join(f"{n} {v:.4g}" for n, v in zip(basis.names, var)))
    return out


def shrink_step(
    counts: np.ndarray,
    size_factors: np.ndarray,
    model: Model,
    fit: dict[str, np.ndarray],
    prior: dict,
    analysis: Analysis,
) -> dict[str, np.ndarray]:
    """Rule shrink (per shard): shrunken LFC and SE of every contrast of one shard.

    counts : (G, N) the shard's counts; fit : its fit file's arrays (base_mean, dispersion;
    beta, the MLE start of apeglm).
    Returns arrays `lfc_shrunk[<contrast>]`, `lfc_se_shrunk[<contrast>]` (G,): NaN for all-zero
    genes; 0 and 0 for genes whose counts are all zero after outlier replacement (DESeq2).
    """
    counts = np.ascontiguousarray(counts, dtype=float)
    n_genes = counts.shape[0]
    if analysis.lfc_shrink == "apeglm":
        return _apeglm_step(counts, size_factors, model, fit, prior)
    with_counts = fit["base_mean"] > 0
    now_zero = ~with_counts & (counts.sum(axis=1) > 0)
    rows = np.flatnonzero(with_counts)
    specs = analysis.contrasts or {}
    out = {}
    for kind in needed_bases(analysis):
        basis = prior_basis(model.full, expanded=kind == "expanded")
        chosen = [c for c in model.contrasts if (uses_expanded(specs.get(c.name)) == basis.expanded)]
        weighted = [(c, basis_contrast(c, basis, specs.get(c.name))) for c in chosen]
        var = np.asarray(prior[kind]["prior_variance"], dtype=float)
        shrunk = shrink_fit(counts[rows], factor_rows(size_factors, rows), fit["dispersion"][rows], basis, var, weighted)
        for name, result in shrunk.items():
            for key, values in (("lfc_shrunk", result.lfc), ("lfc_se_shrunk", result.lfc_se)):
                full = np.full(n_genes, np.nan)
                full[rows] = values
                full[now_zero] = 0.0
                out[array_key(key, name)] = full
    return out


def _apeglm_step(counts, size_factors, model: Model, fit: dict, prior: dict) -> dict[str, np.ndarray]:
    """`shrink_step` for apeglm: every gene with a count (DESeq2 passes counts(dds), the
    original counts, with the final dispersions); NaN for all-zero genes."""
    rows = np.flatnonzero(counts.sum(axis=1) > 0)
    start = fit["beta"][rows] * LOG2  # the MLEs, natural log
    out = {}
    for contrast in model.contrasts:
        setting = prior["apeglm"][contrast.name]
        j = int(setting["coef"])
        result = apeglm.apeglm_fit(
            counts[rows], size_factors, model.full.matrix, fit["dispersion"][rows], j,
            float(setting["prior_scale"]), start,
        )  # fmt: skip
        for key, values in (("lfc_shrunk", result.beta[:, j]), ("lfc_se_shrunk", result.sd[:, j])):
            full = np.full(counts.shape[0], np.nan)
            full[rows] = values / LOG2
            out[array_key(key, contrast.name)] = full
    return out


def run_shrink(
    fit: dict[str, np.ndarray],
    counts: np.ndarray,
    size_factors: np.ndarray,
    model: Model,
    analysis: Analysis,
    genes_per_shard: int | None = None,
) -> dict[str, np.ndarray]:
    """The workflow's two shrinkage steps in this process (for notebooks and tests).

    fit : `steps.run_analysis(...)["fit"]` of the same counts; the refit runs shard by shard
    as the Snakemake jobs do. Returns the concatenated `shrink_step` arrays.
    """
    from ..io.shards import concat_shards, shard_bounds

    prior = shrink_prior_step(fit, model, analysis)
    n_genes = counts.shape[0]
    parts = []
    for b in shard_bounds(n_genes, genes_per_shard or max(1, n_genes)):
        rows = slice(b["start"], b["stop"])
        shard_fit = {key: fit[key][rows] for key in ("base_mean", "dispersion", "beta")}
        parts.append(shrink_step(counts[rows], size_factors, model, shard_fit, prior, analysis))
    return concat_shards(parts)
