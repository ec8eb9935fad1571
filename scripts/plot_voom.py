"""Rule plot_voom: voom's mean-variance trend of one analysis (limma voom(plot = TRUE))."""

from glmstack.io.files import read_npz
from glmstack.io.shards import concat_npz
from glmstack.logs import log_to
from glmstack.report import plots


def main(smk) -> None:
    log = log_to(smk.log[0])
    points, trend = concat_npz(smk.input.points), read_npz(smk.input.trend)
    title = f"{smk.params.analysis['name']}: voom mean-variance trend"
    plots.voom_trend_plot(points["mean_log_count"], points["root_sd"], trend["x"], trend["y"], smk.output.voom_trend, title)
    log.info("%d genes on the trend", trend["x"].size)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
