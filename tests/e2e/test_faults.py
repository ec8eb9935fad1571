"""Crashes and reruns: a killed run resumes to the same bytes; params drive what reruns."""

from __future__ import annotations

import contextlib
import filecmp
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import yaml
from workflow_runs import rule_kind, snakemake, snakemake_command, write_study

STUDY = {
    "counts": "counts.tsv.gz",
    "samples": "samples.tsv.gz",
    "outdir": "out",
    "genes_per_shard": 1000,
    "analyses": {
        "tissue": {
            "design": "~ run + tissue",
            "levels": {"run": ["R1", "R2"], "tissue": ["Kidney", "Liver"]},
            "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]},
        }
    },
}
TABLES = ["tissue/liver_vs_kidney.tsv", "tissue/dispersions.tsv", "normalization/size_factors.tsv"]


def make_study(base: Path, name: str, **changes) -> Path:
    study = yaml.safe_load(yaml.safe_dump(STUDY))
    study["analyses"]["tissue"].update(changes)
    return write_study(base / name, study)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    work = make_study(tmp_path_factory.mktemp("faults"), "reference")
    done = snakemake(work, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return work


def same_files(a: Path, b: Path) -> None:
    for rel in TABLES:
        assert filecmp.cmp(a / "out" / rel, b / "out" / rel, shallow=False), rel


def running_jobs(proc: subprocess.Popen, script: str = "fit.py") -> list[psutil.Process]:
    """The workflow's running jobs of one entry script (Snakemake runs a copy named *.<script>)."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    jobs = []
    for child in children:
        try:
            if any(part.endswith(f".{script}") for part in child.cmdline()):
                jobs.append(child)
        except psutil.NoSuchProcess:
            continue
    return jobs


def test_killed_job_then_rerun_gives_identical_tables(reference, tmp_path):
    """Also the rerun-identity check: two separate runs, byte-identical tables."""
    work = make_study(tmp_path, "killed")
    proc = subprocess.Popen(snakemake_command(work, "--cores", "1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fits = work / "out" / "models"  # models/<model>/<fit_type>/fit/<shard>.npz

    def n_fits() -> int:
        return len(list(fits.glob("*/*/fit/*.npz")))

    killed = late = None
    deadline = time.time() + 600
    while killed is None and time.time() < deadline and proc.poll() is None:
        for job in running_jobs(proc) if n_fits() >= 3 else []:
            before = n_fits()
            job.send_signal(signal.SIGKILL)  # one shard fit dies mid-way, as under an OOM killer
            with contextlib.suppress(psutil.Error):
                job.wait(timeout=30)
            # its shard written before the kill: the job may have been exiting already, with
            # status 0 (a kill then changes nothing); the next shard's job is killed instead
            killed, late = (job, late) if n_fits() == before else (None, job)
            break
        time.sleep(0.05)
    killed = killed or (late if proc.wait(timeout=600) != 0 else None)  # a late kill that did fail the job
    assert killed is not None, "no fit job was caught running"
    assert proc.wait(timeout=600) != 0  # the workflow reports the failed job and stops
    assert not (work / "out" / "tissue" / "dispersions.tsv").exists()
    rerun = snakemake(work, "--cores", "2")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    same_files(reference, work)
    assert not list(work.glob("out/**/*.tmp"))


def test_plot_job_killed_after_its_first_figures_is_redrawn_whole(reference, tmp_path):
    """The plot_analysis job writes folders (a PNG per table in each): killed after the first of
    them (and with it the child drawing the model's plots, perhaps mid-file), the rerun empties
    and redraws them, every plot and top-genes table has the bytes of an uninterrupted run's,
    and no temporary file is left."""
    work = make_study(tmp_path, "killed_plots")
    proc = subprocess.Popen(snakemake_command(work, "--cores", "1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = work / "out" / "tissue" / "plots" / "ma" / "liver_vs_kidney.png"
    killed = None
    deadline = time.time() + 600
    while killed is None and time.time() < deadline and proc.poll() is None:
        for job in running_jobs(proc, "plot_analysis.py") if first.exists() else []:
            job.send_signal(signal.SIGKILL)
            killed = job
            break
        time.sleep(0.01)
    assert killed is not None, "no plot job was caught after its first figure"
    assert proc.wait(timeout=600) != 0
    rerun = snakemake(work, "--cores", "2")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    drawn = sorted(p.relative_to(reference) for p in (reference / "out" / "tissue").rglob("*") if p.is_file())
    assert len([p for p in drawn if p.suffix == ".png"]) == 6
    for rel in drawn:
        if rel.name != ".snakemake_timestamp":
            assert filecmp.cmp(reference / rel, work / rel, shallow=False), rel
    assert not list(work.glob("out/**/*.tmp"))


def planned_rules(work: Path) -> set[str]:
    dry = snakemake(work, "-n", "--quiet", "rules", timeout=300)
    assert dry.returncode == 0, dry.stderr[-2000:]
    names = {"ingest", "genewise", "trend", "fit", "merge", "report", "plot_study", "plot_analysis"}
    words = [rule_kind(line.split()[0]) for line in (dry.stdout + dry.stderr).splitlines() if line.split()]
    return set(words) & names


def test_changing_alpha_reruns_only_the_merge_steps(reference):
    study = yaml.safe_load((reference / "study.yaml").read_text())
    study["analyses"]["tissue"]["alpha"] = 0.05
    (reference / "study.yaml").write_text(yaml.safe_dump(study))
    try:
        rules = planned_rules(reference)
    finally:
        study["analyses"]["tissue"].pop("alpha")
        (reference / "study.yaml").write_text(yaml.safe_dump(study))
    assert rules and rules <= {"merge", "report", "plot_analysis"}
    assert "merge" in rules and "fit" not in rules
