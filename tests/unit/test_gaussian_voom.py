"""glmstack.gaussian.voom and tmm: hand calculations (limma/edgeR numbers are in tests/golden)."""

from __future__ import annotations

import numpy as np
from glmstack.gaussian.tmm import reference_sample, tmm_factors
from glmstack.gaussian.voom import _approx_rule2, log_cpm, voom


def _counts(g=400, n=8, seed=0):
    rng = np.random.default_rng(seed)
    mean = np.exp(rng.normal(4, 1.5, size=(g, 1)))
    depth = rng.uniform(0.5, 2, size=n)
    return rng.poisson(mean * depth).astype(float)


def test_log_cpm_by_hand():
    counts = np.array([[0.0, 10.0], [5.0, 0.0]])
    lib = np.array([100.0, 1000.0])
    np.testing.assert_allclose(log_cpm(counts, lib)[0], np.log2([0.5 / 101 * 1e6, 10.5 / 1001 * 1e6]))


def test_approx_rule2_holds_ends_and_averages_ties():
    x = np.array([0.0, 1.0, 1.0, 2.0])
    y = np.array([1.0, 2.0, 4.0, 5.0])
    np.testing.assert_allclose(_approx_rule2(x, y, np.array([-1.0, 0.5, 1.0, 3.0])), [1.0, 2.0, 3.0, 5.0])


def test_voom_weights_follow_the_trend():
    counts = _counts()
    design = np.column_stack([np.ones(8), np.repeat([0.0, 1.0], 4)])
    v = voom(counts, design)
    assert v.weights.shape == counts.shape and np.all(v.weights > 0)
    # higher counts, smaller variance of log-CPM: larger weights
    low, high = np.argmin(counts.sum(axis=1)), np.argmax(counts.sum(axis=1))
    assert v.weights[high].mean() > v.weights[low].mean()
    np.testing.assert_allclose(v.lib_size, counts.sum(axis=0))
    with_factors = voom(counts, design, norm_factors=np.full(8, 2.0))
    np.testing.assert_allclose(with_factors.lib_size, 2 * counts.sum(axis=0))


def test_tmm_is_one_for_proportional_libraries_and_ignores_gene_order():
    counts = _counts()
    same = np.column_stack([counts[:, 0], 3 * counts[:, 0]])
    np.testing.assert_allclose(tmm_factors(same), [1.0, 1.0], rtol=1e-12)
    f = tmm_factors(counts)
    np.testing.assert_allclose(np.prod(f), 1.0, rtol=1e-12)
    order = np.random.default_rng(1).permutation(counts.shape[0])
    np.testing.assert_allclose(tmm_factors(counts[order]), f, rtol=1e-12)


def test_tmm_corrects_a_composition_shift():
    counts = _counts(seed=3)[:, :2]
    counts[:20, 1] *= 50  # a few genes take over sample 2's library
    f = tmm_factors(counts)
    lib = counts.sum(axis=0)
    # the other genes' proportions agree once the libraries are scaled by the factors
    rest = np.arange(counts.shape[0]) >= 40
    rest &= (counts > 0).all(axis=1)
    ratio = np.median((counts[rest, 1] / (lib[1] * f[1])) / (counts[rest, 0] / (lib[0] * f[0])))
    assert abs(np.log2(ratio)) < 0.05
    assert reference_sample(counts, lib) in (0, 1)


def test_all_zero_genes_stay_out_of_the_trend():
    # limma 3.54: voom(rbind(y, zeros)) gives the other genes the weights of voom(y), and the
    # all-zero genes weights from the same trend (tests/data/gaussian/extra/voom_zero_rows.R)
    counts = _counts()
    design = np.column_stack([np.ones(8), np.repeat([0.0, 1.0], 4)])
    with_zeros = np.vstack([np.zeros((50, 8)), counts])
    lib = counts.sum(axis=0)
    plain, padded = voom(counts, design), voom(with_zeros, design, lib_size=lib)
    np.testing.assert_allclose(padded.weights[50:], plain.weights, rtol=1e-12)
    np.testing.assert_array_equal(padded.trend_x, plain.trend_x)
    assert np.all(np.isfinite(padded.weights[:50]))


def test_voom_tests_leave_all_zero_genes_untested():
    from glmstack.gaussian.steps import voom_tests

    counts = _counts()
    design = np.column_stack([np.ones(8), np.repeat([0.0, 1.0], 4)])
    ids = np.array([f"g{i}" for i in range(50 + counts.shape[0])])
    contrast = {"b": np.array([0.0, 1.0])}
    padded = voom_tests(ids, np.vstack([np.zeros((50, 8)), counts]), design, contrast, lib_size=counts.sum(axis=0))
    plain = voom_tests(ids[50:], counts, design, contrast)
    table = padded["tables"]["b"]
    assert table.iloc[:50, 1:].isna().all().all()
    np.testing.assert_allclose(table.iloc[50:, 1:].to_numpy(float), plain["tables"]["b"].iloc[:, 1:].to_numpy(float), rtol=1e-10)
