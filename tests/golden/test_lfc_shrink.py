"""lfc_shrink: normal against R DESeq2 1.38.3's lfcShrink(type = "normal").

References: tests/data/<case>/reference/<analysis>_shrink_normal/ (made by
tests/data/make_shrink_normal.R): marioni run_tissue (two 2-level factors, a level contrast on
the expanded design), bodymap heart_vs_skeletal_muscle (a 4-level factor, two level contrasts
neither or one of them against the reference), mouse_diet time_wald (a numeric covariate by
{coef}, the standard design, beside a 12-level factor; 139 samples, Cook's replacement) and
human_gender sex (85 samples, 5 genes with replaced outliers: the refit uses the original
counts). Each analysis runs through the workflow's stage functions in this process, the
shrinkage in shards of 2,000 genes, and is held to the golden thresholds of tests/tolerances.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tolerances as tol
from cases import DATA, load, read_table
from glmstack.design.model import build_model
from glmstack.nb import results, shrink, size_factors, steps
from glmstack.spec import Analysis

CASES = [
    ("marioni", "run_tissue"),
    ("bodymap", "heart_vs_skeletal_muscle"),
    ("mouse_diet", "time_wald"),
    ("human_gender", "sex"),
]

# Prior variances that differ from R's by more than 1e-6 (relative), and why.
PRIOR_VARIANCE_EXCEPTIONS = {
    # The 95 % weighted quantile of |MLE LFC| of mouseID PM9 is decided by one gene,
    # Propionibacterium:6, with a single non-zero count (10) in 139 samples: its likelihood is
    # nearly flat in that coefficient, and IRLS meets the deviance criterion at -2.6891 here and
    # at -2.7188 in R (both converged). That moves the quantile by one order statistic: 1.8928
    # here, 1.9055 in R (0.7 %); with R's value for that one gene ours is R's to 3e-14. The
    # relativeTime table, the one shrunk, agrees to Pearson 1 - 3e-9.
    ("mouse_diet", "time_wald", "mouseIDPM9"): 0.01,
}

_RUNS: dict = {}


def run(case_name: str, analysis_name: str) -> tuple[dict, dict]:
    key = (case_name, analysis_name)
    if key not in _RUNS:
        case = load(case_name)
        sf = size_factors.size_factors(case.counts, case.study.get("size_factors_method", "ratio"))
        entry = {**case.study["analyses"][analysis_name], "lfc_shrink": "normal"}
        analysis = Analysis.from_study(analysis_name, entry)
        fit = steps.run_analysis(case.gene_id, case.counts, sf, case.samples, analysis)["fit"]
        model = build_model(case.samples, analysis)
        prior = shrink.shrink_prior_step(fit, model, analysis)
        shrunk = shrink.run_shrink(fit, case.counts, sf, model, analysis, genes_per_shard=2000)
        _RUNS[key] = (prior, shrunk)
    return _RUNS[key]


def reference_dir(case_name: str, analysis_name: str):
    return DATA / case_name / "reference" / f"{analysis_name}_shrink_normal"


def meta(case_name: str, analysis_name: str) -> dict:
    return json.loads((reference_dir(case_name, analysis_name) / "meta.json").read_text())


@pytest.mark.parametrize(("case_name", "analysis_name"), CASES)
def test_shrunken_fold_changes_and_standard_errors(case_name, analysis_name):
    _, shrunk = run(case_name, analysis_name)
    for contrast, info in meta(case_name, analysis_name)["contrasts"].items():
        ref = read_table(reference_dir(case_name, analysis_name) / info["file"])
        assert list(ref["gene_id"]) == list(load(case_name).gene_id)
        ours = results.shrunk_columns(shrunk, contrast)
        expressed = (ref["baseMean"] >= tol.LFC_MIN_BASEMEAN).to_numpy()
        for column, ref_column in (("log2FoldChange_shrunk", "log2FoldChange"), ("lfcSE_shrunk", "lfcSE")):
            theirs = ref[ref_column].to_numpy()
            np.testing.assert_array_equal(np.isnan(ours[column]), np.isnan(theirs))
            both = expressed & ~np.isnan(theirs)
            r = np.corrcoef(ours[column][both], theirs[both])[0, 1]
            assert r >= tol.LFC_PEARSON, (contrast, column, r)


@pytest.mark.parametrize(("case_name", "analysis_name"), CASES)
def test_prior_variances(case_name, analysis_name):
    prior, _ = run(case_name, analysis_name)
    for contrast, info in meta(case_name, analysis_name)["contrasts"].items():
        ref = info["betaPriorVar"]
        kind = "expanded" if "contrast =" in info["call"] else "standard"
        ours = prior[kind]["prior_variance"]
        assert len(ours) == len(ref)
        for value, (name, r_value) in zip(ours, ref.items()):  # both in model-matrix order
            rtol = PRIOR_VARIANCE_EXCEPTIONS.get((case_name, analysis_name, name), 1e-6)
            assert value == pytest.approx(r_value, rel=rtol), (contrast, name)
        if kind == "expanded":
            assert prior[kind]["columns"] == list(ref)
