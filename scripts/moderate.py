"""Rule moderate: limma's genome-wide moderation and one table (moderated t, treat or F)."""

from glmstack.design.matrices import model_from_params
from glmstack.gaussian.analysis import analysis_tables
from glmstack.gaussian.lmfit import fit_from_arrays
from glmstack.io.annotation import annotate, read_features
from glmstack.io.files import read_json
from glmstack.io.shards import concat_npz
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis, name = Analysis.from_params(smk.params.analysis), smk.wildcards.table
    fits = concat_npz(smk.input.fits)
    model = model_from_params(smk.params.model, read_json(smk.input.manifest)["samples"], job_covariates(smk.input))
    table = analysis_tables(fits["gene_id"], fit_from_arrays(fits), model, analysis, [name])["tables"][name]
    write_tsv(smk.output.table, annotate(table, read_features(smk.input.features)))
    log.info("%s: %d of %d features tested", name, int(table["P.Value"].notna().sum()), len(table))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
