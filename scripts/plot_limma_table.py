"""Rule plot_limma_table: MA, volcano and p-value histogram of one limma table, and its top features."""

import numpy as np
from glmstack.io.annotation import annotation_columns, read_table
from glmstack.io.files import write_tsv
from glmstack.logs import log_to
from glmstack.report import plots
from glmstack.report.summary import top_genes
from glmstack.spec import Analysis


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis, table_name = Analysis.from_params(smk.params.analysis), smk.wildcards.table
    name = f"{analysis.name}: {table_name}"
    annotation = annotation_columns(smk.input.features)  # gene_name, ...: features are named by it
    table = read_table(smk.input.table, annotation)
    top = top_genes(table, smk.params.top_genes, annotation)
    paths = {"ma": smk.output.ma, "volcano": smk.output.volcano, "pvalues": smk.output.pvalues}
    rows = top.index.to_numpy()[: plots.MAX_LABELS]
    plots.limma_table_plots(table, rows, analysis.alpha, analysis.lfc_threshold, paths, name, annotation)
    write_tsv(smk.output.top, top)
    log.info("%s: %d features with adj.P.Val < %g", name, int(np.sum(table["adj.P.Val"] < analysis.alpha)),
             analysis.alpha)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
