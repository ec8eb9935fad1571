"""Rule ingest (studies with `values:`): read and check the value matrix, write the feature shards."""


from glmstack.io.annotation import study_features
from glmstack.io.files import write_json
from glmstack.io.shards import AUTO_SHARD_VALUES, write_shards
from glmstack.io.tables import write_tsv
from glmstack.io.values import read_values
from glmstack.logs import log_to


def main(smk) -> None:
    log = log_to(smk.log[0])
    settings = smk.params.settings
    data = read_values(smk.input.values, settings["exclude_samples"], settings["text_columns"])
    features, messages = study_features(data.feature_id, smk.input.values, data.annotation,
                                        smk.input.get("annotation"))
    for message in messages:
        log.warning("%s", message)
    shards = write_shards(smk.output.shards, data.feature_id, {"values": data.values}, settings["genes_per_shard"],
                          AUTO_SHARD_VALUES)
    manifest = {"input": "values", "samples": data.samples, "n_genes": len(data.feature_id), "shards": shards}
    write_tsv(smk.output.features, features)
    write_json(smk.output.manifest, manifest)
    log.info("%d features x %d samples in %d shards; %d missing values, %d features with none (NA in the tables)",
             len(data.feature_id), len(data.samples), len(shards), data.n_missing, data.n_empty)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
