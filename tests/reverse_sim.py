"""Seeded simulations of reverse regression (trait ~ covariates + feature) for the calibration tests.

A study: N samples with an intercept and a two-level covariate, G standard-normal features
(independent of the covariate and of each other), a trait = covariate effect + noise (normal or
Student t, heavy-tailed), optionally a share of features with one extreme sample (a leverage
point, value `leverage_value`), a few true predictors (trait += effect * feature) and values
missing at random. Each
replicate runs the library's three steps (plan, shard, merge) as the workflow does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from glmstack.inference.fdr import bh_adjust
from glmstack.reverse import steps


@dataclass(frozen=True)
class Scenario:
    n_features: int = 200
    n_samples: int = 40
    n_permutations: int = 200
    leverage_share: float = 0.0
    leverage_value: float = 10.0
    trait_df: float | None = None  # None: normal noise; else Student t with these df
    n_predictors: int = 0
    effect: float = 0.0
    missing_share: float = 0.0  # each value missing with this chance (after the trait is made)


@dataclass(frozen=True)
class Replicate:
    table: pd.DataFrame
    leverage: np.ndarray  # (G,) bool
    predictor: np.ndarray  # (G,) bool


def simulate(scenario: Scenario, seed: int) -> Replicate:
    """One seeded replicate through plan_step, shard_step and merge_step."""
    rng = np.random.default_rng(seed)
    g, n = scenario.n_features, scenario.n_samples
    covariates = np.column_stack([np.ones(n), np.repeat([0.0, 1.0], n // 2 + 1)[:n]])
    values = rng.normal(size=(g, n))
    leverage = np.zeros(g, dtype=bool)
    n_lev = round(scenario.leverage_share * g)
    leverage[:n_lev] = True
    values[np.arange(n_lev), rng.integers(0, n, n_lev)] = scenario.leverage_value
    predictor = np.zeros(g, dtype=bool)
    predictor[n_lev : n_lev + scenario.n_predictors] = True  # predictors have no leverage point
    noise = rng.normal(size=n) if scenario.trait_df is None else rng.standard_t(scenario.trait_df, n)
    trait = covariates @ np.array([1.0, 0.5]) + noise + scenario.effect * values[predictor].sum(axis=0)
    if scenario.missing_share:  # missing completely at random: many distinct patterns
        values[rng.uniform(size=values.shape) < scenario.missing_share] = np.nan
    plan = steps.plan_step(trait, covariates, scenario.n_permutations, seed)
    shard = steps.shard_step(values, plan)
    table = steps.merge_step(np.array([f"f{i}" for i in range(g)]), shard, n, covariates.shape[1])
    return Replicate(table, leverage, predictor)


def null_summary(replicates: list[Replicate], column: str) -> dict[str, float]:
    """Share of p < 0.01 (all features; those with a leverage point) and share of replicates in
    which BH at 0.1 calls anything, for the p-values in `column`."""
    p = np.concatenate([r.table[column].to_numpy() for r in replicates])
    lev = np.concatenate([r.leverage for r in replicates])
    calls = [bool((bh_adjust(r.table[column].to_numpy()) < 0.1).any()) for r in replicates]
    return {
        "below_0.01": float(np.mean(p < 0.01)),
        "below_0.01_leverage": float(np.mean(p[lev] < 0.01)) if lev.any() else float("nan"),
        "n": int(p.size),
        "n_leverage": int(lev.sum()),
        "bh_any": float(np.mean(calls)),
    }


def fdr_power(replicates: list[Replicate], column: str, alpha: float = 0.1) -> dict[str, float]:
    """Realised FDR (mean false share of calls, 0 without calls) and power of BH at `alpha`."""
    fdp, power = [], []
    for r in replicates:
        called = bh_adjust(r.table[column].to_numpy()) < alpha
        fdp.append(float(np.sum(called & ~r.predictor) / max(1, called.sum())))
        power.append(float(np.sum(called & r.predictor) / max(1, r.predictor.sum())))
    return {"fdr": float(np.mean(fdp)), "power": float(np.mean(power))}
