"""What the report says about an analysis: summary rows, table descriptions, top genes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

TOP_COLUMNS = ["gene_id", "baseMean", "log2FoldChange", "pvalue", "padj"]


def top_rows(table, n: int) -> np.ndarray:
    """Row positions (K,) of the `n` genes with the smallest padj (ties and NA padj: smallest
    p-value, then table order), best first. Genes without a p-value are never listed.

    table : a dict of columns or a pandas DataFrame; a limma table (P.Value, adj.P.Val) is
    ranked the same way.
    """
    p_col, padj_col = ("P.Value", "adj.P.Val") if "P.Value" in table else ("pvalue", "padj")
    pvalue = np.asarray(table[p_col], dtype=float)
    tested = np.flatnonzero(np.isfinite(pvalue))
    padj = np.asarray(table[padj_col], dtype=float)[tested]
    order = np.lexsort((tested, pvalue[tested], np.where(np.isnan(padj), np.inf, padj)))
    return tested[order[: max(n, 0)]]


def top_columns(table, annotation: Sequence[str] = ()) -> list[str]:
    """The columns of a top-genes table: all of a limma or reverse table's; an nb table's
    TOP_COLUMNS and its `annotation` columns (after the id, as in the table).

    table : a dict of columns or a pandas DataFrame (its column names are read).
    """
    names = list(table)
    if "P.Value" in names or "pvalue_naive" in names:  # limma's and reverse tables: every column
        return names
    return [c for c in [TOP_COLUMNS[0], *annotation, *TOP_COLUMNS[1:]] if c in names]


def top_genes(table: pd.DataFrame, n: int, annotation: Sequence[str] = ()) -> pd.DataFrame:
    """The `top_rows` of a DataFrame, its `top_columns`; the index keeps the table's row
    positions. (A dict of columns, as plot_analysis holds its tables: take the rows of each.)"""
    return table.iloc[top_rows(table, n)][top_columns(table, annotation)]


def format_number(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "NA"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return f"{float(value):.{digits}g}"


def limma_summary(model: dict) -> list[tuple[str, str]]:
    """(item, value) rows describing one gaussian analysis, from its model.json."""
    settings = model.get("settings", {})
    alpha = settings.get("alpha", 0.1)
    rows = [("family", f"{model['family']} (limma's linear model, moderated statistics)"), ("design", model["design"])]
    if model.get("reduced"):
        rows.append(("reduced design", model["reduced"]))
    rows.append(("test", "moderated F-test" if model["test"] == "lrt" else "moderated t-test"))
    if settings.get("lfc_threshold"):
        rows.append(("log2 fold-change threshold", f"{settings['lfc_threshold']:g} (limma treat)"))
    moderation = settings.get("moderation") or {}
    rows.append(("variance prior", "trended on AveExpr (limma-trend)" if moderation.get("trend") else "constant"))
    for key, label in (("df_prior", "prior degrees of freedom (df.prior)"), ("s2_prior", "prior variance (s2.prior)")):
        value = model[key]
        text = (
            f"{format_number(value['min'])} to {format_number(value['max'])} (median {format_number(value['median'])})"
            if isinstance(value, dict)
            else format_number(value)
        )
        rows.append((label, text))
    rows.append(("features", f"{format_number(model['n_features'])} ({format_number(model['n_no_residual_df'])} "
                 "without residual degrees of freedom)"))
    for result in model.get("results", []):
        name = result["table"]
        rows.append((f"{name}: features tested", format_number(result["n_tested"])))
        rows.append((f"{name}: adj.P.Val < {alpha:g}", format_number(result["n_significant"])))
    return rows


def reverse_summary(model: dict) -> list[tuple[str, str]]:
    """(item, value) rows describing one reverse analysis (trait ~ covariates + feature)."""
    alpha = model.get("settings", {}).get("alpha", 0.1)
    calibration = model["calibration"]
    return [
        ("direction", "reverse: which features predict the trait"),
        ("model", f"{model['model']} (Huber M-estimation, MASS::rlm defaults), one fit per feature"),
        ("transform of the features", model["transform"]),
        ("permutations", f"{format_number(calibration['permutations'])} (Freedman-Lane, seed {calibration['seed']})"),
        ("features", f"{format_number(model['n_features'])} ({format_number(model['n_tested'])} tested)"),
        ("fits that did not converge", (f"{format_number(model['n_not_converged'])} observed; "
         f"{format_number(100 * (model['null_share_not_converged'] or 0.0), 2)} % of the permuted")),
        ("p < 0.01, naive / calibrated", (f"{format_number(100 * (model['share_pvalue_naive_below_0.01'] or 0.0), 3)} % / "
         f"{format_number(100 * (model['share_pvalue_below_0.01'] or 0.0), 3)} % of the features")),
        (f"padj < {alpha:g}, calibrated", format_number(model["n_significant"])),
        (f"BH of the naive p < {alpha:g} (not reported as padj)", format_number(model["n_significant_naive"])),
    ]


def analysis_summary(model: dict) -> list[tuple[str, str]]:
    """(item, value) rows describing one analysis, from its model.json."""
    if model.get("direction") == "reverse":
        return reverse_summary(model)
    if model.get("family") in ("gaussian", "voom"):
        return limma_summary(model)
    settings = model.get("settings", {})
    alpha = settings.get("alpha", 0.1)
    rows = [("design", model["design"])]
    if model.get("reduced"):
        rows.append(("reduced design", model["reduced"]))
    rows.append(("test", "likelihood-ratio test" if model["test"] == "lrt" else "Wald test"))
    if settings.get("lfc_threshold"):
        rows.append(
            (
                "log2 fold-change threshold",
                f"{settings['lfc_threshold']:g} ({settings.get('alt_hypothesis', 'greaterAbs')})",
            )
        )
    rows.append(("genes", f"{format_number(model['n_genes'])} ({format_number(model['n_all_zero'])} all zero)"))
    for result in model.get("results", []):
        name = result["table"]
        rows.append((f"{name}: genes tested", format_number(result["n_tested"])))
        rows.append((f"{name}: padj < {alpha:g}", format_number(result["n_significant"])))
        rows.append((f"{name}: removed by independent filtering", format_number(result.get("n_filtered"))))
    trend = model["trend"]
    used = trend["fit_type"]
    rows.append(
        (
            "dispersion trend",
            (
                used
                if used == trend["fit_type_requested"]
                else f"{used} (requested {trend['fit_type_requested']})"
            ),
        )
    )
    coefficients = ", ".join(f"{k} = {format_number(v)}" for k, v in trend.get("coefficients", {}).items())
    rows.append(("trend coefficients", coefficients or "none (local regression)"))
    rows.append(("prior variance of log dispersions", format_number(model["prior_variance"])))
    rows.append(("dispersion outliers", format_number(model.get("n_dispersion_outliers"))))
    rows.append(("genes refitted after Cook's replacement", format_number(model.get("n_cooks_replaced_genes"))))
    rows.append(("genes whose GLM did not converge", format_number(model.get("n_not_converged"))))
    return rows


def table_description(model: dict, table: str) -> str:
    """One line saying what a result table tests, from model.json."""
    if model.get("direction") == "reverse":
        return (
            f"Robust regression of {model['model']} per feature; p-values calibrated by "
            f"{model['calibration']['permutations']:,} Freedman-Lane permutations of the trait, BH on them."
        )
    contrasts = {c["name"]: c["description"] for c in model.get("contrasts", [])}
    if model.get("family") in ("gaussian", "voom"):
        if table == "lrt":
            return f"Moderated F-test of {model['design']} against {model['reduced']} (limma topTableF)."
        test = "Moderated t-test (limma treat)" if model["settings"].get("lfc_threshold") else "Moderated t-test"
        return f"{test} of {contrasts.get(table, table)}."
    if table == "lrt":
        text = f"Likelihood-ratio test of {model['design']} against {model['reduced']}"
        first = model["contrasts"][0]["description"] if model.get("contrasts") else None
        return f"{text}; log2 fold changes: {first}." if first else f"{text}."
    return f"Wald test of {contrasts.get(table, table)}."


def summary_frame(model: dict) -> pd.DataFrame:
    """`analysis_summary` as a two-column table (item, value) for summary.tsv."""
    import pandas as pd  # here: the report reads model.json without pandas (0.2 s of its start)

    return pd.DataFrame(analysis_summary(model), columns=["item", "value"])
