"""Rule plot_limma_analysis: sqrt(sigma) against AveExpr with the variance prior (limma plotSA)."""

from glmstack.gaussian.lmfit import fit_from_arrays
from glmstack.gaussian.steps import moderate
from glmstack.io.shards import concat_npz
from glmstack.logs import log_to
from glmstack.report import plots
from glmstack.spec import Analysis


def main(smk) -> None:
    log = log_to(smk.log[0])
    analysis = Analysis.from_params(smk.params.analysis)
    fit = fit_from_arrays(concat_npz(smk.input.fits, exclude=("cov_unscaled",)) | {"cov_unscaled": None})
    prior = moderate(fit, trend=analysis.moderation["trend"], robust=analysis.moderation["robust"]).prior
    title = f"{analysis.name}: residual sd against average value"
    plots.sigma_mean_plot(fit.amean, fit.sigma, prior.s2_prior, smk.output.sigma_mean, title)
    log.info("%d features; df.prior %s", fit.n_features, prior.df_prior[:1])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
