"""The workflow end to end: snakemake on a real study in a temporary directory."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from cases import load
from glmstack.nb import size_factors, steps
from glmstack.spec import Analysis
from workflow_runs import MARIONI_STUDY, ROOT, snakemake, write_study

STUDY = MARIONI_STUDY


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    work = write_study(tmp_path_factory.mktemp("study"), STUDY)
    done = snakemake(work, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return work


def test_outputs_match_the_in_process_pipeline(run_dir):
    case = load("marioni")
    sf = size_factors.size_factors(case.counts, "ratio")
    out = run_dir / "out"
    written = pd.read_csv(out / "normalization" / "size_factors.tsv", sep="\t")
    np.testing.assert_allclose(written["size_factor"], sf, rtol=1e-14)
    for name, analysis in STUDY["analyses"].items():
        expected = steps.run_analysis(case.gene_id, case.counts, sf, case.samples, Analysis.from_study(name, analysis), genes_per_shard=1500)
        table_name = "lrt" if analysis.get("test") == "lrt" else "liver_vs_kidney"
        ours = pd.read_csv(out / name / f"{table_name}.tsv", sep="\t", dtype={"gene_id": str})
        exp = expected["tables"][table_name]
        assert list(ours.columns) == ["gene_id", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]
        assert list(ours["gene_id"]) == list(case.gene_id)
        for col in ours.columns[1:]:
            np.testing.assert_allclose(ours[col], exp[col], rtol=1e-14, equal_nan=True)
        disp = pd.read_csv(out / name / "dispersions.tsv", sep="\t", dtype={"gene_id": str})
        assert list(disp.columns) == ["gene_id", "baseMean", "dispGeneEst", "dispFit", "dispersion", "dispOutlier", "maxCooks"]
        np.testing.assert_allclose(disp["dispersion"], expected["dispersions"]["dispersion"], rtol=1e-14)
        model = json.loads((out / name / "model.json").read_text())
        assert [c["deseq2_name"] for c in model["design_columns"]] == ["Intercept", "run_R2_vs_R1", "tissue_Liver_vs_Kidney"]
        assert model["trend"]["fit_type"] == "parametric"
        assert model["results"][0]["n_significant"] == int((exp["padj"] < 0.1).sum())


def test_manifest_shards_cover_every_gene_once(run_dir):
    manifest = json.loads((run_dir / "out" / "manifest.json").read_text())
    bounds = [(s["start"], s["stop"]) for s in manifest["shards"]]
    assert bounds == [(0, 1500), (1500, 3000), (3000, 4500), (4500, 5088)]
    assert [s["id"] for s in manifest["shards"]] == ["0000", "0001", "0002", "0003"]


def test_rerun_does_nothing(run_dir):
    done = snakemake(run_dir, "--cores", "1", "-n")
    assert done.returncode == 0
    assert "Nothing to be done" in done.stdout + done.stderr


def test_bundled_example_plans_and_lints(tmp_path):
    dry = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert dry.returncode == 0, dry.stderr[-2000:]
    lint = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]


def test_analyses_with_one_design_share_one_dispersion_fit(run_dir):
    """tissue (Wald) and tissue_lrt (LRT) have the same design and trend type: one gene-wise,
    trend and MAP fit serves both, and one fit job per shard fits both on it (only their tests
    differ); each analysis's arrays are named by it."""
    models = list((run_dir / "out" / "models").iterdir())
    assert len(models) == 1
    assert len(list((models[0] / "genewise").glob("*.npz"))) == 4
    assert [p.name for p in models[0].iterdir() if p.is_dir()] == ["genewise", "parametric"]
    fits = sorted((models[0] / "parametric" / "fit").glob("*.npz"))
    assert len(fits) == 4 and not (run_dir / "out" / "tissue_lrt" / "fit").exists()
    with np.load(fits[0]) as arrays:
        names = set(arrays.files)
    assert {"tissue.beta", "tissue_lrt.beta", "tissue.dispersion", "tissue_lrt.dispersion"} <= names
    log = (run_dir / "out" / "logs" / "models" / models[0].name / "parametric" / "fit" / "0000.log").read_text()
    assert "tissue: " in log and "tissue_lrt: " in log


def test_the_top_genes_are_rows_of_the_result_table(run_dir):
    """plot_analysis makes each table from the fits, as merge does, without waiting for
    the file: its top genes are the table's rows with the smallest padj, every number the same."""
    out = run_dir / "out"
    for name, analysis in STUDY["analyses"].items():
        table_name = "lrt" if analysis.get("test") == "lrt" else "liver_vs_kidney"
        table = pd.read_csv(out / name / f"{table_name}.tsv", sep="\t", dtype={"gene_id": str}).set_index("gene_id")
        top = pd.read_csv(out / name / "report" / "top_genes" / f"{table_name}.tsv", sep="\t", dtype={"gene_id": str})
        assert len(top) > 0 and top["padj"].is_monotonic_increasing
        assert top["padj"].max() <= table["padj"].drop(top["gene_id"]).min()
        rows = table.loc[top["gene_id"], top.columns[1:]]
        np.testing.assert_array_equal(rows.to_numpy(), top[top.columns[1:]].to_numpy())
