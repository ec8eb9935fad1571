"""Logging for rule scripts: one log file per job."""

import logging


def log_to(path: str) -> logging.Logger:
    """Send the glmstack loggers to `path` (the rule's log file) and return the package logger."""
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("glmstack")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger
