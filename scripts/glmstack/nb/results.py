"""The NB family's outputs from the merged fit shards: result tables, dispersions.tsv, model.json.

Tables are dicts of columns (gene_id first), as `glmstack.io.tables.write_tsv` writes them: the
table jobs import no pandas (0.2 s of each job's start); `pandas.DataFrame(table)` makes a frame.
"""

from __future__ import annotations

import numpy as np

from ..design.matrices import Model, model_description, model_settings
from ..inference.fdr import independent_filtering
from ..inference.record import array_key, from_arrays
from ..io.features import Features, annotate
from ..io.shards import concat_npz
from ..spec import Analysis
from ..workflow import software_versions
from .cooks import filter_cutoff

RESULT_COLUMNS = ["gene_id", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]


Columns = dict[str, np.ndarray]


def results_table(fit: dict[str, np.ndarray], analysis: Analysis, table: str) -> tuple[Columns, dict]:
    """Independent filtering and BH over all genes, for one table of an analysis.

    `fit` holds the fit shards concatenated in input order; `table` is a contrast name or
    "lrt". For an LRT the statistic and p-value are the LRT's; log2FoldChange and lfcSE are
    the first contrast's, and further contrasts add log2FoldChange_<name>, lfcSE_<name>.
    Returns the table and its summary for model.json (genes tested, significant, filter).
    """
    names = analysis.contrast_names
    result = from_arrays(fit, names[0] if table == "lrt" else table)
    filtered = independent_filtering(fit["base_mean"], result.pvalue, analysis.alpha)
    columns = {
        "gene_id": fit["gene_id"],
        "baseMean": fit["base_mean"],
        "log2FoldChange": result.estimate,
        "lfcSE": result.std_error,
        "stat": result.statistic,
        "pvalue": result.pvalue,
        "padj": filtered.padj,
    }
    tested = ~np.isnan(result.pvalue)
    summary = {
        "n_tested": int(np.sum(tested)),
        "n_significant": int(np.sum(filtered.padj < analysis.alpha)),
        "n_filtered": int(np.sum(tested & np.isnan(filtered.padj))),
        "filter_theta": filtered.theta,
        "filter_threshold": filtered.threshold,
    }
    if table == "lrt":
        summary["log2FoldChange_refers_to"] = names[0]
        for name in names[1:]:
            other = from_arrays(fit, name)
            columns[f"log2FoldChange_{name}"] = other.estimate
            columns[f"lfcSE_{name}"] = other.std_error
    summary["table"] = table
    return columns, summary


def analysis_tables(
    fit: dict[str, np.ndarray], shrunk: list[str], features: Features | None, analysis: Analysis
) -> dict[str, tuple[Columns, dict]]:
    """`results_table` of each of an analysis's tables, from its fit shards concatenated
    (`concat_fits`), with the shrunken fold changes (`shrunk`: its shrink shards, none without
    lfc_shrink) and the study's annotation columns (`features`: read_features): the tables rule
    merge writes, and rule plot_analysis draws without waiting for the files."""
    arrays = concat_npz(shrunk) if shrunk else None
    out = {}
    for table in analysis.table_names:
        columns, summary = results_table(fit, analysis, table)
        if arrays is not None:  # lfc_shrink: the shrunken fold changes after lfcSE
            columns = add_shrunk_columns(columns, arrays, table)
        out[table] = (annotate(columns, features), summary)
    return out


def shrunk_columns(arrays: dict[str, np.ndarray], contrast: str) -> dict[str, np.ndarray]:
    """The table columns log2FoldChange_shrunk and lfcSE_shrunk of one contrast."""
    return {
        "log2FoldChange_shrunk": arrays[array_key("lfc_shrunk", contrast)],
        "lfcSE_shrunk": arrays[array_key("lfc_se_shrunk", contrast)],
    }


def add_shrunk_columns(table: Columns, arrays: dict[str, np.ndarray], contrast: str) -> Columns:
    """`table` with log2FoldChange_shrunk and lfcSE_shrunk after lfcSE (the rest unchanged).

    arrays : the analysis's shrink shards concatenated (gene_id in the table's order).
    """
    if not np.array_equal(np.asarray(arrays["gene_id"]).astype(str), np.asarray(table["gene_id"]).astype(str)):
        raise ValueError("the shrink shards and the fit shards hold different genes; rerun the workflow")
    out = {}
    for name, values in table.items():
        out[name] = values
        if name == "lfcSE":
            out.update(shrunk_columns(arrays, contrast))
    return out


def dispersion_table(fit: dict[str, np.ndarray]) -> Columns:
    """dispersions.tsv: gene_id, baseMean, dispGeneEst, dispFit, dispersion, dispOutlier, maxCooks
    (dispOutlier as True / False, empty for all-zero genes)."""
    outlier = fit["disp_outlier"]
    return {
        "gene_id": fit["gene_id"],
        "baseMean": fit["base_mean"],
        "dispGeneEst": fit["disp_gene_est"],
        "dispFit": fit["disp_fit"],
        "dispersion": fit["dispersion"],
        "dispOutlier": np.where(np.isnan(outlier), "", np.where(outlier == 1, "True", "False")),
        "maxCooks": fit["max_cooks"],
    }


def model_summary(
    model: Model, analysis: Analysis, fit: dict, trend_json: dict, manifest: dict, summaries: list
) -> dict:
    """model.json: formulas, design columns (three namings), size factors, trend, prior, counts."""

    return {
        **model_description(model, analysis),
        "size_factors": dict(zip(manifest["samples"], manifest["size_factors"])),
        "trend": {
            "fit_type_requested": trend_json["trend"]["requested"],
            "fit_type": trend_json["trend"]["fit_type"],
            "coefficients": trend_json["trend"]["coefficients"],
        },
        "prior_variance": trend_json["prior_var"],
        "var_log_disp_ests": trend_json["var_log_disp_ests"],
        "n_genes": int(len(fit["gene_id"])),
        "n_all_zero": int(np.sum(fit["base_mean"] == 0)),
        "n_dispersion_outliers": int(np.nansum(fit["disp_outlier"])),
        "n_not_converged": int(np.sum(fit["beta_conv"] == 0)),
        "not_converged_genes": [str(g) for g in fit["gene_id"][fit["beta_conv"] == 0][:100]],
        # p-values of genes with a Cook's distance above this are NA (null: no Cook's filter)
        "cooks_distance_cutoff": filter_cutoff(analysis.cooks_cutoff, trend_json["cooks_f_quantile"]),
        "n_cooks_replaced_genes": int(np.nansum(fit["replaced"])),
        "n_counts_replaced": int(fit["n_counts_replaced"]),
        "results": summaries,
        "settings": model_settings(analysis, "tables"),
        "versions": software_versions(("numpy", "scipy", "pandas", "formulaic")),
    }
