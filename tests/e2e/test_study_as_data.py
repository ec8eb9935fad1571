"""A study is data: a formula that would run code stops the workflow, `glmstack run` runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
from workflow_runs import snakemake, write_study

STUDY = {
    "counts": "counts.tsv.gz",
    "samples": "samples.tsv.gz",
    "outdir": "out",
    "genes_per_shard": 3000,
    "analyses": {
        "tissue": {
            "design": "~ run + tissue",
            "levels": {"run": ["R1", "R2"], "tissue": ["Kidney", "Liver"]},
            "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]},
        },
    },
}
GLMSTACK = Path(sys.executable).with_name("glmstack")  # the console script of pyproject.toml


def test_a_formula_that_would_run_a_command_stops_the_dry_run(tmp_path):
    marker = tmp_path / "x"
    design = f"~ run + tissue + I(__import__('os').system('touch {marker}'))"
    study = {**STUDY, "analyses": {"tissue": {**STUDY["analyses"]["tissue"], "design": design}}}
    work = write_study(tmp_path / "study", study)
    done = snakemake(work, "-n", timeout=300)
    assert done.returncode != 0
    printed = done.stdout + done.stderr  # snakemake prints a failed Snakefile to stdout
    assert "analyses.tissue.design: design formula" in printed
    assert "calls __import__('os').system, which I() does not allow" in printed
    assert not marker.exists()


def test_glmstack_run_checks_then_makes_the_tables(tmp_path):
    assert GLMSTACK.exists(), "the glmstack command is missing: pip install -e '.[test]' again"
    work = write_study(tmp_path, STUDY)
    command = [str(GLMSTACK), "run", "study.yaml", "--cores", "2", "out/tissue/liver_vs_kidney.tsv"]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "study OK: 1 analysis (tissue), 10 samples; running snakemake" in done.stderr
    table = pd.read_csv(work / "out" / "tissue" / "liver_vs_kidney.tsv", sep="\t")
    assert len(table) == 5088
    assert list(table.columns) == ["gene_id", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]
