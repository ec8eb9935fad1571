"""Logging for rule scripts: one log file per job, whose last lines say why a job failed."""

import atexit
import gc
import logging
import sys
import traceback

from .errors import StudyError


def log_to(path: str) -> logging.Logger:
    """Send the glmstack loggers to `path` (the rule's log file) and return the package logger.

    An exception that ends the job is written to the log: a StudyError (bad input, the user's
    to fix) as its message alone, on the log's last lines and on stderr (which Snakemake
    shows); any other error as its traceback followed by its message on the last line.
    At exit, the interpreter's last collections skip the job's objects (`gc.freeze`, as
    glmstack.workflow.exit_promptly does for Snakemake's own process): 0.02-0.1 s of each job.
    """
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("glmstack")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    sys.excepthook = job_failed
    atexit.unregister(gc.freeze)  # once, however many logs a process opens
    atexit.register(gc.freeze)
    return logger


def job_failed(kind, value, tb) -> None:
    """sys.excepthook of a job: the error's message as the last lines of its log (see log_to)."""
    logger = logging.getLogger("glmstack")
    if isinstance(value, StudyError):
        logger.error("%s", value)
        print(value, file=sys.stderr)
        return
    # a bug or a crash: the traceback for whoever debugs it, then the message where one looks first
    logger.error("job failed:\n%s", "".join(traceback.format_exception(kind, value, tb)).rstrip())
    logger.error("%s: %s", kind.__name__, value)
    sys.__excepthook__(kind, value, tb)
