"""Rule fit: MAP dispersions, NB GLM fit and tests for one shard of one analysis."""

from glmstack import io, stages
from glmstack.jobs import start_job


def main(smk) -> None:
    log = start_job(smk.log[0])
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
