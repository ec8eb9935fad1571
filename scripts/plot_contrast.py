"""Rule plot_contrast: MA, volcano, p-value histogram and top-gene counts of one result table.

The table stays a dict of columns and the sample sheet is read as the few columns the count
plot needs: the job imports no pandas (0.2 s of its start), unless the plot needs the whole
sheet (a trait's fitted curves) or a binned covariate.
"""

import dataclasses

import numpy as np
from glmstack.design.covariates import design_sheet
from glmstack.design.matrices import model_from_params
from glmstack.io.annotation import annotation_columns, feature_labels
from glmstack.io.files import read_json
from glmstack.io.shards import map_shard_counts, read_fit, select_pairs
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.nb.results import table_from_files
from glmstack.report import plots
from glmstack.report.summary import top_columns, top_rows
from glmstack.spec import Analysis


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis, table_name = Analysis.from_params(smk.params.analysis), smk.wildcards.table
    name = f"{analysis.name}: {table_name}"
    annotation = annotation_columns(smk.input.features)  # gene_name, ...: genes are named by it
    # the table of rule results_table, from the same inputs and call: the plots need not wait for it
    table, _ = table_from_files(smk.input.fits, smk.input.shrunk, smk.input.features, analysis, table_name)
    rows = top_rows(table, smk.params.top_genes)
    top = {column: np.asarray(table[column])[rows] for column in top_columns(table, annotation)}
    paths = {"ma": smk.output.ma, "volcano": smk.output.volcano, "pvalues": smk.output.pvalues}
    plots.table_plots(table, rows[: plots.MAX_LABELS], analysis.alpha, analysis.lfc_threshold, paths, name,
                      annotation)
    manifest = read_json(smk.input.manifest)
    sf = np.asarray(manifest["size_factors"], dtype=float)
    # the formula's design: surrogate variables (appended after its columns) are neither axis
    # nor colour, and the fitted curves hold them at 0 (their mean)
    model = model_from_params(smk.params.model, manifest["samples"])
    columns = plots.count_plot_columns(model, table_name)  # the sheet's columns it plots (None: all)
    sheet = design_sheet(smk.input.samples, manifest["samples"], analysis, columns)
    model = dataclasses.replace(model, samples=sheet)
    beta = np.concatenate([read_fit(path, analysis.name, ["beta"])["beta"] for path in smk.input.fits])[rows]
    beta = beta[:, : model.full.matrix.shape[1]]  # without the surrogate variables (at the end)
    counts, factors = select_pairs((map_shard_counts(path, sf) for path in smk.input.shards), rows)
    genes, padj = feature_labels(top, annotation), np.asarray(top["padj"], dtype=float)
    title = f"{name}: top {len(rows)} genes by padj"
    plots.top_gene_counts(model, table_name, genes, padj, counts, factors, beta, smk.output.counts, title)
    write_tsv(smk.output.top, top)
    log.info("%s: %d genes with padj < %g, %d shown", name, int(np.sum(table["padj"] < analysis.alpha)),
             analysis.alpha, len(rows))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
