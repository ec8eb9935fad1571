"""Rule ingest: read and check the count matrix, compute size factors, write the gene shards."""


import pandas as pd
from glmstack.io import counts as count_files
from glmstack.io.annotation import study_features
from glmstack.io.files import write_json, write_npz, write_tsv
from glmstack.io.samples import read_size_factors
from glmstack.io.shards import auto_genes_per_shard, shard_bounds
from glmstack.logs import log_to
from glmstack.nb.size_factors import study_size_factors


def main(smk) -> None:
    log = log_to(smk.log[0])
    settings = smk.params.settings
    counts = count_files.read_counts(smk.input.counts, settings["exclude_samples"], settings["round_counts"],
                                     settings["text_columns"])
    if counts.n_rounded:
        log.warning("%d non-integer counts rounded (round_counts: true)", counts.n_rounded)
    count_files.zero_samples(counts.counts, counts.samples, smk.input.counts)
    features, messages = study_features(counts.gene_id, smk.input.counts, counts.annotation,
                                        smk.input.get("annotation"))
    for message in messages:
        log.warning("%s", message)
    given_path = smk.input.get("size_factors_file")
    given = read_size_factors(given_path) if given_path else None
    sf = study_size_factors(counts.counts, counts.samples, settings["size_factors_method"], given, str(given_path))
    size = settings["genes_per_shard"]
    if size == "auto":
        size = auto_genes_per_shard(*counts.counts.shape)
    shards = shard_bounds(len(counts.gene_id), size)
    for shard in shards:
        rows = slice(shard["start"], shard["stop"])
        write_npz(f"{smk.output.shards}/{shard['id']}.npz", {"gene_id": counts.gene_id[rows], "counts": counts.counts[rows]})
    write_tsv(smk.output.size_factors, pd.DataFrame({"sample": counts.samples, "size_factor": sf}))
    manifest = {"samples": counts.samples, "size_factors": sf.tolist(), "n_genes": len(counts.gene_id), "shards": shards}
    write_tsv(smk.output.features, features)
    write_json(smk.output.manifest, manifest)
    log.info("%d genes x %d samples in %d shards", len(counts.gene_id), len(counts.samples), len(shards))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
