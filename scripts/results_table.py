"""Rule results_table: independent filtering and Benjamini-Hochberg for one result table."""

from glmstack import io, stages
from glmstack.logs import log_to


def main(smk) -> None:
    log = log_to(smk.log[0])
    fit = io.concat_npz(smk.input.fits, exclude=io.PER_SAMPLE_FIT_ARRAYS)
    table, summary = stages.results_table(fit, smk.params.table)
    io.write_tsv(smk.output.table, table)
    log.info("%s: %d tested, %d with padj < %g", smk.params.table["table"], summary["n_tested"],
             summary["n_significant"], smk.params.table["alpha"])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
