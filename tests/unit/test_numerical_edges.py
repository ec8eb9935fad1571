"""Numerical edge cases end in numbers or flags, never in crashes."""

import numpy as np
import pandas as pd
from glmstack.nb import size_factors, steps
from glmstack.spec import Analysis

RNG = np.random.default_rng(17)


def test_extreme_genes_are_fitted():
    n = 8
    sheet = pd.DataFrame({"sample": [f"s{i}" for i in range(n)], "group": ["a"] * 4 + ["b"] * 4})
    mu = np.exp(RNG.uniform(1, 7, 300))[:, None] * np.ones(n)
    counts = RNG.negative_binomial(10, 10 / (10 + mu)).astype(float)
    counts[0] = [0, 0, 0, 0, 0, 0, 0, 5]  # one non-zero count
    counts[1] = 1e8 + np.arange(n)  # huge counts
    counts[2] = [0, 0, 0, 0, 300, 280, 310, 290]  # a group of zeros
    counts[3] = 0  # all zero
    counts[4] = [1e6, 0, 0, 0, 0, 0, 0, 0]  # one huge outlier
    sf = size_factors.size_factors(counts + 1, "ratio")
    result = steps.run_analysis(
        np.array([f"g{i}" for i in range(300)]), counts, sf, sheet,
        Analysis.from_study("edges", {"design": "~ group", "contrasts": {"b_vs_a": ["group", "b", "a"]}}),
    )
    table = result["tables"]["b_vs_a"]
    assert table.loc[3, ["log2FoldChange", "pvalue", "padj"]].isna().all()  # all-zero: NA, as DESeq2
    finite = table.drop(index=3)
    assert np.isfinite(finite["log2FoldChange"]).all() and np.isfinite(finite["lfcSE"]).all()
    assert table.loc[2, "log2FoldChange"] > 5
    # huge counts, tiny dispersion: the fold change of the normalised means
    norm = counts[1] / sf
    assert abs(table.loc[1, "log2FoldChange"] - np.log2(norm[4:].mean() / norm[:4].mean())) < 1e-4
    assert ((finite["pvalue"] >= 0) & (finite["pvalue"] <= 1) | finite["pvalue"].isna()).all()
    disp = result["dispersions"]
    assert np.isfinite(disp.drop(index=3)["dispersion"]).all()
    assert result["fit"]["beta_conv"].shape == (300,)
