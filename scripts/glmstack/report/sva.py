"""Report of an analysis's surrogate variables: how much of each one every recorded sample
variable explains (R^2), and the study's PCA coloured by the variable they track most."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import plots


def variable_r2(sv: pd.DataFrame, sheet: pd.DataFrame) -> pd.DataFrame:
    """R^2 of each surrogate variable on each recorded sample variable (variables x SVs).

    A variable of numbers is used as a number (R^2 = squared Pearson correlation); any other
    as a factor (R^2 of a one-way ANOVA: least squares on its levels). Columns with one value,
    or with a different text in every sample (ids), explain nothing and are left out.

    Parameters
    ----------
    sv : samples x SV1..SVk (index = sample id); sheet : the sample sheet (column `sample`).
    """
    sheet = sheet.set_index(sheet["sample"].astype(str)).loc[sv.index.astype(str)]
    rows = {}
    for column in sheet.columns:
        if column == "sample":
            continue
        values = sheet[column]
        numbers = pd.to_numeric(values, errors="coerce")
        if values.nunique() < 2 or (numbers.isna().any() and values.nunique() == len(values)):
            continue
        if numbers.notna().all():
            x = np.column_stack([np.ones(len(values)), numbers.to_numpy(float)])
        else:
            x = pd.get_dummies(values.astype(str)).to_numpy(float)
        rows[str(column)] = [_r2(x, sv[c].to_numpy(float)) for c in sv.columns]
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(sv.columns))


def _r2(x: np.ndarray, y: np.ndarray) -> float:
    fitted = x @ np.linalg.lstsq(x, y, rcond=None)[0]
    total = np.sum((y - y.mean()) ** 2)
    return float(1 - np.sum((y - fitted) ** 2) / total) if total > 0 else 0.0


def strongest_variable(r2: pd.DataFrame) -> str | None:
    """The recorded variable with the largest R^2 on any surrogate variable (None if none)."""
    if r2.empty or r2.shape[1] == 0:
        return None
    return str(r2.max(axis=1).idxmax())


@plots.plain_text
def r2_heatmap(r2: pd.DataFrame, path: str | Path, title: str) -> None:
    """Heatmap of the R^2 table, each cell written out."""
    rows, cols = r2.shape
    fig = plots._figure(max(5.0, 0.7 * cols + 3), max(3.0, 0.45 * rows + 2))
    ax = fig.add_subplot(1, 1, 1)
    if rows == 0 or cols == 0:
        what = "no surrogate variables" if cols == 0 else "no recorded sample variable to compare with"
        plots._empty(ax, what)
    else:
        image = ax.imshow(r2.to_numpy(float), cmap="Reds", vmin=0, vmax=1, aspect="auto")
        for i in range(rows):
            for j in range(cols):
                value = r2.iat[i, j]
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if value > 0.6 else "black")
        ax.set_xticks(np.arange(cols), list(r2.columns), rotation=45, ha="right", fontsize=8)
        ax.set_yticks(np.arange(rows), list(r2.index), fontsize=8)
        fig.colorbar(image, ax=ax, label="R² (variable explains SV)")
    ax.set_title(title, fontsize=10)
    plots._finish(fig, path)


@plots.plain_text
def pca_by_variable(
    scores: pd.DataFrame, groups: Sequence[str] | None, colour_by: str | None, path: str | Path, title: str
) -> None:
    """PC1 against PC2 of the study's PCA table, coloured by `groups` (numbers: a colour scale)."""
    fig = plots._figure(7, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    if "PC2" not in scores.columns:
        plots._empty(ax, "fewer than two principal components")
    elif groups is None:
        ax.scatter(scores["PC1"], scores["PC2"], c=plots.PALETTE[0], s=45, edgecolor="k", linewidth=0.4)
    else:
        numbers = plots._numeric(groups)
        if numbers is not None:
            points = ax.scatter(scores["PC1"], scores["PC2"], c=numbers, cmap="viridis", s=45, edgecolor="k",
                                linewidth=0.4)
            fig.colorbar(points, ax=ax, label=colour_by)
        else:
            colours, lookup = plots._colours(groups)
            ax.scatter(scores["PC1"], scores["PC2"], c=colours, s=45, edgecolor="k", linewidth=0.4)
            for level, colour in lookup.items():
                ax.scatter([], [], c=colour, label=level, s=45, edgecolor="k", linewidth=0.4)
            ax.legend(title=colour_by, fontsize=8, title_fontsize=8, loc="best", framealpha=0.8)
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.set_title(title, fontsize=10)
    plots._finish(fig, path)
