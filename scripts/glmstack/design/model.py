"""The designs and contrasts of one analysis, built from the sample sheet and its spec."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..spec import Analysis
from .contrasts import resolve_contrast
from .covariates import design_samples
from .formula import Design, build_design
from .matrices import Covariates, Model, with_covariates


def full_design(samples: pd.DataFrame, analysis: Analysis, covariates: Covariates | None = None) -> Design:
    """The full design alone (needs only the `model` keys of the analysis), with the
    surrogate variables `covariates` appended where the analysis has them."""
    samples, levels = design_samples(samples, analysis)
    return with_covariates(build_design(samples, analysis.design, levels), _ids(samples), covariates)


def _ids(samples: pd.DataFrame) -> list[str]:
    return samples["sample"].astype(str).tolist()


def build_model(samples: pd.DataFrame, analysis: Analysis, covariates: Covariates | None = None) -> Model:
    """Designs and resolved contrasts of one analysis (needs its `fit` keys).

    Without contrasts, DESeq2's default: the last coefficient of the formula, as the table
    "results". covariates : the analysis's surrogate variables (SV1..SVk) or None;
    they join the full design and the reduced one (they are nuisance variables).
    """
    samples, levels = design_samples(samples, analysis)
    where = f"analyses.{analysis.name}"
    formula_design = build_design(samples, analysis.design, levels)
    full = with_covariates(formula_design, _ids(samples), covariates)
    reduced = build_design(samples, analysis.reduced, levels) if analysis.is_lrt else None
    if reduced is not None:
        reduced = with_covariates(reduced, _ids(samples), covariates)
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
