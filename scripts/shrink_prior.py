"""Rule shrink_prior: the prior of the shrunken fold changes from every gene's MLEs (lfc_shrink)."""

from glmstack.design.model import build_model
from glmstack.io.files import read_json, write_json
from glmstack.io.samples import aligned_samples
from glmstack.io.shards import PER_SAMPLE_FIT_ARRAYS, concat_fits
from glmstack.logs import log_to
from glmstack.nb.shrink import shrink_prior_step
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    fit = concat_fits(smk.input.fits, analysis.name, exclude=PER_SAMPLE_FIT_ARRAYS)  # per-gene summaries
    model = build_model(
        aligned_samples(smk.input.samples, read_json(smk.input.manifest)["samples"]), analysis, job_covariates(smk.input)
    )
    prior = shrink_prior_step(fit, model, analysis)
    write_json(smk.output[0], prior)
    log.info("prior variances of %s from %d genes", " and ".join(prior), int((fit["base_mean"] > 0).sum()))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
