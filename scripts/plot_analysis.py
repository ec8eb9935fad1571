"""Rule plot_analysis: dispersion plot, Cook's distances per sample and the summary table."""

import numpy as np

from glmstack import io, plots, report
from glmstack.logs import log_to

KEYS = ["base_mean", "disp_gene_est", "disp_fit", "dispersion", "disp_outlier", "cooks"]


def main(smk) -> None:
    log = log_to(smk.log[0])
    name = smk.wildcards.analysis
    parts = [io.read_npz(path, KEYS) for path in smk.input.fits]
    fit = {key: np.concatenate([p[key] for p in parts]) for key in KEYS}
    plots.dispersion_plot(*(fit[k] for k in KEYS[:5]), smk.output.dispersion, f"{name}: dispersion estimates")
    model = io.read_json(smk.input.model)
    samples = io.read_json(smk.input.manifest)["samples"]
    setting = smk.params.analysis.get("cooks_cutoff", True)
    cutoff = plots.cooks_line(setting, len(samples), len(model["design_columns"]))
    plots.cooks_boxplot(fit["cooks"], samples, cutoff, smk.output.cooks, f"{name}: Cook's distances")
    io.write_tsv(smk.output.summary, report.summary_frame(model))
    log.info("%d genes, %d dispersion outliers", len(fit["base_mean"]), int(np.nansum(fit["disp_outlier"])))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
