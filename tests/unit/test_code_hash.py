"""glmstack.workflow: a job's code hash covers the modules its script imports, and only those; a
finished run exits without waiting for the scheduler's timers."""

from __future__ import annotations

import shutil
from pathlib import Path

from glmstack.workflow import code_hash, script_modules

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
PACKAGE = SCRIPTS / "glmstack"


def names(script: str) -> set[str]:
    return {str(p.relative_to(PACKAGE)) for p in script_modules(SCRIPTS / script, PACKAGE)}


def test_fit_runs_the_nb_steps_and_not_the_report():
    fit = names("fit.py")
    # direct imports, modules reached through them (relative imports), and package __init__s
    assert {
        "nb/steps.py",
        "nb/irls.py",
        "nb/cooks.py",
        "rmath/chisq.py",
        "design/splines.py",
        "design/spline_terms.py",
        "spec.py",
    } <= fit
    assert {"__init__.py", "nb/__init__.py", "rmath/__init__.py"} <= fit
    assert not any(name.startswith("report/") for name in fit)
    assert "report/plots.py" in names("plot_analysis.py")


def test_editing_a_plot_module_changes_the_plot_jobs_hash_only(tmp_path):
    copy = tmp_path / "scripts"
    shutil.copytree(SCRIPTS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = {
        s: code_hash(copy / s, copy / "glmstack") for s in ("fit.py", "genewise.py", "plot_analysis.py")
    }
    plots = copy / "glmstack" / "report" / "plots.py"
    plots.write_text(plots.read_text() + "\n# an edit\n")
    after = {s: code_hash(copy / s, copy / "glmstack") for s in before}
    assert after["fit.py"] == before["fit.py"] and after["genewise.py"] == before["genewise.py"]
    assert after["plot_analysis.py"] != before["plot_analysis.py"]
    irls = copy / "glmstack" / "nb" / "irls.py"
    irls.write_text(irls.read_text() + "\n# an edit\n")
    assert code_hash(copy / "fit.py", copy / "glmstack") != before["fit.py"]


def test_a_shipped_table_is_part_of_the_hash_of_the_jobs_that_read_it(tmp_path):
    copy = tmp_path / "scripts"
    shutil.copytree(SCRIPTS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = {s: code_hash(copy / s, copy / "glmstack") for s in ("trend.py", "plot_analysis.py")}
    table = copy / "glmstack" / "rmath" / "prior_sim_histograms.npz"
    table.write_bytes(table.read_bytes() + b"\0")
    assert code_hash(copy / "trend.py", copy / "glmstack") != before["trend.py"]  # prior reads it
    assert code_hash(copy / "plot_analysis.py", copy / "glmstack") == before["plot_analysis.py"]


def test_every_form_of_import_statement_is_followed(tmp_path):
    """The imports are read as text: each form Python allows leads to its module."""
    package = tmp_path / "glmstack"
    for module in ("a", "b", "c", "d", "e", "f", "sub/__init__", "sub/g", "sub/h", "unused"):
        (package / module).parent.mkdir(parents=True, exist_ok=True)
        (package / f"{module}.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from . import g  # a package's own module\n")
    (package / "sub" / "g.py").write_text("from ..e import thing\n")
    script = tmp_path / "job.py"
    script.write_text(
        '"""A job; the text below reads like an import but is not one: import of the data."""\n'
        "import glmstack.a as first, glmstack.b\n"
        "from glmstack import (\n    c,  # split over lines\n    d as renamed,\n)\n"
        "from glmstack.sub import \\\n    h\n"
        "\n\ndef main():\n    from glmstack import f  # deferred to first use\n"
    )
    found = {str(p.relative_to(package)) for p in script_modules(script, package)}
    expected = {"a", "b", "c", "d", "e", "f", "sub/g", "sub/h"}
    assert found == {f"{m}.py" for m in expected} | {"__init__.py", "sub/__init__.py"}


def test_release_idle_timers_cancels_the_schedulers_wake_ups_only():
    """A finished run exits at once: the scheduler's pending one-second wake-ups are cancelled
    (Snakemake's method is still spelled this way), other timers are left alone."""
    import threading

    from glmstack.workflow import release_idle_timers
    from snakemake.scheduling.job_scheduler import JobScheduler

    assert hasattr(JobScheduler, "_schedule_reevalutation")

    class Scheduler:
        def _schedule_reevalutation(self):
            timer = threading.Timer(60, lambda: None)
            timer.start()
            return timer

    wake_up, other = Scheduler()._schedule_reevalutation(), threading.Timer(60, lambda: None)
    other.start()
    try:
        assert release_idle_timers() == 1
        wake_up.join(5)
        assert not wake_up.is_alive() and other.is_alive()
    finally:
        other.cancel()


def test_exit_promptly_freezes_the_objects_and_leaves_the_exit_steps_whole(tmp_path):
    """After exit_promptly the collector skips the run's objects (the 0.3 s of collections at
    exit), and what Snakemake still does after onsuccess runs: a log line written afterwards
    and an atexit handler reach their files, in a fresh Python (as the workflow's process)."""
    import subprocess
    import sys

    log, mark = tmp_path / "run.log", tmp_path / "atexit.txt"
    program = f"""
import atexit, gc, logging, sys
sys.path.insert(0, {str(Path(__file__).parents[2] / "scripts")!r})
from glmstack.workflow import exit_promptly
handler = logging.FileHandler({str(log)!r})
logging.getLogger("run").addHandler(handler)
logging.getLogger("run").setLevel(logging.INFO)
cycle = [handler]
cycle.append(cycle)
tracked = len(gc.get_objects())
exit_promptly()
assert gc.get_freeze_count() >= tracked, (gc.get_freeze_count(), tracked)
atexit.register(lambda: open({str(mark)!r}, "w").write("ran"))
logging.getLogger("run").info("Complete log: after onsuccess")
"""
    done = subprocess.run(
        [sys.executable, "-c", program], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert log.read_text() == "Complete log: after onsuccess\n"
    assert mark.read_text() == "ran"
