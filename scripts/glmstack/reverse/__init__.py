"""Reverse regression: which features predict a trait (trait ~ covariates + feature).

`rlm` fits Huber M-estimators as MASS::rlm's defaults, batched across features and permutations;
`permutation` makes the Freedman-Lane plan and turns null statistics into calibrated p-values;
`steps` reads like the method (plan -> shard statistics -> calibration and BH).
"""
