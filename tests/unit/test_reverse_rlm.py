"""glmstack.reverse.rlm against MASS::rlm (7.3-58.2) and summary.rlm, and its invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cases import DATA
from glmstack.reverse.rlm import mad_scale, naive_pvalue, rlm_feature
from scipy import stats

CASE = DATA / "gaussian" / "biobase_sample"


@pytest.fixture(scope="module")
def biobase():
    values = pd.read_csv(CASE / "values.tsv.gz", sep="\t", index_col=0)
    samples = pd.read_csv(CASE / "samples.tsv.gz", sep="\t")
    reference = pd.read_csv(CASE / "reference" / "score_reverse" / "rlm.tsv.gz", sep="\t", index_col=0)
    covariates = np.column_stack(
        [np.ones(len(samples)), samples["sex"].eq("Male"), samples["type"].eq("Case")]
    ).astype(float)
    return values, samples["score"].to_numpy(float), covariates, reference


def test_matches_mass_rlm_on_every_feature(biobase):
    """rlm(score ~ sex + type + feature): estimate, std. error, t, s, converged, iterations."""
    values, trait, covariates, ref = biobase
    fit = rlm_feature(trait, covariates, values.to_numpy())
    converged = ref["converged"].astype(str).str.upper().eq("TRUE").to_numpy()
    assert converged.all() and fit.converged.all()
    for ours, column in ((fit.estimate, "estimate"), (fit.std_error, "std_error"), (fit.statistic, "t_value"), (fit.scale, "scale")):
        np.testing.assert_allclose(ours[converged], ref[column].to_numpy()[converged], rtol=1e-9, err_msg=column)
    np.testing.assert_array_equal(fit.iterations, ref["iterations"].to_numpy())


def test_naive_pvalue_is_t_on_residual_df():
    t = np.array([-2.0, 0.0, 3.5])
    np.testing.assert_allclose(naive_pvalue(t, 26, 4), 2 * stats.t.sf(np.abs(t), 22))


def test_batches_and_parametrisation_change_nothing(biobase):
    """One fit at a time, or with the covariates recoded (same span), gives the same numbers."""
    values, trait, covariates, _ = biobase
    x = values.to_numpy()[:40]
    batch = rlm_feature(trait, covariates, x)
    single = [rlm_feature(trait, covariates, x[i : i + 1]) for i in range(0, 40, 7)]
    np.testing.assert_allclose(batch.estimate[::7], [s.estimate[0] for s in single], rtol=1e-12)
    recoded = covariates @ np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    other = rlm_feature(trait, recoded, x)
    np.testing.assert_allclose(other.estimate, batch.estimate, rtol=1e-10)
    np.testing.assert_allclose(other.std_error, batch.std_error, rtol=1e-10)


def test_untestable_features_are_nan_and_empty_shards_work(biobase):
    values, trait, covariates, _ = biobase
    x = values.to_numpy()[:3].copy()
    x[0, 4] = np.nan  # a missing value
    x[1] = 5.0  # constant: in the covariates' span
    fit = rlm_feature(trait, covariates, x)
    assert np.isnan(fit.estimate[:2]).all() and not fit.converged[:2].any()
    assert np.isfinite(fit.estimate[2])
    empty = rlm_feature(trait, covariates, np.zeros((0, len(trait))))
    assert empty.estimate.shape == (0,)


def test_per_row_traits_and_mad_scale():
    """A trait per row (the permuted traits) fits each row with its own trait."""
    rng = np.random.default_rng(3)
    covariates = np.column_stack([np.ones(30), rng.normal(size=30)])
    traits, feature = rng.standard_t(3, (4, 30)), rng.normal(size=(4, 30))
    both = rlm_feature(traits, covariates, feature)
    for i in range(4):
        one = rlm_feature(traits[i], covariates, feature[i : i + 1])
        assert both.estimate[i] == pytest.approx(one.estimate[0], rel=1e-12)
    r = np.array([[1.0, -2.0, 3.0, -4.0]])
    assert mad_scale(r)[0] == pytest.approx(2.5 / 0.6745)  # median(|r|), not centred
