"""A job's log ends with the message of the error that stopped it."""

from __future__ import annotations

import atexit
import gc
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from glmstack.errors import StudyError
from glmstack.logs import log_to


@pytest.fixture
def job_log(tmp_path):
    hook = sys.excepthook
    path = tmp_path / "job.log"
    log = log_to(str(path))
    yield log, path
    sys.excepthook = hook
    atexit.unregister(gc.freeze)
    for handler in logging.getLogger("glmstack").handlers:
        handler.close()
    logging.getLogger("glmstack").handlers[:] = []


def raised(exc: Exception):
    try:
        raise exc
    except Exception as caught:  # noqa: BLE001 - the hook gets whatever ended the job
        return type(caught), caught, caught.__traceback__


def test_a_study_error_is_the_log_s_last_lines_alone(job_log, capsys):
    log, path = job_log
    log.info("reading")
    sys.excepthook(*raised(StudyError("counts.tsv: 2 counts are not integers.\nFix: round them.")))
    lines = path.read_text().splitlines()
    assert lines[-2].endswith(" ERROR glmstack: counts.tsv: 2 counts are not integers.")
    assert lines[-1] == "Fix: round them."
    assert "Traceback" not in path.read_text()
    assert capsys.readouterr().err == "counts.tsv: 2 counts are not integers.\nFix: round them.\n"


def test_another_error_keeps_its_traceback_before_the_message(job_log, capsys):
    _, path = job_log
    sys.excepthook(*raised(ZeroDivisionError("division by zero")))
    text = path.read_text()
    assert "Traceback (most recent call last)" in text
    assert text.splitlines()[-1].endswith(" ERROR glmstack: ZeroDivisionError: division by zero")
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_a_job_s_objects_are_frozen_at_exit_after_its_log_is_written(tmp_path):
    """log_to leaves the job's objects out of the collections at exit (gc.freeze), after the
    job's own exit steps: a fresh Python as a job, whose log is whole and whose earlier atexit
    handler (run last) sees the objects frozen."""
    log, seen = tmp_path / "job.log", tmp_path / "frozen.txt"
    program = f"""
import atexit, gc, sys
sys.path.insert(0, {str(Path(__file__).parents[2] / "scripts")!r})
atexit.register(lambda: open({str(seen)!r}, "w").write(str(gc.get_freeze_count() > 0)))
from glmstack.logs import log_to
log_to({str(log)!r})
log = log_to({str(log)!r})
log.info("shown: 12 genes")
"""
    done = subprocess.run(
        [sys.executable, "-c", program], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert log.read_text().rstrip().endswith("glmstack: shown: 12 genes")
    assert seen.read_text() == "True"
