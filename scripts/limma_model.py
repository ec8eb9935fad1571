"""Rule limma_model: model.json of a gaussian analysis (prior, counts tested / significant)."""

from glmstack.design.matrices import model_from_params
from glmstack.gaussian.analysis import analysis_tables, model_summary
from glmstack.gaussian.lmfit import fit_from_arrays
from glmstack.io.files import read_json, write_json
from glmstack.io.shards import concat_npz
from glmstack.logs import log_to
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    fits = concat_npz(smk.input.fits)
    samples = read_json(smk.input.manifest)["samples"]
    model = model_from_params(smk.params.model, samples, job_covariates(smk.input))
    # the same function as rule moderate (which writes the tables alongside)
    result = analysis_tables(fits["gene_id"], fit_from_arrays(fits), model, analysis)
    write_json(smk.output.model, model_summary(model, analysis, result, samples))
    log.info("%d features; df.prior %s", len(fits["gene_id"]), result["moderation"].prior.df_prior[:1])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
