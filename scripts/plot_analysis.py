"""Rule plot_analysis: every plot of one nb analysis.

The model's plots (dispersion estimates, Cook's distances per sample), and per result table the
MA and volcano plots, the p-value histogram, the counts of the top genes and their table. One job
per analysis, not one per table: a plot job's start (Python, numpy, matplotlib) costs as much as
drawing its figures, and a second analysis on the same fit costs one more job, not four. The
model's plots are drawn by a forked child beside the tables' (glmstack.report.beside): the job
often runs alone after the fits, and the child costs no second start.

The tables stay dicts of columns and the sample sheet is read as the few columns the count plot
needs: the job imports no pandas (0.2 s of its start), unless a count plot needs the whole sheet
(a trait's fitted curves) or a binned covariate.
"""

import dataclasses
from pathlib import Path

import numpy as np
from glmstack.design.covariates import design_sheet
from glmstack.design.matrices import model_from_params
from glmstack.io.annotation import annotation_columns, feature_labels
from glmstack.io.files import read_json, write_small_tsv
from glmstack.io.shards import map_fit_array, map_shard_counts, read_fit, select_pairs
from glmstack.logs import log_to
from glmstack.nb.cooks import filter_cutoff
from glmstack.nb.results import tables_from_files
from glmstack.report import plots
from glmstack.report.beside import drawn_beside
from glmstack.report.summary import top_columns, top_rows
from glmstack.spec import Analysis

DISPERSION_KEYS = ["base_mean", "disp_gene_est", "disp_fit", "dispersion", "disp_outlier"]


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    manifest = read_json(smk.input.manifest)
    with drawn_beside(lambda: model_plots(smk, analysis, manifest["samples"])):  # a forked child draws them
        all_table_plots(smk, analysis, manifest, log)


def all_table_plots(smk, analysis: Analysis, manifest: dict, log) -> None:
    """The plots and top-genes table of each of the analysis's result tables."""
    # the formula's design: surrogate variables (appended after its columns) are neither axis
    # nor colour, and the fitted curves hold them at 0 (their mean)
    model = model_from_params(smk.params.model, manifest["samples"])
    beta = np.concatenate([read_fit(path, analysis.name, ["beta"])["beta"] for path in smk.input.fits])
    beta = beta[:, : model.full.matrix.shape[1]]  # without the surrogate variables (at the end)
    size_factors = np.asarray(manifest["size_factors"], dtype=float)
    # the tables of rule results_table, from the same inputs and call: the plots need not wait for them
    tables = tables_from_files(smk.input.fits, smk.input.shrunk, smk.input.features, analysis, analysis.table_names)
    annotation = annotation_columns(smk.input.features)  # gene_name, ...: genes are named by it
    for name, (table, _) in tables.items():
        shown = table_plots(smk, analysis, name, table, annotation, model, beta, size_factors, manifest["samples"])
        log.info("%s: %d genes shown", name, shown)


def model_plots(smk, analysis: Analysis, samples: list[str]) -> None:
    """The dispersion plot and the Cook's distances per sample, with the analysis's Cook's cutoff."""
    parts = [read_fit(path, analysis.name, DISPERSION_KEYS) for path in smk.input.fits]
    fit = {key: np.concatenate([p[key] for p in parts]) for key in DISPERSION_KEYS}
    title = f"{analysis.name}: dispersion estimates"
    plots.dispersion_plot(*(fit[k] for k in DISPERSION_KEYS), smk.output.dispersion, title)
    # (genes x samples) per shard, mapped: the box statistics gather them without a copy of each
    cooks = [map_fit_array(path, analysis.name, "cooks") for path in smk.input.fits]
    cutoff = filter_cutoff(analysis.cooks_cutoff, read_json(smk.input.trend)["cooks_f_quantile"])
    plots.cooks_boxplot(cooks, samples, cutoff, smk.output.cooks, f"{analysis.name}: Cook's distances")


def table_plots(smk, analysis: Analysis, table_name: str, table: dict, annotation: list[str], model,
                beta: np.ndarray, size_factors: np.ndarray, samples: list[str]) -> int:
    """MA, volcano, p-value histogram, top-gene counts and top-genes table of one result table
    (at the paths `params.tables[table_name]` names); returns how many genes are shown.

    table : its columns (`tables_from_files`); annotation : the feature annotation's columns;
    model : the analysis's formula design (glmstack.design.model.Model); beta : (G, P) its
    log2 coefficients for every gene.
    """
    paths = smk.params.tables[table_name]
    for path in paths.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # the rule's folders (directory())
    name = f"{analysis.name}: {table_name}"
    rows = top_rows(table, smk.params.top_genes)
    top = {column: np.asarray(table[column])[rows] for column in top_columns(table, annotation)}
    figures = {kind: paths[kind] for kind in ("ma", "volcano", "pvalues")}
    plots.table_plots(table, rows[: plots.MAX_LABELS], analysis.alpha, analysis.lfc_threshold, figures, name,
                      annotation)
    columns = plots.count_plot_columns(model, table_name)  # the sheet's columns it plots (None: all)
    sheet = design_sheet(smk.input.samples, samples, analysis, columns)
    model = dataclasses.replace(model, samples=sheet)
    counts, factors = select_pairs((map_shard_counts(path, size_factors) for path in smk.input.shards), rows)
    genes, padj = feature_labels(top, annotation), np.asarray(top["padj"], dtype=float)
    title = f"{name}: top {len(rows)} genes by padj"
    plots.top_gene_counts(model, table_name, genes, padj, counts, factors, beta[rows], paths["counts"], title)
    write_small_tsv(paths["top"], top)  # a few lines: no Arrow (0.05 s of the start)
    return len(rows)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
