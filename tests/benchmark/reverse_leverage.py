#!/usr/bin/env python3
"""Features with one extreme sample under a heavy-tailed trait: is the observed statistic
exchangeable with its Freedman-Lane null?

Not a test (pytest does not collect this file). Run from the repository root:

    .venv/bin/python tests/benchmark/reverse_leverage.py --first 2000 --last 2020 --show 3

Replays the replicates of the slow calibration scenario (tests/reverse_sim.py: 400 features x 60
samples, 400 permutations, 10 % of features with one sample at 10, t(2) trait; replicate `seed`
draws the same values, trait and plan) for its 40 features with an extreme sample (each
feature's p-value depends on it and the plan only), and counts calibrated p < 0.01 with the null
made four ways from the same permutations:

* ls: Freedman-Lane with the least-squares fit of trait ~ covariates (glmstack before the change);
* robust: Freedman-Lane with rlm(trait ~ covariates) (glmstack, `permutation.freedman_lane_traits`);
* exact: the true errors permuted (y* = Z g + P e): an exact permutation test, the yardstick;
* raw: as ls, but the statistic is the estimate instead of estimate / standard error.

Prints per scheme the count, the share, the binomial 3-SE bound, and the per-replicate mean and
variance of the count (a variance above the binomial 40 x 0.01 x 0.99 = 0.40 is the correlation
of one replicate's p-values); `--show K` prints, for the first K features with ls p < 0.01, the
observed |t|, the quantiles of its null |t|, its extreme sample's residual rank, and its scale
against the median null scale; and for ls, robust and exact the ratio of the median null scale to
the observed scale over all features (1 if the null's residuals look like the observed ones).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
from glmstack.reverse.permutation import calibrated_pvalues, permutation_plan
from glmstack.reverse.rlm import rlm_feature, rlm_fitted
from reverse_sim import Scenario

SCENARIO = Scenario(n_features=400, n_samples=60, n_permutations=400, leverage_share=0.1, trait_df=2)
SCHEMES = ("ls", "robust", "exact", "raw")


def replicate(seed: int, show: int) -> tuple[dict[str, int], dict[str, np.ndarray], int]:
    sc = SCENARIO
    rng = np.random.default_rng(seed)  # the draws of reverse_sim.simulate, in its order
    g, n = sc.n_features, sc.n_samples
    z = np.column_stack([np.ones(n), np.repeat([0.0, 1.0], n // 2 + 1)[:n]])
    values = rng.normal(size=(g, n))
    n_lev = round(sc.leverage_share * g)
    where = rng.integers(0, n, n_lev)
    values[np.arange(n_lev), where] = sc.leverage_value
    effects = z @ np.array([1.0, 0.5])
    errors = rng.standard_t(sc.trait_df, n)
    trait, x, b = effects + errors, values[:n_lev], sc.n_permutations
    plan = permutation_plan(n, b, seed)
    ls = z @ np.linalg.lstsq(z, trait, rcond=None)[0]
    robust = rlm_fitted(trait, z)
    traits = {"ls": ls + (trait - ls)[plan], "robust": robust + (trait - robust)[plan], "exact": effects + errors[plan]}
    observed = rlm_feature(trait, z, x)
    counts, ratios = {}, {}
    for name, null_traits in traits.items():
        fit = rlm_feature(np.tile(null_traits, (n_lev, 1)), z, np.repeat(x, b, axis=0))
        null = fit.statistic.reshape(n_lev, b)
        p = calibrated_pvalues(observed.statistic, null)
        counts[name] = int(np.sum(p < 0.01))
        ratios[name] = np.median(fit.scale.reshape(n_lev, b), axis=1) / observed.scale
        if name == "ls":
            counts["raw"] = int(np.sum(calibrated_pvalues(observed.estimate, fit.estimate.reshape(n_lev, b)) < 0.01))
            rank = np.argsort(np.argsort(-np.abs(trait - ls)))
            for f in np.flatnonzero(p < 0.01)[:show]:
                q = np.quantile(np.abs(null[f]), [0.5, 0.9, 0.99, 1.0])
                print(f"  seed {seed} feature {f}: observed |t| {abs(observed.statistic[f]):.2f}, null |t| median "
                      f"{q[0]:.2f} / 90 % {q[1]:.2f} / 99 % {q[2]:.2f} / max {q[3]:.2f}, p {p[f]:.4f}; extreme sample "
                      f"{where[f]} holds the trait's #{rank[where[f]] + 1} largest |residual|; scale {observed.scale[f]:.2f} "
                      f"(null median {np.median(fit.scale.reshape(n_lev, b)[f]):.2f})")
    return counts, ratios, n_lev


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", type=int, default=2000)
    parser.add_argument("--last", type=int, default=2020, help="seeds first .. last - 1")
    parser.add_argument("--show", type=int, default=0)
    args = parser.parse_args()
    rows, ratios, n_lev = [], {name: [] for name in SCHEMES[:3]}, 0
    for seed in range(args.first, args.last):
        counts, ratio, n_lev = replicate(seed, args.show)
        rows.append([counts[s] for s in SCHEMES])
        for name, values in ratios.items():
            values.append(ratio[name])
    counts = np.array(rows)
    m = counts.shape[0] * n_lev
    print(f"== seeds {args.first}-{args.last - 1}: {m} p-values of features with an extreme sample")
    for j, name in enumerate(SCHEMES):
        c = counts[:, j]
        print(f"  {name:7s} p < 0.01: {c.sum():4d} = {c.sum() / m:.2%} (binomial 3-SE bound {0.01 + 3 * np.sqrt(0.0099 / m):.2%}); "
              f"per replicate mean {c.mean():.2f}, variance {c.var(ddof=1):.2f}; minus exact {c.sum() - counts[:, 2].sum():+d}")
    print("  median null scale / observed scale (5 %, 50 %, 95 %, 99 % over features):")
    for name, values in ratios.items():
        print(f"    {name:7s} " + ", ".join(f"{q:.2f}" for q in np.quantile(np.concatenate(values), [0.05, 0.5, 0.95, 0.99])))


if __name__ == "__main__":
    main()
