"""Reverse analyses in the study: schema, spec and the checks before any job."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from glmstack import study
from glmstack.errors import StudyError
from glmstack.spec import JOB_KEYS, Analysis, schema
from jsonschema import Draft202012Validator

SHEET = pd.DataFrame(
    {
        "sample": [f"s{i}" for i in range(8)],
        "sex": ["F", "M"] * 4,
        "age": [31.0, 45.5, 52.0, 38.0, 61.0, 29.0, 44.0, 50.0],
        "group": ["a", "a", "b", "b", "c", "c", "a", "b"],
        "sex2": ["F", "M"] * 4,
    }
)
REVERSE = {"direction": "reverse", "trait": "age", "covariates": "~ sex"}


def analyses(entry: dict) -> dict[str, Analysis]:
    return {"r": Analysis.from_study("r", entry, "gaussian")}


def test_schema_needs_design_only_for_forward_analyses():
    validator = Draft202012Validator(schema())
    base = {"values": "v.tsv", "samples": "s.tsv"}
    assert validator.is_valid({**base, "analyses": {"r": REVERSE}})
    assert not validator.is_valid({**base, "analyses": {"r": {"direction": "reverse", "trait": "age"}}})
    assert not validator.is_valid({**base, "analyses": {"f": {"family": "gaussian"}}})


def test_defaults_and_job_keys():
    analysis = analyses(REVERSE)["r"]
    assert (analysis.permutations, analysis.transform, analysis.is_reverse) == (1000, None, True)
    assert isinstance(analysis.seed, int) and analysis.table_names == ["reverse"]
    assert {"trait", "covariates", "permutations", "seed", "transform"} <= set(JOB_KEYS["reverse"])
    assert "alpha" in JOB_KEYS["reverse_merge"] and "alpha" not in JOB_KEYS["reverse"]


def test_reverse_checks_pass_and_levels_apply():
    entry = {**REVERSE, "covariates": "~ sex + group", "levels": {"sex": ["M", "F"]}}
    assert study.check_analyses(analyses(entry), SHEET, "samples.tsv") == []
    assert study.check_analyses(analyses({**REVERSE, "covariates": "~ 1"}), SHEET, "samples.tsv") == []


@pytest.mark.parametrize(
    ("change", "sheet_change", "match"),
    [
        ({"trait": "weight"}, None, r"samples.tsv: column 'weight' \(the trait of analyses.r\) is missing"),
        ({}, ("age", "old"), r"'age' \(the trait of analyses.r\) is not a number for samples 's0' \(values 'old'\)"),
        ({}, ("age", None), r"'age' \(the trait of analyses.r\) is empty or NA for samples 's0'"),
        ({"covariates": "~ sex + age"}, None, r"the trait 'age' is also in covariates"),
        ({"covariates": "~ batch"}, None, r"column\(s\) 'batch' used in analyses.r.covariates"),
        ({"covariates": "~ sex + sex2"}, None, r"analyses.r.covariates: the design '~ sex \+ sex2' is not full rank"),
    ],
)
def test_reverse_checks_name_the_problem(change, sheet_change, match):
    sheet = SHEET.copy()
    if sheet_change:
        sheet[sheet_change[0]] = sheet[sheet_change[0]].astype(object)
        sheet.loc[0, sheet_change[0]] = sheet_change[1]
    with pytest.raises(StudyError, match=match):
        study.check_analyses(analyses({**REVERSE, **change}), sheet, "samples.tsv")


def test_a_fit_needs_a_residual_degree_of_freedom():
    with pytest.raises(StudyError, match=r"analyses.r: 3 samples leave no residual degree of freedom"):
        study.check_analyses(analyses(REVERSE), SHEET.iloc[:3], "samples.tsv")


def config(entry: dict) -> dict:
    return {"values": "v.tsv", "samples": "s.tsv", "analyses": {"r": copy.deepcopy(entry)}}


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({**REVERSE, "design": "~ sex"}, r"analyses.r: 'design' do not apply to direction: reverse"),
        ({**REVERSE, "contrasts": {}, "test": "lrt"}, r"'test', 'contrasts' do not apply to direction: reverse"),
        ({"direction": "reverse", "trait": "age"}, r"missing key 'covariates' of a reverse analysis"),
        ({"design": "~ sex", "trait": "age"}, r"'trait' belong to a reverse analysis"),
    ],
)
def test_config_refuses_keys_of_the_other_direction(entry, match):
    with pytest.raises(StudyError, match=match):
        study.check_config(config(entry), schema())


def test_transform_applies_to_counts_only():
    with pytest.raises(StudyError, match=r"analyses.r: `transform: vst` applies to counts"):
        study.check_families(analyses({**REVERSE, "transform": "vst"}), {"values": "v.tsv"})
    study.check_families(analyses({**REVERSE, "transform": "log_cpm"}), {"counts": "c.tsv"})
