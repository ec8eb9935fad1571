"""Rule shrink: shrunken log2 fold changes and SEs of one shard of one analysis (lfc_shrink)."""

import numpy as np
from glmstack.design.model import build_model
from glmstack.io.files import read_json, write_npz
from glmstack.io.samples import aligned_samples
from glmstack.io.shards import load_shard_inputs, read_fit
from glmstack.logs import log_to
from glmstack.nb.shrink import shrink_step
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    data = load_shard_inputs(smk.input.shard, smk.input.manifest)
    analysis = Analysis.from_params(smk.params.analysis)
    fit = read_fit(smk.input.fit, analysis.name, ["base_mean", "dispersion", "beta"])
    if not np.array_equal(fit["gene_id"], data.gene_id):
        raise ValueError(f"{smk.input.fit} and {smk.input.shard} hold different genes; rerun the fit job")
    model = build_model(aligned_samples(smk.input.samples, data.samples), analysis, job_covariates(smk.input))
    result = shrink_step(data.counts, data.factors, model, fit, read_json(smk.input.prior), analysis)
    write_npz(smk.output[0], {"gene_id": data.gene_id, **result})
    log.info("%d genes, %d contrasts shrunk", len(data.gene_id), len(analysis.contrast_names))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
