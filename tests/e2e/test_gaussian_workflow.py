"""Family gaussian end to end: snakemake on the limma reference cases (values: matrices).

golub (moderated t; treat) and rrbs_sle (M-values with NAs; moderated t adjusted for cell type,
and the moderated F of test: lrt) run through the workflow; every table equals the in-process
library result (glmstack.gaussian.steps, tests/limma_cases.py) to 1e-12 and meets the limma
reference thresholds; rrbs_sle runs at two shard sizes (from the text and from the gzipped file) with the same tables.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import tolerances as tol
import yaml
from glmstack.design.formula import build_design
from glmstack.gaussian import steps
from limma_cases import DATA, assert_matches_limma, load_case, read_tsv, reference, run
from workflow_runs import snakemake

GOLUB = {
    "values": "values.tsv.gz",
    "samples": "samples.tsv.gz",
    "outdir": "out",
    "genes_per_shard": 1000,
    "analyses": {
        "aml_vs_all": {
            "design": "~ cell",  # family gaussian: the default with values
            "levels": {"cell": ["ALL", "AML"]},
            "contrasts": {"aml_vs_all": ["cell", "AML", "ALL"]},
        },
        "aml_vs_all_treat1": {
            "family": "gaussian",
            "design": "~ cell",
            "levels": {"cell": ["ALL", "AML"]},
            "lfc_threshold": 1.0,
            "contrasts": {"aml_vs_all": ["cell", "AML", "ALL"]},
        },
        "aml_vs_all_trend_robust": {  # robust limma-trend (Phipson et al. 2016)
            "design": "~ cell",
            "levels": {"cell": ["ALL", "AML"]},
            "moderation": {"trend": True, "robust": True},
            "contrasts": {"aml_vs_all": ["cell", "AML", "ALL"]},
        },
        "aml_vs_all_trend": {  # limma-trend: no limma table here, the library's result instead
            "design": "~ cell",
            "levels": {"cell": ["ALL", "AML"]},
            "moderation": {"trend": True},
            "contrasts": {"aml_vs_all": {"coef": "cell_AML_vs_ALL"}},  # a DESeq2 name
        },
    },
}
RRBS_ANALYSES = {
    "sle_adj_cell": {
        "family": "gaussian",
        "design": "~ cell + case",
        "levels": {"cell": ["rN", "aN"], "case": ["HC", "SLE"]},
        "contrasts": {"sle_vs_hc": ["case", "SLE", "HC"]},
    },
    "sle_robust": {  # robust limma-trend with unequal residual df (missing values)
        "design": "~ cell + case",
        "levels": {"cell": ["rN", "aN"], "case": ["HC", "SLE"]},
        "moderation": {"trend": True, "robust": True},
        "contrasts": {"sle_vs_hc": ["case", "SLE", "HC"]},
    },
    "case_any_F": {
        "family": "gaussian",
        "design": "~ cell * case",
        "test": "lrt",
        "reduced": "~ cell",
        "levels": {"cell": ["rN", "aN"], "case": ["HC", "SLE"]},
    },
}
# 8 shards from the text (each written as its rows arrive, planned from the file's lines), and
# one from the gzipped file (whose rows wait in a temporary file until they are counted)
RRBS_SHARD_SIZES = (700, 5000)


def run_case(root, case: str, study: dict):
    root.mkdir(parents=True, exist_ok=True)
    for name in ("values.tsv.gz", "samples.tsv.gz"):
        shutil.copy(DATA / case / name, root / name)
    if study["values"] == "values.tsv":
        with gzip.open(root / "values.tsv.gz", "rb") as packed, open(root / "values.tsv", "wb") as text:
            shutil.copyfileobj(packed, text)
    (root / "study.yaml").write_text(yaml.safe_dump(study))
    done = snakemake(root, "--cores", "4")
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "out"


@pytest.fixture(scope="module")
def golub(tmp_path_factory):
    return run_case(tmp_path_factory.mktemp("golub"), "golub", GOLUB)


@pytest.fixture(scope="module")
def rrbs(tmp_path_factory):
    base = {"samples": "samples.tsv.gz", "outdir": "out", "analyses": RRBS_ANALYSES}
    return {
        size: run_case(tmp_path_factory.mktemp(f"rrbs{size}"), "rrbs_sle",
                       {**base, "genes_per_shard": size, "values": "values.tsv" if size < 5000 else "values.tsv.gz"})
        for size in RRBS_SHARD_SIZES
    }


def check_table(out, case: str, analysis: str, table: str) -> None:
    ours = read_tsv(out / analysis / f"{table}.tsv")
    expected = run(case, analysis)["tables"][table]
    assert list(ours.columns) == list(expected.columns)
    assert list(ours["feature_id"]) == list(expected["feature_id"])
    for column in ours.columns[1:]:
        np.testing.assert_allclose(ours[column], expected[column], rtol=1e-12, atol=0, equal_nan=True, err_msg=column)
    stat = "F" if table == "lrt" else "t"
    assert_matches_limma(ours, case, analysis, stat)


@pytest.mark.parametrize(
    ("analysis", "table"),
    [("aml_vs_all", "aml_vs_all"), ("aml_vs_all_treat1", "aml_vs_all"), ("aml_vs_all_trend_robust", "aml_vs_all")],
)
def test_golub_tables_match_the_library_and_limma(golub, analysis, table):
    check_table(golub, "golub", analysis, table)
    assert list(read_tsv(golub / analysis / f"{table}.tsv").columns) == (
        ["feature_id", "logFC", "AveExpr", "t", "P.Value", "adj.P.Val"] + ([] if "treat" in analysis else ["B"])
    )


@pytest.mark.parametrize(("analysis", "table"), [("sle_adj_cell", "sle_vs_hc"), ("case_any_F", "lrt")])
def test_rrbs_tables_match_the_library_and_limma(rrbs, analysis, table):
    check_table(rrbs[RRBS_SHARD_SIZES[0]], "rrbs_sle", analysis, table)


def test_lrt_table_has_limmas_f_columns(rrbs):
    table = read_tsv(rrbs[RRBS_SHARD_SIZES[0]] / "case_any_F" / "lrt.tsv")
    assert list(table.columns) == ["feature_id", "caseSLE", "cellaN:caseSLE", "AveExpr", "F", "P.Value", "adj.P.Val"]


@pytest.mark.parametrize(
    ("analysis", "table"), [("sle_adj_cell", "sle_vs_hc"), ("case_any_F", "lrt"), ("sle_robust", "sle_vs_hc")]
)
def test_tables_do_not_depend_on_the_shard_size(rrbs, analysis, table):
    small, whole = (read_tsv(rrbs[size] / analysis / f"{table}.tsv") for size in RRBS_SHARD_SIZES)
    manifests = [json.loads((rrbs[size] / "manifest.json").read_text()) for size in RRBS_SHARD_SIZES]
    assert [len(m["shards"]) for m in manifests] == [8, 1]
    pd.testing.assert_frame_equal(small, whole, check_exact=False, rtol=1e-12, atol=0)


def test_model_json_holds_the_prior_and_the_counts(golub, rrbs):
    for out, case, analysis in ((golub, "golub", "aml_vs_all"), (rrbs[RRBS_SHARD_SIZES[0]], "rrbs_sle", "sle_adj_cell")):
        model = json.loads((out / analysis / "model.json").read_text())
        fit = reference(case, analysis, "fit")
        assert model["family"] == "gaussian"
        np.testing.assert_allclose(model["df_prior"], fit["df_prior"].iloc[0], rtol=tol.PRIOR_RTOL)
        np.testing.assert_allclose(model["s2_prior"], fit["s2_prior"].iloc[0], rtol=tol.PRIOR_RTOL)
        (table,) = model["results"]
        assert table["n_tested"] == int(reference(case, analysis)["P.Value"].notna().sum())
        assert table["n_significant"] == int((reference(case, analysis)["adj.P.Val"] < 0.1).sum())


def test_values_study_has_no_size_factors(golub):
    manifest = json.loads((golub / "manifest.json").read_text())
    assert manifest["input"] == "values" and "size_factors" not in manifest
    assert not (golub / "normalization").exists()
    assert not (golub / "aml_vs_all" / "fit").exists()  # no nb job was planned


def test_rerun_does_nothing(golub):
    done = snakemake(golub.parent, "--cores", "1", "-n")
    assert done.returncode == 0 and "Nothing to be done" in done.stdout + done.stderr


def test_report_shows_limmas_plots_and_the_values_qc(rrbs):
    out = rrbs[RRBS_SHARD_SIZES[0]]
    page = re.sub(r"data:image/png;base64,[^\"]+", "", (out / "report.html").read_text())  # text only
    for text in ("value matrix", "PCA of the values", "plotSA", "moderated F-test", "prior degrees of freedom"):
        assert text in page, text
    for text in ("size factors", "Dispersion estimates", "Cook", "VST"):
        assert text not in page, text
    assert (out / "qc" / "values_pca.png").stat().st_size > 0
    for analysis, table in (("sle_adj_cell", "sle_vs_hc"), ("case_any_F", "lrt")):
        assert (out / analysis / "plots" / "sigma_mean.png").exists()
        for plot in ("ma", "volcano", "pvalues", "values"):
            assert (out / analysis / "plots" / plot / f"{table}.png").exists()
        assert not (out / analysis / "plots" / "counts" / f"{table}.png").exists()
        top = read_tsv(out / analysis / "report" / "top_genes" / f"{table}.tsv")
        ranked = read_tsv(out / analysis / f"{table}.tsv").sort_values(["adj.P.Val", "P.Value"], kind="stable")
        assert list(top["feature_id"]) == list(ranked["feature_id"][: len(top)])
        # plot_limma_analysis makes the tables from the fits, as moderate does: the same numbers
        rows = ranked.set_index("feature_id").loc[top["feature_id"], top.columns[1:]]
        np.testing.assert_array_equal(rows.to_numpy(dtype=float), top[top.columns[1:]].to_numpy(dtype=float))


def test_robust_moderation_does_not_depend_on_the_shard_size(golub, tmp_path):
    """The robust prior is genome-wide: one shard gives the 8-shard tables, and model.json its df range."""
    study = {**GOLUB, "genes_per_shard": 10000, "analyses": {"robust": GOLUB["analyses"]["aml_vs_all_trend_robust"]}}
    one = read_tsv(run_case(tmp_path / "one", "golub", study) / "robust" / "aml_vs_all.tsv")
    eight = read_tsv(golub / "aml_vs_all_trend_robust" / "aml_vs_all.tsv")
    pd.testing.assert_frame_equal(one, eight, check_exact=False, rtol=1e-12, atol=0)
    model = json.loads((golub / "aml_vs_all_trend_robust" / "model.json").read_text())
    assert model["settings"]["moderation"] == {"trend": True, "robust": True}
    df_prior = run("golub", "aml_vs_all_trend_robust")["moderation"].prior.df_prior
    assert model["df_prior"] == pytest.approx({"min": df_prior.min(), "median": np.median(df_prior), "max": df_prior.max()})


def test_rrbs_robust_trend_matches_limma(rrbs):
    """Missing values give residual df 1 to 13; limma: tests/data/gaussian/extra/make_robust.R."""
    ours = read_tsv(rrbs[RRBS_SHARD_SIZES[0]] / "sle_robust" / "sle_vs_hc.tsv")
    ref = read_tsv(DATA / "extra" / "rrbs_robust.tsv.gz")
    assert list(ours["feature_id"]) == list(ref["feature_id"])
    np.testing.assert_allclose(ours["t"], ref["trend_t"], rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(np.log10(ours["P.Value"]), np.log10(ref["trend_P.Value"]), atol=1e-9, equal_nan=True)


def test_trend_moderation_matches_the_library(golub):
    _, samples, ids, values, _ = load_case("golub")
    design = build_design(samples, "~ cell", {"cell": ["ALL", "AML"]})
    contrast = np.zeros(design.matrix.shape[1])
    contrast[design.results_names.index("cell_AML_vs_ALL")] = 1.0
    expected = steps.moderated_tests(ids, values, design.matrix, {"c": contrast}, trend=True)
    ours = read_tsv(golub / "aml_vs_all_trend" / "aml_vs_all.tsv")
    for column in ours.columns[1:]:
        np.testing.assert_allclose(ours[column], expected["tables"]["c"][column], rtol=1e-12, atol=0, err_msg=column)
    model = json.loads((golub / "aml_vs_all_trend" / "model.json").read_text())
    assert model["settings"]["moderation"] == {"trend": True, "robust": False}
    s2_prior = expected["moderation"].prior.s2_prior
    assert model["s2_prior"] == pytest.approx({"min": s2_prior.min(), "median": np.median(s2_prior), "max": s2_prior.max()})
