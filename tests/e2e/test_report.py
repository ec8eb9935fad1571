"""Plots and reports end to end: snakemake on marioni, then the files a person would open."""

from __future__ import annotations

import base64
import json
import re
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cases import load
from glmstack.nb import size_factors, vst
from workflow_runs import snakemake, write_study

LEVELS = {"run": ["R1", "R2"], "tissue": ["Kidney", "Liver"]}
STUDY = {
    "counts": "counts.tsv.gz",
    "samples": "samples.tsv.gz",
    "outdir": "out",
    "genes_per_shard": 6000,  # one shard per analysis keeps the run short (unit tests cover several)
    "report": {"top_genes": 4, "color_by": "tissue"},
    "analyses": {
        "tissue": {
            "design": "~ run + tissue",
            "levels": LEVELS,
            "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]},
        },
        "tissue_lrt": {
            "design": "~ run + tissue",
            "test": "lrt",
            "reduced": "~ run",
            "levels": LEVELS,
            "contrasts": {"liver_vs_kidney": {"coef": "tissue_Liver_vs_Kidney"}},
        },
    },
}
TABLES = {"tissue": "liver_vs_kidney", "tissue_lrt": "lrt"}
STUDY_PLOTS = ["qc/size_factors.png", "qc/pca.png", "qc/sample_distances.png"]
ANALYSIS_PLOTS = ["plots/dispersion.png", "plots/cooks.png"]
TABLE_PLOTS = ["ma", "volcano", "pvalues", "counts"]
# R: plotPCA(vst(dds, blind = TRUE), returnData = TRUE)$PC1[1:3] (see tests/unit/test_vst.py)
R_PC1_FIRST_SAMPLES = [-41.4529619545201, 41.0876366766116, -40.8367675214295]


def run_with_reports(work: Path) -> Path:
    """STUDY in `work`, run to the end, then `snakemake --report` (both reports exist after)."""
    write_study(work, STUDY)
    done = snakemake(work, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    made = snakemake(work, "--report", str(work / "snakemake_report.html"))
    assert made.returncode == 0, made.stderr[-3000:]
    return work


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return run_with_reports(tmp_path_factory.mktemp("report"))


def all_plots(out: Path) -> list[Path]:
    paths = [out / p for p in STUDY_PLOTS]
    for analysis, table in TABLES.items():
        paths += [out / analysis / p for p in ANALYSIS_PLOTS]
        paths += [out / analysis / "plots" / kind / f"{table}.png" for kind in TABLE_PLOTS]
    return paths


def assert_sensible_png(path: Path) -> None:
    """A complete PNG (signature, IHDR first, IEND last) of plausible pixel size and weight."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and data[-8:-4] == b"IEND", path
    width, height = struct.unpack(">II", data[16:24])
    assert 300 <= width <= 6000 and 250 <= height <= 6000, (path, width, height)
    assert len(data) > 5_000, path


def results(out: Path, analysis: str) -> pd.DataFrame:
    return pd.read_csv(out / analysis / f"{TABLES[analysis]}.tsv", sep="\t", dtype={"gene_id": str})


def test_every_plot_is_a_sensible_png(run_dir):
    plots = all_plots(run_dir / "out")
    assert len(plots) == 3 + 2 * (2 + 4)
    for path in plots:
        assert_sensible_png(path)


def test_standalone_report_embeds_every_plot(run_dir):
    out = run_dir / "out"
    page = (out / "report.html").read_text()
    embedded = [
        base64.b64decode(u) for u in re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    ]
    plots = all_plots(out)
    assert len(embedded) == len(plots)
    for path in plots:
        assert path.read_bytes() in embedded, path.name
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # self-contained: nothing fetched
    for caption in ("What to look for", "MA plot.", "Cook's distances per sample."):
        assert caption in page


def test_standalone_report_has_summaries_and_top_genes(run_dir):
    out = run_dir / "out"
    page = (out / "report.html").read_text()
    for analysis, table in TABLES.items():
        model = json.loads((out / analysis / "model.json").read_text())
        assert f'id="{analysis}-{table}"' in page
        coefficients = model["trend"]["coefficients"]
        assert f"asymptDisp = {coefficients['asymptDisp']:.4g}" in page
        assert f"{model['results'][0]['n_significant']:,}" in page
        best = results(out, analysis).sort_values(["padj", "pvalue"], kind="stable").head(4)
        section = page[page.index(f'id="{analysis}-{table}"') :]
        positions = [section.index(f"<td>{g}</td>") for g in best["gene_id"]]
        assert positions == sorted(positions)  # best gene first
        top = pd.read_csv(
            out / analysis / "report" / "top_genes" / f"{table}.tsv", sep="\t", dtype={"gene_id": str}
        )
        assert top["gene_id"].tolist() == best["gene_id"].tolist()
        assert list(top.columns) == ["gene_id", "baseMean", "log2FoldChange", "pvalue", "padj"]
        summary = pd.read_csv(out / analysis / "report" / "summary.tsv", sep="\t").set_index("item")["value"]
        assert summary["design"] == "~ run + tissue"
        assert summary["test"] == ("likelihood-ratio test" if analysis == "tissue_lrt" else "Wald test")


def report_data(page: str, path: str) -> bytes:
    """The bytes Snakemake's report embedded for one output file (its data URI)."""
    start = page.index(f'"{path}": {{')
    uri = page.index('"data_uri": "', start) + len('"data_uri": "')
    data = page[uri : page.index('"', uri)]
    return base64.b64decode(data.split("base64,", 1)[1])


def test_snakemake_report_has_every_report_output(run_dir):
    page = (run_dir / "snakemake_report.html").read_text()
    files = [p.relative_to(run_dir) for p in all_plots(run_dir / "out")]
    for analysis, table in TABLES.items():
        files += [
            Path("out") / analysis / "report" / "summary.tsv",
            Path("out") / analysis / "report" / "top_genes" / f"{table}.tsv",
        ]
    for rel in files:
        assert report_data(page, str(rel)) == (run_dir / rel).read_bytes(), rel
    for category in ("Study", "tissue", "tissue_lrt"):
        assert f'"{category}"' in page


def test_pca_table_is_the_vst_pca_of_the_counts(run_dir):
    case = load("marioni")
    values = vst.vst(case.counts, size_factors.size_factors(case.counts, "ratio"))
    expected = vst.pca(values[vst.most_variable(values)])
    table = pd.read_csv(run_dir / "out" / "qc" / "pca.tsv", sep="\t")
    assert table["sample"].tolist() == case.sample_ids
    assert table["tissue"].tolist() == case.samples["tissue"].tolist()
    np.testing.assert_allclose(table[["PC1", "PC2"]], expected.scores[:, :2], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.abs(table["PC1"][:3]), np.abs(R_PC1_FIRST_SAMPLES), rtol=1e-8)


def test_unknown_colour_column_is_refused_before_any_job(tmp_path):
    work = write_study(tmp_path / "bad", {**STUDY, "report": {"color_by": "colour"}})
    dry = snakemake(work, "-n")
    assert dry.returncode != 0
    assert "report.color_by names 'colour'" in dry.stderr + dry.stdout
    assert "Columns" in dry.stderr + dry.stdout or "columns:" in dry.stderr + dry.stdout
