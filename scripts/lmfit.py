"""Rule lmfit: least squares for every feature of one shard (limma lmFit): family gaussian on the
values, family voom on log-CPM with voom's precision weights from the genome-wide trend."""

from glmstack.design.matrices import model_from_params
from glmstack.gaussian.lmfit import fit_arrays
from glmstack.gaussian.shard_steps import fit_step, voom_fit_step, voom_library_sizes
from glmstack.io.files import read_json, read_library_sizes, read_npz, write_npz
from glmstack.logs import log_to
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    samples = read_json(smk.input.manifest)["samples"]
    design = model_from_params(smk.params.design, samples, job_covariates(smk.input)).full.matrix
    if analysis.family == "voom":
        shard = read_npz(smk.input.shard, ["counts"])
        lib_size = voom_library_sizes(*read_library_sizes(smk.input.library_sizes, samples), analysis.normalization)
        trend = read_npz(smk.input.trend)
        fit = voom_fit_step(shard["counts"].astype(float), design, lib_size, trend["x"], trend["y"])
    else:
        shard = read_npz(smk.input.shard, ["values"])
        fit = fit_step(shard["values"], design)
    write_npz(smk.output[0], {"gene_id": shard["gene_id"], **fit_arrays(fit)})
    log.info("%d features fitted, %d without residual df", fit.n_features, int((fit.df_residual == 0).sum()))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
