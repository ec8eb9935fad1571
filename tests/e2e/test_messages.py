"""What a user sees: a study error as its one message, a job's error at the end of its log,
the reference level chosen alphabetically named, and the `tables` target without plots."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pandas as pd
from workflow_runs import MARIONI_STUDY, snakemake, write_study

STUDY = {**MARIONI_STUDY, "analyses": {"tissue": MARIONI_STUDY["analyses"]["tissue"]}}
GLMSTACK = Path(sys.executable).with_name("glmstack")  # the console script of pyproject.toml


def test_a_study_error_is_printed_as_its_message_alone(tmp_path):
    study = {**STUDY, "analyses": {"tissue": {**STUDY["analyses"]["tissue"], "design": "~ run + tisue"}}}
    work = write_study(tmp_path, study)
    done = snakemake(work, "-n", timeout=300)
    printed = done.stdout + done.stderr
    assert done.returncode == 1
    assert "column(s) 'tisue' used in analyses.tissue.design ('~ run + tisue') are missing" in printed
    assert "Traceback" not in printed and "common.smk" not in printed and 'File "' not in printed
    assert "StudyError" not in printed


def test_a_schema_error_is_printed_without_a_traceback(tmp_path):
    work = write_study(tmp_path, {**STUDY, "genes_per_shard": "many"})
    done = snakemake(work, "-n", timeout=300)
    printed = done.stdout + done.stderr
    assert done.returncode == 1
    assert "study config: Error validating config file" in printed and "genes_per_shard" in printed
    assert "Traceback" not in printed and "common.smk" not in printed


def test_glmstack_run_prints_a_study_error_alone(tmp_path):
    study = {**STUDY, "analyses": {"tissue": {**STUDY["analyses"]["tissue"], "design": "~ run + tisue"}}}
    work = write_study(tmp_path, study)
    done = subprocess.run([str(GLMSTACK), "run", "study.yaml", "--cores", "1"], cwd=work, capture_output=True, check=False,
                          text=True, timeout=300)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("samples.tsv.gz: column(s) 'tisue' used in analyses.tissue.design")
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_a_job_error_is_the_last_line_of_its_log(tmp_path):
    work = write_study(tmp_path, STUDY)
    with gzip.open(work / "counts.tsv.gz", "rt") as fh:
        lines = fh.read().splitlines()
    fields = lines[2].split("\t")
    fields[1] = str(int(fields[1]) + 0.5)  # one estimated (non-integer) count
    lines[2] = "\t".join(fields)
    with gzip.open(work / "counts.tsv.gz", "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    done = snakemake(work, "--cores", "1", timeout=300)
    assert done.returncode != 0
    message = f"counts.tsv.gz: 1 counts are not integers, e.g. {fields[0]}/"
    log = (work / "out" / "logs" / "ingest.log").read_text().rstrip("\n").splitlines()
    assert message in log[-1] and log[-1].endswith("as tximport users do.")
    assert " ERROR glmstack: " in log[-1]
    printed = done.stdout + done.stderr
    assert message in printed and "Traceback" not in printed


def test_the_tables_target_makes_tables_without_plots(tmp_path):
    levels = {"run": ["R1", "R2"]}  # tissue's reference is chosen alphabetically: warned
    study = {**STUDY, "analyses": {"tissue": {**STUDY["analyses"]["tissue"], "levels": levels}}}
    work = write_study(tmp_path, study)
    done = snakemake(work, "--cores", "2", "tables", timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout + done.stderr
    assert (
        "glmstack: analyses.tissue: factor `tissue` has no levels: entry; its reference level is `Kidney` "
        "(alphabetical first). Fix: levels: {tissue: [Kidney, Liver]} (first = reference)"
    ) in printed
    out = work / "out"
    for path in ("tissue/liver_vs_kidney.tsv", "tissue/dispersions.tsv", "tissue/model.json",
                 "normalization/size_factors.tsv", "manifest.json"):
        assert (out / path).is_file(), path
    assert len(pd.read_csv(out / "tissue" / "liver_vs_kidney.tsv", sep="\t")) == 5088
    assert not (out / "report.html").exists() and not list(out.rglob("*.png"))
    assert (out / "logs" / "ingest.log").is_file() and len(list(out.glob("logs/models/*/parametric/merge.log"))) == 1
