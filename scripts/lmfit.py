"""Rule lmfit: least squares for every feature of one shard (limma lmFit), family gaussian."""

from glmstack.design.model import full_design
from glmstack.gaussian.lmfit import fit_arrays
from glmstack.gaussian.steps import fit_step
from glmstack.io.files import read_json, read_npz, write_npz
from glmstack.io.samples import aligned_samples
from glmstack.logs import log_to
from glmstack.spec import Analysis
from glmstack.sva.tables import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    shard = read_npz(smk.input.shard, ["values"])
    samples = aligned_samples(smk.input.samples, read_json(smk.input.manifest)["samples"])
    fit = fit_step(shard["values"], full_design(samples, analysis, job_covariates(smk.input)).matrix)
    write_npz(smk.output[0], {"gene_id": shard["gene_id"], **fit_arrays(fit)})
    log.info("%d features fitted, %d without residual df", fit.n_features, int((fit.df_residual == 0).sum()))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
