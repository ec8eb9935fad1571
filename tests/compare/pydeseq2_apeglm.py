"""Opt-in comparison of `lfc_shrink: apeglm` with PyDESeq2's DeseqStats.lfc_shrink.

PyDESeq2 (scverse, 0.5.x) is the published Python port of DESeq2's apeglm shrinkage; it is not
a dependency of glmstack. Install it in a separate environment (`python -m venv /tmp/pd &&
/tmp/pd/bin/pip install pydeseq2`), run the workflow on a study with `lfc_shrink: apeglm`, then

    /tmp/pd/bin/python tests/compare/pydeseq2_apeglm.py OUTDIR ANALYSIS CONTRAST

with the marioni case (tests/data/marioni; the study of tests/e2e/test_lfc_shrink_workflow.py
with lfc_shrink: apeglm; CONTRAST a [tissue, Liver, Kidney] or {coef} contrast of its design
"~ run + tissue"). It reads only glmstack's outputs (the table, dispersions.tsv,
normalization/size_factors.tsv, shrink_prior.json) and prints two comparisons:

1. end to end: PyDESeq2's own pipeline (its size factors, dispersions, MLEs and prior scale),
   then lfc_shrink, against the table's log2FoldChange_shrunk / lfcSE_shrunk;
2. the shrinkage step alone: PyDESeq2's per-gene MAP (pydeseq2.utils.nbinomGLM, L-BFGS-B)
   given glmstack's size factors, final dispersions and Cauchy scale.

Measured (PyDESeq2 0.5.4, marioni, 5,088 genes, shards of 1,500; liver_vs_kidney, prior scale
1 in both):
- the step alone: shrunken LFC Pearson 1.00000000, max |diff| 1.6e-3 (median 5e-6); the
  difference is PyDESeq2's L-BFGS-B stopping early (ftol 1e-8: |gradient| 0.01-0.03 left at the
  worst genes; Newton steps from PyDESeq2's point land on glmstack's mode to 4e-7). lfcSE
  Pearson 0.941 (max |diff| 2.9): PyDESeq2's Hessian adds np.diag(np.diag(h)), the prior's
  curvature as a vector, to X'WX, so it is broadcast over every row instead of the diagonal,
  and it takes |.| of the inverse; with that Hessian written out correctly at PyDESeq2's own
  modes the SEs agree to Pearson 1.00000000, max |diff| 1.2e-3.
- end to end: PyDESeq2's dispersions differ from DESeq2's (which glmstack reproduces,
  tests/golden): its trend is a0 = 3.6e-4, a1 = 0.71 against DESeq2's 1.75e-4, 1.03, so its
  final dispersions differ by a median 0.32 in log; MLE LFC still Pearson 0.999994. Shrunken LFC
  Pearson 0.99999894 on baseMean >= 10 (max |diff| 0.017), 0.9986 on all genes (max 4.1, low
  counts, where the dispersion moves the posterior between its modes); lfcSE 0.9996 / 0.953.
- run2 (the run effect, prior scale 0.001 in both: almost everything shrunk to 0): the step
  alone, 3 genes differ by more than 0.01 (max 1.35; the other 5,085 to a median 8e-9): their
  posterior has two modes, and PyDESeq2's L-BFGS-B, started at (0.1, -0.1, 0.1), stops in the
  one near the MLE (ENSG00000169218: -1.35) while glmstack keeps the one near 0, whose negative
  log posterior is lower by 1.8, 6.9 and 3.1 (the other coefficients profiled out). End to end,
  4 genes differ by more than 0.01 (max 1.36), for the same reason.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "data" / "marioni"
COEFS = {"liver_vs_kidney": ("tissue[T.Liver]", 2), "run2": ("run[T.R2]", 1)}  # PyDESeq2 name, column


def agreement(label: str, ours: np.ndarray, theirs: np.ndarray, base_mean: np.ndarray) -> None:
    both = np.isfinite(ours) & np.isfinite(theirs)
    expressed = both & (base_mean >= 10)
    for name, rows in (("all", both), ("baseMean>=10", expressed)):
        diff = np.abs(ours[rows] - theirs[rows])
        r = np.corrcoef(ours[rows], theirs[rows])[0, 1]
        print(f"  {label:28s} {name:13s} n={rows.sum():5d} pearson={r:.8f} max|diff|={diff.max():.3g} "
              f"median|diff|={np.median(diff):.3g} >0.01: {(diff > 0.01).sum()}")


def main(outdir: str, analysis: str, contrast: str) -> None:
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.ds import DeseqStats
    from pydeseq2.utils import nbinomGLM

    out = Path(outdir)
    table = pd.read_csv(out / analysis / f"{contrast}.tsv", sep="\t", dtype={"gene_id": str})
    prior = json.loads((out / analysis / "shrink_prior.json").read_text())["apeglm"][contrast]
    disp = pd.read_csv(out / analysis / "dispersions.tsv", sep="\t", dtype={"gene_id": str})
    sf = pd.read_csv(out / "normalization" / "size_factors.tsv", sep="\t", dtype={"sample": str})
    counts = pd.read_csv(DATA / "counts.tsv.gz", sep="\t", index_col=0).T  # samples x genes
    samples = pd.read_csv(DATA / "samples.tsv.gz", sep="\t", dtype=str).set_index("sample").loc[counts.index]
    coef_name, coef = COEFS[contrast]
    base_mean = table["baseMean"].to_numpy()

    # 1. PyDESeq2 end to end
    dds = DeseqDataSet(counts=counts, metadata=samples[["run", "tissue"]], design="~ run + tissue", quiet=True)
    dds.deseq2()
    stats = DeseqStats(dds, contrast=["tissue", "Liver", "Kidney"] if coef == 2 else ["run", "R2", "R1"], quiet=True)
    stats.summary()
    mle = stats.LFC.copy()
    py_scale = float(np.minimum(np.sqrt(stats._fit_prior_var(coeff_idx=coef)), 1))
    stats.lfc_shrink(coeff=coef_name)
    shrunk = stats.results_df.reindex(table["gene_id"])
    print(f"{analysis}/{contrast}: Cauchy prior scale glmstack {prior['prior_scale']:.6g}, PyDESeq2 {py_scale:.6g}")
    py_disp = dds.var["dispersions"].reindex(table["gene_id"]).to_numpy()
    agreement("dispersion (log)", np.log(disp["dispersion"].to_numpy()), np.log(py_disp), base_mean)
    agreement("MLE log2FoldChange", table["log2FoldChange"].to_numpy(),
              mle.iloc[:, coef].reindex(table["gene_id"]).to_numpy() / np.log(2), base_mean)
    print("1. end to end (PyDESeq2's own size factors, dispersions, MLEs, prior scale):")
    agreement("log2FoldChange_shrunk", table["log2FoldChange_shrunk"].to_numpy(),
              shrunk["log2FoldChange"].to_numpy(), base_mean)
    agreement("lfcSE_shrunk", table["lfcSE_shrunk"].to_numpy(), shrunk["lfcSE"].to_numpy(), base_mean)

    # 2. the shrinkage step alone, from glmstack's inputs
    design = pd.get_dummies(samples[["run", "tissue"]], drop_first=True).astype(float)
    design.insert(0, "Intercept", 1.0)
    x = design.to_numpy()
    offset = np.log(sf.set_index("sample").loc[counts.index, "size_factor"].to_numpy())
    y_all = counts[table["gene_id"]].to_numpy().T.astype(float)
    size_all = 1.0 / disp["dispersion"].to_numpy()
    lfc, se, se_fixed = (np.full(len(table), np.nan) for _ in range(3))
    scale = prior["prior_scale"]
    for g in np.flatnonzero(y_all.sum(axis=1) > 0):
        beta, inv_hessian, _ = nbinomGLM(x, y_all[g], size_all[g], offset, 15.0, scale, shrink_index=coef)
        lfc[g] = beta[coef] / np.log(2)
        se[g] = np.sqrt(np.abs(inv_hessian[coef, coef])) / np.log(2)
        # PyDESeq2 0.5's Hessian adds np.diag(np.diag(h)), the prior's curvature as a vector, to
        # X'WX: broadcast, it lands on every row of each column, not on the diagonal. The
        # Hessian of its own objective at its own MAP:
        mu = np.exp(x @ beta + offset)
        weight = (y_all[g] + size_all[g]) * size_all[g] * mu / (size_all[g] + mu) ** 2
        prior_curv = np.full(x.shape[1], 1 / 15.0**2)
        prior_curv[coef] = 2 * (scale**2 - beta[coef] ** 2) / (scale**2 + beta[coef] ** 2) ** 2
        cov = np.linalg.inv((x.T * weight) @ x + np.diag(prior_curv))
        se_fixed[g] = np.sqrt(cov[coef, coef]) / np.log(2) if cov[coef, coef] > 0 else np.nan
    print("2. the shrinkage step alone (glmstack's size factors, dispersions and prior scale):")
    agreement("log2FoldChange_shrunk", table["log2FoldChange_shrunk"].to_numpy(), lfc, base_mean)
    agreement("lfcSE_shrunk", table["lfcSE_shrunk"].to_numpy(), se, base_mean)
    agreement("lfcSE_shrunk, Hessian fixed", table["lfcSE_shrunk"].to_numpy(), se_fixed, base_mean)
    worst = np.argsort(-np.nan_to_num(np.abs(table["log2FoldChange_shrunk"].to_numpy() - lfc)))[:5]
    print(pd.DataFrame({"gene_id": table["gene_id"].to_numpy()[worst], "baseMean": base_mean[worst],
                        "mle": table["log2FoldChange"].to_numpy()[worst],
                        "glmstack": table["log2FoldChange_shrunk"].to_numpy()[worst], "pydeseq2": lfc[worst]}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
