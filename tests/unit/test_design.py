"""Design matrices, their three namings, contrasts, estimability and bins."""

import numpy as np
import pandas as pd
import pytest
from glmstack.design.contrasts import contrast_reduced_design, resolve_contrast
from glmstack.design.covariates import add_bins
from glmstack.design.formula import build_design, check_estimable, check_nested, r_make_names
from glmstack.errors import StudyError

SHEET = pd.DataFrame(
    {
        "sample": [f"s{i}" for i in range(8)],
        "group": ["A", "A", "B", "B", "C", "C", "A", "B"],
        "batch": ["x", "y"] * 4,
        "age": ["31", "45", "22", "60", "51", "38", "27", "44"],
    }
)


def test_treatment_coding_and_names():
    d = build_design(SHEET, "~ batch + group", {"group": ["A", "B", "C"]})
    assert d.columns == ["Intercept", "batch[T.y]", "group[T.B]", "group[T.C]"]
    assert d.r_names == ["(Intercept)", "batchy", "groupB", "groupC"]
    assert d.results_names == ["Intercept", "batch_y_vs_x", "group_B_vs_A", "group_C_vs_A"]
    np.testing.assert_array_equal(d.matrix[:, 2], (SHEET["group"] == "B").astype(float))
    assert d.numeric == [] and list(d.factors) == ["batch", "group"]


def test_numeric_covariate_and_interaction_names():
    d = build_design(SHEET, "~ age + batch:group", {"group": ["A", "B", "C"]})
    assert "age" in d.results_names
    np.testing.assert_array_equal(d.matrix[:, d.column_index("age")], SHEET["age"].astype(float))
    assert r_make_names("armswitch:phasepost") == "armswitch.phasepost"


def test_no_intercept_keeps_level_names():
    d = build_design(SHEET, "~ 0 + group", {})
    assert d.results_names == ["groupA", "groupB", "groupC"]


def test_contrast_between_two_non_reference_levels():
    d = build_design(SHEET, "~ batch + group", {"group": ["A", "B", "C"]})
    c = resolve_contrast(d, "c_vs_b", ["group", "C", "B"], SHEET, "t")
    np.testing.assert_array_equal(c.vector, [0, 0, -1, 1])
    c = resolve_contrast(d, "a_vs_c", ["group", "A", "C"], SHEET, "t")
    np.testing.assert_array_equal(c.vector, [0, 0, 0, -1])


@pytest.mark.parametrize("name", ["group[T.B]", "groupB", "group_B_vs_A"])
def test_coef_in_any_naming(name):
    d = build_design(SHEET, "~ batch + group", {"group": ["A", "B", "C"]})
    c = resolve_contrast(d, "b", {"coef": name}, SHEET, "t")
    np.testing.assert_array_equal(c.vector, [0, 0, 1, 0])


def test_vector_contrast_and_unknown_names():
    d = build_design(SHEET, "~ 0 + group", {})
    c = resolve_contrast(d, "v", {"vector": {"groupC": 1, "group[A]": -1}}, SHEET, "t")
    np.testing.assert_array_equal(c.vector, [-1, 0, 1])
    with pytest.raises(StudyError, match="'groupD'.*not\n?.*columns of the design"):
        resolve_contrast(d, "v", {"vector": {"groupD": 1}}, SHEET, "analyses.x")


def test_contrast_errors_name_the_problem():
    d = build_design(SHEET, "~ batch + group", {"group": ["A", "B", "C"]})
    with pytest.raises(StudyError, match="factor 'tissue'"):
        resolve_contrast(d, "x", ["tissue", "B", "A"], SHEET, "analyses.x")
    with pytest.raises(StudyError, match="level\\(s\\) 'D'"):
        resolve_contrast(d, "x", ["group", "D", "A"], SHEET, "analyses.x")


def test_confounded_design_names_the_dependent_column():
    sheet = SHEET.assign(lab=SHEET["batch"].map({"x": "l1", "y": "l2"}))
    d = build_design(sheet, "~ batch + lab", {})
    with pytest.raises(StudyError, match="not full rank.*'lab\\[T.l2\\]'"):
        check_estimable(d, "analyses.x")


def test_no_residual_degrees_of_freedom():
    d = build_design(SHEET.iloc[[0, 2]], "~ group", {"group": ["A", "B"]})
    with pytest.raises(StudyError, match="no residual degrees of freedom"):
        check_estimable(d, "analyses.x")


def test_reduced_must_be_nested():
    full = build_design(SHEET, "~ batch + group", {})
    reduced = build_design(SHEET, "~ age", {})
    with pytest.raises(StudyError, match="not nested.*'age'"):
        check_nested(full, reduced, "analyses.x")
    check_nested(full, build_design(SHEET, "~ batch", {}), "analyses.x")


def test_bins_by_quantiles_and_breaks():
    sheet, levels = add_bins(SHEET, {"age3": {"column": "age", "quantiles": 2}}, "t")
    assert levels["age3"] == ["Q1", "Q2"]
    # median 41 (R type 7)
    assert sheet["age3"].tolist() == ["Q1", "Q2", "Q1", "Q2", "Q2", "Q1", "Q1", "Q2"]
    sheet, levels = add_bins(SHEET, {"decade": {"column": "age", "breaks": [20, 40, 60]}}, "t")
    assert sheet["decade"].tolist() == ["20-40", "40-60", "20-40", "40-60", "40-60", "20-40", "20-40", "40-60"]
    with pytest.raises(StudyError, match="outside the breaks"):
        add_bins(SHEET, {"decade": {"column": "age", "breaks": [25, 40, 60]}}, "t")


def test_natural_spline_names_match_deseq2():
    sheet = SHEET.assign(t=np.linspace(0, 70, 8).astype(str))
    d = build_design(sheet, "~ batch + ns(t, df = 3)", {})
    assert d.r_names[-3:] == ["ns(t, df = 3)1", "ns(t, df = 3)2", "ns(t, df = 3)3"]
    assert d.results_names[-1] == "ns.t..df...3.3"


def _projection(x: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(x)
    return q @ q.T


def test_a_contrast_becomes_the_design_without_its_coefficient():
    full = build_design(SHEET, "~ batch + group")
    c = resolve_contrast(full, "c_vs_a", ["group", "C", "A"], SHEET, "a")
    reduced = contrast_reduced_design(full.matrix, c.vector)
    without = full.matrix[:, [j for j in range(full.matrix.shape[1]) if c.vector[j] == 0]]
    assert reduced.shape == (8, full.matrix.shape[1] - 1)
    np.testing.assert_allclose(_projection(reduced), _projection(without), atol=1e-12)


def test_a_difference_contrast_constrains_two_coefficients_to_be_equal():
    full = build_design(SHEET, "~ 0 + group")
    c = resolve_contrast(full, "b_vs_c", {"vector": {"groupB": 1, "groupC": -1}}, SHEET, "a")
    reduced = contrast_reduced_design(full.matrix, c.vector)
    merged = np.column_stack([full.matrix[:, 0], full.matrix[:, 1] + full.matrix[:, 2]])  # B and C one group
    np.testing.assert_allclose(_projection(reduced), _projection(merged), atol=1e-12)
    with pytest.raises(ValueError):
        contrast_reduced_design(full.matrix, np.zeros(3))


def test_variables_of_a_b_spline_are_found():
    # formulaic reports no variable for its own bs(); the design must still get the column
    sheet = SHEET.assign(age=[float(a) for a in SHEET["age"]])
    design = build_design(sheet, "~ batch + bs(age, df = 4)")
    assert design.matrix.shape == (8, 6) and "age" in design.numeric


def test_levels_with_brackets_and_dots_resolve_exactly():
    sheet = SHEET.assign(tissue=["Kid", "Liv[1", "Kid", "Liv[1", "a.b", "a.b", "Kid", "Liv[1"])
    design = build_design(sheet, "~ batch + tissue", {"tissue": ["Kid", "Liv[1", "a.b"]})
    assert design.r_names == ["(Intercept)", "batchy", "tissueLiv[1", "tissuea.b"]
    c = resolve_contrast(design, "liv", ["tissue", "Liv[1", "Kid"], sheet, "a")
    np.testing.assert_array_equal(c.vector, [0, 0, 1, 0])
    c = resolve_contrast(design, "ab_vs_liv", ["tissue", "a.b", "Liv[1"], sheet, "a")
    np.testing.assert_array_equal(c.vector, [0, 0, -1, 1])


def test_a_contrast_of_zero_weights_is_refused():
    design = build_design(SHEET, "~ 0 + group")
    with pytest.raises(StudyError, match="contrast 'nothing' .* gives every design column weight 0"):
        resolve_contrast(design, "nothing", {"vector": {"groupA": 0}}, SHEET, "analyses.a")
