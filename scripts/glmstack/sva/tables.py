"""surrogate_variables.tsv: one row per sample, columns sample, SV1..SVk."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io.tables import write_tsv
from .covariates import read_covariates


def sv_names(k: int) -> list[str]:
    return [f"SV{i + 1}" for i in range(k)]


def write_surrogate_variables(path: str, samples: list[str], sv: np.ndarray) -> None:
    """Write the (N, k) surrogate variables with the sample ids (k may be 0)."""
    frame = pd.DataFrame(sv, columns=sv_names(sv.shape[1]))
    frame.insert(0, "sample", samples)
    write_tsv(path, frame)


def read_surrogate_variables(path: str) -> pd.DataFrame:
    """The table as a frame indexed by sample id, columns SV1..SVk (floats)."""
    sv = read_covariates(path)
    return pd.DataFrame(sv.values, index=pd.Index(sv.samples, name="sample"), columns=sv.names)
