"""Rule report: the standalone HTML report (<outdir>/report.html) with every plot embedded."""

from pathlib import Path

from glmstack import __version__
from glmstack.io.files import read_json, table_header
from glmstack.logs import log_to
from glmstack.report import html
from glmstack.report.summary import analysis_summary, table_description


def plots(entries: list[dict]) -> list[html.Plot]:
    """Title, caption (.rst -> HTML) and PNG bytes of each plot of the layout."""
    return [html.Plot(e["title"], html.caption_html(Path(e["caption"]).read_text()),
                        Path(e["png"]).read_bytes()) for e in entries]


def main(smk) -> None:
    log = log_to(smk.log[0])
    layout, study = smk.params.layout, smk.params.study
    manifest = read_json(smk.input.manifest)
    annotation = table_header(smk.input.features)[1:]  # text columns of the top-gene tables
    counts = "values" not in study  # else a values: study (no size factors)
    source = next(
        (label, study[key]) for key, label in
        (("counts", "count matrix"), ("quantifications", "transcript quantifications"), ("values", "value matrix"))
        if key in study
    )  # fmt: skip
    rows = [source,
            ("sample sheet", study["samples"]),
            (f"{'genes' if counts else 'features'} x samples", f"{manifest['n_genes']:,} x {len(manifest['samples'])}"),
            *([("size factors", study["size_factors"])] if counts else []),
            ("analyses", ", ".join(a["name"] for a in layout["analyses"]))]
    sections = []
    for a in layout["analyses"]:
        model = read_json(a["model"])
        tables = [html.TableSection(t["name"], table_description(model, t["name"]),
                                      plots(t["plots"]), html.read_top_table(t["top"], annotation)) for t in a["tables"]]
        summary = analysis_summary(model)
        sections.append(html.AnalysisSection(a["name"], summary, plots(a["plots"]), tables))
    title, footer = f"glmstack report: {layout['outdir']}", f"Made by glmstack {__version__}."
    page = html.render(title, rows, plots(layout["study"]), sections, footer)
    html.write_html(smk.output[0], page)
    log.info("report with %d analyses, %d bytes", len(sections), len(page))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 - injected by Snakemake
