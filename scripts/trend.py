"""Rule trend: dispersion-mean trend and prior variance from every shard of one design."""

import numpy as np
from glmstack.design.matrices import model_from_params
from glmstack.io.files import read_json, read_npz, write_json
from glmstack.logs import log_to
from glmstack.nb.steps import trend_step
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def main(smk) -> None:
    log = log_to(smk.log[0])
    parts = [read_npz(path, ["base_mean", "disp_gene_est"]) for path in smk.input.genewise]
    base_mean = np.concatenate([p["base_mean"] for p in parts])
    disp = np.concatenate([p["disp_gene_est"] for p in parts])
    analysis = Analysis.from_params(smk.params.analysis)
    samples = read_json(smk.input.manifest)["samples"]
    n_samples, n_coef = model_from_params(smk.params.design, samples, job_covariates(smk.input)).full.matrix.shape
    result = trend_step(base_mean, disp, analysis.fit_type, n_samples, n_coef)
    write_json(smk.output[0], result)
    log.info("trend %s, prior variance %.4g", result["trend"]["fit_type"], result["prior_var"])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
