"""Small designs (1 to 4 residual degrees of freedom) against R DESeq2 1.38.

The cases tests/data/small_* are sample subsets of the public cases, with every gene of
the parent (tests/data/make_small_designs.R). With m - p <= 3 DESeq2 estimates the prior
variance of the log dispersions by matching histograms simulated after set.seed(2), which
glmstack reproduces draw for draw; so the prior variance must be DESeq2's fine-grid point
exactly, both from the whole workflow and from DESeq2's own residuals. The other golden
thresholds are checked for these cases by test_deseq2_reference.py, which finds them too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from cases import DATA, analyses, load
from glmstack.nb import size_factors, steps
from glmstack.nb.prior import dispersion_prior_variance, var_log_disp_ests
from glmstack.spec import Analysis

# (case, analysis) -> m - p; 1 to 3 take DESeq2's simulation branch, 4 its closed form
RESIDUAL_DF = {
    ("small_bodymap_3x2", "tissue"): 3,
    ("small_human_gender_2v2", "sex"): 2,
    ("small_marioni_2v2", "tissue"): 2,
    ("small_marioni_2v2", "run_tissue"): 1,
    ("small_marioni_3v3", "tissue"): 4,
    ("small_marioni_3v3", "run_tissue"): 3,
    ("small_mouse_diet_paired", "paired_diet"): 3,
}
PRIOR_VAR_ABS = 1e-10  # meta.json carries 15 significant digits of DESeq2's dispPriorVar


def test_every_small_case_is_listed() -> None:
    assert {key for key in analyses() if key[0].startswith("small_")} == set(RESIDUAL_DF)


@pytest.mark.parametrize(("case_name", "analysis"), sorted(RESIDUAL_DF))
def test_prior_variance_equals_deseq2(case_name: str, analysis: str) -> None:
    case = load(case_name)
    meta = case.meta(analysis)
    assert len(case.sample_ids) - len(meta["design_matrix_columns"]) == RESIDUAL_DF[(case_name, analysis)]
    sf = size_factors.size_factors(case.counts, case.study.get("size_factors_method", "ratio"))
    spec = Analysis.from_study(analysis, case.study["analyses"][analysis])
    trend = steps.run_analysis(case.gene_id, case.counts, sf, case.samples, spec)["trend"]
    assert trend["prior_var"] == pytest.approx(meta["dispPriorVar"], rel=0, abs=PRIOR_VAR_ABS)
    assert trend["var_log_disp_ests"] == pytest.approx(meta["varLogDispEsts"], rel=1e-8)


@pytest.mark.parametrize(("case_name", "analysis"), sorted(RESIDUAL_DF))
def test_prior_step_on_deseq2_residuals(case_name: str, analysis: str) -> None:
    """The prior step alone, fed DESeq2's gene-wise estimates and trend."""
    case = load(case_name)
    meta = case.meta(analysis)
    ref = case.reference(analysis, "dispersions")
    used = ref["dispGeneEst"].notna() & (ref["dispGeneEst"] >= 1e-6)
    residuals = np.log(ref.loc[used, "dispGeneEst"].to_numpy()) - np.log(ref.loc[used, "dispFit"].to_numpy())
    m, p = len(case.sample_ids), len(meta["design_matrix_columns"])
    prior_var = dispersion_prior_variance(residuals, m, p)
    assert prior_var == pytest.approx(meta["dispPriorVar"], rel=0, abs=PRIOR_VAR_ABS)
    # inputs are written with 15 significant digits
    assert var_log_disp_ests(residuals) == pytest.approx(meta["varLogDispEsts"], rel=1e-12)


@pytest.mark.parametrize("case_name", sorted({case for case, _ in RESIDUAL_DF}))
def test_counts_are_the_parent_columns_with_every_gene(case_name: str) -> None:
    source = yaml.safe_load((DATA / case_name / "SOURCE.yaml").read_text())
    small, parent = load(case_name), load(source["parent_case"])
    assert list(small.sample_ids) == source["samples"]
    np.testing.assert_array_equal(small.gene_id, parent.gene_id)
    columns = [parent.sample_ids.index(s) for s in source["samples"]]
    np.testing.assert_array_equal(small.counts, parent.counts[:, columns])
    parent_sheet = parent.samples.set_index("sample").loc[source["samples"]].reset_index()
    pd.testing.assert_frame_equal(small.samples.reset_index(drop=True), parent_sheet, check_dtype=False)
