"""limma-style result tables (topTable / topTreat / topTableF with sort.by = "none").

Rows stay in input order; adj.P.Val is Benjamini-Hochberg over the features that have a p-value
(glmstack.inference.fdr.bh_adjust, R's p.adjust). pandas appears here only to shape the output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..inference.fdr import bh_adjust

T_COLUMNS = ["feature_id", "logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]


def t_table(
    feature_id: np.ndarray,
    logfc: np.ndarray,
    amean: np.ndarray,
    t: np.ndarray,
    p_value: np.ndarray,
    b: np.ndarray | None,
) -> pd.DataFrame:
    """topTable(coef = j) columns from (G,) arrays; no B column when b is None (topTreat)."""
    frame = pd.DataFrame(
        {
            "feature_id": feature_id,
            "logFC": logfc,
            "AveExpr": amean,
            "t": t,
            "P.Value": p_value,
            "adj.P.Val": bh_adjust(p_value),
        }
    )
    if b is not None:
        frame["B"] = b
    return frame


def f_table(
    feature_id: np.ndarray,
    coefficients: np.ndarray,
    coefficient_names: list[str],
    amean: np.ndarray,
    f: np.ndarray,
    p_value: np.ndarray,
) -> pd.DataFrame:
    """topTableF columns: the (G, K) coefficients under their names, AveExpr, F, P.Value, adj.P.Val."""
    frame = pd.DataFrame({"feature_id": feature_id})
    for j, name in enumerate(coefficient_names):
        frame[name] = coefficients[:, j]
    frame["AveExpr"] = amean
    frame["F"] = f
    frame["P.Value"] = p_value
    frame["adj.P.Val"] = bh_adjust(p_value)
    return frame
