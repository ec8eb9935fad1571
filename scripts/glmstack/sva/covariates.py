"""surrogate_variables.tsv read back as a design's extra columns (no pandas: the shard jobs read it)."""

from __future__ import annotations

from ..design.matrices import Covariates
from ..io.files import read_numeric_tsv


def read_covariates(path: str) -> Covariates:
    """The table (columns sample, SV1..SVk; written by sva.tables) as Covariates."""
    return Covariates(*read_numeric_tsv(path))


def job_covariates(inputs) -> Covariates | None:
    """The surrogate variables a job was given (input `covariates`), or None."""
    paths = dict(inputs.items())
    return read_covariates(paths["covariates"]) if "covariates" in paths else None
