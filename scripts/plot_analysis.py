"""Rule plot_analysis: dispersion plot, Cook's distances per sample and the summary table."""

import numpy as np
from glmstack.io.files import read_json, write_small_tsv
from glmstack.io.shards import map_fit_array, read_fit
from glmstack.logs import log_to
from glmstack.report import plots
from glmstack.report.summary import analysis_summary
from glmstack.spec import Analysis

KEYS = ["base_mean", "disp_gene_est", "disp_fit", "dispersion", "disp_outlier"]


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    parts = [read_fit(path, analysis.name, KEYS) for path in smk.input.fits]
    fit = {key: np.concatenate([p[key] for p in parts]) for key in KEYS}
    # (genes x samples) per shard, mapped: the box statistics gather them without a copy of each
    cooks = [map_fit_array(path, analysis.name, "cooks") for path in smk.input.fits]
    plots.dispersion_plot(*(fit[k] for k in KEYS), smk.output.dispersion, f"{analysis.name}: dispersion estimates")
    model = read_json(smk.input.model)
    samples = read_json(smk.input.manifest)["samples"]
    cutoff = model["cooks_distance_cutoff"]  # the analysis's Cook's filter (null: none)
    plots.cooks_boxplot(cooks, samples, cutoff, smk.output.cooks, f"{analysis.name}: Cook's distances")
    rows = analysis_summary(model)
    write_small_tsv(smk.output.summary, {"item": [r[0] for r in rows], "value": [r[1] for r in rows]})
    log.info("%d genes, %d dispersion outliers", len(fit["base_mean"]), int(np.nansum(fit["disp_outlier"])))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
