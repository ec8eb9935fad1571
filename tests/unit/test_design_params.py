"""Designs as params: the shard jobs rebuild the model the study checks built, bit for bit,
without importing pandas or the formula library (glmstack.design.matrices)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from glmstack.design.matrices import Covariates, model_from_params, model_to_params
from glmstack.design.model import build_model
from glmstack.errors import StudyError
from glmstack.spec import Analysis

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
SHEET = pd.DataFrame(
    {
        "sample": [f"s{i}" for i in range(12)],
        "batch": list("abcabcabcabc"),
        "condition": ["x"] * 6 + ["y"] * 6,
        "age": np.linspace(20.1, 71.3, 12),
    }
)
IDS = SHEET["sample"].tolist()


def analysis(**entry) -> Analysis:
    spec = {"design": "~ batch + condition + ns(age, df = 2)", "contrasts": {"y_vs_x": ["condition", "y", "x"]}}
    return Analysis.from_study("a", {**spec, **entry})


def assert_same_model(ours, expected):
    for a, b in ((ours.full, expected.full), (ours.reduced, expected.reduced)):
        if b is None:
            assert a is None
            continue
        np.testing.assert_array_equal(a.matrix, b.matrix)  # exact: floats pass through params unchanged
        assert a.matrix.flags["C_CONTIGUOUS"] and b.matrix.flags["C_CONTIGUOUS"]  # BLAS sums by layout
        assert (a.columns, a.r_names, a.results_names, a.terms, a.factors, a.numeric, a.has_intercept) == (
            b.columns, b.r_names, b.results_names, b.terms, b.factors, b.numeric, b.has_intercept)
    assert [c.name for c in ours.contrasts] == [c.name for c in expected.contrasts]
    for c, d in zip(ours.contrasts, expected.contrasts):
        np.testing.assert_array_equal(c.vector, d.vector)
        assert c.description == d.description
        assert (c.zero_samples is None) == (d.zero_samples is None)
        if d.zero_samples is not None:
            np.testing.assert_array_equal(c.zero_samples, d.zero_samples)


@pytest.mark.parametrize("entry", [{}, {"test": "lrt", "reduced": "~ batch"}, {"contrasts": None}])
def test_a_model_passes_through_params_unchanged(entry):
    model = build_model(SHEET, analysis(**entry))
    params = json.loads(json.dumps(model_to_params(model, IDS)))  # what Snakemake hands the job
    assert_same_model(model_from_params(params, IDS), model)


def test_surrogate_variables_join_both_designs_as_in_build_model():
    sv = Covariates(IDS[::-1], ["SV1", "SV2"], np.arange(24.0).reshape(12, 2) ** 1.5)  # rows in another order
    entry = {"test": "lrt", "reduced": "~ batch"}
    expected = build_model(SHEET, analysis(**entry), sv)
    rebuilt = model_from_params(model_to_params(build_model(SHEET, analysis(**entry)), IDS), IDS, sv)
    assert_same_model(rebuilt, expected)
    assert rebuilt.full.columns[-2:] == ["SV1", "SV2"] and rebuilt.contrasts[0].vector[-2:].tolist() == [0, 0]


def test_shards_of_other_samples_are_refused_with_the_fix():
    params = model_to_params(build_model(SHEET, analysis()), IDS)
    with pytest.raises(StudyError, match="rerun the workflow"):
        model_from_params(params, IDS[1:] + IDS[:1])


def test_missing_surrogate_variables_name_the_sample():
    params = model_to_params(build_model(SHEET, analysis()), IDS)
    sv = Covariates(IDS[:-1], ["SV1"], np.ones((11, 1)))
    with pytest.raises(StudyError, match="s11"):
        model_from_params(params, IDS, sv)


@pytest.mark.parametrize("script", ["genewise", "trend", "fit", "lmfit", "voom_points", "voom_trend"])
def test_shard_jobs_import_neither_pandas_nor_the_formula_library(script):
    """Their start-up is part of every shard's time (about 0.4 s for pandas and formulaic)."""
    code = f"import sys; import {script}; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=SCRIPTS, check=True, capture_output=True,
                                text=True).stdout.split())
    assert not loaded & {"pandas", "formulaic", "matplotlib", "pyarrow", "statsmodels", "scipy.stats"}


@pytest.mark.parametrize("script", ["ingest", "merge", "normalize"])
def test_table_jobs_import_no_pandas(script):
    """Their tables are dicts of columns written through Arrow: pandas would add 0.2 s to each
    (glmstack.io.tables's test writes tables, and test_bad_input's reads a plain matrix, in a
    process without it)."""
    code = f"import sys; import {script}; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=SCRIPTS, check=True, capture_output=True,
                                text=True).stdout.split())
    assert not loaded & {"pandas", "formulaic", "matplotlib", "statsmodels", "scipy.stats"}


@pytest.mark.parametrize("script", ["moderate"])
def test_genome_wide_gaussian_jobs_import_neither_the_formula_library_nor_scipy_interpolate(script):
    """limma's trend uses the spline basis only; formulaic and scipy.interpolate would add about 0.3 s."""
    code = f"import sys; import {script}; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=SCRIPTS, check=True, capture_output=True,
                                text=True).stdout.split())
    assert not loaded & {"formulaic", "scipy.interpolate", "matplotlib", "statsmodels", "scipy.stats"}
