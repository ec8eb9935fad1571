"""glmstack.report.beside: figures drawn by a forked child beside the job's own.

A plot job runs with one BLAS thread (Snakemake sets OPENBLAS_NUM_THREADS to the job's threads),
so it may fork; this test process has a BLAS thread pool and may not. The scenarios that fork
therefore run as a job would, in a fresh Python with one BLAS thread (`as_a_job`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from glmstack.report import beside
from glmstack.report.beside import drawn_beside, split_in_two

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def the_child_draws_while_the_block_runs_and_is_waited_for(tmp: Path) -> None:
    done = tmp / "child.txt"

    def draw():
        time.sleep(0.3)
        done.write_text(str(os.getpid()))

    with drawn_beside(draw):
        assert not done.exists()  # the block does not wait for the child
    assert done.exists() and int(done.read_text()) != os.getpid()  # drawn by another process


def what_the_child_raises_is_raised_by_the_job(tmp: Path) -> None:
    def draw():
        raise ValueError("no dispersions in fit 0001")

    try:
        with drawn_beside(draw):
            pass
    except ValueError as error:
        assert "no dispersions in fit 0001" in str(error)
        assert any("in draw" in note for note in error.__notes__)  # the child's traceback
    else:
        raise AssertionError("the child's error was not raised")


def a_child_that_does_not_finish_is_an_error(tmp: Path) -> None:
    try:
        with drawn_beside(lambda: os.kill(os.getpid(), signal.SIGKILL)):
            pass
    except RuntimeError as error:
        assert "stopped" in str(error)
    else:
        raise AssertionError("a killed child went unnoticed")


def a_failing_block_stops_the_child_before_it_writes(tmp: Path) -> None:
    late = tmp / "late.txt"

    def draw():
        time.sleep(1.0)
        late.write_text("written after the job failed")

    try:
        with drawn_beside(draw):
            raise KeyError("table")
    except KeyError:
        pass
    time.sleep(1.2)
    assert not late.exists()


def a_killed_job_takes_its_child_with_it(tmp: Path) -> None:
    """The job (this scenario's child process) is killed while its own child draws."""
    pid_file, late = tmp / "child.pid", tmp / "late.txt"
    job = os.fork()
    if job == 0:  # the job
        def draw():
            pid_file.write_text(str(os.getpid()))
            time.sleep(1.5)
            late.write_text("written after the job was killed")

        with drawn_beside(draw):
            time.sleep(10)
        os._exit(0)
    deadline = time.time() + 10
    while not (pid_file.exists() and pid_file.read_text()) and time.time() < deadline:
        time.sleep(0.01)
    child = int(pid_file.read_text())
    os.kill(job, signal.SIGKILL)
    os.waitpid(job, 0)
    time.sleep(2.0)
    assert not late.exists()
    try:
        os.kill(child, 0)
    except ProcessLookupError:
        return
    raise AssertionError("the child outlived the killed job")


def as_a_job(scenario, tmp_path: Path) -> None:
    """Run a scenario of this module in a fresh Python with one BLAS thread, as a plot job runs."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(SCRIPTS), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, __file__, scenario.__name__, str(tmp_path)], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "forked", run.stdout  # the scenario ran where a job may fork


@pytest.mark.parametrize("scenario", [
    the_child_draws_while_the_block_runs_and_is_waited_for,
    what_the_child_raises_is_raised_by_the_job,
    a_child_that_does_not_finish_is_an_error,
    a_failing_block_stops_the_child_before_it_writes,
    a_killed_job_takes_its_child_with_it,
], ids=lambda scenario: scenario.__name__)
def test_a_plot_job_with_a_child(scenario, tmp_path):
    as_a_job(scenario, tmp_path)


def test_without_a_safe_fork_the_same_figures_are_drawn_here_first(tmp_path, monkeypatch):
    monkeypatch.setattr(beside, "_can_fork", lambda: False)
    order = []
    with drawn_beside(lambda: order.append(("draw", os.getpid()))):
        order.append(("block", os.getpid()))
    assert order == [("draw", os.getpid()), ("block", os.getpid())]


def test_a_process_with_a_second_thread_does_not_fork():
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not beside._can_fork()
    finally:
        stop.set()
        thread.join()


if __name__ == "__main__":  # as_a_job: <scenario> <tmp folder>
    assert beside._can_fork(), "this process may not fork"
    print("forked", flush=True)
    globals()[sys.argv[1]](Path(sys.argv[2]))


@pytest.mark.parametrize(
    ("weights", "here", "beside"),
    [
        ([2, 1], [0], [1]),  # one analysis, one table: the table here, the model beside
        ([2, 1, 2, 1], [0, 1], [2, 3]),  # two analyses: one's table and model each side
        ([2, 2, 2, 1], [0, 2], [1, 3]),  # three tables and a model: 4 and 3
        ([1], [0], []),
        ([], [], []),
    ],
)
def test_work_is_split_in_two_of_about_equal_weight(weights, here, beside):
    """The heaviest first, each to the lighter side (ties: here), equal weights in their order."""
    items = list(range(len(weights)))
    assert split_in_two(items, lambda i: weights[i]) == (here, beside)


def test_the_halves_of_many_items_differ_by_at_most_the_heaviest():
    rng = np.random.default_rng(3)
    weights = rng.uniform(0.1, 3.0, 40)
    here, beside = split_in_two(list(range(40)), lambda i: weights[i])
    assert sorted(here + beside) == list(range(40))
    assert abs(weights[here].sum() - weights[beside].sum()) <= weights.max()


def test_an_analysis_s_table_plots_here_and_its_model_plots_beside():
    """One analysis, one table: the table's figures here, the model's in the child; two analyses
    of one table each: one analysis a side; three tables: two here, one and the model beside."""
    from types import SimpleNamespace

    a, b = SimpleNamespace(table_names=["t"]), SimpleNamespace(table_names=["lrt"])
    assert beside.split_analysis_plots([(a, {})]) == ([("table", a, {}, "t")], [("model", a, {}, None)])
    here, there = beside.split_analysis_plots([(a, {}), (b, {})])
    assert here == [("table", a, {}, "t"), ("model", a, {}, None)]
    assert there == [("table", b, {}, "lrt"), ("model", b, {}, None)]
    c = SimpleNamespace(table_names=["x", "y", "z"])
    here, there = beside.split_analysis_plots([(c, {})])
    assert [t[3] for t in here] == ["x", "z"] and [t[3] for t in there] == ["y", None]
