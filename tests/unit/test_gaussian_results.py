"""glmstack.gaussian.results: limma's table columns, BH over tested features only."""

from __future__ import annotations

import numpy as np
from glmstack.gaussian.results import f_table, t_table


def test_t_table_columns_and_bh():
    p = np.array([0.01, np.nan, 0.04, 0.03])
    table = t_table(np.array(["a", "b", "c", "d"]), np.zeros(4), np.ones(4), np.zeros(4), p, np.zeros(4))
    assert list(table.columns) == ["feature_id", "logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]
    np.testing.assert_allclose(table["adj.P.Val"], [0.03, np.nan, 0.04, 0.04])
    assert "B" not in t_table(np.array(["a"]), np.zeros(1), np.zeros(1), np.zeros(1), np.ones(1), None).columns


def test_f_table_columns():
    table = f_table(np.array(["a", "b"]), np.ones((2, 2)), ["x", "y:z"], np.zeros(2), np.ones(2), np.array([0.2, 0.1]))
    assert list(table.columns) == ["feature_id", "x", "y:z", "AveExpr", "F", "P.Value", "adj.P.Val"]
    np.testing.assert_allclose(table["adj.P.Val"], [0.2, 0.2])
