"""lfc_shrink: normal through Snakemake: the shrink rules, the table columns, the MA plot."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from cases import load
from glmstack.design.model import build_model
from glmstack.nb import results, shrink, size_factors, steps
from glmstack.spec import Analysis
from workflow_runs import rule_kind, snakemake, write_study

ANALYSIS = {
    "design": "~ run + tissue",
    "levels": {"run": ["R1", "R2"], "tissue": ["Kidney", "Liver"]},
    "lfc_shrink": "normal",
    "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"], "run2": {"coef": "run_R2_vs_R1"}},
}
APEGLM = {**ANALYSIS, "lfc_shrink": "apeglm"}  # same design: the dispersion fits are shared
STUDY = {
    "counts": "counts.tsv.gz",
    "samples": "samples.tsv.gz",
    "outdir": "out",
    "genes_per_shard": 1500,
    "analyses": {"tissue": ANALYSIS, "tissue_apeglm": APEGLM},
}
COLUMNS = ["gene_id", "baseMean", "log2FoldChange", "lfcSE", "log2FoldChange_shrunk", "lfcSE_shrunk",
           "stat", "pvalue", "padj"]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    work = write_study(tmp_path_factory.mktemp("shrink"), STUDY)
    done = snakemake(work, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return work


@pytest.mark.parametrize("analysis_name", ["tissue", "tissue_apeglm"])
def test_tables_carry_the_shrunken_columns_of_the_in_process_steps(run_dir, analysis_name):
    """Workflow (shards of 1,500) = in-process steps in one shard, to the last bit; the other
    columns are those of the analysis without shrinkage."""
    case = load("marioni")
    sf = size_factors.size_factors(case.counts, "ratio")
    analysis = Analysis.from_study(analysis_name, STUDY["analyses"][analysis_name])
    expected = steps.run_analysis(case.gene_id, case.counts, sf, case.samples, analysis)
    shrunk = shrink.run_shrink(expected["fit"], case.counts, sf, build_model(case.samples, analysis), analysis)
    for name in ANALYSIS["contrasts"]:
        table = pd.read_csv(run_dir / "out" / analysis_name / f"{name}.tsv", sep="\t", dtype={"gene_id": str})
        assert list(table.columns) == COLUMNS
        assert list(table["gene_id"]) == list(case.gene_id)
        for column, values in results.shrunk_columns(shrunk, name).items():
            np.testing.assert_allclose(table[column], values, rtol=1e-14, equal_nan=True)
        plain = expected["tables"][name]
        for column in plain.columns[1:]:
            np.testing.assert_allclose(table[column], plain[column], rtol=1e-14, equal_nan=True)
    out = run_dir / "out" / analysis_name
    assert len(list((out / "shrink").glob("*.npz"))) == 4
    for name in ANALYSIS["contrasts"]:  # drawn from log2FoldChange_shrunk (tests/unit/test_shrink.py)
        assert (out / "plots" / "ma" / f"{name}.png").stat().st_size > 0
    prior = json.loads((out / "shrink_prior.json").read_text())
    if analysis_name == "tissue_apeglm":
        assert prior["apeglm"]["liver_vs_kidney"] == {"coef": 2, "column": "tissue_Liver_vs_Kidney", "prior_scale": 1.0}
        return
    assert prior["expanded"]["columns"] == ["Intercept", "runR1", "runR2", "tissueKidney", "tissueLiver"]
    assert prior["standard"]["columns"] == ["Intercept", "run_R2_vs_R1", "tissue_Liver_vs_Kidney"]
    # the MLE's prior variance of the tissue contrast (R: 13.1773168625122, tests/golden)
    assert prior["expanded"]["prior_variance"][3] == pytest.approx(13.1773168625122, rel=1e-6)


def test_dropping_lfc_shrink_reruns_the_tables_not_the_fits(run_dir):
    """lfc_shrink shapes the shrink and table jobs only (glmstack.spec.JOB_KEYS)."""
    study = copy.deepcopy(STUDY)
    study["analyses"]["tissue"]["lfc_shrink"] = "none"
    (run_dir / "other.yaml").write_text(yaml.safe_dump(study))
    dry = snakemake(run_dir, "-n", configfile=run_dir / "other.yaml")
    assert dry.returncode == 0, dry.stderr[-2000:]
    stats = dry.stdout.split("Job stats:")[1].split("total")[0]  # the table: job, count
    jobs = {rule_kind(line.split()[0]) for line in stats.splitlines()[3:] if line.strip()}
    assert "merge" in jobs
    assert not jobs & {"fit", "genewise", "trend", "shrink", "shrink_prior"}
