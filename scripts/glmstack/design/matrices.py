"""Materialised designs as plain data: matrices, column names and resolved contrasts.

The formula library and pandas build them once, when the workflow checks the study; the shard
jobs receive them as params (`model_to_params`) and rebuild them here (`model_from_params`), so a
job that only fits imports neither (about 0.4 s of start-up per job).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import StudyError, preview

if TYPE_CHECKING:
    import pandas as pd

    from ..spec import Analysis


@dataclass(frozen=True)
class Design:
    """A materialised design.

    matrix : (N, P) float model matrix, samples in the order given.
    columns : formulaic names; r_names : R model.matrix names; results_names : DESeq2's.
    factors : factor variable -> levels (first = reference); numeric : numeric variables.
    terms : term label -> column indices; has_intercept : the formula has an intercept.
    """

    formula: str
    matrix: np.ndarray
    columns: list[str]
    r_names: list[str]
    results_names: list[str]
    factors: dict[str, list[str]]
    numeric: list[str]
    terms: dict[str, list[int]]
    has_intercept: bool

    def column_index(self, name: str) -> int:
        """Index of a column named in any of the three namings."""
        for names in (self.columns, self.results_names, self.r_names):
            if name in names:
                return names.index(name)
        raise KeyError(name)

    def all_names(self) -> list[str]:
        return [f"{c} / {r}" if c != r else c for c, r in zip(self.columns, self.results_names)]


@dataclass(frozen=True)
class Contrast:
    """A resolved contrast: weights over design columns, and the samples it compares.

    vector : (P,) weights; description : human-readable; zero_samples : (N,) bool mask of
    the samples whose counts all being zero makes DESeq2 report lfc 0 and p 1 (or None).
    """

    name: str
    vector: np.ndarray
    description: str
    zero_samples: np.ndarray | None


@dataclass(frozen=True)
class Model:
    """Full design, reduced design (LRT only), resolved contrasts, and the sheet they use.

    samples : the sheet in count-column order with derived covariates (bins) added, or a dict
    of the columns a plot reads (glmstack.design.covariates.design_sheet); None for a model
    rebuilt from params (the jobs that receive one need no sheet).
    """

    full: Design
    reduced: Design | None
    contrasts: list[Contrast]
    samples: pd.DataFrame | dict[str, list] | None = None


@dataclass(frozen=True)
class Covariates:
    """Numeric columns joined to a design after the formula's (the surrogate variables).

    samples : sample ids of the rows of values; names : the column names; values : (N, k).
    """

    samples: list[str]
    names: list[str]
    values: np.ndarray


def with_covariates(design: Design, samples: list[str], covariates: Covariates | None) -> Design:
    """The design (rows: `samples`) with the covariates' columns appended, under their own name
    in all three namings (limma's cbind(mod, sv))."""
    if covariates is None or not covariates.names:
        return design
    row = {sample: i for i, sample in enumerate(covariates.samples)}
    missing = [s for s in samples if s not in row]
    if missing:
        raise StudyError(
            f"surrogate variables: no values for sample(s) {preview(missing)}. "
            "Fix: rerun the sva step of this analysis (delete its surrogate_variables.tsv)."
        )
    values = covariates.values[[row[s] for s in samples]]
    names = list(covariates.names)
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


def _design_params(design: Design) -> dict:
    return {
        "formula": design.formula,
        "matrix": design.matrix.tolist(),
        "columns": list(design.columns),
        "r_names": list(design.r_names),
        "results_names": list(design.results_names),
        "factors": {k: list(v) for k, v in design.factors.items()},
        "numeric": list(design.numeric),
        "terms": {k: list(v) for k, v in design.terms.items()},
        "has_intercept": bool(design.has_intercept),
    }


def _design_from_params(params: dict, n_samples: int) -> Design:
    matrix = np.asarray(params["matrix"], dtype=float).reshape(n_samples, len(params["columns"]))
    return Design(**{**params, "matrix": matrix})


def model_to_params(model: Model, samples: list[str]) -> dict:
    """The model as JSON-able params (rows: `samples`, the analysed samples in count-column
    order). Floats are Python floats: a job's rebuilt matrix equals this one bit for bit."""
    return {
        "samples": list(samples),
        "full": _design_params(model.full),
        "reduced": _design_params(model.reduced) if model.reduced is not None else None,
        "contrasts": [
            {
                "name": c.name,
                "vector": np.asarray(c.vector, dtype=float).tolist(),
                "description": c.description,
                "zero_samples": None if c.zero_samples is None else np.asarray(c.zero_samples, bool).tolist(),
            }
            for c in model.contrasts
        ],
    }


def model_from_params(params: dict, samples: list[str], covariates: Covariates | None = None) -> Model:
    """The model of `model_to_params`, for the samples of the job's data (`samples`, the ingest
    manifest's), with the covariates appended to both designs (they are nuisance variables).

    Raises StudyError when the samples differ from those the model was built for (the shards
    come from another version of the study; rerunning the workflow rewrites them).
    """
    if list(samples) != list(params["samples"]):
        raise StudyError(
            f"the shards hold samples {preview(list(samples))}, but the design was built for "
            f"{preview(list(params['samples']))}. Fix: rerun the workflow so the ingest step rewrites "
            "the shards (delete the outdir's manifest.json if it was edited)."
        )
    n = len(samples)
    full = with_covariates(_design_from_params(params["full"], n), samples, covariates)
    reduced = params["reduced"]
    if reduced is not None:
        reduced = with_covariates(_design_from_params(reduced, n), samples, covariates)
    contrasts = []
    for c in params["contrasts"]:
        vector = np.zeros(full.matrix.shape[1])  # covariate columns weigh 0
        vector[: len(c["vector"])] = c["vector"]
        zero = None if c["zero_samples"] is None else np.asarray(c["zero_samples"], dtype=bool)
        contrasts.append(Contrast(c["name"], vector, c["description"], zero))
    return Model(full, reduced, contrasts)


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
