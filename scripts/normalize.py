"""Rule normalize: normalized counts, the study's VST (and normalization factors where the
study has them) as features x samples tables, written shard by shard; and, from the same
pass, what the study plots need of them (the VST's most variable genes and sample distances,
library sizes), so that they read no matrix again."""

import numpy as np
from glmstack.design.matrices import model_from_params
from glmstack.io.column_codes import ColumnCodes
from glmstack.io.files import read_json, read_npz, write_npz
from glmstack.io.shards import read_shard_counts
from glmstack.io.tables import tsv_matrices
from glmstack.logs import log_to
from glmstack.nb import vst
from glmstack.sva.covariates import job_covariates

TABLES = ("normalized", "vst", "factors")  # the outputs that are features x samples tables


def main(smk) -> None:
    log = log_to(smk.log[0])
    manifest = read_json(smk.input.manifest)
    samples, sf = manifest["samples"], np.asarray(manifest["size_factors"], dtype=float)
    vst_design = smk.params.vst_design  # None: blind to the design, as DESeq2's vst by default
    # the analysis's surrogate variables (input covariates) join its design here too
    design = model_from_params(vst_design, samples, job_covariates(smk.input)).full.matrix if vst_design else None

    def shards():  # one shard in memory at a time
        return (read_shard_counts(path, sf) for path in smk.input.shards)

    stabilizer, _ = vst.study_stabilizer(shards, design)
    summary = vst.VstSummary(len(samples), smk.params.pca_genes)
    library_sizes, coded = np.zeros(len(samples)), 0
    tables = {name: path for name, path in smk.output.items() if name in TABLES}
    with tsv_matrices(tables, samples) as write:
        for path, (counts, factors) in zip(smk.input.shards, shards()):
            ids = read_npz(path, keys=[])["gene_id"]
            normalized, stabilized = vst.normalized_and_stabilized(stabilizer, counts, factors)
            write("normalized", ids, normalized)  # DESeq2 counts(dds, normalized = TRUE)
            write("vst", ids, stabilized)
            coded += isinstance(stabilized, ColumnCodes)
            if "factors" in tables:
                write("factors", ids, factors)
            summary.add(stabilized)
            library_sizes += counts.sum(axis=0)
    top_index, top_values, distances = summary.result()
    write_npz(smk.output.plot_data, {"gene_id": top_index, "top_values": top_values, "distances": distances,
                                      "library_sizes": library_sizes})
    log.info("VST trend %s %s over %d genes", stabilizer.trend.fit_type, stabilizer.trend.coefficients,
             manifest["n_genes"])
    log.info("%d of %d shards computed and written from each sample's distinct counts, the rest cell by cell",
             coded, len(smk.input.shards))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
