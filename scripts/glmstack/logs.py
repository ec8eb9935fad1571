"""Logging for rule scripts: one log file per job."""

import logging
import sys


def log_to(path: str) -> logging.Logger:
    """Send the glmstack loggers to `path` (the rule's log file) and return the package logger."""
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("glmstack")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def log_uncaught(kind, value, tb):
        # a failing job's traceback belongs in its log file, not only on the terminal
        logger.error("job failed", exc_info=(kind, value, tb))
        sys.__excepthook__(kind, value, tb)

    sys.excepthook = log_uncaught
    return logger
