"""Rule results_table: independent filtering and Benjamini-Hochberg for one result table."""

from glmstack.io.annotation import annotate, read_features
from glmstack.io.shards import PER_SAMPLE_FIT_ARRAYS, concat_fits, concat_npz
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.nb.results import add_shrunk_columns, results_table
from glmstack.spec import Analysis


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis, name = Analysis.from_params(smk.params.analysis), smk.wildcards.table
    fit = concat_fits(smk.input.fits, analysis.name, exclude=PER_SAMPLE_FIT_ARRAYS)
    table, summary = results_table(fit, analysis, name)
    if smk.input.shrunk:  # lfc_shrink: the shrunken fold changes after lfcSE
        table = add_shrunk_columns(table, concat_npz(smk.input.shrunk), name)
    write_tsv(smk.output.table, annotate(table, read_features(smk.input.features)))
    log.info("%s: %d tested, %d with padj < %g", name, summary["n_tested"], summary["n_significant"], analysis.alpha)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
