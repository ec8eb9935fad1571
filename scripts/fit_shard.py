"""Rule fit: MAP dispersions, NB GLM fit and tests for one shard of one analysis."""

from glmstack import io, stages
from glmstack.allocator import retain_freed_memory
from glmstack.logs import log_to


def main(smk) -> None:
    log = log_to(smk.log[0])
    retain_freed_memory()  # the line searches' temporaries reuse pages instead of faulting
    data = io.load_shard_inputs(smk.input.shard, smk.input.manifest, smk.input.size_factors, smk.input.samples)
    analysis = smk.params.analysis
    model = stages.build_model(data.samples, analysis)
    genewise = io.read_npz(smk.input.genewise)
    result = stages.fit_shard(
        data.counts, data.size_factors, model, genewise, io.read_json(smk.input.trend), stages.settings_from(analysis)
    )
    io.write_npz(smk.output[0], {"gene_id": data.gene_id, **result})
    n_bad = int((result["beta_conv"] == 0).sum())
    log.info("%d genes fitted, %d did not converge, %d counts replaced", len(data.gene_id), n_bad,
             int(result["n_counts_replaced"]))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
