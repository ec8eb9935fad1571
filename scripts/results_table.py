"""Rule results_table: independent filtering and Benjamini-Hochberg for one result table."""

from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.nb.results import table_from_files
from glmstack.spec import Analysis


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis, name = Analysis.from_params(smk.params.analysis), smk.wildcards.table
    table, summary = table_from_files(smk.input.fits, smk.input.shrunk, smk.input.features, analysis, name)
    write_tsv(smk.output.table, table)
    log.info("%s: %d tested, %d with padj < %g", name, summary["n_tested"], summary["n_significant"], analysis.alpha)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
