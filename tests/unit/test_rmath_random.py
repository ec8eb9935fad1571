"""glmstack.rmath.random against R 4.2.2's own streams (tests/data/rmath, made by
tests/data/rmath/make_random_reference.R). Every comparison is exact equality of doubles."""

from __future__ import annotations

import numpy as np
import pytest
from cases import rmath_reference
from glmstack.rmath.random import RRandom, qnorm, seeded_state

SEEDS = [2, 1, 0, 42, 123456789, 2147483647, -1, -2, -2147483647]


def r_values(sequence: str) -> np.ndarray:
    positions, values = rmath_reference()[sequence]
    np.testing.assert_array_equal(positions, np.arange(values.size))
    return values


def test_seeded_state_is_r_random_seed() -> None:
    r_seed = r_values("Random.seed_after_set.seed(2)").astype(np.int64)
    assert r_seed[0] == 10403  # Mersenne-Twister, Inversion, Rejection
    assert r_seed[1] == 624  # position: the first draw regenerates the state
    words = seeded_state(2).astype(np.int64)
    np.testing.assert_array_equal(np.where(words >= 2**31, words - 2**32, words), r_seed[2:])


@pytest.mark.parametrize("seed", SEEDS)
def test_runif_first_draws(seed: int) -> None:
    np.testing.assert_array_equal(RRandom(seed).unif(20), r_values(f"set.seed({seed}); runif(20)"))


def test_runif_after_a_million_draws() -> None:
    rng = RRandom(2)
    rng.unif(10**6)
    np.testing.assert_array_equal(rng.unif(10), r_values("set.seed(2); runif(1e6); runif(10)"))


def test_qnorm_is_r_qnorm() -> None:
    p = r_values("qnorm_p")
    np.testing.assert_array_equal(qnorm(p), r_values("qnorm(qnorm_p)"))
    assert np.isnan(qnorm(np.array([-0.1, 1.1, np.nan]))).all()


def test_rnorm_with_sd_zero_returns_the_mean_and_draws_nothing() -> None:
    rng = RRandom(2)
    np.testing.assert_array_equal(rng.norm(5, 3.0, 0.0), r_values("set.seed(2); rnorm(5, 3, 0)"))
    assert rng.uniforms_used == 0
    np.testing.assert_array_equal(rng.unif(3), r_values("set.seed(2); rnorm(5, 3, 0); runif(3)"))


def test_rnorm() -> None:
    rng = RRandom(2)
    np.testing.assert_array_equal(rng.norm(1000), r_values("set.seed(2); rnorm(1000)"))
    assert rng.uniforms_used == 2000  # inversion: two uniforms per normal
    np.testing.assert_array_equal(RRandom(7).norm(50, 10.0, 3.0), r_values("set.seed(7); rnorm(50, 10, 3)"))


def test_rexp() -> None:
    np.testing.assert_array_equal(RRandom(2).exp(1000), r_values("set.seed(2); rexp(1000)"))


@pytest.mark.parametrize("shape", ["0.5", "1", "1.5", "3.7", "5", "20"])
def test_rgamma(shape: str) -> None:
    got = RRandom(2).gamma(500, float(shape))
    np.testing.assert_array_equal(got, r_values(f"set.seed(2); rgamma(500, shape = {shape})"))


@pytest.mark.parametrize(("shape", "scale"), [("0.3", "3"), ("2.5", "3"), ("2.5", "0.1")])
def test_rgamma_with_scale(shape: str, scale: str) -> None:
    """GD scales x^2 in its quick steps and x in its last step: (s x) x != s (x x) in the last bit."""
    got = RRandom(3).gamma(200, float(shape), float(scale))
    r_call = f"set.seed(3); rgamma(200, shape = {shape}, scale = {scale})"
    np.testing.assert_array_equal(got, r_values(r_call))


@pytest.mark.parametrize("df", [1, 2, 3])
def test_rchisq(df: int) -> None:
    np.testing.assert_array_equal(RRandom(2).chisq(500, df), r_values(f"set.seed(2); rchisq(500, df = {df})"))


def test_calls_in_pieces_continue_one_stream() -> None:
    """Draws split over calls (and over the samplers' windows) equal one call's."""
    rng = RRandom(2)
    pieces = [rng.chisq(k, 2) for k in (1, 2, 97, 400)]
    np.testing.assert_array_equal(np.concatenate(pieces), r_values("set.seed(2); rchisq(500, df = 2)"))
    rng = RRandom(2)
    pieces = [rng.gamma(k, 0.5) for k in (3, 1, 496)]
    np.testing.assert_array_equal(np.concatenate(pieces), r_values("set.seed(2); rgamma(500, shape = 0.5)"))
    rng = RRandom(2)
    np.testing.assert_array_equal(
        np.concatenate([rng.exp(1), rng.exp(999)]), r_values("set.seed(2); rexp(1000)")
    )
    for shape in ("1", "0.5"):  # one draw per call: the smallest windows
        rng = RRandom(2)
        one_by_one = np.concatenate([rng.gamma(1, float(shape)) for _ in range(500)])
        np.testing.assert_array_equal(one_by_one, r_values(f"set.seed(2); rgamma(500, shape = {shape})"))


def test_deseq2_stream_deep_positions() -> None:
    """DESeq2's prior-variance simulation, m - p = 2: 200 x (rchisq(1e4, 2), rnorm(1e4, 0, sqrt(x)))."""
    rng = RRandom(2)
    chisq, normal = [], []
    for x in np.linspace(0.0, 8.0, 200):
        chisq.append(rng.chisq(10_000, 2))
        normal.append(rng.norm(10_000, 0.0, float(np.sqrt(x))))
    for name, drawn in (("chisq", chisq), ("norm", normal)):
        positions, values = rmath_reference()[f"deseq2_prior_sim_df2_{name}"]
        assert 10**6 - 1 in positions and positions.max() == 2 * 10**6 - 1
        np.testing.assert_array_equal(np.concatenate(drawn)[positions], values)


def test_zero_shape_and_zero_draws() -> None:
    rng = RRandom(2)
    np.testing.assert_array_equal(rng.gamma(3, 0.0), np.zeros(3))
    assert rng.chisq(0, 2).shape == (0,) and rng.norm(0).shape == (0,) and rng.exp(0).shape == (0,)
    assert rng.uniforms_used == 0


def test_no_global_random_state_is_touched() -> None:
    before = np.random.get_state(legacy=False)
    RRandom(5).chisq(1000, 1)
    after = np.random.get_state(legacy=False)
    np.testing.assert_array_equal(before["state"]["key"], after["state"]["key"])
    assert before["state"]["pos"] == after["state"]["pos"]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: RRandom(2**31), "not an R integer"),
        (lambda: RRandom(-(2**31)), "not an R integer"),
        (lambda: RRandom(1).norm(3, 0.0, -1.0), "sd >= 0"),
        (lambda: RRandom(1).gamma(3, -1.0), "shape >= 0"),
        (lambda: RRandom(1).gamma(3, 1.0, 0.0), "scale > 0"),
        (lambda: RRandom(1).chisq(3, float("inf")), "df >= 0"),
        (lambda: RRandom(1).exp(3, 0.0), "rate > 0"),
        (lambda: RRandom(1).unif(-1), "draws must be >= 0"),
    ],
)
def test_bad_arguments(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
