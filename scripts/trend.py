"""Rule trend: dispersion-mean trend and prior variance from every shard of one analysis."""

import numpy as np

from glmstack import io, stages
from glmstack.logs import log_to


def main(smk) -> None:
    log = log_to(smk.log[0])
    parts = [io.read_npz(path, ["base_mean", "disp_gene_est"]) for path in smk.input.genewise]
    base_mean = np.concatenate([p["base_mean"] for p in parts])
    disp = np.concatenate([p["disp_gene_est"] for p in parts])
    samples = io.read_json(smk.input.manifest)["samples"]
    sheet = io.aligned_samples(smk.input.samples, samples)
    model = stages.build_model(sheet, smk.params.model)
    n_samples, n_coef = model.full.matrix.shape
    result = stages.trend_and_prior(base_mean, disp, smk.params.model["fit_type"], n_samples, n_coef)
    io.write_json(smk.output[0], result)
    log.info("trend %s, prior variance %.4g", result["trend"]["fit_type"], result["prior_var"])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
