"""The bundled study through Snakemake's generic cluster executor gives the local run's files.

Every job is submitted with tests/cluster/submit_local.sh: a separate, detached process running
Snakemake's job script, polled with tests/cluster/status_local.sh, exactly as a scheduler would run
it on a node (only the file system is shared). The results must equal a local `--cores` run.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import workflow_runs
from workflow_runs import ROOT

CLUSTER = ROOT / "tests" / "cluster"

pytestmark = pytest.mark.slow
pytest.importorskip("snakemake_executor_plugin_cluster_generic", reason="pip install -e '.[test]'")


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """The bundled study (config/config.yaml) in `workdir`."""
    return workflow_runs.snakemake(workdir, *args, configfile=ROOT / "config" / "config.yaml", timeout=1800)


def bundled_study(where: Path) -> Path:
    """A fresh directory holding the bundled study's inputs (paths in config.yaml are relative)."""
    where.mkdir()
    shutil.copytree(ROOT / "resources", where / "resources")
    return where


def result_files(outdir: Path) -> list[Path]:
    """Every file a run leaves in its output directory, except logs, timings and stamps (which
    record where and when the inputs were read: file paths, inodes, times)."""
    return sorted(
        p.relative_to(outdir)
        for p in outdir.rglob("*")
        if p.is_file()
        and p.parts[len(outdir.parts)] not in ("logs", "benchmarks", "stamps")
        and not p.name.startswith(".")
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("cluster")
    local = bundled_study(base / "local")
    done = snakemake(local, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    cluster = bundled_study(base / "cluster")
    done = snakemake(
        cluster,
        "--executor", "cluster-generic",
        "--jobs", "4",
        "--cluster-generic-submit-cmd", f"{CLUSTER / 'submit_local.sh'} --name {{rule}}",
        "--cluster-generic-status-cmd", str(CLUSTER / "status_local.sh"),
        "--latency-wait", "10",
        "--seconds-between-status-checks", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return local, cluster, done


def test_every_job_was_submitted_as_its_own_process(runs):
    local, cluster, done = runs
    exits = sorted((cluster / ".snakemake" / "local-cluster").glob("*.exit"))
    rules = {workflow_runs.rule_kind(p.name.rsplit("-", 2)[0]) for p in exits}
    assert {"ingest", "genewise", "trend", "fit", "merge", "plot_analysis"} <= rules
    assert all(p.read_text().strip() == "0" for p in exits)
    assert done.stderr.count("with external jobid") == len(exits)
    # every rule has a log: one submitted process per job of the local run
    assert len(exits) == len(list((local / "results" / "logs").rglob("*.log")))


def test_cluster_results_equal_the_local_run(runs):
    local, cluster, _ = runs
    ours, theirs = local / "results", cluster / "results"
    files = result_files(ours)
    assert files == result_files(theirs)
    assert any(f.suffix == ".tsv" for f in files) and any(f.suffix == ".npz" for f in files)
    differ = []
    for name in files:
        if name.suffix == ".npz":
            # arrays, in case the zip members ever carry a timestamp
            with (
                np.load(ours / name, allow_pickle=False) as a,
                np.load(theirs / name, allow_pickle=False) as b,
            ):
                same = sorted(a.files) == sorted(b.files) and all(
                    a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f")
                    for k in a.files
                )
        else:  # tables, JSON, plots and the report: byte for byte
            same = (ours / name).read_bytes() == (theirs / name).read_bytes()
        if not same:
            differ.append(str(name))
    assert differ == [], f"cluster run differs from the local run in {differ}"
