"""Rule voom_points: voom's unweighted fit of one shard, each gene's point of the mean-variance trend."""

from glmstack.design.matrices import model_from_params
from glmstack.gaussian.shard_steps import voom_library_sizes, voom_points_step
from glmstack.io.files import read_json, read_library_sizes, read_npz, write_npz
from glmstack.logs import log_to
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    shard = read_npz(smk.input.shard, ["counts"])
    samples = read_json(smk.input.manifest)["samples"]
    lib_size = voom_library_sizes(*read_library_sizes(smk.input.library_sizes, samples), analysis.normalization)
    design = model_from_params(smk.params.design, samples, job_covariates(smk.input)).full.matrix
    mean_log_count, root_sd = voom_points_step(shard["counts"].astype(float), design, lib_size)
    write_npz(smk.output[0], {"gene_id": shard["gene_id"], "mean_log_count": mean_log_count, "root_sd": root_sd})
    log.info("%d genes, %d without counts", len(shard["gene_id"]), int((~(root_sd >= 0)).sum()))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
