"""Rule moderate: limma's genome-wide moderation and one table (moderated t, treat or F)."""

from glmstack.design.matrices import model_from_params
from glmstack.gaussian.analysis import table_from_files
from glmstack.io.files import read_json
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis, name = Analysis.from_params(smk.params.analysis), smk.wildcards.table
    model = model_from_params(smk.params.model, read_json(smk.input.manifest)["samples"], job_covariates(smk.input))
    table = table_from_files(smk.input.fits, smk.input.features, model, analysis, name)
    write_tsv(smk.output.table, table)
    log.info("%s: %d of %d features tested", name, int(table["P.Value"].notna().sum()), len(table))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
