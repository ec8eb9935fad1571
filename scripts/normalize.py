"""Rule normalize: normalized counts, the study's VST (and normalization factors where the
study has them) as features x samples tables, written shard by shard."""

import numpy as np
from glmstack.design.model import full_design
from glmstack.io.files import read_json, read_npz, tsv_matrices
from glmstack.io.samples import aligned_samples
from glmstack.io.shards import read_shard_counts
from glmstack.logs import log_to
from glmstack.nb import vst
from glmstack.spec import Analysis


def main(smk) -> None:
    log = log_to(smk.log[0])
    manifest = read_json(smk.input.manifest)
    samples, sf = manifest["samples"], np.asarray(manifest["size_factors"], dtype=float)
    vst_model = smk.params.vst_model  # None: blind to the design, as DESeq2's vst by default
    sheet = aligned_samples(smk.input.samples, samples)
    design = full_design(sheet, Analysis.from_params(vst_model)).matrix if vst_model else None

    def shards():  # one shard in memory at a time
        return (read_shard_counts(path, sf) for path in smk.input.shards)

    stabilizer, _ = vst.study_stabilizer(shards, design)
    outputs = dict(zip(smk.output.keys(), smk.output))  # normalized, vst[, factors]
    with tsv_matrices(outputs, samples) as write:
        for path, (counts, factors) in zip(smk.input.shards, shards()):
            ids = read_npz(path, keys=[])["gene_id"]
            write("normalized", ids, counts / factors)  # DESeq2 counts(dds, normalized = TRUE)
            write("vst", ids, stabilizer.transform(counts, factors))
            if "factors" in outputs:
                write("factors", ids, factors)
    log.info("VST trend %s %s over %d genes", stabilizer.trend.fit_type, stabilizer.trend.coefficients,
             manifest["n_genes"])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
