"""glmstack.gaussian.steps: shard invariance and feature-order invariance of whole analyses."""

from __future__ import annotations

import numpy as np
import pytest
from glmstack.gaussian import steps
from glmstack.gaussian.lmfit import concatenate


def _study(g=300, n=12, seed=0, missing=0.03):
    rng = np.random.default_rng(seed)
    design = np.column_stack([np.ones(n), np.repeat([0.0, 1.0], n // 2), rng.normal(size=n)])
    values = rng.normal(size=(g, 3)) @ design.T + rng.normal(size=(g, n)) * np.exp(rng.normal(scale=0.5, size=(g, 1)))
    values[rng.random(values.shape) < missing] = np.nan
    return np.array([f"f{i}" for i in range(g)]), values, design


@pytest.mark.parametrize(
    "options",
    [{}, {"trend": True}, {"lfc_threshold": 0.5}, {"robust": True}, {"robust": True, "trend": True}],
)
def test_shards_change_nothing(options):
    ids, values, design = _study()
    contrasts = {"group": np.array([0.0, 1.0, 0.0])}
    reduced = design[:, [0]]
    whole = steps.moderated_tests(ids, values, design, contrasts, reduced=reduced, **options)
    parts = [slice(0, 77), slice(77, 201), slice(201, 300)]
    fit = concatenate([steps.fit_step(values[s], design) for s in parts])
    sharded = steps.tests_step(ids, fit, design, contrasts, reduced=reduced, **options)
    for name, table in whole["tables"].items():
        other = sharded["tables"][name]
        assert list(other.columns) == list(table.columns)
        for column in table.columns[1:]:
            np.testing.assert_allclose(other[column], table[column], rtol=1e-12, atol=1e-12, equal_nan=True)


def test_feature_order_changes_nothing():
    ids, values, design = _study()
    contrasts = {"slope": np.array([0.0, 0.0, 1.0])}
    order = np.random.default_rng(4).permutation(ids.size)
    a = steps.moderated_tests(ids, values, design, contrasts)["tables"]["slope"]
    b = steps.moderated_tests(ids[order], values[order], design, contrasts)["tables"]["slope"]
    b = b.set_index("feature_id").loc[a["feature_id"]].reset_index()
    for column in ["logFC", "t", "P.Value", "adj.P.Val", "B"]:
        np.testing.assert_allclose(b[column], a[column], rtol=1e-10, equal_nan=True)


def test_empty_shard_fits():
    _, values, design = _study()
    fit = steps.fit_step(values[:0], design)
    assert fit.coefficients.shape == (0, 3)
    whole = concatenate([fit, steps.fit_step(values, design)])
    np.testing.assert_array_equal(whole.sigma, steps.fit_step(values, design).sigma)


def test_robust_moderation_shrinks_the_outliers_df():
    _, values, design = _study(missing=0.0)
    values[:3] *= 8.0  # hypervariable features
    fit = steps.fit_step(values, design)
    moderation = steps.moderate(fit, robust=True)
    df_prior = moderation.prior.df_prior
    assert df_prior[:3].max() < df_prior.max()
    np.testing.assert_allclose(
        moderation.df_total, np.minimum(df_prior + fit.df_residual, fit.df_residual.sum())
    )
