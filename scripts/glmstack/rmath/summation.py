"""Row sums rounded as R's rowSums/rowMeans: accumulated in 80-bit extended precision.

Reference values from R differ from a numpy sum in the last bit, and which bit depends on
where in the row the large terms sit. Two genes with equal counts in different samples
then get different p-values in numpy and equal ones in R; ties matter for rankings and for
thresholds such as independent filtering's `baseMean >= cutoff`. Summing in extended
precision column by column, as R does, removes that difference.
"""

from __future__ import annotations

import numpy as np


def _extended_sums(x: np.ndarray) -> np.ndarray:
    total = np.zeros(x.shape[0], dtype=np.longdouble)
    for column in x.T:  # a loop over samples, each step vectorised over genes
        total += column
    return total


def row_sums(x: np.ndarray) -> np.ndarray:
    """(G,) sums of a (G, N) array, accumulated in long double over columns (R rowSums)."""
    return _extended_sums(x).astype(float)


def row_means(x: np.ndarray) -> np.ndarray:
    """(G,) means, divided in long double before rounding (R rowMeans)."""
    return (_extended_sums(x) / x.shape[1]).astype(float)
