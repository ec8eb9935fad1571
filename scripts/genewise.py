"""Rule genewise: baseMean and gene-wise dispersion estimates for one shard of one design."""

from glmstack.allocator import retain_freed_memory
from glmstack.design.matrices import model_from_params
from glmstack.io.files import write_npz
from glmstack.io.shards import load_shard_inputs
from glmstack.logs import log_to
from glmstack.nb.steps import genewise_step
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    retain_freed_memory()  # the line searches' temporaries reuse pages instead of faulting
    data = load_shard_inputs(smk.input.shard, smk.input.manifest)
    design = model_from_params(smk.params.design, data.samples, job_covariates(smk.input)).full
    result = genewise_step(data.counts, data.factors, design.matrix, data.xim)
    write_npz(smk.output[0], {"gene_id": data.gene_id, **result})
    log.info("%d genes, %d all zero, %d line searches not converged", len(data.gene_id),
             result["all_zero"].sum(), (~result["disp_gene_conv"] & ~result["all_zero"]).sum())


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
