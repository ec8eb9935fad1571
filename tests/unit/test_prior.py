"""Tests of glmstack.prior (DESeq2 1.38.3 estimateDispersionsPriorVar) against R.

R reference numbers come from R 4.2.2 / DESeq2 1.38.3 (calls in the comments) and are
embedded as literals; R is not needed to run the tests.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from cases import data_file, read_json
from glmstack.nb.prior import (
    dispersion_prior_variance,
    histogram_density,
    kl_divergence_grid,
    var_log_disp_ests,
)
from glmstack.rmath.loess import loess_quadratic
from scipy import stats
from scipy.special import polygamma

# fmt: off
# R 4.2.2: hist(c(-9.75, -9.5, -9.5, -9.4, 0, 0.5, 0.50000004, 0.5000001, 3.2, 9.99, 10, -10),
#               breaks = -20:20/2, plot = FALSE)$density
HIST_DENSITY = [
    0.66666666666666663, 0.16666666666666666, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0.16666666666666666,
    0.33333333333333331, 0.16666666666666666, 0, 0, 0, 0, 0.16666666666666666, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0.33333333333333331,
]
# R 4.2.2: x <- seq(0, 8, length = 200); y <- (x - 1.3)^2 / (1 + x) + 0.05 * sin(7 * x)
# predict(loess(y ~ x, span = 0.2), seq(0, 8, length = 41))
LOESS_INTERPOLATE = [
    1.6522152051530525, 1.0645845872785384, 0.61457676926159865, 0.2991135884800708,
    0.11853109199076328, 0.052122673839738232, 0.019575126541537945, -0.005188328085384367,
    0.017067666749174346, 0.085950619145516591, 0.18354470943255244, 0.2554762666161256,
    0.33942498978392593, 0.4582338910627814, 0.60243684242006157, 0.74185734811239024,
    0.84813424941620985, 0.98596527542681367, 1.1497134806617204, 1.3208048122659561,
    1.4658800274824866, 1.5983752327372196, 1.7709095381441262, 1.9555266578329422,
    2.1299660680538088, 2.2736173429750193, 2.4363880618194407, 2.6292511398161231,
    2.8186865227866726, 2.9858773010890567, 3.1357205450683541, 3.3281070462715143,
    3.5275363537964153, 3.7114976937891742, 3.8717394652771131, 4.0397289136424259,
    4.250199543718721, 4.4435245688460387, 4.6201839609829722, 4.7817831000871402,
    4.9259026819512206,
]
# predict(loess(y ~ x, span = 0.2, surface = "direct"), seq(0, 8, length = 41))
LOESS_DIRECT = [
    1.6514952703309806, 1.064371380045787, 0.61368677182425191, 0.29659364894023821,
    0.12072273304996985, 0.057836475314924286, 0.022825271933743507, -0.005093857432753493,
    0.011458458723351661, 0.089692872011051805, 0.18611569050447824, 0.26001603198872125,
    0.33495159022215143, 0.45512100135101186, 0.60812120500597655, 0.74225506705517574,
    0.85003026207998988, 0.97905970190068192, 1.1515798828462871, 1.3259492490218008,
    1.4645106573264455, 1.5956153358047862, 1.7657902425431935, 1.961474297241975,
    2.1314946702639079, 2.2715185343329365, 2.4304872576628425, 2.6289257785780649,
    2.8248826050308851, 2.9835015552740218, 3.1343915680255376, 3.3219740710479577,
    3.5317095045601192, 3.7144082020554832, 3.8676968946412824, 4.0394671732699479,
    4.2481718700884716, 4.4439000629799867, 4.620520328052022, 4.7818570015401454,
    4.9260676959580119,
]
# R 4.2.2: x2 <- c(round(qexp(ppoints(57)), 2), 0.3, 0.3, 1.2)
#          y2 <- sin(2*x2) + x2/3 + cos(17*seq_along(x2))/5
X2 = [
    0.01, 0.029999999999999999, 0.040000000000000001, 0.059999999999999998, 0.080000000000000002,
    0.10000000000000001, 0.12, 0.14000000000000001, 0.16, 0.17999999999999999, 0.20000000000000001,
    0.23000000000000001, 0.25, 0.27000000000000002, 0.28999999999999998, 0.32000000000000001,
    0.34000000000000002, 0.37, 0.39000000000000001, 0.41999999999999998, 0.45000000000000001,
    0.46999999999999997, 0.5, 0.53000000000000003, 0.56000000000000005, 0.58999999999999997, 0.63,
    0.66000000000000003, 0.68999999999999995, 0.72999999999999998, 0.77000000000000002,
    0.80000000000000004, 0.83999999999999997, 0.89000000000000001, 0.93000000000000005,
    0.96999999999999997, 1.02, 1.0700000000000001, 1.1299999999999999, 1.1799999999999999, 1.24,
    1.3, 1.3700000000000001, 1.4399999999999999, 1.52, 1.6000000000000001, 1.6899999999999999,
    1.79, 1.8999999999999999, 2.0299999999999998, 2.1699999999999999, 2.3399999999999999, 2.54,
    2.79, 3.1299999999999999, 3.6400000000000001, 4.7400000000000002, 0.29999999999999999,
    0.29999999999999999, 1.2,
]
# predict(loess(y2 ~ x2, span = 0.3), seq(min(x2), max(x2), length = 23))
LOESS_TIES_30 = [
    -0.02142569003785659, 0.50417438531557235, 0.92058039237631051, 1.1819816149905849,
    1.2805361248426426, 1.1817260969673808, 0.93887186135379297, 0.6192037669731183,
    0.27266889765046787, -0.0042583672855487972, -0.16379699603178449, -0.1699932810139628,
    0.0031219237681779158, 0.25916014232846502, 0.51915015731389558, 0.7622937805061154,
    0.985183420010042, 1.1844114839305957, 1.3565703803726961, 1.4982525174412618,
    1.6060503032412115, 1.6765561458774652, 1.706362453454942,
]
# predict(loess(y2 ~ x2, span = 0.75), seq(min(x2), max(x2), length = 23))
LOESS_TIES_75 = [
    -0.020505429800143367, 0.52275675221333606, 0.9222329817957341, 1.1808041588891056,
    1.2633648521614342, 1.1804528027051393, 0.9668223612987521, 0.70180739465990893,
    0.40730931057286318, 0.18303706779082238, 0.095984123100259527, 0.06928628567101805,
    0.088110738050688031, 0.14892148056955956, 0.24818251355792265, 0.38235783734606776,
    0.54791145226428473, 0.74130735864286323, 0.95900955681209443, 1.1974820471022674,
    1.4531888298436721, 1.7225939053665993, 2.0021612740013386,
]
# fmt: on


def _stratified_residuals(n: int, df: int, var: float) -> np.ndarray:
    """Deterministic 'sample' of log(chi2_df / df) + N(0, var), identical in R and Python.

    R: i <- 1:n; u <- (i - 0.5)/n; w <- ((i * 1597) %% n + 0.5)/n
       r <- log(qchisq(u, df)/df) + sqrt(var) * qnorm(w); r[r > -10]
    """
    i = np.arange(1, n + 1)
    u = (i - 0.5) / n
    w = ((i * 1597) % n + 0.5) / n
    r = np.log(stats.chi2.ppf(u, df) / df) + math.sqrt(var) * stats.norm.ppf(w)
    return r[r > -10]


# ------------------------------------------------------------------------------ MAD^2


def test_var_log_disp_ests_is_r_mad_squared() -> None:
    x = np.array([0.1, -0.4, 2.0, 0.3, np.nan, -1.2])
    # median 0.1; |x - 0.1| = 0, 0.5, 1.9, 0.2, 1.3 -> median 0.5; mad = 1.4826 * 0.5
    assert var_log_disp_ests(x) == pytest.approx((1.4826 * 0.5) ** 2, rel=1e-15)
    # even length: median 2.5; |x - 2.5| = 1.5, .5, .5, 1.5 -> median 1.0
    assert var_log_disp_ests(np.array([4.0, 1.0, 3.0, 2.0])) == pytest.approx(1.4826**2, rel=1e-15)
    assert math.isnan(var_log_disp_ests(np.array([np.nan])))


# ------------------------------------------------------------------------ closed-form branches


def test_prior_variance_many_residual_df_subtracts_trigamma() -> None:
    x = 2.0 * np.array([0.1, -0.4, 2.0, 0.3, -1.2])  # mad^2 = 4 * (1.4826 * 0.5)^2
    var_log = 4 * (1.4826 * 0.5) ** 2
    # m - p = 7: trigamma(3.5) = pi^2 / 2 - 4 * (1 + 1/9 + 1/25)
    trigamma = math.pi**2 / 2 - 4 * (1 + 1 / 9 + 1 / 25)
    assert float(polygamma(1, 3.5)) == pytest.approx(trigamma, rel=1e-14)
    got = dispersion_prior_variance(x, m=10, p=3)
    assert got == pytest.approx(var_log - trigamma, rel=1e-14)


def test_prior_variance_floor() -> None:
    x = np.array([0.1, -0.4, 2.0, 0.3, -1.2])  # 0.5495 - trigamma(3.5) = 0.219 < 0.25
    assert dispersion_prior_variance(x, m=10, p=3) == 0.25
    # m - p = 4 is the first closed-form case: 0.5495 - trigamma(2) = 0.5495 - (pi^2/6 - 1)
    assert dispersion_prior_variance(x, m=6, p=2) == 0.25


def test_prior_variance_no_residual_df_is_var_log_disp_ests() -> None:
    x = np.array([0.1, -0.4, 2.0, 0.3, -1.2])
    assert dispersion_prior_variance(x, m=4, p=4) == var_log_disp_ests(x)
    assert dispersion_prior_variance(x, m=3, p=4) == var_log_disp_ests(x)  # R's else branch


def test_prior_variance_requires_residuals() -> None:
    with pytest.raises(ValueError, match="all residuals missing"):
        dispersion_prior_variance(np.array([np.nan, np.nan]), m=10, p=2)
    with pytest.raises(ValueError, match="inside"):
        dispersion_prior_variance(np.array([12.0, -15.0]), m=4, p=2)


# DESeq2 1.38.3 runs (meta.json): (case, analysis); m = samples, p = model-matrix columns
REFERENCE_RUNS = [
    ("marioni", "run_tissue"),  # m - p = 7
    ("marioni", "tissue_noint"),  # m - p = 8
    ("mouse_diet", "time_spline_lrt"),  # m - p = 124
    ("lung_microbiome", "smoking"),  # floored at 0.25
]


@pytest.mark.parametrize(("case", "analysis"), REFERENCE_RUNS)
def test_reference_runs_match_deseq2(case: str, analysis: str) -> None:
    ref = f"{case}/reference/{analysis}/"
    disp = pd.read_csv(data_file(ref + "dispersions.tsv"), sep="\t", dtype={"gene_id": str})
    meta = read_json(data_file(ref + "meta.json"))
    samples = pd.read_csv(data_file(f"{case}/samples.tsv"), sep="\t", dtype={"sample": str})
    used = disp["dispGeneEst"].notna() & (disp["dispGeneEst"] >= 1e-6)
    residuals = np.log(disp.loc[used, "dispGeneEst"].to_numpy()) - np.log(
        disp.loc[used, "dispFit"].to_numpy()
    )
    m, p = len(samples), len(meta["design_matrix_columns"])
    assert m - p > 3
    # inputs are written with 15 significant digits, hence rel 1e-12 rather than 1e-15
    assert var_log_disp_ests(residuals) == pytest.approx(meta["varLogDispEsts"], rel=1e-12)
    assert dispersion_prior_variance(residuals, m, p) == pytest.approx(
        meta["dispPriorVar"], rel=1e-12
    )


# ------------------------------------------------------------------------------ building blocks


def test_histogram_density_matches_r_hist() -> None:
    values = np.array([-9.75, -9.5, -9.5, -9.4, 0, 0.5, 0.50000004, 0.5000001, 3.2, 9.99, 10, -10])
    got = histogram_density(values, np.arange(-20, 21) / 2)
    np.testing.assert_allclose(got, HIST_DENSITY, rtol=1e-15, atol=0)
    # one histogram per row, NaN = unused slot
    rows = np.array([[0.2, 0.3, np.nan], [-0.2, np.nan, np.nan]])
    dens = histogram_density(rows, np.arange(-20, 21) / 2)
    assert dens[0, 20] == pytest.approx(2 / (2 * 0.5))
    assert dens[1, 19] == pytest.approx(1 / (1 * 0.5))
    assert dens.sum(axis=1) == pytest.approx([2.0, 2.0])


def test_kl_divergence_by_hand() -> None:
    obs = np.array([1.0, 0.0, 1.0])
    sim = np.array([[0.5, 1.0, 0.5], [1.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    got = kl_divergence_grid(obs, sim)
    # row 0: small = 0.5 -> 2 * (log 1.5 - log 1.0); row 1: identical -> 0
    # row 2: small = min(1, 2) = 1 -> 2 * (log 2 - log 1)
    np.testing.assert_allclose(got, [2 * math.log(1.5), 0.0, 2 * math.log(2.0)], rtol=1e-15)


def test_loess_matches_r_interpolate_and_direct() -> None:
    x = np.linspace(0, 8, 200)
    y = (x - 1.3) ** 2 / (1 + x) + 0.05 * np.sin(7 * x)
    new_x = np.linspace(0, 8, 41)
    np.testing.assert_allclose(loess_quadratic(x, y, new_x, 0.2), LOESS_INTERPOLATE, atol=1e-12)
    direct = loess_quadratic(x, y, new_x, 0.2, surface="direct")
    np.testing.assert_allclose(direct, LOESS_DIRECT, atol=1e-12)
    # the two surfaces differ by ~1e-2 here: interpolation is needed to match DESeq2
    assert np.max(np.abs(direct - np.array(LOESS_INTERPOLATE))) > 1e-3


@pytest.mark.parametrize(("span", "expected"), [(0.3, "LOESS_TIES_30"), (0.75, "LOESS_TIES_75")])
def test_loess_matches_r_with_ties_and_uneven_spacing(span: float, expected: str) -> None:
    x2 = np.array(X2)
    y2 = np.sin(2 * x2) + x2 / 3 + np.cos(17 * np.arange(1, x2.size + 1)) / 5
    new_x = np.linspace(x2.min(), x2.max(), 23)
    np.testing.assert_allclose(
        loess_quadratic(x2, y2, new_x, span), globals()[expected], atol=1e-12
    )
    assert np.isnan(loess_quadratic(x2, y2, np.array([x2.max() + 0.01]), span)).all()


# ------------------------------------------------------------------------------ simulation branch


@pytest.mark.parametrize(("df", "var", "tol"), [(2, 0.5, 0.15), (2, 1.0, 0.25), (3, 2.0, 0.4)])
def test_simulation_recovers_known_variance(df: int, var: float, tol: float) -> None:
    """Residuals drawn as log(chi2_df / df) + N(0, var); m - p = df."""
    rng = np.random.default_rng(20240611)
    residuals = np.log(rng.chisquare(df, 5000) / df) + rng.normal(0.0, math.sqrt(var), 5000)
    got = dispersion_prior_variance(residuals, m=10, p=10 - df)
    # tolerances: the method's own bias (+0.07 at var 0.5) plus 4 sd over data sets
    assert abs(got - var) < tol


def test_simulation_is_deterministic() -> None:
    r = _stratified_residuals(2000, 2, 1.0)
    assert dispersion_prior_variance(r, 5, 3) == dispersion_prior_variance(r, 5, 3)


# R 4.2.2 / DESeq2 1.38.3, residual vectors from _stratified_residuals(4000, df, var):
#   dds <- DESeqDataSetFromMatrix(matrix(1L, G, 6), data.frame(a = factor(...)), ~ 1)
#   mcols(dds)$allZero <- FALSE; mcols(dds)$dispGeneEst <- exp(r); mcols(dds)$dispFit <- 1
#   DESeq2:::estimateDispersionsPriorVar(dds, modelMatrix = matrix(rnorm(6 * p), 6, p))
# DESeq2 draws its simulation after set.seed(2); the fine-grid point it returns is exact.
# (Re-run with set.seed(s), s = 1..40, R's estimates have sd 0.005 to 0.06 around these.)
R_SIMULATION = [
    # (df = m - p, var, DESeq2's dispPriorVar)
    (2, 0.5, 0.55255255255255253),
    (1, 1.0, 0.80880880880880879),
    (3, 0.2, 0.25),  # R's unfloored argmin is 0.009 +- 0.013: floored
    (2, 2.5, 2.4184184184184185),
    (3, 1.5, 1.3853853853853855),
]


@pytest.mark.parametrize(("df", "var", "r_prior_var"), R_SIMULATION)
def test_simulation_equals_deseq2(df: int, var: float, r_prior_var: float) -> None:
    """DESeq2's set.seed(2) draws reproduced: the same fine-grid point as R, exactly."""
    r = _stratified_residuals(4000, df, var)
    assert dispersion_prior_variance(r, m=6, p=6 - df) == r_prior_var
