"""Rule validate: read and check the count matrix, compute size factors, write the shards."""

import pandas as pd

from glmstack import io, stages, validate
from glmstack.logs import log_to


def main(smk) -> None:
    log = log_to(smk.log[0])
    settings = smk.params.settings
    counts = validate.read_counts(smk.input.counts, settings["exclude_samples"], settings["round_counts"])
    if counts.n_rounded:
        log.warning("%d non-integer counts rounded (round_counts: true)", counts.n_rounded)
    stages.zero_samples(counts.counts, counts.samples, smk.input.counts)
    given = io.read_size_factors(smk.input.size_factors_file) if "size_factors_file" in smk.input.keys() else None
    sf = stages.study_size_factors(
        counts.counts, counts.samples, settings["size_factors_method"], given, str(smk.input.get("size_factors_file", ""))
    )
    size = settings["genes_per_shard"]
    if size == "auto":
        size = stages.auto_genes_per_shard(*counts.counts.shape)
    shards = stages.shard_bounds(len(counts.gene_id), size)
    for shard in shards:
        rows = slice(shard["start"], shard["stop"])
        io.write_npz(
            f"{smk.output.shards}/{shard['id']}.npz",
            {"gene_id": counts.gene_id[rows], "counts": counts.counts[rows]},
        )
    io.write_tsv(smk.output.size_factors, pd.DataFrame({"sample": counts.samples, "size_factor": sf}))
    manifest = {
        "samples": counts.samples,
        "size_factors": sf.tolist(),
        "n_genes": len(counts.gene_id),
        "shards": shards,
    }
    io.write_json(smk.output.manifest, manifest)
    log.info("%d genes x %d samples in %d shards", len(counts.gene_id), len(counts.samples), len(shards))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
