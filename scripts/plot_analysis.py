"""Rule plot_analysis_<group>: every plot of the nb analyses of a fit group (one design and
trend type).

Per analysis, its model's plots (dispersion estimates, Cook's distances per sample), and per
result table the MA and volcano plots, the p-value histogram, the counts of the top genes and
their table. One job for the group, not one per analysis or table: a plot job's start (Python,
numpy, matplotlib) costs as much as drawing an analysis's figures, and a second analysis of a
design costs its figures only. A forked child draws half of them (glmstack.report.beside:
`split_analysis_plots`): the job often runs alone after the fits, and the child costs no second
start.

The tables stay dicts of columns and the sample sheet is read as the few columns the count plot
needs: the job imports no pandas (0.2 s of its start), unless a count plot needs the whole sheet
(a trait's fitted curves) or a binned covariate.
"""

import dataclasses
from pathlib import Path

import numpy as np
from glmstack.design.covariates import design_sheet
from glmstack.design.matrices import model_from_params
from glmstack.io.annotation import feature_labels
from glmstack.io.features import read_features
from glmstack.io.files import read_json, write_small_tsv
from glmstack.io.shards import (
    PER_SAMPLE_FIT_ARRAYS,
    concat_fits,
    map_fit_array,
    map_shard_counts,
    read_fit,
    select_pairs,
)
from glmstack.logs import log_to
from glmstack.nb.cooks import filter_cutoff
from glmstack.nb.results import analysis_tables
from glmstack.report import plots
from glmstack.report.beside import drawn_beside, split_analysis_plots
from glmstack.report.summary import top_columns, top_rows
from glmstack.spec import Analysis

DISPERSION_KEYS = ["base_mean", "disp_gene_est", "disp_fit", "dispersion", "disp_outlier"]


def main(smk) -> None:
    log = log_to(smk.log[0])
    manifest = read_json(smk.input.manifest)
    here, beside = split_analysis_plots([(Analysis.from_params(job["analysis"]), job) for job in smk.params.analyses])
    with drawn_beside(lambda: draw(smk, beside, manifest, log)):  # a forked child draws them
        draw(smk, here, manifest, log)


def draw(smk, tasks: list[tuple], manifest: dict, log) -> None:
    """Draw `tasks` (split_analysis_plots) in turn; each analysis's tables are made once, from its
    fits."""
    samples = manifest["samples"]
    features, trend, prepared = None, None, {}
    for kind, analysis, job, table in tasks:
        if kind == "model":
            trend = trend or read_json(smk.input.trend)
            model_plots(smk.input.fits, analysis, job["outputs"], trend, samples)
            continue
        if features is None:
            features = read_features(smk.input.features)
        if analysis.name not in prepared:
            prepared[analysis.name] = TablePlotData.prepare(smk.input.fits, analysis, job, features, manifest)
        data = prepared[analysis.name]
        shown = table_plots(smk, analysis, table, data, job["outputs"]["tables"][table], list(features.columns))
        log.info("%s %s: %d genes shown", analysis.name, table, shown)


@dataclasses.dataclass(frozen=True)
class TablePlotData:
    """What the table plots of one analysis draw from: its tables (`analysis_tables`, as rule
    merge makes them: the plots need not wait for the files), its formula design and its log2
    coefficients."""

    tables: dict
    model: object  # glmstack.design.matrices.Model
    beta: np.ndarray  # (G, P) without the surrogate variables
    size_factors: np.ndarray
    samples: list[str]  # the analysed samples, in count order

    @classmethod
    def prepare(cls, fits: list[str], analysis: Analysis, job: dict, features, manifest: dict) -> "TablePlotData":
        # the formula's design: surrogate variables (appended after its columns) are neither
        # axis nor colour, and the fitted curves hold them at 0 (their mean)
        model = model_from_params(job["model"], manifest["samples"])
        fit = concat_fits(fits, analysis.name, exclude=PER_SAMPLE_FIT_ARRAYS)
        beta = fit["beta"][:, : model.full.matrix.shape[1]]  # without the surrogate variables (at the end)
        tables = {name: table for name, (table, _) in analysis_tables(fit, job["shrunk"], features, analysis).items()}
        return cls(tables, model, beta, np.asarray(manifest["size_factors"], dtype=float), manifest["samples"])


def model_plots(fits: list[str], analysis: Analysis, outputs: dict, trend: dict, samples: list[str]) -> None:
    """The dispersion plot and the Cook's distances per sample of one analysis (at the paths
    `outputs` names), with its Cook's cutoff (`trend`: the trend job's JSON, its F quantile)."""
    parts = [read_fit(path, analysis.name, DISPERSION_KEYS) for path in fits]
    fit = {key: np.concatenate([p[key] for p in parts]) for key in DISPERSION_KEYS}
    title = f"{analysis.name}: dispersion estimates"
    plots.dispersion_plot(*(fit[k] for k in DISPERSION_KEYS), outputs["dispersion"], title)
    # (genes x samples) per shard, mapped: the box statistics gather them without a copy of each
    cooks = [map_fit_array(path, analysis.name, "cooks") for path in fits]
    cutoff = filter_cutoff(analysis.cooks_cutoff, trend["cooks_f_quantile"])
    plots.cooks_boxplot(cooks, samples, cutoff, outputs["cooks"], f"{analysis.name}: Cook's distances")


def table_plots(smk, analysis: Analysis, table_name: str, data: TablePlotData, paths: dict,
                annotation: list[str]) -> int:
    """MA, volcano, p-value histogram, top-gene counts and top-genes table of one result table
    (at the paths `paths` names); returns how many genes are shown. annotation : the feature
    annotation's columns (gene_name, ...: genes are named by it)."""
    table = data.tables[table_name]
    for path in paths.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # the rule's folders (directory())
    name = f"{analysis.name}: {table_name}"
    rows = top_rows(table, smk.params.top_genes)
    top = {column: np.asarray(table[column])[rows] for column in top_columns(table, annotation)}
    figures = {kind: paths[kind] for kind in ("ma", "volcano", "pvalues")}
    plots.table_plots(table, rows[: plots.MAX_LABELS], analysis.alpha, analysis.lfc_threshold, figures, name,
                      annotation)
    columns = plots.count_plot_columns(data.model, table_name)  # the sheet's columns it plots (None: all)
    sheet = design_sheet(smk.input.samples, data.samples, analysis, columns)
    model = dataclasses.replace(data.model, samples=sheet)
    counts, factors = select_pairs((map_shard_counts(path, data.size_factors) for path in smk.input.shards), rows)
    genes, padj = feature_labels(top, annotation), np.asarray(top["padj"], dtype=float)
    title = f"{name}: top {len(rows)} genes by padj"
    plots.top_gene_counts(model, table_name, genes, padj, counts, factors, data.beta[rows], paths["counts"], title)
    write_small_tsv(paths["top"], top)  # a few lines: no Arrow (0.05 s of the start)
    return len(rows)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
