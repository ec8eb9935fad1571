"""Rule plot_limma_table: MA, volcano and p-value histogram of one limma table, its top features
as a table and as their values against the tested variable."""

import dataclasses

import numpy as np
from glmstack.design.covariates import design_samples
from glmstack.design.matrices import model_from_params
from glmstack.gaussian.analysis import table_from_files
from glmstack.gaussian.shard_steps import voom_library_sizes
from glmstack.gaussian.voom import log_cpm
from glmstack.io.annotation import annotation_columns, feature_labels
from glmstack.io.files import read_json, read_library_sizes, read_npz
from glmstack.io.samples import aligned_samples
from glmstack.io.shards import select_rows
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.report import plots
from glmstack.report.summary import top_genes
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def top_values(smk, analysis: Analysis, samples: list[str], rows: np.ndarray) -> np.ndarray:
    """(K, N) values of the rows (input order) from the shards: log-CPM for voom."""
    key = "counts" if analysis.family == "voom" else "values"
    values = select_rows((read_npz(path, [key])[key] for path in smk.input.shards), rows, len(samples))
    if analysis.family != "voom":
        return values
    lib_size = voom_library_sizes(*read_library_sizes(smk.input.library_sizes, samples), analysis.normalization)
    return log_cpm(values, lib_size)


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis, table_name = Analysis.from_params(smk.params.analysis), smk.wildcards.table
    name = f"{analysis.name}: {table_name}"
    annotation = annotation_columns(smk.input.features)  # gene_name, ...: features are named by it
    samples = read_json(smk.input.manifest)["samples"]
    # the table of rule moderate, from the same inputs and call: the plots need not wait for it
    fitted = model_from_params(smk.params.model, samples, job_covariates(smk.input))
    table = table_from_files(smk.input.fits, smk.input.features, fitted, analysis, table_name)
    top = top_genes(table, smk.params.top_genes, annotation)
    paths = {"ma": smk.output.ma, "volcano": smk.output.volcano, "pvalues": smk.output.pvalues}
    rows = top.index.to_numpy()
    plots.limma_table_plots(table, rows[: plots.MAX_LABELS], analysis.alpha, analysis.lfc_threshold, paths, name,
                            annotation)
    sheet, _ = design_samples(aligned_samples(smk.input.samples, samples), analysis)
    model = dataclasses.replace(model_from_params(smk.params.model, samples), samples=sheet)
    coefficients = np.concatenate([read_npz(p, ["coefficients"])["coefficients"] for p in smk.input.fits])[rows]
    coefficients = coefficients[:, : model.full.matrix.shape[1]]  # without surrogate variables (at the end)
    label = "log-CPM" if analysis.family == "voom" else "value"
    plots.top_feature_values(model, table_name, feature_labels(top, annotation),
                             top["adj.P.Val"].to_numpy(dtype=float), top_values(smk, analysis, samples, rows),
                             coefficients, smk.output.values, f"{name}: top {len(top)} features by adj.P.Val", label)
    write_tsv(smk.output.top, top)
    log.info("%s: %d features with adj.P.Val < %g", name, int(np.sum(table["adj.P.Val"] < analysis.alpha)),
             analysis.alpha)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
