#!/usr/bin/env python3
"""Calibration, realised FDR and power of reverse regression on seeded simulations.

Not a test (pytest does not collect this file). Run from the repository root:

    .venv/bin/python tests/benchmark/reverse_calibration.py --replicates 20

Prints, for the naive p-values (t on n - p df) and the calibrated ones (Freedman-Lane
permutations, glmstack.reverse.permutation): the share of p < 0.01 with no predictor (all
features; features with one extreme sample), the share of replicates in which BH at 0.1 calls
anything, and with a few true predictors the realised FDR and the power of BH at 0.1.

With --pooling it compares ways of turning null statistics into p-values where the observed
statistic is exchangeable with the null by construction: B + H permuted statistics per feature,
H of them held out in turn as "observed" against the other B. The share of held-out p-values
at or below 0.01, 0.001 and 0.0001 should be that level; it is printed for every feature and
for the features with one extreme sample: per feature (glmstack's rule), pooled across all
features, and pooled within 10 strata of alike null tails.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
from glmstack.reverse import steps
from glmstack.reverse.permutation import calibrated_pvalues
from reverse_sim import Scenario, fdr_power, null_summary, simulate


def pooled_pvalues(observed: np.ndarray, null: np.ndarray, n_strata: int = 1) -> np.ndarray:
    """p-values from the null |t| of all features (n_strata = 1), or of the features in the same
    stratum of null tail heaviness (95 % quantile / median of the feature's null |t|), each
    feature's null scaled by its median |t|."""
    a = np.abs(null)
    scale = np.median(a, axis=1)
    tail = np.quantile(a, 0.95, axis=1) / scale
    strata = np.empty(len(a), dtype=int)
    strata[np.argsort(tail, kind="stable")] = np.arange(len(a)) * n_strata // len(a)
    z, z_obs, p = a / scale[:, None], np.abs(observed) / scale, np.empty(len(a))
    for s in range(n_strata):
        inside = strata == s
        pool = np.sort(z[inside].ravel())
        p[inside] = (pool.size - np.searchsorted(pool, z_obs[inside], "left") + 1) / (pool.size + 1)
    return p


def pooling(args) -> None:
    held_out = 40
    rng = np.random.default_rng(args.seed)
    g, n = args.features, args.samples
    covariates = np.column_stack([np.ones(n), np.repeat([0.0, 1.0], n // 2 + 1)[:n]])
    values = rng.normal(size=(g, n))
    n_lev = g // 10
    values[np.arange(n_lev), rng.integers(0, n, n_lev)] = 10.0
    trait = covariates @ np.array([1.0, 0.5]) + rng.standard_t(2, n)
    plan = steps.plan_step(trait, covariates, args.permutations + held_out, args.seed)
    null = steps.shard_step(values, plan)["null"]
    b = args.permutations
    rules = {
        "per feature (glmstack)": calibrated_pvalues,
        "pooled, 10 strata": lambda o, z: pooled_pvalues(o, z, 10),
        "pooled, all features": pooled_pvalues,
    }
    print(f"== held-out null statistics: {g} features ({n_lev} with one extreme sample), {n} samples, "
          f"t(2) trait, B = {b}, {held_out} held out")
    for name, rule in rules.items():
        p = np.array([rule(null[:, b + h], null[:, :b]) for h in range(held_out)])
        cells = [f"<= {t:g}: {np.mean(p <= t):.2e} (extreme-sample features {np.mean(p[:, :n_lev] <= t):.2e})"
                 for t in (1e-2, 1e-3, 1e-4)]
        print(f"  {name:24s} " + "; ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--features", type=int, default=500)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--permutations", type=int, default=500)
    parser.add_argument("--predictors", type=int, default=10)
    parser.add_argument("--effect", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--pooling", action="store_true", help="compare per-feature and pooled p-values")
    parser.add_argument("--predictors-only", action="store_true", help="only the scenarios with predictors")
    args = parser.parse_args()
    if args.pooling:
        pooling(args)
        return
    base = Scenario(args.features, args.samples, args.permutations)
    scenarios = {
        "null, normal trait": base,
        "null, 10% leverage features, t(2) trait": replace(base, leverage_share=0.1, trait_df=2),
        f"{args.predictors} predictors, 10% leverage, t(2) trait": replace(
            base, leverage_share=0.1, trait_df=2, n_predictors=args.predictors, effect=args.effect
        ),
        f"{args.predictors} predictors, normal trait": replace(base, n_predictors=args.predictors, effect=args.effect),
    }
    for name, scenario in scenarios.items():
        if args.predictors_only and not scenario.n_predictors:
            continue
        started = time.perf_counter()
        reps = [simulate(scenario, args.seed + i) for i in range(args.replicates)]
        print(f"== {name}: {scenario} ({time.perf_counter() - started:.0f} s)")
        for column in ("pvalue_naive", "pvalue"):
            line = null_summary(reps, column) if not scenario.n_predictors else fdr_power(reps, column)
            print(f"  {column:13s} " + "  ".join(f"{k}={v:.4g}" for k, v in line.items()), flush=True)


if __name__ == "__main__":
    main()
