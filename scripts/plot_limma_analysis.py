"""Rule plot_limma_analysis_<lmfit id>: every plot of the gaussian or voom analyses that share a
least-squares fit.

Per analysis, sqrt(sigma) against AveExpr with the variance prior (limma plotSA), then per
table the MA and volcano plots, the p-value histogram, its top features as a table and as their
values against the tested variable. One job for the analyses of a fit, not one per analysis or
table: a plot job's start (Python, numpy, pandas, matplotlib) costs more than drawing its
figures, and an analysis's tables share one moderation. A forked child draws half of them
(glmstack.report.beside: `split_analysis_plots`), at no second start.
"""

import dataclasses
from pathlib import Path

import numpy as np
from glmstack.design.covariates import design_samples
from glmstack.design.matrices import model_from_params
from glmstack.gaussian.analysis import annotated_tables
from glmstack.gaussian.shard_steps import voom_library_sizes
from glmstack.gaussian.voom import log_cpm
from glmstack.io.annotation import feature_labels
from glmstack.io.features import read_features
from glmstack.io.files import read_json, read_library_sizes, read_npz
from glmstack.io.samples import aligned_samples
from glmstack.io.shards import concat_npz, select_rows
from glmstack.io.tables import write_tsv
from glmstack.logs import log_to
from glmstack.report import plots
from glmstack.report.beside import drawn_beside, split_analysis_plots
from glmstack.report.summary import top_genes
from glmstack.spec import Analysis
from glmstack.sva.covariates import job_covariates


def top_values(smk, analysis: Analysis, samples: list[str], rows: np.ndarray) -> np.ndarray:
    """(K, N) values of the rows (input order) from the shards: log-CPM for voom."""
    key = "counts" if analysis.family == "voom" else "values"
    values = select_rows((read_npz(path, [key])[key] for path in smk.input.shards), rows, len(samples))
    if analysis.family != "voom":
        return values
    lib_size = voom_library_sizes(*read_library_sizes(smk.input.library_sizes, samples), analysis.normalization)
    return log_cpm(values, lib_size)


def main(smk) -> None:
    log = log_to(smk.log[0])
    samples = read_json(smk.input.manifest)["samples"]
    jobs = [(Analysis.from_params(job["analysis"]), job) for job in smk.params.analyses]
    here, beside = split_analysis_plots(jobs)
    with drawn_beside(lambda: draw(smk, beside, samples, log)):  # a forked child draws them
        draw(smk, here, samples, log)


def draw(smk, tasks: list[tuple], samples: list[str], log) -> None:
    """Draw `tasks` (split_analysis_plots) in turn: the group's fits, the annotation and the sheet
    read once, each analysis moderated once."""
    shared, prepared = None, {}
    for kind, analysis, job, table in tasks:
        if shared is None:
            shared = GroupData.read(smk, samples)
        if analysis.name not in prepared:
            prepared[analysis.name] = prepare(smk, shared, analysis, job, samples)
        result, model = prepared[analysis.name]
        if kind == "model":
            fit, prior = result["fit"], result["moderation"].prior
            title = f"{analysis.name}: residual sd against average value"
            plots.sigma_mean_plot(fit.amean, fit.sigma, prior.s2_prior, job["outputs"]["sigma_mean"], title)
            log.info("%s: %d features; df.prior %s", analysis.name, fit.n_features, prior.df_prior[:1])
            continue
        frame = result["tables"][table]
        coefficients = shared.arrays["coefficients"][:, : model.full.matrix.shape[1]]
        table_plots(smk, analysis, table, frame, job["outputs"]["tables"][table], list(shared.features.columns),
                    model, coefficients, samples)  # fmt: skip
        log.info("%s %s: %d features with adj.P.Val < %g", analysis.name, table,
                 int(np.sum(frame["adj.P.Val"] < analysis.alpha)), analysis.alpha)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class GroupData:
    """What every analysis of the group draws from: the least-squares fits concatenated
    (`concat_npz`), the study's annotation (read_features) and the sample sheet in count order."""

    arrays: dict
    features: object  # glmstack.io.features.Features
    sheet: object  # pandas.DataFrame

    @classmethod
    def read(cls, smk, samples: list[str]) -> "GroupData":
        return cls(concat_npz(smk.input.fits), read_features(smk.input.features),
                   aligned_samples(smk.input.samples, samples))  # fmt: skip


def prepare(smk, shared: GroupData, analysis: Analysis, job: dict, samples: list[str]) -> tuple:
    """An analysis's moderation and tables (as rule moderate makes them, from the same inputs and
    calls: the plots need not wait for them) and its formula design with the sample sheet."""
    fitted = model_from_params(job["model"], samples, job_covariates(smk.input))
    result = annotated_tables(shared.arrays, shared.features, fitted, analysis)
    # the formula's design (surrogate variables, at the end, are neither axis nor colour)
    sheet, _ = design_samples(shared.sheet, analysis)
    return result, dataclasses.replace(model_from_params(job["model"], samples), samples=sheet)


def table_plots(smk, analysis: Analysis, table_name: str, table, paths: dict, annotation: list[str], model,
                coefficients: np.ndarray, samples: list[str]) -> None:
    """MA, volcano, p-value histogram, top-feature values and top-features table of one table (at
    the paths `paths` names). coefficients : (G, P) of the formula's design."""
    for path in paths.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # the rule's folders (directory())
    name = f"{analysis.name}: {table_name}"
    top = top_genes(table, smk.params.top_genes, annotation)
    rows = top.index.to_numpy()
    figures = {kind: paths[kind] for kind in ("ma", "volcano", "pvalues")}
    plots.limma_table_plots(table, rows[: plots.MAX_LABELS], analysis.alpha, analysis.lfc_threshold, figures, name,
                            annotation)
    label = "log-CPM" if analysis.family == "voom" else "value"
    plots.top_feature_values(model, table_name, feature_labels(top, annotation),
                             top["adj.P.Val"].to_numpy(dtype=float), top_values(smk, analysis, samples, rows),
                             coefficients[rows], paths["values"], f"{name}: top {len(top)} features by adj.P.Val",
                             label)
    write_tsv(paths["top"], top)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
