"""glmstack.spec: one analysis object, its defaults from the schema, and each job's params.

Every analysis key the schema has is exercised: each job's params are built as the rules
build them, and each job builds its design (or model) from its params alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from glmstack.design.model import build_model, full_design
from glmstack.spec import JOB_KEYS, SCHEMA_PATH, Analysis, analysis_defaults, study_analyses

SHEET = pd.DataFrame(
    {
        "sample": [f"s{i}" for i in range(12)],
        "condition": ["ctl", "trt"] * 6,
        "batch": ["x", "x", "y", "y"] * 3,
        "age": ["31", "45", "22", "60", "51", "38", "27", "44", "35", "58", "41", "29"],
        "time": ["d0"] * 6 + ["d6"] * 6,
    }
)

# one analysis per kind of key: bins, splines, LRT, vector contrasts, thresholds, Cook's settings
ANALYSES = {
    "bins": {
        "design": "~ batch + age_group",
        "bins": {"age_group": {"column": "age", "quantiles": 3}},
        "contrasts": {"old_vs_young": ["age_group", "Q3", "Q1"]},
    },
    "breaks": {
        "design": "~ age_group",
        "bins": {"age_group": {"column": "age", "breaks": [20, 40, 60]}},
        "contrasts": {"older": ["age_group", "40-60", "20-40"]},
    },
    "spline_lrt": {
        "design": "~ batch + ns(age, df = 2)",
        "test": "lrt",
        "reduced": "~ batch",
        "fit_type": "local",
    },
    "interaction": {
        "design": "~ time * condition",
        "levels": {"time": ["d0", "d6"], "condition": ["ctl", "trt"]},
        "contrasts": {"inter": {"coef": "timed6.conditiontrt"}},
    },
    "no_intercept": {
        "design": "~ 0 + condition",
        "contrasts": {"trt_vs_ctl": {"vector": {"conditiontrt": 1, "conditionctl": -1}}},
    },
    "threshold": {
        "design": "~ condition",
        "lfc_threshold": 1,
        "alt_hypothesis": "lessAbs",
        "alpha": 0.05,
        "cooks_cutoff": 4.5,
        "min_replicates_for_replace": None,
    },
}


def analyses() -> dict[str, Analysis]:
    return study_analyses({"analyses": ANALYSES})


def test_defaults_are_the_schemas():
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    props = schema["properties"]["analyses"]["additionalProperties"]["properties"]
    a = Analysis.from_study("a", {"design": "~ condition"})
    for key, prop in props.items():
        if "default" in prop:
            assert getattr(a, key) == prop["default"], key
    assert analysis_defaults()["alpha"] == 0.1 and a.test == "wald" and a.fit_type == "parametric"


def test_every_schema_key_is_a_field_and_shapes_some_job():
    props = yaml.safe_load(SCHEMA_PATH.read_text())["properties"]["analyses"]["additionalProperties"][
        "properties"
    ]
    shaping = set().union(*JOB_KEYS.values())
    assert set(props) == shaping
    assert set(props) <= {f for f in Analysis.__dataclass_fields__}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_each_job_builds_its_model_from_its_params(name):
    analysis = analyses()[name]
    whole = build_model(SHEET, analysis)
    for job in JOB_KEYS:
        if job.startswith("reverse"):  # the jobs of direction: reverse (no design)
            continue
        params = analysis.params(job)
        assert yaml.safe_load(yaml.safe_dump(params)) == params  # plain values, as Snakemake stores them
        rebuilt = Analysis.from_params(params)
        np.testing.assert_array_equal(full_design(SHEET, rebuilt).matrix, whole.full.matrix)
        if job not in ("model", "trend", "lmfit"):  # the jobs that need no contrasts
            model = build_model(SHEET, rebuilt)
            assert [c.name for c in model.contrasts] == [c.name for c in whole.contrasts]
            for ours, theirs in zip(model.contrasts, whole.contrasts):
                np.testing.assert_array_equal(ours.vector, theirs.vector)
            assert (model.reduced is None) == (whole.reduced is None)


def test_a_job_does_not_see_keys_that_do_not_shape_it():
    a = analyses()["threshold"]
    genewise = Analysis.from_params(a.params("model"))
    assert genewise.alpha is None and genewise.fit_type is None and genewise.contrasts is None
    assert Analysis.from_params(a.params("fit")).alpha is None
    assert Analysis.from_params(a.params("tables")).alpha == 0.05


@pytest.mark.parametrize(
    ("key", "value", "rerun"),
    [
        ("alpha", 0.05, {"tables", "plots", "limma_summary", "reverse_merge"}),
        ("permutations", 200, {"reverse", "reverse_merge"}),
        ("seed", 1, {"reverse", "reverse_merge"}),
        ("fit_type", "mean", {"trend", "fit", "shrink", "tables", "plots"}),
        ("bins", {"age_group": {"column": "age", "quantiles": 2}}, set(JOB_KEYS)),
        ("lfc_threshold", 0.5, {"fit", "shrink", "tables", "plots", "moderate", "limma_summary"}),
        ("cooks_cutoff", False, {"fit", "shrink", "tables", "plots"}),
        ("lfc_shrink", "normal", {"shrink", "tables", "plots"}),
        ("moderation", {"trend": True}, {"moderate", "limma_summary"}),
        ("family", "gaussian", {"lmfit", "moderate", "limma_summary"}),
    ],
)
def test_editing_a_key_changes_the_params_of_the_jobs_it_shapes(key, value, rerun):
    before = analyses()["bins"]
    after = Analysis.from_study("bins", {**ANALYSES["bins"], key: value})
    changed = {job for job in JOB_KEYS if before.params(job) != after.params(job)}
    assert changed == rerun


def test_table_names():
    a = analyses()
    assert a["spline_lrt"].table_names == ["lrt"] and a["spline_lrt"].contrast_names == ["results"]
    assert a["bins"].table_names == ["old_vs_young"]
    assert a["threshold"].table_names == ["results"]


def test_family_defaults_from_the_input_and_moderation_is_completed():
    entry = {"design": "~ condition", "moderation": {"trend": True}}
    on_counts = study_analyses({"counts": "c.tsv", "analyses": {"a": entry}})["a"]
    on_values = study_analyses({"values": "v.tsv", "analyses": {"a": entry}})["a"]
    assert on_counts.family == "nb" and not on_counts.is_gaussian
    assert on_values.family == "gaussian" and on_values.is_gaussian
    assert on_values.moderation == {"trend": True, "robust": False}
    assert Analysis.from_params(on_values.params("moderate")).moderation == {"trend": True, "robust": False}


def test_nb_params_do_not_change_with_the_gaussian_keys():
    """The nb jobs' params (and so their stamps) are those of before the gaussian family."""
    a = analyses()["bins"]
    for job in ("model", "trend", "fit", "tables", "plots"):
        assert not {"family", "moderation", "normalization"} & set(a.params(job))


GAUSSIAN_BASE = {"family": "gaussian", "design": "~ batch + condition", "contrasts": {"trt": ["condition", "trt", "ctl"]}}


@pytest.mark.parametrize(
    "edit",
    [
        {"contrasts": {"ctl": ["condition", "ctl", "trt"]}},
        {"test": "lrt", "reduced": "~ batch"},
        {"lfc_threshold": 1.0},
        {"moderation": {"trend": True, "robust": True}},
        {"alpha": 0.01},
    ],
)
def test_analyses_differing_in_the_tests_share_one_lmfit(edit):
    """One least-squares fit per design: contrasts, test, thresholds and moderation do not shape it."""
    base = Analysis.from_study("a", GAUSSIAN_BASE)
    other = Analysis.from_study("b", {**GAUSSIAN_BASE, **edit})
    assert other.shape_id("lmfit") == base.shape_id("lmfit")
    assert other.params("lmfit") == {**base.params("lmfit"), "name": "b"}


@pytest.mark.parametrize(
    "edit",
    [
        {"design": "~ condition"},
        {"levels": {"condition": ["trt", "ctl"]}},
        {"family": "voom"},
        {"family": "voom", "normalization": "tmm"},
        {"bins": {"age_group": {"column": "age", "quantiles": 2}}},
        {"sva": {"n": 2}},
    ],
)
def test_analyses_differing_in_the_fit_have_their_own_lmfit(edit):
    base = Analysis.from_study("a", GAUSSIAN_BASE)
    assert Analysis.from_study("b", {**GAUSSIAN_BASE, **edit}).shape_id("lmfit") != base.shape_id("lmfit")
    voom = Analysis.from_study("v", {**GAUSSIAN_BASE, "family": "voom"})
    assert voom.shape_id("lmfit") != Analysis.from_study("t", {**GAUSSIAN_BASE, "family": "voom", "normalization": "tmm"}).shape_id("lmfit")


def test_with_surrogate_variables_the_tested_terms_shape_the_lmfit_id():
    """The surrogate variables join the design and depend on the tested terms (the null design):
    analyses with `sva:` share a fit only where everything that shapes them is equal, as for nb."""
    sva = {**GAUSSIAN_BASE, "sva": {"n": 2}}
    base = Analysis.from_study("a", sva)
    assert Analysis.from_study("b", {**sva, "lfc_threshold": 1.0, "alpha": 0.01}).shape_id("lmfit") == base.shape_id("lmfit")
    assert Analysis.from_study("c", {**sva, "moderation": {"trend": True}}).shape_id("lmfit") == base.shape_id("lmfit")
    assert Analysis.from_study("d", {**sva, "contrasts": {"ctl": ["condition", "ctl", "trt"]}}).shape_id("lmfit") != base.shape_id("lmfit")
    assert Analysis.from_study("e", {**sva, "test": "lrt", "reduced": "~ batch"}).shape_id("lmfit") != base.shape_id("lmfit")
    assert Analysis.from_study("f", {**sva, "sva": {"n": 3}}).shape_id("lmfit") != base.shape_id("lmfit")
    # the nb dispersion fit's id is the same as before: the sva keys alone
    assert base.shape_id("model") == Analysis.from_study("g", {**sva, "family": "nb"}).shape_id("model")
