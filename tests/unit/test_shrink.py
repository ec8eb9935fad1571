"""lfc_shrink: normal (glmstack.nb.shrink): the expanded design, the prior variance, the MAP refit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cases import load
from glmstack.design.contrasts import Contrast
from glmstack.design.formula import build_design
from glmstack.design.model import build_model
from glmstack.inference.wald import LOG2E
from glmstack.nb import results, shrink, size_factors, steps
from glmstack.nb.irls import fit_nb_glm, nb_log_likelihood
from glmstack.spec import Analysis

SHEET = pd.DataFrame(
    {
        "g": ["a", "b", "c", "a", "b", "c", "a", "b"],
        "h": ["u", "v", "u", "v", "u", "v", "v", "u"],
        "t": [0.1, 0.5, 0.2, 0.9, 0.4, 0.3, 0.8, 0.6],
    }
)

MARIONI = {
    "design": "~ run + tissue",
    "levels": {"run": ["R1", "R2"], "tissue": ["Kidney", "Liver"]},
    "lfc_shrink": "normal",
    "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"], "run2": {"coef": "run_R2_vs_R1"}},
}


# --------------------------------------------------------------- the weighted quantile (R's numbers)


@pytest.mark.parametrize(
    ("x", "w", "prob", "r_value"),
    [  # DESeq2:::Hmisc.wtd.quantile(x, weights = w, probs = prob, normwt = TRUE) in R 4.2.2
        ([3, 1, 2, 5, 4], [1, 1, 1, 1, 1], 0.95, 4.7999999999999998),
        ([3, 1, 2, 5, 4], [0.5, 2, 1, 0.1, 3], 0.95, 4.7999999999999998),
        ([0.2, 0.7, 0.7, 1.5, 3, 0.1, 2.2], [1, 2, 0.5, 0.25, 0.1, 4, 0.3], 0.95, 2.3099999999999983),
        ([0.2, 0.7, 0.7, 1.5, 3, 0.1, 2.2], [1, 2, 0.5, 0.25, 0.1, 4, 0.3], 0.5, 0.20000000000000001),
    ],
)
def test_weighted_quantile_is_hmisc(x, w, prob, r_value):
    assert shrink.weighted_upper_quantile(np.array(x, float), np.array(w, float), prob) == pytest.approx(r_value, rel=1e-14)


# --------------------------------------------------------------- the expanded design


def test_expanded_design_has_one_indicator_per_level():
    design = build_design(SHEET, "~ g + h + t", {"g": ["a", "b", "c"], "h": ["u", "v"]})
    basis = shrink.prior_basis(design, expanded=True)
    assert basis.names == ["Intercept", "ga", "gb", "gc", "hu", "hv", "t"]
    expected = np.column_stack(
        [np.ones(8)]
        + [(SHEET["g"] == lv).to_numpy(float) for lv in "abc"]
        + [(SHEET["h"] == lv).to_numpy(float) for lv in "uv"]
        + [SHEET["t"].to_numpy()]
    )
    np.testing.assert_array_equal(basis.matrix, expected)
    assert [s[0] for s in basis.sources] == ["intercept", "factor", "factor", "factor", "factor", "factor", "column"]
    # DESeq2's start for a rank-deficient design: zeros, the intercept at log mean normalised count
    counts = np.arange(16, dtype=float).reshape(2, 8) + 1
    start = shrink.start_values(counts, np.ones(8), basis)
    np.testing.assert_allclose(start[:, 0], np.log(counts.mean(axis=1)))
    assert not start[:, 1:].any()


def test_expanded_design_without_intercept_is_the_design():
    design = build_design(SHEET, "~ 0 + g", {"g": ["a", "b", "c"]})
    basis = shrink.prior_basis(design, expanded=True)
    assert basis.names == ["ga", "gb", "gc"]
    np.testing.assert_array_equal(basis.matrix, design.matrix)
    assert shrink.start_values(np.ones((1, 8)), np.ones(8), basis) is None  # full rank: least squares


def test_standard_basis_keeps_deseq2_names():
    design = build_design(SHEET, "~ g + t", {"g": ["a", "b", "c"]})
    basis = shrink.prior_basis(design, expanded=False)
    assert basis.names == ["Intercept", "g_b_vs_a", "g_c_vs_a", "t"]
    np.testing.assert_array_equal(basis.matrix, design.matrix)


def test_interactions_have_no_normal_prior():
    design = build_design(SHEET, "~ g * h", {"g": ["a", "b", "c"], "h": ["u", "v"]})
    with pytest.raises(ValueError, match="interactions"):
        shrink.prior_basis(design, expanded=True)


# --------------------------------------------------------------- the prior variance


def test_factor_levels_share_the_mean_of_columns_and_their_differences():
    """averagePriorsOverLevels: each level of g gets the mean of the variances of g_b, g_c and
    g_c - g_b; the intercept the wide prior; t its own."""
    design = build_design(SHEET, "~ g + t", {"g": ["a", "b", "c"]})
    rng = np.random.default_rng(3)
    lfc = rng.normal(size=(400, 4)) * [5.0, 1.0, 2.0, 0.3]
    base_mean, disp_fit = rng.uniform(1, 100, 400), rng.uniform(0.01, 1, 400)
    w = 1 / (1 / base_mean + disp_fit)

    def var(x):
        return (shrink.weighted_upper_quantile(np.abs(x), w, 0.95) / 1.959963984540054) ** 2

    expanded = shrink.beta_prior_variance(lfc, base_mean, disp_fit, shrink.prior_basis(design, expanded=True))
    mean = np.mean([var(lfc[:, 1]), var(lfc[:, 2]), var(lfc[:, 2] - lfc[:, 1])])
    np.testing.assert_allclose(expanded, [1e6, mean, mean, mean, var(lfc[:, 3])], rtol=1e-12)
    standard = shrink.beta_prior_variance(lfc, base_mean, disp_fit, shrink.prior_basis(design, expanded=False))
    np.testing.assert_allclose(standard, [1e6, var(lfc[:, 1]), var(lfc[:, 2]), var(lfc[:, 3])], rtol=1e-12)


def test_fold_changes_of_ten_or_more_do_not_enter_the_prior():
    design = build_design(SHEET, "~ h", {"h": ["u", "v"]})
    basis = shrink.prior_basis(design, expanded=False)
    lfc = np.column_stack([np.zeros(5), [0.5, -1.0, 2.0, 12.0, np.nan]])
    with_large = shrink.beta_prior_variance(lfc, np.ones(5), np.ones(5), basis)
    without = shrink.beta_prior_variance(lfc[:3], np.ones(3), np.ones(3), basis)
    assert with_large[1] == without[1]
    none_finite = shrink.beta_prior_variance(np.full((3, 2), 11.0), np.ones(3), np.ones(3), basis)
    np.testing.assert_array_equal(none_finite, [1e6, 1e6])


# --------------------------------------------------------------- the MAP refit


def _genes(n_genes=30, seed=7):
    rng = np.random.default_rng(seed)
    design = build_design(SHEET, "~ g + t", {"g": ["a", "b", "c"]})
    mu = rng.uniform(5, 200, (n_genes, 1)) * np.exp(design.matrix[:, 1:3] @ rng.normal(0, 1, (2, n_genes))).T
    counts = rng.negative_binomial(5, 5 / (5 + mu)).astype(float)
    counts[0] = 0.0
    counts[0, 0] = 3.0
    return design, counts, np.full(n_genes, 0.2), rng.uniform(0.7, 1.4, 8)


def test_wide_prior_gives_the_mle():
    """With every prior variance at DESeq2's wide 1e6 the refit is the MLE fit itself."""
    design, counts, disp, sf = _genes()
    basis = shrink.prior_basis(design, expanded=False)
    contrast = Contrast("c", np.array([0, 0, 1.0, 0]), "g c vs a", None)
    out = shrink.shrink_fit(counts, sf, disp, basis, np.full(4, 1e6), [(contrast, contrast.vector)])
    mle = fit_nb_glm(counts, sf, design.matrix, disp)
    np.testing.assert_allclose(out["c"].lfc, mle.beta[:, 2] * LOG2E, rtol=1e-12)
    np.testing.assert_allclose(out["c"].lfc_se, mle.beta_se[:, 2] * LOG2E, rtol=1e-12)


def test_map_is_the_maximum_of_the_penalised_likelihood():
    """The gradient of log likelihood + log prior vanishes at the refit (expanded design)."""
    design, counts, disp, sf = _genes()
    basis = shrink.prior_basis(design, expanded=True)
    prior_var = np.array([1e6, 0.5, 0.5, 0.5, 0.2])
    contrast = Contrast("c", np.zeros(4), "", None)
    weights = np.array([0, -1.0, 0, 1.0, 0])
    out = shrink.shrink_fit(counts, sf, disp, basis, prior_var, [(contrast, weights)])
    fit = fit_nb_glm(
        counts, sf, basis.matrix, disp, ridge=1 / (prior_var * np.log(2) ** 2),
        beta_start=shrink.start_values(counts, sf, basis),
    )  # fmt: skip
    x, lam = basis.matrix, 1 / (prior_var * np.log(2) ** 2)

    def objective(beta, g):
        mu = sf * np.exp(x @ beta)
        return nb_log_likelihood(counts[g][None], mu[None], disp[g : g + 1]).sum() - 0.5 * np.sum(lam * beta**2)

    for g in range(1, 6):
        grad = [
            (objective(fit.beta[g] + h, g) - objective(fit.beta[g] - h, g)) / 2e-6
            for h in np.eye(5) * 1e-6
        ]
        np.testing.assert_allclose(grad, 0, atol=1e-4)
    np.testing.assert_allclose(out["c"].lfc, (fit.beta @ weights) * LOG2E, rtol=1e-12)
    # shrinkage: the shrunken contrasts are nearer zero than the MLEs, taken together
    mle = fit_nb_glm(counts, sf, design.matrix, disp).beta[:, 2] * LOG2E
    assert np.sum(out["c"].lfc ** 2) < 0.5 * np.sum(mle**2)


# --------------------------------------------------------------- the workflow's steps


def _marioni(genes_per_shard=None):
    case = load("marioni")
    sf = size_factors.size_factors(case.counts, "ratio")
    analysis = Analysis.from_study("tissue", MARIONI)
    fit = steps.run_analysis(case.gene_id, case.counts, sf, case.samples, analysis)["fit"]
    model = build_model(case.samples, analysis)
    return shrink.run_shrink(fit, case.counts, sf, model, analysis, genes_per_shard)


def test_shard_size_changes_nothing():
    runs = [_marioni(n) for n in (50, 700, None)]
    for other in runs[1:]:
        assert other.keys() == runs[0].keys()
        for key, values in runs[0].items():
            if key != "gene_id":
                np.testing.assert_array_equal(other[key], values)


def test_needed_bases_follow_the_contrast_forms():
    analysis = Analysis.from_study("tissue", MARIONI)
    assert shrink.needed_bases(analysis) == ["expanded", "standard"]
    only_coef = Analysis.from_study("x", {**MARIONI, "contrasts": {}})  # the default: last coefficient
    assert shrink.needed_bases(only_coef) == ["standard"]


def test_columns_follow_lfcse():
    table = {"gene_id": np.array(["a", "b"]), "baseMean": np.array([1.0, 2.0]),
             "log2FoldChange": np.array([0.5, 1.0]), "lfcSE": np.array([0.1, 0.2]), "stat": np.array([5.0, 5.0]),
             "pvalue": np.array([0.1, 0.2]), "padj": np.array([0.2, 0.2])}
    arrays = {"gene_id": np.array(["a", "b"]), "lfc_shrunk[c]": np.array([0.4, 0.9]),
              "lfc_se_shrunk[c]": np.array([0.09, 0.19])}
    out = results.add_shrunk_columns(table, arrays, "c")
    assert list(out) == ["gene_id", "baseMean", "log2FoldChange", "lfcSE", "log2FoldChange_shrunk",
                         "lfcSE_shrunk", "stat", "pvalue", "padj"]
    assert all(out[name] is values for name, values in table.items())
    assert out["log2FoldChange_shrunk"].tolist() == [0.4, 0.9] and out["lfcSE_shrunk"].tolist() == [0.09, 0.19]
    with pytest.raises(ValueError, match="different genes"):
        results.add_shrunk_columns(table, {**arrays, "gene_id": np.array(["b", "a"])}, "c")


# --------------------------------------------------------------- the MA plot and the study checks


def test_ma_plot_shows_the_shrunken_fold_changes(monkeypatch, tmp_path):
    from glmstack.report import plots

    seen = {}

    def fake_ma_plot(base_mean, lfc, *args):
        seen["lfc"], seen["y_label"] = lfc, args[-1] if len(args) == 9 else "log2 fold change"

    monkeypatch.setattr(plots, "ma_plot", fake_ma_plot)
    table = pd.DataFrame({"gene_id": ["a", "b"], "baseMean": [10.0, 20.0], "log2FoldChange": [2.0, -1.0],
                          "lfcSE": [1.0, 1.0], "log2FoldChange_shrunk": [0.5, -0.2], "lfcSE_shrunk": [0.5, 0.5],
                          "stat": [2.0, -1.0], "pvalue": [0.05, 0.3], "padj": [0.1, 0.3]})
    paths = {k: tmp_path / f"{k}.png" for k in ("ma", "volcano", "pvalues")}
    plots.table_plots(table, np.array([0]), 0.1, 0.0, paths, "t")
    np.testing.assert_array_equal(seen["lfc"], [0.5, -0.2])
    assert "shrunken" in seen["y_label"]
    plots.table_plots(table.drop(columns=["log2FoldChange_shrunk", "lfcSE_shrunk"]), np.array([0]), 0.1, 0.0, paths, "t")
    np.testing.assert_array_equal(seen["lfc"], [2.0, -1.0])


STUDY_SHEET = pd.DataFrame(
    {
        "sample": ["a1", "a2", "a3", "b1", "b2", "b3"],
        "condition": ["ctl", "ctl", "ctl", "trt", "trt", "trt"],
        "batch": ["x", "y", "x", "y", "x", "y"],
    }
)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"test": "lrt", "reduced": "~ 1"}, r"analyses.main: lfc_shrink: normal shrinks the fold changes of Wald tests.*test: lrt"),
        ({"design": "~ batch * condition", "contrasts": {"i": {"coef": "batchy.conditiontrt"}}},
         r"analyses.main: lfc_shrink: normal is not defined for a design with interactions \('batch:condition'"),
        ({"contrasts": {"t": {"vector": {"condition_trt_vs_ctl": 1}}}},
         r"analyses.main: lfc_shrink: normal shrinks contrasts given as .*contrast\(s\) 't' are numeric vectors"),
        ({"family": "gaussian"}, r"analyses.main: lfc_shrink: normal shrinks the fold changes of family nb"),
    ],
)
def test_study_refuses_shrinkage_where_deseq2_defines_none(entry, message):
    from glmstack import study as study_checks
    from glmstack.errors import StudyError
    from glmstack.spec import study_analyses

    analysis = {"design": "~ condition", "lfc_shrink": "normal", "contrasts": {"t": ["condition", "trt", "ctl"]}}
    config = {"counts": "c.tsv", "samples": "s.tsv", "analyses": {"main": {**analysis, **entry}}}
    with pytest.raises(StudyError, match=message):
        study_checks.check_analyses(study_analyses(config), STUDY_SHEET, "s.tsv")
