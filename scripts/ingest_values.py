"""Rule ingest (studies with `values:`): read and check the value matrix, write the feature shards
(block by block: the job holds a block of rows or a shard, not the matrix)."""

from glmstack.allocator import retain_freed_memory
from glmstack.io.annotation import study_features
from glmstack.io.files import write_json
from glmstack.io.shards import AUTO_SHARD_VALUES, write_block_shards
from glmstack.io.tables import write_tsv
from glmstack.io.values import ValueReader
from glmstack.logs import log_to


def main(smk) -> None:
    log = log_to(smk.log[0])
    retain_freed_memory()  # each piece's and shard's matrix reuses the last one's pages
    settings = smk.params.settings
    reader = ValueReader(smk.input.values, settings["exclude_samples"], settings["text_columns"])
    shards, feature_id = write_block_shards(smk.output.shards, reader.blocks(), "values",
                                            settings["genes_per_shard"], AUTO_SHARD_VALUES, reader.max_rows())
    features, messages = study_features(feature_id, smk.input.values, reader.annotation, smk.input.get("annotation"))
    for message in messages:
        log.warning("%s", message)
    manifest = {"input": "values", "samples": reader.samples, "n_genes": len(feature_id), "shards": shards}
    write_tsv(smk.output.features, features)
    write_json(smk.output.manifest, manifest)
    log.info("%d features x %d samples in %d shards; %d missing values, %d features with none (NA in the tables)",
             len(feature_id), len(reader.samples), len(shards), reader.n_missing, reader.n_empty)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
