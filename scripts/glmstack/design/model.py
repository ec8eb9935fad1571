"""The designs and contrasts of one analysis, built from the sample sheet and its spec."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

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


def full_design(samples: pd.DataFrame, analysis: Analysis) -> Design:
    """The full design alone (needs only the `model` keys of the analysis)."""
    samples, levels = design_samples(samples, analysis)
    return build_design(samples, analysis.design, levels)


def build_model(samples: pd.DataFrame, analysis: Analysis) -> Model:
    """Designs and resolved contrasts of one analysis (needs its `fit` keys).

    Without contrasts, DESeq2's default: the last coefficient, as the table "results".
    """
    samples, levels = design_samples(samples, analysis)
    where = f"analyses.{analysis.name}"
    full = build_design(samples, analysis.design, levels)
    reduced = build_design(samples, analysis.reduced, levels) if analysis.is_lrt else None
    specs = dict(analysis.contrasts or {}) or {"results": {"coef": full.results_names[-1]}}
    contrasts = [resolve_contrast(full, name, spec, samples, where) for name, spec in specs.items()]
    return Model(full, reduced, contrasts, samples)


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
