"""Rule map: MAP dispersions of one shard, shared by the analyses with this design and trend."""

from glmstack.allocator import retain_freed_memory
from glmstack.design.model import full_design
from glmstack.io.files import read_json, read_npz, write_npz
from glmstack.io.shards import load_shard_inputs
from glmstack.logs import log_to
from glmstack.nb.steps import map_step
from glmstack.spec import Analysis
from glmstack.sva.tables import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    retain_freed_memory()  # the line searches' temporaries reuse pages instead of faulting
    data = load_shard_inputs(smk.input.shard, smk.input.manifest, smk.input.samples)
    design = full_design(data.samples, Analysis.from_params(smk.params.analysis), job_covariates(smk.input))
    genewise = read_npz(smk.input.genewise)
    result = map_step(data.counts, design.matrix, genewise, read_json(smk.input.trend))
    write_npz(smk.output[0], {"gene_id": data.gene_id, **result})
    log.info("%d genes, %d dispersion outliers", len(data.gene_id), int((result["disp_outlier"] == 1).sum()))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
