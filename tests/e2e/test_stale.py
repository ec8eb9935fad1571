"""Results cannot go stale, and outdir cannot be a place of the user's own files.

Each job's inputs include a stamp (glmstack.workflow.write_stamp) holding what shapes it, so a
rerun recomputes what changed even when Snakemake's records are gone or an input file comes
back with an old timestamp.
"""

from __future__ import annotations

import gzip
import os
import shutil

import numpy as np
import pandas as pd
import yaml
from cases import load
from glmstack.nb import size_factors, steps
from glmstack.spec import Analysis
from workflow_runs import snakemake, write_study

TABLE = "out/tissue/liver_vs_kidney.tsv"
ANALYSIS = {
    "design": "~ run + tissue",
    "levels": {"run": ["R1", "R2"], "tissue": ["Kidney", "Liver"]},
    "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]},
}


def study(analysis: dict) -> dict:
    return {"counts": "counts.tsv.gz", "samples": "samples.tsv.gz", "outdir": "out", "genes_per_shard": 2600,
            "analyses": {"tissue": analysis}}  # fmt: skip


def run_tables(work):
    done = snakemake(work, "--cores", "2", TABLE)
    assert done.returncode == 0, done.stderr[-3000:]
    return pd.read_csv(work / TABLE, sep="\t", dtype={"gene_id": str})


def expected(counts: np.ndarray, analysis: dict) -> pd.DataFrame:
    case = load("marioni")
    sf = size_factors.size_factors(counts, "ratio")
    result = steps.run_analysis(case.gene_id, counts, sf, case.samples, Analysis.from_study("tissue", analysis))
    return result["tables"]["liver_vs_kidney"]


def assert_same(ours: pd.DataFrame, exp: pd.DataFrame) -> None:
    for column in ours.columns[1:]:
        np.testing.assert_allclose(ours[column], exp[column], rtol=1e-13, equal_nan=True, err_msg=column)


def test_a_changed_design_reruns_after_snakemakes_records_are_lost(tmp_path):
    work = write_study(tmp_path, study(ANALYSIS))
    run_tables(work)
    shutil.rmtree(work / ".snakemake")
    changed = {**ANALYSIS, "design": "~ tissue", "levels": {"tissue": ["Kidney", "Liver"]}}
    (work / "study.yaml").write_text(yaml.safe_dump(study(changed)))
    assert_same(run_tables(work), expected(load("marioni").counts, changed))


def test_older_counts_restored_with_their_old_timestamp_are_used(tmp_path):
    work = write_study(tmp_path, study(ANALYSIS))
    path = work / "counts.tsv.gz"
    before = os.stat(path)
    run_tables(work)
    counts = pd.read_csv(path, sep="\t", dtype={"gene_id": str})
    counts.iloc[:50, 1:] = counts.iloc[:50, 1:] * 3 + 1  # the "older" version of the file
    with gzip.open(path, "wt") as fh:
        counts.to_csv(fh, sep="\t", index=False)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` or a restore does
    ours = run_tables(work)
    assert_same(ours, expected(counts.iloc[:, 1:].to_numpy(dtype=float), ANALYSIS))


def test_outdir_dot_is_refused_before_anything_is_written(tmp_path):
    work = write_study(tmp_path, {**study(ANALYSIS), "outdir": "."})
    before = sorted(p.name for p in work.iterdir())
    done = snakemake(work, "-n")
    assert done.returncode != 0
    assert "is the directory snakemake runs in" in done.stdout + done.stderr
    assert sorted(p.name for p in work.iterdir() if p.name != ".snakemake") == before
