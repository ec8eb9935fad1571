"""Cox-Reid log posterior: value against a direct calculation, derivative against finite
differences, and the line search against a fine grid."""

import numpy as np
import pytest
from glmstack.nb.dispersion import Prior, dlog_posterior, grid_search, log_posterior, maximise_log_posterior
from scipy.special import gammaln
from scipy.stats import nbinom

RNG = np.random.default_rng(3)
DESIGN = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1.0]])
COUNTS = np.array([[3.0, 7.0, 2.0, 15.0, 22.0, 9.0], [120.0, 98.0, 143.0, 80.0, 60.0, 110.0]])
MU = np.array([[4.0, 4.0, 4.0, 15.3, 15.3, 15.3], [120.3, 120.3, 120.3, 83.3, 83.3, 83.3]])


def test_log_posterior_is_nb_likelihood_plus_cox_reid():
    log_disp = np.log(np.array([0.3, 0.05]))
    ours = log_posterior(log_disp, COUNTS, MU, DESIGN, None)
    for g, a in enumerate(np.exp(log_disp)):
        n = 1 / a
        ll = nbinom.logpmf(COUNTS[g], n, n / (n + MU[g])).sum()
        # DESeq2 drops the terms that do not involve the dispersion: -log y! and y log mu
        ll += np.sum(gammaln(COUNTS[g] + 1) - COUNTS[g] * np.log(MU[g]))
        w = 1 / (1 / MU[g] + a)
        cr = -0.5 * np.log(np.linalg.det(DESIGN.T @ (DESIGN * w[:, None])))
        assert ours[g] == pytest.approx(ll + cr, rel=1e-12)


@pytest.mark.parametrize("prior", [None, Prior(np.log([0.1, 0.1]), 0.5)])
def test_derivative_matches_finite_differences(prior):
    log_disp = np.log(np.array([0.3, 0.05]))
    h = 1e-6
    numeric = (
        log_posterior(log_disp + h, COUNTS, MU, DESIGN, prior) - log_posterior(log_disp - h, COUNTS, MU, DESIGN, prior)
    ) / (2 * h)
    np.testing.assert_allclose(dlog_posterior(log_disp, COUNTS, MU, DESIGN, prior), numeric, rtol=1e-6, atol=1e-6)


def test_line_search_finds_the_maximum():
    start = np.log(np.array([1.0, 1.0]))
    found = maximise_log_posterior(COUNTS, MU, DESIGN, start, None)
    grid = np.linspace(np.log(1e-4), np.log(5), 20001)
    values = np.stack([log_posterior(np.full(2, a), COUNTS, MU, DESIGN, None) for a in grid])
    # the search stops once a step gains less than 1e-6 in log posterior
    reached = log_posterior(found.log_disp, COUNTS, MU, DESIGN, None)
    assert np.all(reached >= values.max(axis=0) - 1e-5)
    np.testing.assert_allclose(found.log_disp, grid[np.argmax(values, axis=0)], atol=0.01)
    assert np.all(found.iterations < 100)


def test_grid_search_is_close_to_the_line_search():
    found = maximise_log_posterior(COUNTS, MU, DESIGN, np.zeros(2), None)
    grid = grid_search(COUNTS, MU, DESIGN, None, max_disp=10)
    # the fine grid's spacing is 2 * 1.09 / 19 on the log scale
    np.testing.assert_allclose(np.log(grid), found.log_disp, atol=0.12)


def test_prior_pulls_towards_its_mean():
    free = maximise_log_posterior(COUNTS, MU, DESIGN, np.zeros(2), None).log_disp
    prior = Prior(np.log([1e-3, 1e-3]), 0.1)
    pulled = maximise_log_posterior(COUNTS, MU, DESIGN, np.zeros(2), prior).log_disp
    assert np.all(pulled < free)
