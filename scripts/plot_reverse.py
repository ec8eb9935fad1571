"""Rule plot_reverse: QQ plot and histograms of naive and calibrated p-values, the trait against
the top features (adjusted for the covariates, with the robust line), and the top-features table."""

import numpy as np
from glmstack.io.annotation import annotation_columns, feature_labels, read_table
from glmstack.io.files import read_npz
from glmstack.io.shards import select_rows
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.report import reverse_plots
from glmstack.report.summary import top_genes
from glmstack.reverse.steps import adjusted_for_covariates
from glmstack.reverse.transform import transform_counts
from glmstack.spec import Analysis


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    annotation = annotation_columns(smk.input.features)  # gene_name, ...: features are named by it
    table = read_table(smk.input.table, annotation)
    plan = read_npz(smk.input.plan)
    naive, calibrated = table["pvalue_naive"].to_numpy(dtype=float), table["pvalue"].to_numpy(dtype=float)
    title = f"{analysis.name}: {analysis.trait}"
    reverse_plots.qq_plot(naive, calibrated, smk.output.qq, title)
    reverse_plots.pvalue_histograms(naive, calibrated, smk.output.pvalues, title)
    top = top_genes(table, smk.params.top_genes)
    write_tsv(smk.output.top, top)

    def blocks():  # the features as the fits saw them (transformed counts, or values)
        for path in smk.input.shards:
            shard = read_npz(path)
            yield shard["values"] if "values" in shard else transform_counts(shard["counts"], plan)

    values = select_rows(blocks(), top.index.to_numpy(), plan["trait"].size)
    labels = feature_labels(top, annotation)
    reverse_plots.added_variable_plots(
        *adjusted_for_covariates(plan["trait"], plan["covariates"], values), top["estimate"].to_numpy(),
        labels, top["padj"].to_numpy(dtype=float), analysis.alpha, analysis.trait, smk.output.top_features,
    )
    log.info("top features drawn: %s", ", ".join(labels))
    log.info("p < 0.01: %d naive, %d calibrated of %d features", int(np.sum(naive < 0.01)),
             int(np.sum(calibrated < 0.01)), int(np.isfinite(calibrated).sum()))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
