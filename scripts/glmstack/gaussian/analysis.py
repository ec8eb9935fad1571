"""One analysis of a study through limma's method: the tables it asks for, and its model.json.

The workflow's glue between the study (glmstack.spec.Analysis, glmstack.design.model.Model) and
the statistics (glmstack.gaussian.steps): contrasts are resolved as for the nb family (all three
forms and namings), `test: lrt` with `reduced:` is the moderated F on the design columns the
reduced design drops, and lfc_threshold > 0 is limma's treat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..design.matrices import Model, model_description, model_settings
from ..io.features import Features, annotate
from ..spec import Analysis
from ..workflow import software_versions
from . import steps
from .lmfit import LinearFit, fit_from_arrays


def annotated_tables(arrays: dict[str, np.ndarray], features: Features | None, model: Model, analysis: Analysis) -> dict:
    """`analysis_tables` from the least-squares fit shards of the analysis's lmfit group, read
    once (`concat_npz`), its tables with the study's annotation columns (`features`:
    read_features): what rule moderate writes, and rule plot_limma_analysis draws without
    waiting for the files. model : with the analysis's surrogate variables, if any."""
    result = analysis_tables(arrays["gene_id"], fit_from_arrays(arrays), model, analysis)
    result["tables"] = {name: annotate(frame, features) for name, frame in result["tables"].items()}
    return result


def analysis_tables(
    feature_id: np.ndarray, fit: LinearFit, model: Model, analysis: Analysis, tables: list[str] | None = None
) -> dict:
    """The genome-wide moderation and the named tables (default: every table of the analysis).

    Parameters
    ----------
    feature_id : (G,) ids in input order; fit : the concatenated per-shard fits of G features.
    model : the analysis's designs and resolved contrasts; analysis : its settings.
    tables : names among analysis.table_names ("lrt" for the moderated F).

    Returns
    -------
    steps.tests_step's dict: {"tables": {name: DataFrame}, "fit", "moderation"}.
    """
    wanted = analysis.table_names if tables is None else tables
    contrasts = {c.name: c.vector for c in model.contrasts if c.name in wanted and c.name != "lrt"}
    reduced = model.reduced.matrix if "lrt" in wanted and model.reduced is not None else None
    moderation = analysis.moderation or {}
    return steps.tests_step(
        feature_id,
        fit,
        model.full.matrix,
        contrasts,
        reduced,
        model.full.r_names,
        trend=bool(moderation.get("trend")),
        robust=bool(moderation.get("robust")),
        lfc_threshold=float(analysis.lfc_threshold or 0.0),
    )


def _value_or_range(values: np.ndarray) -> float | dict:
    """A scalar where every feature shares it, else its min / median / max over finite values."""
    finite = values[np.isfinite(values)]
    if values.size and np.all(values == values[0]):
        return float(values[0])
    if not finite.size:
        return float("nan")
    return {"min": float(finite.min()), "median": float(np.median(finite)), "max": float(finite.max())}


def table_summary(name: str, table: pd.DataFrame, alpha: float) -> dict:
    """Features tested (with a p-value) and significant (adj.P.Val < alpha) in one table."""
    p, padj = table["P.Value"].to_numpy(dtype=float), table["adj.P.Val"].to_numpy(dtype=float)
    return {"table": name, "n_tested": int(np.isfinite(p).sum()), "n_significant": int(np.sum(padj < alpha))}


def model_summary(model: Model, analysis: Analysis, result: dict, samples: list[str]) -> dict:
    """model.json of a gaussian analysis: formulas, design columns, contrasts, the prior
    (df.prior, s2.prior: a number, or min / median / max where they vary by feature), counts of
    features fitted / tested / significant per table, settings and software versions."""
    fit, moderation = result["fit"], result["moderation"]
    return {
        "family": analysis.family,
        **model_description(model, analysis),
        "samples": list(samples),
        "df_prior": _value_or_range(moderation.prior.df_prior),
        "s2_prior": _value_or_range(moderation.prior.s2_prior),
        "n_features": fit.n_features,
        "n_no_residual_df": int(np.sum(fit.df_residual == 0)),
        "results": [table_summary(name, t, analysis.alpha) for name, t in result["tables"].items()],
        "settings": model_settings(analysis, "limma_summary"),
        "versions": software_versions(("numpy", "scipy", "pandas", "formulaic")),
    }
