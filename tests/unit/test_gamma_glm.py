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


def test_statsmodels_does_not_give_r_numbers_where_r_halves_a_step():
    """Why the helper exists: statsmodels' IRLS does not halve a step that leaves the Gamma
    domain, and on the five-point case it converges to fitted means below zero, not to R's
    fit. Should it ever give R's numbers, the trend should go back to the library."""
    import warnings

    import statsmodels.api as sm

    rows = CASES[CASES["case"] == "halved"]
    x = np.column_stack([np.ones(len(rows)), rows["x"].to_numpy()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its warnings about the identity link's domain
        family = sm.families.Gamma(sm.families.links.Identity())
        library = sm.GLM(rows["y"].to_numpy(), x, family=family).fit(
            start_params=[1.0, 0.0], maxiter=25, atol=1e-9, rtol=1e-8, scale=1.0
        )
    r_coef = rows.iloc[0][["coef0", "coef1"]].to_numpy(dtype=float)
    assert np.any(x @ library.params <= 0) and not np.allclose(library.params, r_coef, rtol=1e-3)
    ours = gamma_identity_glm(rows["y"].to_numpy(), x, start=np.array([1.0, 0.0]))
    assert np.all(x @ ours.coefficients > 0)


def test_invalid_start_or_response_is_an_error():
    x = np.column_stack([np.ones(3), [1.0, 2.0, 3.0]])
    with pytest.raises(GlmFitError, match="valid starting values"):
        gamma_identity_glm(np.array([1.0, 2.0, 3.0]), x, start=np.array([1.0, -1.0]))
    with pytest.raises(GlmFitError, match="non-positive values"):
        gamma_identity_glm(np.array([1.0, 0.0, 3.0]), x, start=np.array([1.0, 1.0]))
