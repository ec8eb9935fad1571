"""Rule ingest: read and check the counts (or summarise transcript quantifications to genes),
compute size or normalization factors, write the gene shards."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from glmstack.io import counts as count_files
from glmstack.io.files import write_json
from glmstack.io.samples import read_size_factors
from glmstack.io.shards import write_shards
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.nb.size_factors import moments_xim, normalization_factors, study_size_factors


def main(smk) -> None:
    log = log_to(smk.log[0])
    settings, quant, extra = smk.params.settings, smk.params.settings.get("quant"), {}
    if quant:  # tximport, then DESeqDataSetFromTximport's rounding
        from glmstack.io.tximport import import_quant  # pandas reads the quantification files

        genes = import_quant(quant["files"], quant["type"], smk.input.tx2gene, quant["counts_from_abundance"])
        if genes.n_unmapped:
            log.warning("%d transcripts are not in tx2gene and were left out (as tximport does)", genes.n_unmapped)
        gene_id, samples, counts = genes.gene_id, list(quant["files"]), np.round(genes.counts)
        source, names, id_column = smk.input.tx2gene, None, "gene_id"
    else:
        table = count_files.read_counts(smk.input.counts, settings["exclude_samples"], settings["round_counts"],
                                        settings["text_columns"])
        if table.n_rounded:
            log.warning("%d non-integer counts rounded (round_counts: true)", table.n_rounded)
        gene_id, samples, counts, source = table.gene_id, table.samples, table.counts, smk.input.counts
        names, id_column = table.annotation, None
    count_files.zero_samples(counts, samples, source)
    if names is None and not smk.input.get("annotation"):  # features.tsv: the ids alone
        features, messages = {"feature_id": np.asarray(gene_id, dtype=str)}, []
    else:  # the annotation columns, aligned to the ids (pandas: for them only, 0.2 s of every ingest)
        from glmstack.io.annotation import study_features

        features, messages = study_features(gene_id, source, names, smk.input.get("annotation"), id_column)
    for message in messages:
        log.warning("%s", message)
    if quant and genes.has_offsets:  # DESeq2 estimateSizeFactors with avgTxLength
        norm_factors, sf = normalization_factors(counts, genes.length, settings["size_factors_method"])
        shards = write_shards(smk.output.shards, gene_id, {"counts": counts, "norm_factors": norm_factors},
                              settings["genes_per_shard"])
        extra = {"normalization": "length_offsets", "moments_xim": moments_xim(norm_factors[counts.sum(axis=1) > 0])}
    else:
        given_path = smk.input.get("size_factors_file")
        given = read_size_factors(given_path) if given_path else None
        # the shards hold the counts alone: a thread writes them (file writes and checksums
        # release the GIL) while this one computes the size factors, on the job every other waits for
        with ThreadPoolExecutor(1) as writer:
            written = writer.submit(write_shards, smk.output.shards, gene_id, {"counts": counts},
                                    settings["genes_per_shard"])
            sf = study_size_factors(counts, samples, settings["size_factors_method"], given, str(given_path))
            shards = written.result()
    write_tsv(smk.output.size_factors, {"sample": np.array(samples, dtype=str), "size_factor": sf})
    manifest = {"samples": samples, "size_factors": sf.tolist(), **extra, "n_genes": len(gene_id), "shards": shards}
    write_tsv(smk.output.features, features)
    write_json(smk.output.manifest, manifest)
    log.info("%d genes x %d samples in %d shards", len(gene_id), len(samples), len(shards))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
