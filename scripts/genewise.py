"""Rule genewise: baseMean and gene-wise dispersion estimates for one shard of one analysis."""

from glmstack import io, stages
from glmstack.allocator import retain_freed_memory
from glmstack.logs import log_to


def main(smk) -> None:
    log = log_to(smk.log[0])
    retain_freed_memory()  # the line searches' temporaries reuse pages instead of faulting
    data = io.load_shard_inputs(smk.input.shard, smk.input.manifest, smk.input.size_factors, smk.input.samples)
    model = stages.build_model(data.samples, smk.params.model)
    result = stages.genewise_shard(data.counts, data.size_factors, model.full.matrix)
    io.write_npz(smk.output[0], {"gene_id": data.gene_id, **result})
    log.info("%d genes, %d all zero, %d line searches not converged", len(data.gene_id),
             result["all_zero"].sum(), (~result["disp_gene_conv"] & ~result["all_zero"]).sum())


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
