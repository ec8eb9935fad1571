"""Contrasts: a study's contrast as weights over the design columns, and as a reduced design.

Three forms: [factor, numerator, denominator]; {coef: NAME}; {vector: {NAME: weight}}, where
NAME may be the formula's, R's model.matrix or DESeq2's resultsNames spelling of a column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import StudyError, preview
from .formula import factor_level
from .matrices import Contrast, Design


def resolve_contrast(design: Design, name: str, spec, factor_values: pd.DataFrame, where: str) -> Contrast:
    """Turn a study contrast into a weight vector over the design columns.

    spec forms: [factor, numerator, denominator]; {"coef": name}; {"vector": {name: weight}}.
    Names may be formulaic, R or DESeq2 resultsNames spellings. A contrast that weighs no
    column (all weights 0) is refused: it would test nothing and report fold changes of 0.
    """
    contrast = _resolve(design, name, spec, factor_values, where)
    if not np.any(contrast.vector):
        raise StudyError(
            f"{where}: contrast {name!r} ({contrast.description or spec!r}) gives every design column "
            f"weight 0, so it tests nothing. Columns: {'; '.join(design.all_names())}. "
            "Fix: give non-zero weights to the columns to compare."
        )
    return contrast


def _resolve(design: Design, name: str, spec, factor_values: pd.DataFrame, where: str) -> Contrast:
    p = design.matrix.shape[1]
    if isinstance(spec, (list, tuple)):
        factor, num, den = (str(s) for s in spec)
        if factor not in design.factors:
            raise StudyError(
                f"{where}: contrast {name!r} names factor {factor!r}, which is not a factor of "
                f"the design {design.formula!r} (factors: {', '.join(design.factors) or 'none'}). "
                "Fix: use a factor of the design, or {coef: NAME} for a numeric covariate."
            )
        levels = design.factors[factor]
        missing = [lv for lv in (num, den) if lv not in levels]
        if missing:
            raise StudyError(
                f"{where}: contrast {name!r} names level(s) {preview(missing)} of {factor!r}, "
                f"which has levels {', '.join(levels)}. Fix: use existing levels."
            )
        if num == den:
            raise StudyError(f"{where}: contrast {name!r} compares level {num!r} with itself.")
        vector = np.zeros(p)
        cols = design.terms.get(factor)
        if cols is None:
            raise StudyError(
                f"{where}: contrast {name!r}: factor {factor!r} appears only inside an "
                f"interaction in {design.formula!r}, so a level contrast is not defined. "
                "Fix: use {coef: NAME} or {vector: {...}} with the design's column names."
            )
        by_level = {}
        for j in cols:
            found = factor_level(design.columns[j], {factor: levels})
            if found:
                by_level[found[1]] = j
        for level, weight in ((num, 1.0), (den, -1.0)):
            if level in by_level:
                vector[by_level[level]] += weight
        zero = factor_values[factor].astype(str).isin([num, den]).to_numpy()
        return Contrast(name, vector, f"{factor} {num} vs {den}", zero)
    if isinstance(spec, dict) and set(spec) == {"coef"}:
        coef = str(spec["coef"])
        try:
            j = design.column_index(coef)
        except KeyError:
            raise StudyError(
                f"{where}: contrast {name!r} names coefficient {coef!r}, which is not a column "
                f"of the design. Columns (formula name / DESeq2 name): {'; '.join(design.all_names())}. "
                "Fix: use one of these names."
            ) from None
        vector = np.zeros(p)
        vector[j] = 1.0
        return Contrast(name, vector, design.results_names[j], None)
    if isinstance(spec, dict) and set(spec) == {"vector"}:
        weights = spec["vector"]
        vector = np.zeros(p)
        unknown = []
        for key, weight in weights.items():
            try:
                vector[design.column_index(str(key))] += float(weight)
            except KeyError:
                unknown.append(str(key))
        if unknown:
            raise StudyError(
                f"{where}: contrast {name!r} gives weights for {preview(unknown)}, which are not "
                f"columns of the design. Columns (formula name / DESeq2 name): "
                f"{'; '.join(design.all_names())}. Fix: use these names."
            )
        zero = None
        if (vector > 0).any() and (vector < 0).any():
            # DESeq2 contrastAllZeroNumeric: samples touched by the contrast's columns
            zero = (design.matrix @ (vector != 0).astype(float)) != 0
        text = " ".join(f"{w:+g}*{design.results_names[j]}" for j, w in enumerate(vector) if w != 0)
        return Contrast(name, vector, text, zero)
    raise StudyError(
        f"{where}: contrast {name!r} must be [factor, numerator, denominator], "
        "{coef: NAME} or {vector: {NAME: weight, ...}}; got " + repr(spec)
    )


def contrast_reduced_design(design: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """The design under the null hypothesis c'beta = 0, for a nested-model test of a contrast.

    Columns: `design` (N, P) times an orthonormal basis (P, P - 1) of the complement of the
    contrast `vector` (P,), from a complete QR of c, as glmGamPoi's test_de builds it. Its
    column space is {X b : c'b = 0}, so one nested-model test (LRT, moderated F) serves both
    contrasts and reduced formulas; for c = e_j it spans the design without column j.
    """
    vector = np.asarray(vector, dtype=float).reshape(-1, 1)
    if not np.any(vector):
        raise ValueError("a contrast of all zeros has no reduced design")
    q, _ = np.linalg.qr(vector, mode="complete")
    return design @ q[:, 1:]
