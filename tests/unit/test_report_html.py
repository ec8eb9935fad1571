"""glmstack.report (the HTML page): top-gene tables, summaries, captions, self-containment.

Named test_report_html.py because tests/e2e/test_report.py runs the workflow."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
from glmstack.report import html, summary

MODEL = {
    "design": "~ run + tissue",
    "reduced": None,
    "test": "wald",
    "n_genes": 5088,
    "n_all_zero": 12,
    "results": [{"table": "liver_vs_kidney", "n_tested": 4595, "n_significant": 2856, "n_filtered": 493}],
    "trend": {
        "fit_type_requested": "parametric",
        "fit_type": "parametric",
        "coefficients": {"asymptDisp": 0.000175, "extraPois": 1.027},
    },
    "prior_variance": 0.25,
    "n_dispersion_outliers": 9,
    "n_cooks_replaced_genes": 0,
    "n_not_converged": 0,
    "settings": {"alpha": 0.1, "lfc_threshold": 0},
    "contrasts": [{"name": "liver_vs_kidney", "description": "tissue Liver vs Kidney", "vector": [0, 0, 1]}],
}


def test_top_genes_by_padj_then_pvalue_without_untested_genes():
    table = pd.DataFrame(
        {
            "gene_id": list("abcdef"),
            "baseMean": [1.0, 2, 3, 4, 5, 6],
            "log2FoldChange": [0.1, 2, -1, 3, 0, 1],
            "pvalue": [0.5, 1e-5, np.nan, 1e-3, 1e-4, 1e-9],
            "padj": [0.9, 1e-3, np.nan, 1e-3, np.nan, 1e-7],
        }
    )
    top = summary.top_genes(table, 4)
    assert top["gene_id"].tolist() == ["f", "b", "d", "a"]  # NA padj (e) after every padj
    assert list(top.index) == [5, 1, 3, 0]  # row positions in the results table
    assert list(top.columns) == ["gene_id", "baseMean", "log2FoldChange", "pvalue", "padj"]
    assert summary.top_genes(table, 0).empty
    assert summary.top_genes(table, 99)["gene_id"].tolist() == ["f", "b", "d", "a", "e"]
    columns = {name: table[name].to_numpy() for name in table}  # the NB jobs' dict of columns
    np.testing.assert_array_equal(summary.top_rows(columns, 4), [5, 1, 3, 0])
    assert summary.top_rows(columns, 0).size == 0
    assert summary.top_columns(columns, ["gene_name"]) == list(top.columns)  # no such column here


def test_analysis_summary_names_design_test_counts_trend_and_prior():
    rows = dict(summary.analysis_summary(MODEL))
    assert rows["design"] == "~ run + tissue"
    assert rows["test"] == "Wald test"
    assert rows["liver_vs_kidney: genes tested"] == "4,595"
    assert rows["liver_vs_kidney: padj < 0.1"] == "2,856"
    assert rows["dispersion trend"] == "parametric"
    assert rows["trend coefficients"] == "asymptDisp = 0.000175, extraPois = 1.027"
    assert rows["prior variance of log dispersions"] == "0.25"
    lrt = dict(
        summary.analysis_summary(
            {
                **MODEL,
                "test": "lrt",
                "reduced": "~ run",
                "trend": {**MODEL["trend"], "fit_type": "local", "coefficients": {}},
            }
        )
    )
    assert lrt["reduced design"] == "~ run" and lrt["test"] == "likelihood-ratio test"
    assert lrt["dispersion trend"] == "local (requested parametric)"
    assert summary.summary_frame(MODEL).columns.tolist() == ["item", "value"]


def test_caption_html_handles_the_rst_subset_and_escapes():
    text = (
        "**MA plot.** Genes with ``padj < alpha`` are *red*.\n\nSecond <para>.\n\n- one\n- two\n  continued"
    )
    out = html.caption_html(text)
    assert "<strong>MA plot.</strong>" in out
    assert "<code>padj &lt; alpha</code>" in out
    assert "<em>red</em>" in out
    assert "<p>Second &lt;para&gt;.</p>" in out
    assert "<ul><li>one</li><li>two continued</li></ul>" in out


def test_top_tables_are_read_as_pandas_would_and_shown_as_text_or_numbers(tmp_path):
    """The id and annotation columns are text (a symbol that looks like a number too); another
    column is numbers if every cell is one, integers if all are whole; empty is NA."""
    path = tmp_path / "top.tsv"
    path.write_text("gene_id\tgene_name\tbaseMean\tcount\tnote\tpadj\n"
                    "g<1>\t7157\t1234.6\t1234\tx\t\n"
                    "0002\t\t0.5\t2\t\t1e-9\n")
    top = html.read_top_table(path, ["gene_name"])
    assert top.numeric == [False, False, True, True, False, True] and top.n_rows == 2
    assert top.cells[0] == ["g<1>", "0002"] and top.cells[1] == ["7157", None] and top.cells[3] == [1234, 2]
    page = html._top_html(top)
    assert "<td>g&lt;1&gt;</td><td>7157</td>" in page and "<td>0002</td><td></td>" in page
    assert '<td class="num">1,234</td>' in page and '<td class="num">1234</td>' not in page  # integers
    assert '<td class="num">1235</td>' in page and '<td class="num">NA</td>' in page  # floats, 4 digits
    empty = tmp_path / "empty.tsv"
    empty.write_text("gene_id\tpadj\n")
    assert "No gene has a p-value" in html._top_html(html.read_top_table(empty))


def test_render_embeds_every_plot_and_references_nothing_outside(tmp_path):
    png = b"\x89PNG\r\n\x1a\nnot really a png"
    plot = html.Plot("MA plot", "<p>caption</p>", png)
    (tmp_path / "top.tsv").write_text("gene_id\tbaseMean\tlog2FoldChange\tpvalue\tpadj\ng<1>\t10.0\t1.5\t1e-09\t\n")
    top = html.read_top_table(tmp_path / "top.tsv")
    section = html.AnalysisSection(
        "tissue",
        summary.analysis_summary(MODEL),
        [plot],
        [html.TableSection("liver_vs_kidney", "tissue Liver vs Kidney", [plot, plot], top)],
    )
    page = html.render("glmstack report", [("genes", "5088")], [plot], [section], "glmstack 0.1")
    uris = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(uris) == 4 and all(base64.b64decode(u) == png for u in uris)
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # only data URIs and in-page links
    assert "g&lt;1&gt;" in page and '<td class="num">NA</td>' in page
    assert 'href="#tissue-liver_vs_kidney"' in page and 'id="tissue-liver_vs_kidney"' in page


def test_write_html_is_atomic(tmp_path):
    path = tmp_path / "sub" / "report.html"
    html.write_html(path, "<html></html>\n")
    assert path.read_text() == "<html></html>\n"
    assert not list(tmp_path.rglob("*.tmp"))


def test_table_description():
    assert summary.table_description(MODEL, "liver_vs_kidney") == "Wald test of tissue Liver vs Kidney."
    lrt = {**MODEL, "test": "lrt", "reduced": "~ run"}
    assert summary.table_description(lrt, "lrt") == (
        "Likelihood-ratio test of ~ run + tissue against ~ run; log2 fold changes: tissue Liver vs Kidney."
    )
