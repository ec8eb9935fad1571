"""lfc_shrink: apeglm (glmstack.nb.apeglm): the adaptive prior scale, the posterior mode and SD."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cases import load
from glmstack import study as study_checks
from glmstack.design.model import build_model
from glmstack.errors import StudyError
from glmstack.nb import apeglm, shrink, size_factors, steps
from glmstack.nb.irls import fit_nb_glm, nb_log_likelihood
from glmstack.spec import Analysis, study_analyses
from scipy.stats import cauchy, norm


def test_prior_variance_solves_the_efron_morris_equation():
    rng = np.random.default_rng(1)
    se = rng.uniform(0.1, 1.5, 3000)
    x = rng.normal(0, np.sqrt(0.7 + se**2))
    a = apeglm.prior_variance(x, se)
    info = 1 / (2 * (a + se**2) ** 2)
    assert a == pytest.approx(np.sum((x**2 - se**2) * info) / np.sum(info), rel=1e-9)
    assert a == pytest.approx(0.7, rel=0.1)  # the variance it was drawn with
    # equal SEs: the weights are equal and A = mean(X^2) - D
    assert apeglm.prior_variance(x, np.full(3000, 0.5)) == pytest.approx(np.mean(x**2) - 0.25, rel=1e-9)
    # no spread beyond the noise: the lower bound; NaN estimates are left out
    assert apeglm.prior_variance(np.array([0.01, -0.02, np.nan]), np.array([1.0, 1.0, 1.0])) == 1e-6


def test_prior_scale_is_capped_at_one_and_uses_the_natural_log():
    rng = np.random.default_rng(2)
    se = np.full(2000, 0.2)
    lfc = rng.normal(0, 0.5, 2000)  # log2
    expected = np.sqrt(apeglm.prior_variance(lfc * np.log(2), se * np.log(2)))
    assert apeglm.prior_scale(lfc, se) == pytest.approx(expected)
    assert apeglm.prior_scale(lfc * 10, se) == 1.0


def _genes(n_genes=25, seed=5):
    rng = np.random.default_rng(seed)
    n = 8
    design = np.column_stack([np.ones(n), np.repeat([0.0, 1.0], 4), np.tile([0.0, 1.0], 4)])
    beta = np.column_stack([rng.uniform(0, 5, n_genes), rng.normal(0, 1.5, n_genes), rng.normal(0, 0.3, n_genes)])
    sf = rng.uniform(0.6, 1.6, n)
    mu = sf * np.exp(beta @ design.T)
    counts = rng.negative_binomial(4, 4 / (4 + mu)).astype(float)
    counts[0] = [0, 0, 0, 0, 3, 0, 1, 0]  # a group of zeros
    counts[1] = [0, 0, 0, 0, 0, 0, 0, 1]
    counts += (counts.sum(axis=1) == 0)[:, None]
    disp = rng.uniform(0.05, 0.5, n_genes)
    return counts, sf, design, disp


def _log_posterior(beta, y, sf, design, disp, coef, scale):
    """apeglm's log posterior, written independently: NB density, N(0, 15^2), Cauchy(0, S)."""
    mu = sf * np.exp(design @ beta)
    lp = nb_log_likelihood(y[None], mu[None], np.array([disp])).sum()
    others = [k for k in range(beta.size) if k != coef]
    return lp + norm.logpdf(beta[others], 0, 15).sum() + cauchy.logpdf(beta[coef], 0, scale)


@pytest.mark.parametrize("scale", [0.05, 0.4, 1.0])
def test_mode_and_sd_are_those_of_the_posterior(scale):
    counts, sf, design, disp = _genes()
    start = fit_nb_glm(counts, sf, design, disp).beta
    fit = apeglm.apeglm_fit(counts, sf, design, disp, 1, scale, start)
    assert fit.converged.all()
    h_grad, h = 1e-5 * scale, 1e-3 * scale  # central differences well inside the prior's scale
    for g in range(counts.shape[0]):
        def f(b, g=g):
            return _log_posterior(b, counts[g], sf, design, disp[g], 1, scale)

        grad = [(f(fit.beta[g] + e) - f(fit.beta[g] - e)) / (2 * h_grad) for e in np.eye(3) * h_grad]
        np.testing.assert_allclose(grad, 0, atol=1e-5)
        eye = np.eye(3) * h
        hess = np.array([[(f(fit.beta[g] + a + b) - f(fit.beta[g] + a - b) - f(fit.beta[g] - a + b)
                           + f(fit.beta[g] - a - b)) / (4 * h * h) for b in eye] for a in eye])  # fmt: skip
        cov = np.linalg.inv(-hess)
        if np.all(np.diag(cov) > 0):
            np.testing.assert_allclose(fit.sd[g], np.sqrt(np.diag(cov)), rtol=2e-3)
        else:
            assert np.isnan(fit.sd[g]).all()


def test_the_better_of_two_modes_wins():
    """From the MLE and from 0, the fit keeps the start whose mode has the higher posterior."""
    counts, sf, design, disp = _genes()
    start = fit_nb_glm(counts, sf, design, disp).beta
    fit = apeglm.apeglm_fit(counts, sf, design, disp, 1, 0.05, start)
    for g in range(counts.shape[0]):
        for other in (start[g], np.r_[start[g][0], 0.0, start[g][2]]):
            one = apeglm.apeglm_fit(counts[g : g + 1], sf, design, disp[g : g + 1], 1, 0.05, other[None])
            assert fit.objective[g] <= one.objective[0] + 1e-9


def test_shrinkage_moves_towards_zero_and_empty_shard():
    counts, sf, design, disp = _genes()
    start = fit_nb_glm(counts, sf, design, disp).beta
    tight = apeglm.apeglm_fit(counts, sf, design, disp, 1, 0.05, start)
    loose = apeglm.apeglm_fit(counts, sf, design, disp, 1, 1.0, start)
    assert np.all(np.abs(tight.beta[:, 1]) <= np.abs(loose.beta[:, 1]) + 1e-9)
    empty = apeglm.apeglm_fit(np.zeros((0, 8)), sf, design, np.zeros(0), 1, 1.0, np.zeros((0, 3)))
    assert empty.beta.shape == (0, 3) and empty.sd.shape == (0, 3)


MARIONI = {
    "design": "~ run + tissue",
    "levels": {"run": ["R1", "R2"], "tissue": ["Kidney", "Liver"]},
    "lfc_shrink": "apeglm",
    "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"], "run2": {"coef": "run_R2_vs_R1"}},
}


def test_shard_size_changes_nothing():
    case = load("marioni")
    sf = size_factors.size_factors(case.counts, "ratio")
    analysis = Analysis.from_study("tissue", MARIONI)
    fit = steps.run_analysis(case.gene_id, case.counts, sf, case.samples, analysis)["fit"]
    model = build_model(case.samples, analysis)
    prior = shrink.shrink_prior_step(fit, model, analysis)["apeglm"]
    assert prior["liver_vs_kidney"]["coef"] == 2 and prior["run2"]["column"] == "run_R2_vs_R1"
    runs = [shrink.run_shrink(fit, case.counts, sf, model, analysis, n) for n in (64, 999, None)]
    for other in runs[1:]:
        for key, values in runs[0].items():
            if key != "gene_id":
                np.testing.assert_array_equal(other[key], values)
    lfc = runs[0]["lfc_shrunk[liver_vs_kidney]"]
    assert np.isnan(lfc).sum() == np.sum(case.counts.sum(axis=1) == 0)


SHEET = pd.DataFrame({"sample": ["a1", "a2", "a3", "b1", "b2", "b3"], "condition": ["ctl"] * 3 + ["trt"] * 3})


def test_study_accepts_one_coefficient_and_refuses_others():
    def check(contrasts):
        entry = {"design": "~ condition", "lfc_shrink": "apeglm", "contrasts": contrasts}
        config = {"counts": "c.tsv", "samples": "s.tsv", "analyses": {"main": entry}}
        study_checks.check_analyses(study_analyses(config), SHEET, "s.tsv")

    check({"t": ["condition", "trt", "ctl"], "c": {"coef": "condition_trt_vs_ctl"}})
    with pytest.raises(StudyError, match=r"apeglm shrinks one coefficient.*contrast\(s\) 'r' combine several.*"
                                         r"Fix: make the denominator the reference level"):
        check({"r": ["condition", "ctl", "trt"]})
