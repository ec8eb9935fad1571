"""Surrogate variable analysis (glmstack.sva, glmstack.rmath.permute) against R's sva 3.46 and
R's sample(), invariance to the block (shard) size, and the study's checks of `sva:`."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from glmstack.design.matrices import Covariates
from glmstack.design.model import build_model, sva_null_design
from glmstack.errors import StudyError
from glmstack.rmath.permute import RowPermuter
from glmstack.spec import Analysis, study_analyses
from glmstack.study import check_analyses, check_config, check_families
from glmstack.sva.blocks import FeatureBlocks, log_normalised, matrix_blocks
from glmstack.sva.irw import irw_sva
from glmstack.sva.lfdr import edge_lfdr
from glmstack.sva.num_sv import num_sv_be, num_sv_leek
from glmstack.sva.steps import sva_step

DATA = Path(__file__).resolve().parents[1] / "data"
GOLUB = DATA / "gaussian" / "golub"
SV_CANCOR = 0.99  # the issue: smallest canonical correlation of our SV space with R's


def canonical_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    qa, _ = np.linalg.qr(a - a.mean(0))
    qb, _ = np.linalg.qr(b - b.mean(0))
    return np.linalg.svd(qa.T @ qb, compute_uv=False)


def golub() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = pd.read_csv(GOLUB / "values.tsv.gz", sep="\t", index_col=0).to_numpy()
    cell = pd.read_csv(GOLUB / "samples.tsv.gz", sep="\t")["cell"]
    design = np.column_stack([np.ones(len(cell)), (cell == "AML").to_numpy(float)])
    return values, design, np.ones((len(cell), 1))


def r_sample_rows() -> dict[str, np.ndarray]:
    cases: dict[str, list] = {}
    with gzip.open(DATA / "rmath" / "sample_rows.tsv.gz", "rt") as handle:
        for line in handle:
            case, row = line.rstrip("\n").split("\t")
            cases.setdefault(case, []).append([int(x) for x in row.split()])
    return {case: np.array(rows) for case, rows in cases.items()}


@pytest.mark.parametrize(("seed", "n"), [(7, 100), (20251126, 38), (1, 3)])
def test_row_permutations_are_rs(seed, n):
    expected = next(v for k, v in r_sample_rows().items() if k.startswith(f"set.seed({seed});"))
    rng = RowPermuter(seed)
    first = rng.permutations(7, n)  # two calls continue one stream, as in R
    rest = rng.permutations(len(expected) - 7, n)
    np.testing.assert_array_equal(np.vstack([first, rest]) + 1, expected)


def test_golub_be_count_is_rs_and_leek_gives_none():
    values, design, _ = golub()
    be = num_sv_be(FeatureBlocks(matrix_blocks(values, 1000)), design, seed=20251126)
    assert be["n"] == 9  # R: num.sv(E, mod, method = "be", seed = 20251126)
    assert num_sv_leek(FeatureBlocks(matrix_blocks(values, 1000)), design)["n"] == 0  # R: 0


def test_golub_surrogate_variables_span_rs():
    values, design, null = golub()
    ours = irw_sva(FeatureBlocks(matrix_blocks(values, 1000)), design, null, 9)["sv"]
    ref = pd.read_csv(GOLUB / "reference" / "aml_vs_all_sva" / "surrogate_variables.tsv.gz", sep="\t", index_col=0)
    assert canonical_correlations(ours, ref.to_numpy()).min() >= SV_CANCOR
    np.testing.assert_allclose(np.linalg.norm(ours, axis=0), 1.0)


def test_results_do_not_depend_on_the_block_size():
    values, design, null = golub()
    settings = {"n": "auto", "method": "be", "seed": 3, "permutations": 3, "iterations": 2}
    runs = [sva_step(FeatureBlocks(matrix_blocks(values, rows)), design, null, settings) for rows in (3051, 1000, 100)]
    for other in runs[1:]:
        assert other["info"]["n"] == runs[0]["info"]["n"] and other["info"]["pvalues"] == runs[0]["info"]["pvalues"]
        np.testing.assert_allclose(other["sv"], runs[0]["sv"], rtol=0, atol=1e-10)
    leek = [num_sv_leek(FeatureBlocks(matrix_blocks(values, rows)), design)["counts"] for rows in (3051, 13)]
    np.testing.assert_array_equal(leek[0], leek[1])


def test_features_with_missing_values_or_no_spread_are_left_out():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(50, 8))
    values[3, 2] = np.nan
    values[7] = 1.5
    assert FeatureBlocks(matrix_blocks(values, 10)).kept().sum() == 48
    counts = np.vstack([rng.poisson(20, size=(5, 8)), np.zeros((1, 8)), np.ones((1, 8))])
    logged, keep = log_normalised(counts.astype(float), np.ones(8))
    np.testing.assert_allclose(logged, np.log(counts + 1))
    assert keep.tolist() == [True] * 5 + [False, False]


def test_lfdr_of_uniform_p_values_is_near_one_and_monotone():
    p = np.random.default_rng(2).uniform(size=5000)
    lfdr = edge_lfdr(p)
    assert np.all(np.diff(lfdr[np.argsort(p)]) >= 0)
    assert np.median(lfdr) > 0.9
    signal = np.concatenate([p, np.full(500, 1e-6)])
    assert edge_lfdr(signal)[-1] < 0.1


def test_k_zero_leaves_the_design_unchanged():
    values, design, null = golub()
    settings = {"n": 0, "method": "be", "seed": 1, "permutations": 1, "iterations": 1}
    assert sva_step(FeatureBlocks(matrix_blocks(values, 1000)), design, null, settings)["sv"].shape == (38, 0)


# ----------------------------------------------------------------- study keys and checks

SHEET = pd.DataFrame(
    {"sample": [f"s{i}" for i in range(8)], "batch": list("aabbaabb"), "condition": list("xyxyxyxy")}
)


def analysis(**sva) -> Analysis:
    entry = {"design": "~ batch + condition", "contrasts": {"y_vs_x": ["condition", "y", "x"]}, "sva": sva}
    return Analysis.from_study("a", entry)


def test_default_null_drops_the_tested_terms_and_lrt_uses_reduced():
    _, null, how = sva_null_design(SHEET, analysis())
    assert null.shape == (8, 2) and "condition" in how
    lrt = Analysis.from_study("l", {"design": "~ batch + condition", "test": "lrt", "reduced": "~ batch", "sva": {}})
    assert sva_null_design(SHEET, lrt)[2] == "reduced ~ batch"
    assert sva_null_design(SHEET, analysis(null="~ 1"))[1].shape == (8, 1)


def test_svs_join_the_design_after_the_formula_and_contrasts_are_unchanged():
    sv = Covariates(SHEET["sample"].tolist(), ["SV1", "SV2"], np.column_stack([np.arange(8.0), np.arange(8.0) ** 2]))
    model = build_model(SHEET, analysis(), sv)
    assert model.full.columns[-2:] == ["SV1", "SV2"] and model.full.matrix.shape == (8, 5)
    np.testing.assert_array_equal(model.contrasts[0].vector, [0, 0, 1, 0, 0])
    default = Analysis.from_study("d", {"design": "~ batch + condition", "sva": {}})
    assert build_model(SHEET, default, sv).contrasts[0].vector.tolist() == [0, 0, 1, 0, 0]


def test_sva_settings_shape_the_dispersion_model():
    plain = Analysis.from_study("a", {"design": "~ batch + condition"})
    assert plain.shape_id("model") != analysis().shape_id("model")
    assert analysis(n=1).shape_id("model") != analysis(n=2).shape_id("model")
    other = Analysis.from_study("b", {"design": "~ batch + condition", "contrasts": {"b": ["batch", "b", "a"]}, "sva": {}})
    assert other.shape_id("model") != analysis().shape_id("model")  # another null design
    assert analysis().sva == {"n": "auto", "method": "be", "null": None, "seed": 20251126, "permutations": 20,
                              "iterations": 5}


@pytest.mark.parametrize(
    ("sva", "message"),
    [
        ({"n": 6}, "no residual degrees of freedom"),
        ({"null": "~ batch + condition"}, "spans the whole design"),
        ({"null": "~ absent"}, "missing"),
    ],
)
def test_bad_sva_blocks_are_refused(sva, message):
    sheet = SHEET.assign(other=[1, 2, 3, 4, 5, 6, 7, 9])
    with pytest.raises(StudyError, match=message):
        check_analyses({"a": analysis(**sva)}, sheet, "samples.tsv")


def test_null_outside_the_design_is_refused():
    sheet = SHEET.assign(other=[1.0, 2, 3, 4, 5, 6, 7, 9])
    with pytest.raises(StudyError, match="not nested"):
        check_analyses({"a": analysis(null="~ other")}, sheet, "samples.tsv")


def test_voom_takes_sva_and_an_unquoted_null_key_is_read():
    config = {"counts": "c.tsv", "analyses": {"v": {"design": "~ condition", "family": "voom", "sva": {}}}}
    check_families(study_analyses(config), config)
    import yaml
    from glmstack.spec import SCHEMA_PATH

    config = {"counts": "c.tsv", "samples": "s.tsv",
              "analyses": {"a": {"design": "~ condition", "sva": yaml.safe_load("{n: 2, null: '~ 1'}")}}}
    check_config(config, yaml.safe_load(SCHEMA_PATH.read_text()))
    assert config["analyses"]["a"]["sva"] == {"n": 2, "null": "~ 1"}


def test_r2_table_uses_numbers_and_factors_and_skips_ids():
    from glmstack.report.sva import strongest_variable, variable_r2

    rng = np.random.default_rng(3)
    batch = np.array(list("aabbaabbab"))
    sv = pd.DataFrame({"SV1": (batch == "b") + 0.01 * rng.normal(size=10), "SV2": rng.normal(size=10)},
                      index=[f"s{i}" for i in range(10)])
    sheet = pd.DataFrame({"sample": sv.index, "batch": batch, "age": sv["SV2"].to_numpy() * 2 + 1,
                          "barcode": [f"x{i}" for i in range(10)], "site": ["one"] * 10})
    r2 = variable_r2(sv, sheet)
    assert list(r2.index) == ["batch", "age"]
    assert r2.loc["batch", "SV1"] > 0.99 and r2.loc["age", "SV2"] == pytest.approx(1.0)
    assert strongest_variable(r2) in ("batch", "age")


def test_report_layout_shows_the_sva_plots_of_sva_analyses_only():
    from glmstack.report.layout import ReportPaths, report_layout

    analyses = {"plain": Analysis.from_study("plain", {"design": "~ condition"}), "adjusted": analysis()}
    layout = report_layout(ReportPaths("out", Path("captions")), analyses)
    pngs = {a["name"]: [p["png"] for p in a["plots"]] for a in layout["analyses"]}
    assert "out/adjusted/plots/sva_variables.png" in pngs["adjusted"]
    assert not any("sva" in p for p in pngs["plain"])
