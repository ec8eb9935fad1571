#!/usr/bin/env python3
"""Calibration, realised FDR and power of reverse regression on seeded simulations.

Not a test (pytest does not collect this file). Run from the repository root:

    .venv/bin/python tests/benchmark/reverse_calibration.py --replicates 20

Prints, for the naive p-values (t on n - p df) and the calibrated ones (Freedman-Lane
permutations, glmstack.reverse.permutation): the share of p < 0.01 with no predictor (all
features; features with one extreme sample), the share of replicates in which BH at 0.1 calls
anything, and with a few true predictors the realised FDR and the power of BH at 0.1.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reverse_sim import Scenario, fdr_power, null_summary, simulate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--features", type=int, default=500)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--permutations", type=int, default=500)
    parser.add_argument("--predictors", type=int, default=10)
    parser.add_argument("--effect", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
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
        started = time.perf_counter()
        reps = [simulate(scenario, args.seed + i) for i in range(args.replicates)]
        print(f"== {name}: {scenario} ({time.perf_counter() - started:.0f} s)")
        for column in ("pvalue_naive", "pvalue"):
            line = null_summary(reps, column) if not scenario.n_predictors else fdr_power(reps, column)
            print(f"  {column:13s} " + "  ".join(f"{k}={v:.4g}" for k, v in line.items()), flush=True)


if __name__ == "__main__":
    main()
