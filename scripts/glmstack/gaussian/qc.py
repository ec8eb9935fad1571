"""Quality control of a values study: the most variable features, for a PCA of the samples."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def most_variable_rows(blocks: Iterable[np.ndarray], ntop: int) -> np.ndarray:
    """The `ntop` rows with the largest variance among rows without a missing value, in input order.

    Parameters
    ----------
    blocks : (G_i, N) consecutive blocks of the value matrix (the shards), read one at a time.
    ntop : rows to keep (DESeq2 plotPCA's ntop); ties keep the earlier row, so the result does
        not depend on how the matrix is split.

    Returns
    -------
    (T, N) with T <= ntop; rows with NA are left out (a PCA needs complete rows).
    """
    best, best_var = None, np.zeros(0)
    for block in blocks:
        complete = block[np.isfinite(block).all(axis=1)]
        var = complete.var(axis=1, ddof=1) if complete.shape[1] > 1 else np.zeros(len(complete))
        rows = complete if best is None else np.concatenate([best, complete])
        variances = np.concatenate([best_var, var])
        keep = np.sort(np.argsort(-variances, kind="stable")[:ntop])
        best, best_var = rows[keep], variances[keep]
    return np.zeros((0, 0)) if best is None else best
