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
    "limma_table": {"ma": "MA plot", "volcano": "Volcano plot", "pvalues": "p-value histogram"},
    # an analysis with `sva:` (any family)
    "sva": {
        "sva_variables": "Surrogate variables against the recorded sample variables (R²)",
        "sva_pca": "PCA coloured by the sample variable the surrogate variables track most",
    },
}
# captions that differ from the plot's name (rules/captions/<name>.rst otherwise)
CAPTIONS = {"limma_table": {"ma": "limma_ma", "volcano": "limma_volcano", "pvalues": "limma_pvalues"}}


@dataclass(frozen=True)
class ReportPaths:
    """Paths of the plots and report tables under `outdir` (wildcards as defaults)."""

    outdir: str
    captions: Path

    def study_plot(self, name: str) -> str:
        return f"{self.outdir}/qc/{name}.png"

    def analysis_plot(self, name: str, analysis: str = "{analysis}") -> str:
        return f"{self.outdir}/{analysis}/plots/{name}.png"

    def table_plot(self, name: str, analysis: str = "{analysis}", table: str = "{table}") -> str:
        return f"{self.outdir}/{analysis}/plots/{table}.{name}.png"

    def summary_table(self, analysis: str = "{analysis}") -> str:
        return f"{self.outdir}/{analysis}/report/summary.tsv"

    def top_genes_table(self, analysis: str = "{analysis}", table: str = "{table}") -> str:
        return f"{self.outdir}/{analysis}/report/{table}.top_genes.tsv"

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
        "limma_table": paths.table_plot,
        "sva": paths.analysis_plot,
    }

    def plots(kind: str, **at: str) -> list[dict]:
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
                "plots": plots("limma_analysis" if analysis.is_gaussian else "analysis", analysis=name)
                + (plots("sva", analysis=name) if analysis.sva is not None else []),
                "tables": [
                    {
                        "name": table,
                        "top": paths.top_genes_table(name, table),
                        "plots": plots("limma_table" if analysis.is_gaussian else "table", analysis=name, table=table),
                    }
                    for table in analysis.table_names
                ],
            }
            for name, analysis in analyses.items()
        ],
    }


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
