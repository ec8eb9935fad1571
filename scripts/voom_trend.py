"""Rule voom_trend: voom's lowess trend of sqrt residual sd on mean log count, over every gene."""

from glmstack.gaussian.shard_steps import voom_trend_step
from glmstack.io.files import write_npz
from glmstack.io.shards import concat_npz
from glmstack.logs import log_to


def main(smk) -> None:
    log = log_to(smk.log[0])
    points = concat_npz(smk.input.points)
    trend = voom_trend_step(points["mean_log_count"], points["root_sd"])
    write_npz(smk.output[0], {"gene_id": points["gene_id"][trend.index], "x": trend.x, "y": trend.y})
    log.info("trend over %d of %d genes", trend.x.size, points["root_sd"].size)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
