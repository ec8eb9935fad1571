"""The limma reference cases of tests/data/gaussian: each analysis run in process through
glmstack.gaussian.steps (one shard), limma's tables, and the comparison with the issue's thresholds.

Shared by the golden test (tests/golden/test_limma_reference.py) and the end-to-end workflow test.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import tolerances as tol
import yaml
from glmstack.design.contrasts import resolve_contrast
from glmstack.design.formula import build_design
from glmstack.gaussian import steps

DATA = Path(__file__).parent / "data" / "gaussian"


def read_tsv(path: Path, index: str | None = None) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype={"feature_id": str, "gene_id": str, "sample": str}, na_values=["NA"])


@functools.lru_cache(maxsize=4)
def load_case(case: str) -> tuple[dict, pd.DataFrame, np.ndarray, np.ndarray, bool]:
    """study, samples, feature ids, (G, N) values or counts, whether they are counts."""
    root = DATA / case
    study = yaml.safe_load((root / "study.yaml").read_text())
    samples = read_tsv(root / study["samples"]).astype(str)
    is_counts = "counts" in study
    matrix = read_tsv(root / study["counts" if is_counts else "values"])
    ids = matrix.iloc[:, 0].astype(str).to_numpy()
    values = matrix[samples["sample"].tolist()].to_numpy(dtype=float)
    return study, samples, ids, values, is_counts


@functools.lru_cache(maxsize=16)
def run(case: str, analysis: str) -> dict:
    study, samples, ids, values, is_counts = load_case(case)
    spec = study["analyses"][analysis]
    design = build_design(samples, spec["design"], spec.get("levels"))
    where = f"{case}/study.yaml: analyses.{analysis}"
    contrasts = {
        name: resolve_contrast(design, name, c, samples, where).vector for name, c in spec.get("contrasts", {}).items()
    }
    reduced = None
    if spec.get("test") == "lrt":
        reduced = build_design(samples, spec["reduced"], spec.get("levels")).matrix
    moderation = spec.get("moderation", {})
    kwargs = dict(
        contrasts=contrasts,
        reduced=reduced,
        coefficient_names=design.r_names,
        trend=moderation.get("trend", False),
        robust=moderation.get("robust", False),
        lfc_threshold=float(spec.get("lfc_threshold", 0.0)),
    )
    if is_counts:
        keep = values.sum(axis=1) > 0
        return steps.voom_tests(ids[keep], values[keep], design.matrix, normalization=spec.get("normalization"), **kwargs)
    return steps.moderated_tests(ids, values, design.matrix, **kwargs)


def reference(case: str, analysis: str, table: str = "results") -> pd.DataFrame:
    return read_tsv(DATA / case / "reference" / analysis / f"{table}.tsv.gz")


def assert_matches_limma(ours: pd.DataFrame, case: str, analysis: str, stat: str) -> dict:
    """The issue's thresholds against limma's table; returns the figures (r, max |delta log10 p|, n sig).

    stat : "t" or "F". Same feature order and NA positions, Pearson of the statistic, max
    |delta log10 P.Value| on the features R tests, and equal adj.P.Val < 0.1 sets.
    """
    ref = reference(case, analysis)
    assert list(ours["feature_id"]) == list(ref["feature_id"])
    for column in (stat, "P.Value", "adj.P.Val"):
        np.testing.assert_array_equal(ours[column].isna().to_numpy(), ref[column].isna().to_numpy(), err_msg=column)
    tested = ref["P.Value"].notna().to_numpy()
    r = np.corrcoef(ours[stat].to_numpy()[tested], ref[stat].to_numpy()[tested])[0, 1]
    assert r >= tol.STAT_PEARSON, f"{stat} Pearson {r}"
    dlog = np.abs(np.log10(ours["P.Value"].to_numpy()[tested]) - np.log10(ref["P.Value"].to_numpy()[tested]))
    assert dlog.max() <= tol.LOG10_P_MAX, f"max |delta log10 P| {dlog.max()}"
    ours_sig = set(ours["feature_id"][ours["adj.P.Val"] < tol.LIMMA_ALPHA])
    ref_sig = set(ref["feature_id"][ref["adj.P.Val"] < tol.LIMMA_ALPHA])
    assert ours_sig == ref_sig
    meta = json.loads((DATA / case / "reference" / analysis / "meta.json").read_text())
    assert len(ref_sig) == meta["n_adj_p_below_0.1"]
    return {"pearson": float(r), "max_dlog10p": float(dlog.max()), "n_sig": len(ref_sig)}
