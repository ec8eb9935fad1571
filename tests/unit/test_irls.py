"""The NB GLM fit against statsmodels on single genes, and its edge cases."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from glmstack.nb.irls import fit_nb_glm, nb_log_likelihood
from scipy.stats import nbinom

RNG = np.random.default_rng(7)
SF = np.array([0.8, 1.1, 1.0, 1.3, 0.7, 1.2, 0.9, 1.05])
DESIGN = np.column_stack([np.ones(8), np.repeat([0.0, 1.0], 4), np.tile([0.0, 1.0], 4)])


def statsmodels_fit(y, disp):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.GLM(y, DESIGN, family=sm.families.NegativeBinomial(alpha=disp), offset=np.log(SF))
        return model.fit(tol=1e-15, maxiter=1000)


@pytest.mark.parametrize("disp", [0.01, 0.2, 1.5])
def test_coefficients_and_standard_errors_match_statsmodels(disp):
    mu = SF * np.exp(DESIGN @ np.array([4.0, 1.0, -0.5]))
    counts = RNG.negative_binomial(1 / disp, 1 / (1 + disp * mu))[None, :].astype(float)
    # DESeq2 stops at a 1e-8 relative deviance change (coefficients to ~1e-4 when IRLS
    # converges slowly); a tight tolerance and no ridge compare the estimating equations
    fit = fit_nb_glm(counts, SF, DESIGN, np.array([disp]), tol=1e-15, maxit=500, ridge=np.zeros(3))
    ref = statsmodels_fit(counts[0], disp)
    np.testing.assert_allclose(fit.beta[0], ref.params, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fit.beta_se[0], ref.bse, rtol=1e-6)
    # DESeq2's ridge (1e-6 on log2 coefficients) pulls weakly determined estimates by ~1e-5
    ridged = fit_nb_glm(counts, SF, DESIGN, np.array([disp]), tol=1e-15, maxit=500)
    np.testing.assert_allclose(ridged.beta[0], ref.params, atol=2e-5)
    assert fit.converged[0]


def test_log_likelihood_is_the_nb_density():
    counts = np.array([[0.0, 3.0, 10.0]])
    mu = np.array([[1.5, 2.5, 12.0]])
    disp = np.array([0.3])
    n = 1 / disp[0]
    expected = nbinom.logpmf(counts[0], n, n / (n + mu[0]))
    np.testing.assert_allclose(nb_log_likelihood(counts, mu, disp)[0], expected, rtol=1e-12)


def test_genes_are_fitted_independently():
    counts = RNG.poisson(20, size=(5, 8)).astype(float)
    disp = np.full(5, 0.1)
    together = fit_nb_glm(counts, SF, DESIGN, disp)
    for g in range(5):
        alone = fit_nb_glm(counts[g : g + 1], SF, DESIGN, disp[g : g + 1])
        np.testing.assert_array_equal(alone.beta[0], together.beta[g])


def test_group_of_zeros_falls_back_and_stays_finite():
    counts = np.array([[0.0, 0.0, 0.0, 0.0, 50.0, 60.0, 40.0, 55.0]])
    fit = fit_nb_glm(counts, SF, DESIGN, np.array([0.05]))
    assert np.all(np.isfinite(fit.beta)) and np.all(np.isfinite(fit.beta_se))
    assert fit.beta[0, 1] > 5  # the zero group is far below the other


def test_intercept_only_closed_form():
    counts = np.array([[5.0, 7.0, 6.0, 8.0, 4.0, 9.0, 5.0, 6.0]])
    fit = fit_nb_glm(counts, SF, np.ones((8, 1)), np.array([0.1]))
    assert fit.beta[0, 0] == pytest.approx(np.log(np.mean(counts[0] / SF)))


def test_empty_shard():
    fit = fit_nb_glm(np.zeros((0, 8)), SF, DESIGN, np.zeros(0))
    assert fit.beta.shape == (0, 3) and fit.mu.shape == (0, 8)


@pytest.mark.parametrize("n_samples", [9, 150])  # sums over samples / over distinct counts
def test_log_likelihood_parts_add_up_to_the_log_likelihood(n_samples):
    """IRLS's deviance sums the mu-free lgamma terms once; the two parts are the whole."""
    from glmstack.nb.irls import (
        nb_gene_log_likelihood,
        nb_log_likelihood,
        nb_log_likelihood_mu_part,
        nb_log_likelihood_parts,
    )

    rng = np.random.default_rng(5)
    mu = rng.gamma(1.0, 50.0, (40, n_samples)) + 0.5
    disp = np.exp(rng.uniform(np.log(1e-8), np.log(10.0), 40))
    counts = rng.poisson(mu).astype(float)
    counts[:3] = 0.0
    whole = nb_log_likelihood(counts, mu, disp).sum(axis=1)
    parts = nb_log_likelihood_parts(counts, disp) + nb_log_likelihood_mu_part(counts, mu, disp)
    np.testing.assert_allclose(parts, whole, rtol=1e-12)
    np.testing.assert_allclose(nb_gene_log_likelihood(counts, mu, disp), whole, rtol=1e-13)
