"""The study report: one self-contained HTML page (plots embedded as base64 PNG data URIs).

Pure functions build the pieces (top-gene tables, analysis summaries, captions) and
`render` joins them into a page; `write_html` writes it atomically. No external resource
(script, style sheet, font, image) is referenced, so the page works offline and by mail.
"""

from __future__ import annotations

import base64
import csv
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..io.files import atomic_write
from .summary import format_number

_INLINE = [
    (re.compile(r"``(.+?)``"), r"<code>\1</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
]


def caption_html(rst: str) -> str:
    """The small reStructuredText subset of the captions as HTML.

    Paragraphs (blank-line separated), bullet lists ("- " or "* "), ``code``, **bold**,
    *emphasis*. Everything else is shown as text (escaped).
    """
    blocks = [b for b in re.split(r"\n\s*\n", rst.strip()) if b.strip()]
    out = []
    for block in blocks:
        lines = [ln.strip() for ln in block.splitlines()]
        text = html.escape(" ".join(lines), quote=False)
        if lines[0][:2] in ("- ", "* "):  # a bullet list; other lines continue the item above
            items, current = [], []
            for ln in lines:
                if ln[:2] in ("- ", "* "):
                    if current:
                        items.append(" ".join(current))
                    current = [ln[2:]]
                else:
                    current.append(ln)
            items.append(" ".join(current))
            text = "".join(f"<li>{_inline(html.escape(i, quote=False))}</li>" for i in items)
            out.append(f"<ul>{text}</ul>")
        else:
            out.append(f"<p>{_inline(text)}</p>")
    return "\n".join(out)


def _inline(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text


@dataclass(frozen=True)
class Plot:
    """A figure of the report: heading, caption (HTML) and the PNG bytes."""

    title: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class TopTable:
    """A top-genes table as the page shows it: per column its name, its cells (text, None where
    empty; or numbers, NaN where empty) and whether they are numbers."""

    columns: list[str]
    cells: list[list]
    numeric: list[bool]

    @property
    def n_rows(self) -> int:
        return len(self.cells[0]) if self.cells else 0


_INTEGER = re.compile(r"[+-]?\d+")


def _as_numbers(cells: list[str]) -> list | None:
    """The cells as numbers where every one is a number or empty (integers where all are whole
    numbers and none is empty, as pandas reads a column), else None."""
    if cells and all(_INTEGER.fullmatch(c) for c in cells):
        return [int(c) for c in cells]
    try:
        return [float(c) if c else math.nan for c in cells]
    except ValueError:
        return None


def read_top_table(path: str | Path, text_columns: Sequence[str] = ()) -> TopTable:
    """A top-genes table written by glmstack (TSV, empty = NA): the id (first column) and
    `text_columns` (the annotation) as text; any other column as numbers if it holds only numbers."""
    with open(path, encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh, delimiter="\t"))
    columns, cells, numeric = [], [], []
    for j, name in enumerate(header):
        column = [row[j] for row in rows]
        numbers = None if j == 0 or name in text_columns else _as_numbers(column)
        columns.append(name)
        cells.append(numbers if numbers is not None else [c or None for c in column])
        numeric.append(numbers is not None)
    return TopTable(columns, cells, numeric)


@dataclass(frozen=True)
class TableSection:
    """One result table of an analysis: its plots and its top genes."""

    name: str
    description: str
    plots: list[Plot]
    top: TopTable


@dataclass(frozen=True)
class AnalysisSection:
    name: str
    summary: list[tuple[str, str]]
    plots: list[Plot]
    tables: list[TableSection] = field(default_factory=list)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#24425f;color:#fff;padding:1.2em 2em}header h1{margin:0 0 .2em 0;font-size:1.6em}
header p{margin:0;opacity:.85}main{max-width:1150px;margin:0 auto;padding:1em 2em 3em 2em}
nav{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em 1.2em;margin:1em 0}
nav ul{margin:.3em 0;padding-left:1.2em}h2{border-bottom:2px solid #24425f;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.6em;color:#24425f}figure{background:#fff;border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:1em}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}figcaption{font-size:.92em;color:#333;margin-top:.6em}
table{border-collapse:collapse;background:#fff;font-size:.9em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#eef2f6}code{background:#eef2f6;padding:0 .2em;border-radius:3px}footer{color:#777;font-size:.85em;margin-top:3em}
"""


def _anchor(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9_-]+", "-", p) for p in parts)


def _plot_html(plot: Plot) -> str:
    data = base64.b64encode(plot.png).decode("ascii")
    title = html.escape(plot.title)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{title}">'
        f"<figcaption>{plot.caption}</figcaption></figure>"
    )


def _rows_html(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _top_html(top: TopTable) -> str:
    if top.n_rows == 0:
        return "<p>No gene has a p-value in this table.</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in top.columns)
    # the id (gene_id, feature_id) and annotation columns (gene_name, ...) are text, the rest numbers
    columns = [
        [f'<td class="num">{format_number(v)}</td>' for v in cells]
        if numeric
        else [f"<td>{'' if v is None else html.escape(v)}</td>" for v in cells]
        for cells, numeric in zip(top.cells, top.numeric)
    ]
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in zip(*columns))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(
    title: str,
    study: list[tuple[str, str]],
    study_plots: list[Plot],
    analyses: list[AnalysisSection],
    footer: str,
) -> str:
    """The whole report page as one HTML string.

    Parameters
    ----------
    title : page heading; study : (item, value) rows about the study (files, sizes).
    study_plots : study-wide QC plots; analyses : one section per analysis.
    footer : a line at the bottom (software version).
    """
    nav = ['<li><a href="#study">Study QC</a></li>']
    for a in analyses:
        sub = "".join(
            f'<li><a href="#{_anchor(a.name, t.name)}">{html.escape(t.name)}</a></li>' for t in a.tables
        )
        nav.append(f'<li><a href="#{_anchor(a.name)}">{html.escape(a.name)}</a><ul>{sub}</ul></li>')
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{html.escape(title)}</h1>",
        "<p>Quality control and differential expression results</p></header>",
        "<main>",
        f"<nav><strong>Contents</strong><ul>{''.join(nav)}</ul></nav>",
        '<section id="study"><h2>Study QC</h2>',
        _rows_html(study),
        *(_plot_html(p) for p in study_plots),
        "</section>",
    ]
    for a in analyses:
        parts.append(f'<section id="{_anchor(a.name)}"><h2>Analysis: {html.escape(a.name)}</h2>')
        parts.append(_rows_html(a.summary))
        parts += [_plot_html(p) for p in a.plots]
        for t in a.tables:
            parts.append(
                f'<h3 id="{_anchor(a.name, t.name)}">{html.escape(a.name)} / {html.escape(t.name)}</h3>'
            )
            if t.description:
                parts.append(f"<p>{html.escape(t.description)}</p>")
            parts += [_plot_html(p) for p in t.plots]
            parts.append(f"<h4>Top {t.top.n_rows} genes by adjusted p-value</h4>")
            parts.append(_top_html(t.top))
        parts.append("</section>")
    parts += [f"<footer>{html.escape(footer)}</footer>", "</main></body></html>"]
    return "\n".join(parts) + "\n"


def write_html(path: str | Path, text: str) -> None:
    """Write the page atomically (io.files.atomic_write): a killed job leaves no half page."""
    with atomic_write(path) as fh:
        fh.write(text.encode("utf-8"))
