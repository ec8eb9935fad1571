"""Reverse regression on features with missing values: each feature is fitted on the samples it
has (MASS::rlm on the complete cases, tests/data/gaussian/biobase_sample_na/make_reference.R) and
its null permutes the residuals of trait ~ covariates fitted on those samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cases import DATA
from glmstack.reverse import steps
from glmstack.reverse.permutation import freedman_lane_traits, observed_permutations, permutation_plan
from glmstack.reverse.rlm import rlm_feature, rlm_fitted
from scipy import stats

CASE = DATA / "gaussian" / "biobase_sample_na"


@pytest.fixture(scope="module")
def case():
    values = pd.read_csv(CASE / "values.tsv.gz", sep="\t", index_col=0)
    samples = pd.read_csv(CASE / "samples.tsv.gz", sep="\t")
    reference = pd.read_csv(CASE / "reference" / "score_reverse" / "rlm.tsv.gz", sep="\t", index_col=0,
                            keep_default_na=False, na_values=["NA"])
    covariates = np.column_stack(
        [np.ones(len(samples)), samples["sex"].eq("Male"), samples["type"].eq("Case")]
    ).astype(float)
    plan = steps.plan_step(samples["score"].to_numpy(float), covariates, 30, 5)
    return values, plan, reference, steps.shard_step(values.to_numpy(), plan)


def test_complete_case_fits_match_mass_rlm(case):
    values, _, ref, shard = case
    np.testing.assert_array_equal(shard["n_observed"], ref["n_obs"].to_numpy())
    assert (shard["n_observed"] < values.shape[1]).sum() == 25  # features 21-45 miss samples
    fitted = ref["std_error"].notna().to_numpy()  # R has a standard error: a fit with residual df
    assert fitted.sum() == 56
    for column, ours in (("estimate", "estimate"), ("std_error", "std_error"), ("t_value", "statistic"), ("scale", "scale")):
        np.testing.assert_allclose(shard[ours][fitted], ref[column].to_numpy()[fitted], rtol=1e-9, err_msg=column)
    np.testing.assert_array_equal(shard["iterations"][fitted], ref["iterations"].to_numpy()[fitted])
    assert shard["converged"][fitted].all()


def test_untestable_features_are_empty_with_their_reason(case):
    values, _, _, shard = case
    codes = dict(zip(values.index, shard["untested"]))
    # 4 observed samples for 4 coefficients (R fits it without a residual df), constant where
    # observed, observed in males only (sex constant: R's "'x' is singular"), never observed
    assert codes["AFFX-HUMTFRR/M11507_3_at"] == steps.TOO_FEW
    assert codes["AFFX-M27830_M_at"] == steps.IN_COVARIATE_SPAN
    assert codes["AFFX-M27830_3_at"] == steps.COVARIATES_SINGULAR
    assert codes["AFFX-HSAC07/X00351_3_st"] == steps.TOO_FEW
    assert (shard["untested"] != 0).sum() == 4
    empty = shard["untested"] != 0
    assert np.isnan(shard["statistic"][empty]).all() and np.isnan(shard["null"][empty]).all()
    lines = steps.untested_lines(values.index.to_numpy(), shard, 4)
    assert len(lines) == 4 and lines[0].startswith("AFFX-HUMTFRR/M11507_3_at: not tested (4 observed samples, 4 coefficients)")
    table = steps.merge_step(values.index.to_numpy(), shard, 26, 3)
    assert table.loc[empty, ["estimate", "pvalue", "padj"]].isna().all().all()
    assert table.loc[~empty, ["pvalue", "padj", "pvalue_naive"]].notna().all().all()


def test_naive_pvalue_uses_the_observed_samples(case):
    values, _, _, shard = case
    table = steps.merge_step(values.index.to_numpy(), shard, 26, 3)
    i = list(values.index).index("AFFX-M27830_5_at")  # 8 observed samples: t on 4 df
    assert table["pvalue_naive"][i] == pytest.approx(2 * stats.t.sf(abs(shard["statistic"][i]), 4), rel=1e-12)


def test_null_of_a_pattern_is_freedman_lane_on_its_observed_samples(case):
    """A feature missing samples has the null of the study without those samples, permuted in the
    order the plan's permutations visit the remaining ones; all-observed features use the plan."""
    values, plan, _, shard = case
    x = values.to_numpy()
    for i in (25, 33, 41):  # shared pattern, own pattern, 8 observed samples
        observed = np.isfinite(x[i])
        sub_traits = freedman_lane_traits(plan.trait[observed], plan.covariates[observed],
                                          observed_permutations(plan.permutations, observed))
        direct = rlm_feature(sub_traits, plan.covariates[observed], np.tile(x[i, observed], (30, 1)))
        np.testing.assert_allclose(shard["null"][i], direct.statistic, rtol=1e-9)
    direct = rlm_feature(plan.null_traits, plan.covariates, np.tile(x[0], (30, 1)))
    np.testing.assert_allclose(shard["null"][0], direct.statistic, rtol=1e-12)


def test_restricted_permutations_are_the_plan_on_the_observed_samples():
    plan = permutation_plan(8, 200, seed=3)
    np.testing.assert_array_equal(observed_permutations(plan, np.ones(8, dtype=bool)), plan)
    observed = np.array([True, False, True, True, False, True, True, True])
    sub = observed_permutations(plan, observed)
    assert sub.shape == (200, 6) and (np.sort(sub, axis=1) == np.arange(6)).all()
    # row 0: the observed samples in the order permutation 0 lists them
    expected = [list(np.flatnonzero(observed)).index(j) for j in plan[0] if observed[j]]
    np.testing.assert_array_equal(sub[0], expected)
    # uniform: each observed sample lands on each observed position about equally often
    counts = np.array([[np.sum(sub[:, pos] == j) for j in range(6)] for pos in range(6)])
    assert counts.min() > 10
    assert observed_permutations(np.zeros((0, 8), dtype=int), observed).shape == (0, 6)


def test_grouping_and_order_change_nothing(case):
    """Each feature's numbers depend on it and the plan only: any subset or order of features
    (a shard) gives the same rows, whatever the chunk size."""
    values, plan, _, shard = case
    x = values.to_numpy()
    order = np.random.default_rng(2).permutation(len(x))[:37]
    part = steps.shard_step(x[order], plan, chunk_cells=500)
    for key in ("estimate", "std_error", "null", "n_observed", "untested"):
        np.testing.assert_allclose(part[key], shard[key][order], rtol=1e-12, err_msg=key)


def test_reduced_model_is_mass_rlm_of_the_trait_on_the_covariates(case):
    """The Freedman-Lane reduced model: rlm(score ~ sex + type) on all samples and on the samples
    of a missing pattern (make_reference.R), fitted values to 1e-12."""
    _, plan, _, _ = case
    ref = pd.read_csv(CASE / "reference" / "score_reverse" / "rlm_covariates.tsv.gz", sep="\t")
    np.testing.assert_allclose(rlm_fitted(plan.trait, plan.covariates), ref["fitted_all"], rtol=1e-12)
    keep = ref["fitted_without_C_Q"].notna().to_numpy()
    np.testing.assert_allclose(rlm_fitted(plan.trait[keep], plan.covariates[keep]), ref["fitted_without_C_Q"][keep], rtol=1e-12)
    fitted = rlm_fitted(plan.trait, plan.covariates)
    np.testing.assert_allclose(plan.null_traits, fitted + (plan.trait - fitted)[plan.permutations], rtol=1e-12)
