"""glmstack.rmath.gamma_glm against R's glm(family = Gamma("identity")) (tests/data/rmath)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from glmstack.rmath.gamma_glm import GlmFitError, gamma_identity_glm

REFERENCE = Path(__file__).parents[1] / "data" / "rmath" / "gamma_glm.tsv.gz"
CASES = pd.read_csv(REFERENCE, sep="\t")


@pytest.mark.parametrize("case", ["trend", "trend_maxit2", "scattered", "halved"])
def test_matches_r_glm(case):
    rows = CASES[CASES["case"] == case]
    first = rows.iloc[0]
    x = np.column_stack([np.ones(len(rows)), rows["x"].to_numpy()])
    fit = gamma_identity_glm(
        rows["y"].to_numpy(), x, start=np.array([first["start0"], first["start1"]]), maxit=int(first["maxit"])
    )
    # R solves each weighted least-squares step by LINPACK's QR, numpy by LAPACK's
    np.testing.assert_allclose(fit.coefficients, [first["coef0"], first["coef1"]], rtol=1e-13)
    assert fit.converged == bool(first["converged"])


def test_halving_is_what_reaches_r_answer():
    """Without R's step halving, the five-point case leaves the domain on its first step."""
    rows = CASES[CASES["case"] == "halved"]
    x = np.column_stack([np.ones(len(rows)), rows["x"].to_numpy()])
    y = rows["y"].to_numpy()
    w = 1.0 / (x @ np.array([1.0, 0.0]))
    step = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)[0]
    assert np.any(x @ step <= 0)


def test_invalid_start_or_response_is_an_error():
    x = np.column_stack([np.ones(3), [1.0, 2.0, 3.0]])
    with pytest.raises(GlmFitError, match="valid starting values"):
        gamma_identity_glm(np.array([1.0, 2.0, 3.0]), x, start=np.array([1.0, -1.0]))
    with pytest.raises(GlmFitError, match="non-positive values"):
        gamma_identity_glm(np.array([1.0, 0.0, 3.0]), x, start=np.array([1.0, 1.0]))
