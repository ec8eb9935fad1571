"""Where the plots and report tables go, and what the HTML report shows, in order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..spec import Analysis

# plot name (PNG and caption file name) -> heading in the report, per level of the study
PLOT_TITLES = {
    "study": {
        "size_factors": "Size factors and library sizes",
        "pca": "PCA of VST counts",
        "sample_distances": "Sample-to-sample distances",
    },
    "analysis": {
        "dispersion": "Dispersion estimates",
        "cooks": "Cook's distances per sample",
    },
    "table": {
        "ma": "MA plot",
        "volcano": "Volcano plot",
        "pvalues": "p-value histogram",
        "counts": "Normalised counts of the top genes",
    },
    # a values study and its gaussian analyses (limma's method)
    "values_study": {"values_pca": "PCA of the values"},
    "limma_analysis": {"sigma_mean": "Residual standard deviation against average value (limma plotSA)"},
    "voom_analysis": {
        "voom_trend": "voom mean-variance trend",
        "sigma_mean": "Residual standard deviation against average log-CPM (limma plotSA)",
    },
    "limma_table": {
        "ma": "MA plot",
        "volcano": "Volcano plot",
        "pvalues": "p-value histogram",
        "values": "Values of the top features",
    },
    # a reverse analysis (trait ~ covariates + feature): its one table's plots
    "reverse_table": {
        "qq": "Naive and calibrated p-values against uniform (QQ plot)",
        "pvalues": "p-value histograms, naive and calibrated",
        "top_features": "Trait against the top features, adjusted for the covariates",
    },
    # an analysis with `sva:` (any family)
    "sva": {
        "sva_variables": "Surrogate variables against the recorded sample variables (R²)",
        "sva_pca": "PCA coloured by the sample variable the surrogate variables track most",
    },
}
# captions that differ from the plot's name (rules/captions/<name>.rst otherwise)
CAPTIONS = {
    "limma_table": {"ma": "limma_ma", "volcano": "limma_volcano", "pvalues": "limma_pvalues", "values": "limma_values"},
    "reverse_table": {"qq": "reverse_qq", "pvalues": "reverse_pvalues", "top_features": "reverse_top_features"},
}


@dataclass(frozen=True)
class ReportPaths:
    """Paths of the plots and report tables under `outdir` (wildcards as defaults)."""

    outdir: str
    captions: Path

    def study_plot(self, name: str) -> str:
        return f"{self.outdir}/qc/{name}.png"

    def analysis_plot(self, name: str, analysis: str = "{analysis}") -> str:
        return f"{self.outdir}/{analysis}/plots/{name}.png"

    def table_plots(self, name: str, analysis: str = "{analysis}") -> str:
        """The folder of one kind of plot, one PNG per result table of the analysis (its plot
        job writes the folder whole: one job per analysis, not per table)."""
        return f"{self.outdir}/{analysis}/plots/{name}"

    def table_plot(self, name: str, analysis: str = "{analysis}", table: str = "{table}") -> str:
        return f"{self.table_plots(name, analysis)}/{table}.png"

    def summary_table(self, analysis: str = "{analysis}") -> str:
        return f"{self.outdir}/{analysis}/report/summary.tsv"

    def top_genes_tables(self, analysis: str = "{analysis}") -> str:
        """The folder of the top-genes tables, one per result table (as `table_plots`)."""
        return f"{self.outdir}/{analysis}/report/top_genes"

    def top_genes_table(self, analysis: str = "{analysis}", table: str = "{table}") -> str:
        return f"{self.top_genes_tables(analysis)}/{table}.tsv"

    def model(self, analysis: str) -> str:
        return f"{self.outdir}/{analysis}/model.json"

    def caption(self, name: str) -> str:
        return str(self.captions / f"{name}.rst")


def report_layout(paths: ReportPaths, analyses: dict[str, Analysis], values: bool = False) -> dict:
    """What the HTML report shows, in order: titles, PNG, caption and table files.

    values : the study is a `values:` study (its QC is a PCA of the values, no size factors);
    gaussian analyses get limma's plots, nb analyses DESeq2's.
    """
    where = {
        "study": paths.study_plot,
        "analysis": paths.analysis_plot,
        "table": paths.table_plot,
        "values_study": paths.study_plot,
        "limma_analysis": paths.analysis_plot,
        "voom_analysis": paths.analysis_plot,
        "limma_table": paths.table_plot,
        "reverse_table": paths.table_plot,
        "sva": paths.analysis_plot,
    }

    def kinds(analysis: Analysis) -> tuple[str | None, str]:
        """Plot kinds of an analysis and of its tables."""
        if analysis.is_reverse:
            return None, "reverse_table"
        return _analysis_kind(analysis), "limma_table" if analysis.is_gaussian else "table"

    def plots(kind: str | None, **at: str) -> list[dict]:
        if kind is None:
            return []
        return [
            {
                "title": title,
                "png": where[kind](name, **at),
                "caption": paths.caption(CAPTIONS.get(kind, {}).get(name, name)),
            }
            for name, title in PLOT_TITLES[kind].items()
        ]

    return {
        "outdir": paths.outdir,
        "study": plots("values_study" if values else "study"),
        "analyses": [
            {
                "name": name,
                "model": paths.model(name),
                "plots": plots(kinds(analysis)[0], analysis=name)
                + (plots("sva", analysis=name) if analysis.sva is not None else []),
                "tables": [
                    {
                        "name": table,
                        "top": paths.top_genes_table(name, table),
                        "plots": plots(kinds(analysis)[1], analysis=name, table=table),
                    }
                    for table in analysis.table_names
                ],
            }
            for name, analysis in analyses.items()
        ],
    }


def _analysis_kind(analysis: Analysis) -> str:
    """The analysis-level plots: DESeq2's (nb), limma's (gaussian), limma's plus voom's trend."""
    return {"nb": "analysis", "gaussian": "limma_analysis", "voom": "voom_analysis"}[analysis.family]


def layout_files(layout: dict) -> list[str]:
    """Every file the HTML report reads, once each, in report order."""
    files = []

    def add_plots(entries: list[dict]) -> None:
        for plot in entries:
            files.extend((plot["png"], plot["caption"]))

    add_plots(layout["study"])
    for analysis in layout["analyses"]:
        files.append(analysis["model"])
        add_plots(analysis["plots"])
        for table in analysis["tables"]:
            files.append(table["top"])
            add_plots(table["plots"])
    return list(dict.fromkeys(files))
