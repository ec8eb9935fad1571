"""glmstack.gaussian.qc: the most variable complete features, whatever the sharding."""

from __future__ import annotations

import numpy as np
from glmstack.gaussian.qc import most_variable_rows


def test_most_variable_rows_skip_na_and_do_not_depend_on_the_blocks():
    rng = np.random.default_rng(5)
    values = rng.normal(size=(300, 8)) * rng.uniform(0.1, 3, size=(300, 1))
    values[::7, 2] = np.nan
    values[10] = values[11]  # a tie: the earlier row is kept first
    whole = most_variable_rows([values], 50)
    for size in (1, 13, 100):
        blocks = [values[i : i + size] for i in range(0, 300, size)]
        np.testing.assert_array_equal(most_variable_rows(blocks, 50), whole)
    complete = values[np.isfinite(values).all(axis=1)]
    expected = complete[np.sort(np.argsort(-complete.var(axis=1, ddof=1), kind="stable")[:50])]
    np.testing.assert_array_equal(whole, expected)
    assert most_variable_rows([values[:3]], 50).shape == (3 - np.isnan(values[:3]).any(axis=1).sum(), 8)
