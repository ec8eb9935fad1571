"""Rule voom_points: voom's unweighted fit of one shard, each gene's point of the mean-variance trend."""

from glmstack.design.model import full_design
from glmstack.gaussian.steps import voom_library_sizes, voom_points_step
from glmstack.io.files import read_json, read_npz, write_npz
from glmstack.io.samples import aligned_samples, read_library_sizes
from glmstack.logs import log_to
from glmstack.spec import Analysis
from glmstack.sva.tables import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    shard = read_npz(smk.input.shard, ["counts"])
    samples = read_json(smk.input.manifest)["samples"]
    lib_size = voom_library_sizes(*read_library_sizes(smk.input.library_sizes, samples), analysis.normalization)
    design = full_design(aligned_samples(smk.input.samples, samples), analysis, job_covariates(smk.input)).matrix
    mean_log_count, root_sd = voom_points_step(shard["counts"].astype(float), design, lib_size)
    write_npz(smk.output[0], {"gene_id": shard["gene_id"], "mean_log_count": mean_log_count, "root_sd": root_sd})
    log.info("%d genes, %d without counts", len(shard["gene_id"]), int((~(root_sd >= 0)).sum()))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
