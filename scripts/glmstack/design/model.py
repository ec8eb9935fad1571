"""The designs and contrasts of one analysis, built from the sample sheet and its spec."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import StudyError
from ..spec import Analysis
from .contrasts import Contrast, resolve_contrast
from .covariates import add_bins
from .formula import Design, build_design


@dataclass(frozen=True)
class Model:
    """Full design, reduced design (LRT only), resolved contrasts, and the sheet they use.

    samples : the sheet in count-column order with derived covariates (bins) added.
    """

    full: Design
    reduced: Design | None
    contrasts: list[Contrast]
    samples: pd.DataFrame


def design_samples(samples: pd.DataFrame, analysis: Analysis) -> tuple[pd.DataFrame, dict[str, list]]:
    """The sheet with the analysis's derived covariates, and the level order of every factor."""
    samples, bin_levels = add_bins(samples, analysis.bins or {}, f"analyses.{analysis.name}")
    return samples, {**bin_levels, **(analysis.levels or {})}


def add_covariates(design: Design, samples: pd.DataFrame, covariates: pd.DataFrame | None) -> Design:
    """The design with numeric columns appended (the surrogate variables SV1..SVk).

    samples : the sheet (column `sample`, rows in design order); covariates : one row per
    sample (index = sample id), one column per covariate, or None. The columns keep their
    names in all three namings, after the formula's columns (limma's cbind(mod, sv)).
    """
    if covariates is None or covariates.shape[1] == 0:
        return design
    ids = samples["sample"].astype(str)
    missing = sorted(set(ids) - set(covariates.index.astype(str)))
    if missing:
        raise StudyError(
            f"surrogate variables: no values for sample(s) {', '.join(missing[:5])}. "
            "Fix: rerun the sva step of this analysis (delete its surrogate_variables.tsv)."
        )
    values = covariates.set_axis(covariates.index.astype(str)).loc[ids].to_numpy(dtype=float)
    names = [str(c) for c in covariates.columns]
    p = design.matrix.shape[1]
    return dataclasses.replace(
        design,
        matrix=np.hstack([design.matrix, values]),
        columns=design.columns + names,
        r_names=design.r_names + names,
        results_names=design.results_names + names,
        numeric=design.numeric + names,
        terms={**design.terms, **{name: [p + i] for i, name in enumerate(names)}},
    )


def full_design(samples: pd.DataFrame, analysis: Analysis, covariates: pd.DataFrame | None = None) -> Design:
    """The full design alone (needs only the `model` keys of the analysis), with the
    surrogate variables `covariates` appended where the analysis has them."""
    samples, levels = design_samples(samples, analysis)
    return add_covariates(build_design(samples, analysis.design, levels), samples, covariates)


def build_model(samples: pd.DataFrame, analysis: Analysis, covariates: pd.DataFrame | None = None) -> Model:
    """Designs and resolved contrasts of one analysis (needs its `fit` keys).

    Without contrasts, DESeq2's default: the last coefficient of the formula, as the table
    "results". covariates : the analysis's surrogate variables (sample x SV1..SVk) or None;
    they join the full design and the reduced one (they are nuisance variables).
    """
    samples, levels = design_samples(samples, analysis)
    where = f"analyses.{analysis.name}"
    formula_design = build_design(samples, analysis.design, levels)
    full = add_covariates(formula_design, samples, covariates)
    reduced = build_design(samples, analysis.reduced, levels) if analysis.is_lrt else None
    if reduced is not None:
        reduced = add_covariates(reduced, samples, covariates)
    specs = dict(analysis.contrasts or {}) or {"results": {"coef": formula_design.results_names[-1]}}
    contrasts = [resolve_contrast(full, name, spec, samples, where) for name, spec in specs.items()]
    return Model(full, reduced, contrasts, samples)


def sva_null_design(samples: pd.DataFrame, analysis: Analysis) -> tuple[Design, np.ndarray, str]:
    """The full design (without surrogate variables), the null design of the analysis's SVA,
    and how the null design was chosen (needs the `sva` keys).

    The `sva.null` formula where given; else the `reduced` design of an LRT; else the full
    design without the tested terms: every term with a column that some contrast weighs
    (DESeq2's default contrast, the last coefficient, where there are none).
    """
    model = build_model(samples, analysis)
    sheet, levels = design_samples(samples, analysis)
    if analysis.sva.get("null"):
        return model.full, build_design(sheet, analysis.sva["null"], levels).matrix, analysis.sva["null"]
    if model.reduced is not None:
        return model.full, model.reduced.matrix, f"reduced {analysis.reduced}"
    tested = {j for c in model.contrasts for j in np.flatnonzero(c.vector)}
    dropped = [t for t, cols in model.full.terms.items() if tested & set(cols)]
    keep = [j for j in range(model.full.matrix.shape[1]) if not any(j in model.full.terms[t] for t in dropped)]
    return model.full, model.full.matrix[:, keep], f"design without {', '.join(dropped)}"


def _columns(design: Design) -> list[dict]:
    return [
        {"formula_name": c, "r_name": r, "deseq2_name": d}
        for c, r, d in zip(design.columns, design.r_names, design.results_names)
    ]


def model_description(model: Model, analysis: Analysis) -> dict:
    """The family-independent part of model.json: formulas, test, the design columns under
    their three names, and the contrast vectors."""
    return {
        "design": analysis.design,
        "reduced": analysis.reduced,
        "test": analysis.test,
        "design_columns": _columns(model.full),
        "reduced_columns": _columns(model.reduced) if model.reduced is not None else None,
        "contrasts": [
            {"name": c.name, "description": c.description, "vector": c.vector.tolist()}
            for c in model.contrasts
        ],
    }


def model_settings(analysis: Analysis, job: str) -> dict:
    """model.json's `settings`: the keys that shaped `job`, less those listed elsewhere in it."""
    settings = analysis.params(job)
    for key in ("name", "design", "reduced", "contrasts"):
        settings.pop(key)
    return settings
