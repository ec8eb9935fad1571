"""Rule shrink_prior: the normal prior's variances from every gene's MLE fold changes (lfc_shrink)."""

from glmstack.design.model import full_design
from glmstack.io.files import read_json, read_npz, write_json
from glmstack.io.samples import aligned_samples
from glmstack.io.shards import concat_shards
from glmstack.logs import log_to
from glmstack.nb.shrink import shrink_prior_step
from glmstack.spec import Analysis


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    fit = concat_shards([read_npz(path, ["beta", "base_mean", "disp_fit"]) for path in smk.input.fits])
    samples = aligned_samples(smk.input.samples, read_json(smk.input.manifest)["samples"])
    prior = shrink_prior_step(fit, full_design(samples, analysis), analysis)
    write_json(smk.output[0], prior)
    log.info("prior variances of %s from %d genes", " and ".join(prior), int((fit["base_mean"] > 0).sum()))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
