"""Reverse regression in the order it runs: which features predict a trait?

1. plan (once, genome-wide): the robust fit of trait ~ covariates and B seeded
   permutations of its residuals (Freedman & Lane 1983), the same for every feature; for counts
   also the study-wide transform (`transform.transform_summary`).
2. shard (per shard of features): MASS::rlm(trait ~ covariates + feature) for each feature on the
   observed trait and on each permuted trait (`rlm.rlm_feature`, batched over features x
   permutations in chunks of bounded memory); features with missing values on the samples they
   have, grouped by pattern of observed samples, against the plan's permutations of those samples.
3. merge (genome-wide): the naive p-value (t on n - p df), the calibrated p-value of each feature
   from its own null (`permutation.calibrated_pvalues`), Benjamini-Hochberg on the calibrated p.

Every per-feature number depends on that feature and the plan only, so the sharding changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..constants import HUBER_K, REVERSE_TAIL_SHARE, RLM_ACC, RLM_MAXIT
from ..design.covariates import design_samples
from ..design.formula import Design, build_design
from ..gaussian.lmfit import _missing_patterns as missing_patterns
from ..inference.fdr import bh_adjust
from ..workflow import software_versions
from .permutation import calibrated_pvalues, freedman_lane_traits, observed_permutations, permutation_plan
from .rlm import covariate_basis, naive_pvalue, residualise, rlm_feature

CHUNK_CELLS = 2_000_000  # fits x samples per batch of the null fits (~16 MB per (F, N) array)
TABLE_COLUMNS = ["feature_id", "estimate", "std_error", "statistic", "pvalue_naive", "pvalue", "padj"]


@dataclass(frozen=True)
class Plan:
    """The permutation plan of one analysis.

    trait : (N,); covariates : (N, q) design; permutations : (B, N) sample indices;
    null_traits : (B, N) fitted values of rlm(trait ~ covariates) plus its permuted residuals; seed.
    """

    trait: np.ndarray
    covariates: np.ndarray
    permutations: np.ndarray
    null_traits: np.ndarray
    seed: int

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "trait": self.trait,
            "covariates": self.covariates,
            "permutations": self.permutations,
            "null_traits": self.null_traits,
            "seed": np.array(self.seed),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Plan:
        return cls(arrays["trait"], arrays["covariates"], arrays["permutations"], arrays["null_traits"], int(arrays["seed"]))


def plan_step(trait: np.ndarray, covariates: np.ndarray, n_permutations: int, seed: int) -> Plan:
    """Genome-wide, once: the Freedman-Lane permutations every feature is tested against."""
    trait = np.asarray(trait, dtype=float)
    covariates = np.asarray(covariates, dtype=float)
    permutations = permutation_plan(trait.size, n_permutations, seed)
    return Plan(trait, covariates, permutations, freedman_lane_traits(trait, covariates, permutations), seed)


def shard_step(values: np.ndarray, plan: Plan, chunk_cells: int = CHUNK_CELLS) -> dict[str, np.ndarray]:
    """Per shard: the robust fit of each feature on the observed trait and the B permuted ones.

    A feature with missing values is fitted on the samples it has (MASS::rlm on the complete
    cases). Features are grouped by their pattern of observed samples; each pattern's null
    permutes the residuals of rlm(trait ~ covariates) fitted on those samples, with the
    plan's permutations restricted to them (`permutation.observed_permutations`). All-observed
    features use the plan's traits as they are.

    Parameters
    ----------
    values : (G, N) features (NaN or +-inf: missing).

    Returns
    -------
    estimate, std_error, statistic, scale, converged, iterations : (G,) of the observed fits;
    null : (G, B) the statistic on each permuted trait; null_not_converged : (G,) count;
    n_observed : (G,) samples fitted; untested : (G,) 0, or the code in UNTESTED of why the
    feature has no statistic.
    """
    values = np.asarray(values, dtype=float)
    n_features, n_perm = values.shape[0], plan.null_traits.shape[0]
    observed_mask = np.isfinite(values)
    result = {
        "estimate": np.full(n_features, np.nan),
        "std_error": np.full(n_features, np.nan),
        "statistic": np.full(n_features, np.nan),
        "scale": np.full(n_features, np.nan),
        "converged": np.zeros(n_features, dtype=bool),
        "iterations": np.zeros(n_features, dtype=int),
        "null": np.full((n_features, n_perm), np.nan),
        "null_not_converged": np.zeros(n_features, dtype=int),
        "n_observed": observed_mask.sum(axis=1),
        "untested": np.zeros(n_features, dtype=np.int8),
    }
    if n_features == 0:
        return result
    patterns, group = missing_patterns(observed_mask)
    order = np.argsort(group, kind="stable")
    for pattern, rows in zip(patterns, np.split(order, np.cumsum(np.bincount(group))[:-1])):
        reason = untestable_pattern(pattern, plan.covariates)
        if reason:
            result["untested"][rows] = reason
            continue
        if pattern.all():
            trait, covariates, null_traits = plan.trait, plan.covariates, plan.null_traits
        else:
            trait, covariates = plan.trait[pattern], plan.covariates[pattern]
            null_traits = freedman_lane_traits(trait, covariates, observed_permutations(plan.permutations, pattern))
        fits = _fit_features(values[np.ix_(rows, pattern)], trait, covariates, null_traits, chunk_cells)
        for key, value in fits.items():
            result[key][rows] = value
    untested = (result["untested"] == 0) & ~np.isfinite(result["statistic"])
    result["untested"][untested] = np.where(np.isfinite(result["estimate"][untested]), NO_SCALE, IN_COVARIATE_SPAN)
    return result


UNTESTED = {
    1: "too few observed samples for the model (needs more than p + 1, p its coefficients)",
    2: "the covariates are not full rank on its observed samples",
    3: "constant on its observed samples, or a combination of the covariates there",
    4: "the fit has no scale (zero MAD of the residuals): no standard error",
}
TOO_FEW, COVARIATES_SINGULAR, IN_COVARIATE_SPAN, NO_SCALE = 1, 2, 3, 4


def untestable_pattern(observed: np.ndarray, covariates: np.ndarray) -> int:
    """0, or the UNTESTED code why no feature observed on these samples (N,) bool can be fitted:
    n_observed <= p + 1 (p = q + 1 coefficients), or the covariates (N, q) singular there."""
    n_coef = covariates.shape[1] + 1
    if observed.sum() <= n_coef + 1:
        return TOO_FEW
    if not observed.all() and np.linalg.matrix_rank(covariates[observed]) < covariates.shape[1]:
        return COVARIATES_SINGULAR
    return 0


def _fit_features(
    values: np.ndarray, trait: np.ndarray, covariates: np.ndarray, null_traits: np.ndarray, chunk_cells: int
) -> dict[str, np.ndarray]:
    """Features (F, m) observed on the same m samples: observed fits and null statistics (F, B)."""
    n_features, n_samples = values.shape
    n_perm = null_traits.shape[0]
    observed = rlm_feature(trait, covariates, values)
    null = np.full((n_features, n_perm), np.nan)
    null_not_converged = np.zeros(n_features, dtype=int)
    tested = np.flatnonzero(np.isfinite(observed.statistic))
    # features enter the batch residualised once; then each is repeated for the B traits
    features = residualise(values[tested], covariate_basis(covariates)) if tested.size else values[:0]
    per_chunk = max(1, chunk_cells // max(1, n_perm * n_samples))
    for start in range(0, tested.size, per_chunk):
        rows = tested[start : start + per_chunk]
        batch = np.repeat(features[start : start + per_chunk], n_perm, axis=0)
        traits = np.tile(null_traits, (rows.size, 1))
        fit = rlm_feature(traits, covariates, batch)
        null[rows] = fit.statistic.reshape(rows.size, n_perm)
        null_not_converged[rows] = (~fit.converged).reshape(rows.size, n_perm).sum(axis=1)
    return {
        "estimate": observed.estimate,
        "std_error": observed.std_error,
        "statistic": observed.statistic,
        "scale": observed.scale,
        "converged": observed.converged,
        "iterations": observed.iterations,
        "null": null,
        "null_not_converged": null_not_converged,
    }


def adjusted_for_covariates(trait: np.ndarray, covariates: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trait and features (K, N) as least-squares residuals on the covariates, each feature's pair
    on its observed samples (NaN elsewhere, and everywhere where its covariates are singular):
    the axes of the added-variable plots."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    trait_resid, feature_resid = np.full(values.shape, np.nan), np.full(values.shape, np.nan)
    for i, row in enumerate(values):
        observed = np.isfinite(row)
        if untestable_pattern(observed, covariates) == COVARIATES_SINGULAR or not observed.any():
            continue
        basis = covariate_basis(covariates[observed])
        trait_resid[i, observed] = residualise(trait[observed][None, :], basis)[0]
        feature_resid[i, observed] = residualise(row[observed][None, :], basis)[0]
    return trait_resid, feature_resid


def untested_lines(feature_id: np.ndarray, shard: dict[str, np.ndarray], n_coef: int) -> list[str]:
    """One log line per feature without a statistic: its id, observed samples and the reason."""
    return [
        f"{feature_id[i]}: not tested ({shard['n_observed'][i]} observed samples, {n_coef} coefficients): "
        f"{UNTESTED[int(shard['untested'][i])]}"
        for i in np.flatnonzero(shard["untested"])
    ]


def merge_step(feature_id: np.ndarray, shards: dict[str, np.ndarray], n_samples: int, n_covariates: int) -> pd.DataFrame:
    """Genome-wide: naive and calibrated p-values and BH, one row per feature in input order.

    shards : the concatenated arrays of `shard_step`; n_covariates : q (the fit has q + 1
    coefficients).
    """
    statistic = shards["statistic"]
    table = pd.DataFrame(
        {
            "feature_id": feature_id,
            "estimate": shards["estimate"],
            "std_error": shards["std_error"],
            "statistic": statistic,
            "pvalue_naive": naive_pvalue(statistic, shards.get("n_observed", n_samples), n_covariates + 1),
            "pvalue": calibrated_pvalues(statistic, shards["null"]),
        }
    )
    table["padj"] = bh_adjust(table["pvalue"].to_numpy())
    return table[TABLE_COLUMNS]


def summary(table: pd.DataFrame, shards: dict[str, np.ndarray], alpha: float, n_samples: int) -> dict:
    """Counts for model.json: features tested, not converged, with missing values, not tested
    (by reason), significant (calibrated / naive)."""
    tested = np.isfinite(table["pvalue"].to_numpy())
    naive = table["pvalue_naive"].to_numpy()
    n_null = shards["null"].shape[1] * int(tested.sum())
    return {
        "n_features": len(table),
        "n_tested": int(tested.sum()),
        "n_not_converged": int(np.sum(tested & ~shards["converged"].astype(bool))),
        "n_with_missing_values": int(np.sum(shards["n_observed"] < n_samples)),
        "not_tested": {UNTESTED[code]: int(np.sum(shards["untested"] == code)) for code in UNTESTED if np.any(shards["untested"] == code)},
        "null_share_not_converged": float(shards["null_not_converged"].sum() / n_null) if n_null else None,
        "n_significant": int(np.sum(table["padj"].to_numpy() < alpha)),
        "n_significant_naive": int(np.sum(bh_adjust(naive) < alpha)),
        "share_pvalue_below_0.01": float(np.mean(table["pvalue"].to_numpy()[tested] < 0.01)) if tested.any() else None,
        "share_pvalue_naive_below_0.01": float(np.mean(naive[tested] < 0.01)) if tested.any() else None,
    }


def trait_and_covariates(samples: pd.DataFrame, analysis) -> tuple[np.ndarray, Design]:
    """The trait (N,) and the covariates' design of a reverse analysis, samples in sheet order."""
    sheet, levels = design_samples(samples, analysis)
    trait = pd.to_numeric(sheet[analysis.trait]).to_numpy(dtype=float)
    return trait, build_design(sheet, analysis.covariates, levels)


def model_summary(analysis, table: pd.DataFrame, shards: dict[str, np.ndarray], plan: dict[str, np.ndarray], study_input: str) -> dict:
    """model.json of a reverse analysis: the model, the method and its constants, the plan
    (seed, generator), the counts of features tested and significant, software versions."""
    n_samples, n_covariates = plan["covariates"].shape
    transform = str(plan["transform"]) if "transform" in plan else "none (values as given)"
    settings = {key: value for key, value in analysis.params("reverse_merge").items() if key != "name"}
    return {
        "direction": "reverse",
        "trait": analysis.trait,
        "covariates": analysis.covariates,
        "covariate_columns": [str(c) for c in plan["covariate_columns"]],
        "model": f"{analysis.trait} ~ {' + '.join(str(c) for c in plan['covariate_columns'])} + feature",
        "transform": transform if study_input != "values" else "none (values as given)",
        "n_samples": int(n_samples),
        "n_coefficients": int(n_covariates + 1),
        "fit": {
            "method": "Huber M-estimation as MASS::rlm defaults (psi.huber, init ls, scale.est MAD)",
            "k": HUBER_K,
            "acc": RLM_ACC,
            "maxit": RLM_MAXIT,
            "std_error": "summary.rlm (method XtX): Huber's kappa-corrected sandwich on (X'X)^-1",
            "pvalue_naive": f"two-sided t on n - p = {n_samples - n_covariates - 1} df (n: the feature's observed samples)",
            "missing_values": (
                "a feature is fitted on its observed samples; its null permutes the residuals of trait ~ covariates "
                "fitted on those samples, in the order the plan's permutations visit them"
            ),
        },
        "calibration": {
            "permutations": int(plan["permutations"].shape[0]),
            "seed": int(plan["seed"]),
            "generator": "numpy.random.default_rng(seed) (PCG64): rng.permutation(n) per permutation",
            "scheme": "Freedman-Lane: residuals of rlm(trait ~ covariates) (MASS defaults) permuted, its fitted values added",
            "pvalue": (
                "per feature from its own null |t|: (M + 1) / (B + 1) with M null |t| >= the observed; "
                f"beyond all (M = 0) a generalised Pareto tail fitted to its top {REVERSE_TAIL_SHARE:.0%} null |t| "
                "(shape >= 0), at most 1 / (B + 1)"
            ),
            "padj": "Benjamini-Hochberg on the calibrated p-values",
        },
        **summary(table, shards, analysis.alpha, int(n_samples)),
        "settings": settings,
        "versions": software_versions(("numpy", "scipy", "pandas")),
    }
