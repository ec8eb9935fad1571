"""Every moderated-t, moderated-F, treat and voom analysis of tests/data/gaussian against limma 3.54.1.

Each analysis runs through glmstack.gaussian.steps (in this process, one shard) with the design
and contrast built from the case's study.yaml as the workflow builds them. Thresholds
(tests/tolerances.py): Pearson of t (or F) >= 0.99999 and max |delta log10 P.Value| <= 1e-6 on the
features R tests, identical NA positions, equal adj.P.Val < 0.1 sets, and df.prior / s2.prior to
1e-6 relative. logFC, AveExpr and B are checked too.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tolerances as tol
import yaml
from limma_cases import DATA, assert_matches_limma, load_case, read_tsv, reference, run

# Analyses whose method is not implemented yet (skipped, with the reason).
PENDING: dict[tuple[str, str], str] = {}


def gaussian_analyses() -> list:
    """(case, analysis) for every limma analysis with a reference (sva and reverse belong elsewhere)."""
    out = []
    for study_file in sorted(DATA.glob("*/study.yaml")):
        study = yaml.safe_load(study_file.read_text())
        for name, spec in study["analyses"].items():
            if "sva" in spec or spec.get("direction") == "reverse":
                continue
            if (study_file.parent / "reference" / name).exists():
                key = (study_file.parent.name, name)
                marks = [pytest.mark.skip(reason=PENDING[key])] if key in PENDING else []
                out.append(pytest.param(*key, marks=marks))
    return out


def _ours_table(case: str, analysis: str) -> tuple[pd.DataFrame, str]:
    result = run(case, analysis)
    if "lrt" in result["tables"]:
        return result["tables"]["lrt"], "F"
    return next(iter(result["tables"].values())), "t"


@pytest.mark.parametrize(("case", "analysis"), gaussian_analyses())
def test_statistics_match_limma(case, analysis):
    ours, stat = _ours_table(case, analysis)
    assert_matches_limma(ours, case, analysis, stat)


@pytest.mark.parametrize(("case", "analysis"), gaussian_analyses())
def test_estimates_and_b_match_limma(case, analysis):
    ours, stat = _ours_table(case, analysis)
    ref = reference(case, analysis)
    value_columns = [c for c in ref.columns if c not in ("feature_id", stat, "P.Value", "adj.P.Val")]
    ours = ours.rename(columns=lambda c: c.replace(":", "."))
    for column in value_columns:
        a, b = ours[column].to_numpy(dtype=float), ref[column].to_numpy(dtype=float)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=column)
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10, equal_nan=True, err_msg=column)


@pytest.mark.parametrize(("case", "analysis"), gaussian_analyses())
def test_prior_and_posterior_match_limma(case, analysis):
    moderation = run(case, analysis)["moderation"]
    fit = run(case, analysis)["fit"]
    ref = reference(case, analysis, "fit")
    np.testing.assert_allclose(moderation.prior.df_prior, ref["df_prior"], rtol=tol.PRIOR_RTOL)
    np.testing.assert_allclose(moderation.prior.s2_prior, ref["s2_prior"], rtol=tol.PRIOR_RTOL)
    np.testing.assert_allclose(moderation.s2_post, ref["s2_post"], rtol=tol.PRIOR_RTOL)
    np.testing.assert_allclose(moderation.df_total, ref["df_total"], rtol=tol.PRIOR_RTOL)
    np.testing.assert_allclose(fit.sigma, ref["sigma"], rtol=1e-10, atol=1e-13, equal_nan=True)  # exact fits: rounding
    np.testing.assert_array_equal(fit.df_residual, ref["df_residual"])
    np.testing.assert_allclose(fit.amean, ref["Amean"], rtol=1e-10, atol=1e-12, equal_nan=True)


def test_voom_weights_match_limma():
    weights = run("human_gender_voom", "sex_voom")["voom"].weights
    ref = read_tsv(DATA / "human_gender_voom" / "reference" / "sex_voom" / "weights_first200.tsv.gz")
    np.testing.assert_allclose(weights[:200], ref.iloc[:, 1:].to_numpy(), rtol=1e-9)


def test_tmm_factors_match_edger():
    factors = run("human_gender_voom", "sex_voom_tmm")["norm_factors"]
    meta = json.loads((DATA / "human_gender_voom" / "reference" / "sex_voom_tmm" / "meta.json").read_text())
    _, samples, _, _, _ = load_case("human_gender_voom")
    np.testing.assert_allclose(factors, [meta["norm_factors"][s] for s in samples["sample"]], rtol=1e-10)
