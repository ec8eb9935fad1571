"""The per-feature results of one test, keyed by contrast name, as every family writes them.

A shard's fit file holds one `ContrastResult` per contrast of the analysis under keys
`<field>[<contrast>]` (e.g. `pvalue[treated_vs_untreated]`), so the merge reads results by
name, not by position. For a nested-model test (LRT, moderated F) every contrast carries the
test's statistic and p-value beside its own estimate and standard error.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class ContrastResult:
    """(G,) arrays: the contrast's estimate and standard error (log2 for the NB family), the
    test statistic and its p-value (NaN where the test was not done or was removed)."""

    estimate: np.ndarray
    std_error: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray


FIELDS = tuple(f.name for f in fields(ContrastResult))


def array_key(field: str, contrast: str) -> str:
    """Name of one array of one contrast in a fit file."""
    return f"{field}[{contrast}]"


def to_arrays(results: dict[str, ContrastResult]) -> dict[str, np.ndarray]:
    """Flatten {contrast: result} into named arrays for a fit file."""
    return {
        array_key(field, name): getattr(result, field) for name, result in results.items() for field in FIELDS
    }


def from_arrays(arrays: dict[str, np.ndarray], contrast: str) -> ContrastResult:
    """One contrast's results back from a fit file's arrays (KeyError names the missing array)."""
    return ContrastResult(*(arrays[array_key(field, contrast)] for field in FIELDS))
