"""glmstack.plots: every plot writes a sensible PNG, also for empty or degenerate input."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from glmstack.design.model import build_model as build_model_of
from glmstack.io.files import FORMAT_VERSION
from glmstack.nb import vst
from glmstack.nb.cooks import cooks_cutoff, filter_cutoff
from glmstack.report import plots
from glmstack.spec import Analysis

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG from its IHDR chunk (raises if the file is not a PNG)."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    assert data[-8:-4] == b"IEND", f"{path} is truncated"
    return struct.unpack(">II", data[16:24])


def assert_sensible_png(path: Path, min_bytes: int = 5_000) -> None:
    width, height = png_size(path)
    assert 300 <= width <= 6000 and 250 <= height <= 6000, (path.name, width, height)
    assert path.stat().st_size >= min_bytes, (path.name, path.stat().st_size)
    assert not list(path.parent.glob(f".{path.name}.*.tmp"))


@pytest.fixture(scope="module")
def genes():
    """A synthetic results table: 2000 genes, 300 with an effect."""
    rng = np.random.default_rng(7)
    n = 2000
    base_mean = np.exp(rng.uniform(-1, 9, n))
    lfc = rng.normal(0, 0.3, n)
    lfc[:300] += rng.choice([-3, 3], 300)
    pvalue = np.where(np.arange(n) < 300, rng.uniform(0, 1e-6, n), rng.uniform(0, 1, n))
    pvalue[-20:] = np.nan  # Cook's outliers
    padj = np.minimum(pvalue * n / (np.argsort(np.argsort(np.nan_to_num(pvalue, nan=2))) + 1), 1)
    padj[1900:1980] = np.nan  # independently filtered
    disp_fit = 0.05 + 1.0 / base_mean
    disp_gene = disp_fit * np.exp(rng.normal(0, 0.8, n))
    disp_gene[:30] = 1e-8
    return {
        "base_mean": base_mean,
        "lfc": lfc,
        "pvalue": pvalue,
        "padj": padj,
        "disp_gene": disp_gene,
        "disp_fit": disp_fit,
        "ids": [f"gene{i}" for i in range(n)],
    }


def test_size_factor_plot(tmp_path):
    path = tmp_path / "sf.png"
    plots.size_factor_plot(
        [f"s{i}" for i in range(12)], np.linspace(0.5, 2, 12), np.linspace(1e6, 3e7, 12), path
    )
    assert_sensible_png(path)


def test_pca_plot_with_factor_and_numeric_colours(tmp_path):
    rng = np.random.default_rng(1)
    result = vst.pca(rng.normal(size=(100, 9)))
    samples = [f"s{i}" for i in range(9)]
    plots.pca_plot(
        result.scores, result.percent_var, samples, ["a", "b", "c"] * 3, "group", tmp_path / "f.png", 100
    )
    plots.pca_plot(
        result.scores, result.percent_var, samples, [str(x) for x in range(9)], "age", tmp_path / "n.png", 100
    )
    assert_sensible_png(tmp_path / "f.png")
    assert_sensible_png(tmp_path / "n.png")


def test_distance_heatmap(tmp_path):
    rng = np.random.default_rng(2)
    values = rng.normal(size=(50, 8)) + np.repeat([0, 4], 4)
    d = vst.sample_distances(values)
    path = tmp_path / "d.png"
    plots.distance_heatmap(
        d, vst.cluster_linkage(d), [f"s{i}" for i in range(8)], ["A"] * 4 + ["B"] * 4, "group", path
    )
    assert_sensible_png(path)


def test_dispersion_plot(tmp_path, genes):
    path = tmp_path / "disp.png"
    outlier = (np.arange(2000) % 97 == 0).astype(float)
    final = np.where(outlier == 1, genes["disp_gene"], np.sqrt(genes["disp_gene"] * genes["disp_fit"]))
    plots.dispersion_plot(
        genes["base_mean"], genes["disp_gene"], genes["disp_fit"], final, outlier, path, "disp"
    )
    assert_sensible_png(path)


def test_ma_volcano_and_pvalue_plots(tmp_path, genes):
    top = np.arange(10)
    plots.ma_plot(
        genes["base_mean"], genes["lfc"], genes["padj"], 0.1, top, genes["ids"], tmp_path / "ma.png", "t", 1.0
    )
    plots.volcano_plot(
        genes["lfc"], genes["pvalue"], genes["padj"], 0.1, top, genes["ids"], tmp_path / "v.png", "t"
    )
    plots.pvalue_histogram(genes["pvalue"], genes["padj"], tmp_path / "p.png", "t")
    for name in ("ma.png", "v.png", "p.png"):
        assert_sensible_png(tmp_path / name)


def test_plots_survive_empty_and_all_na_input(tmp_path):
    empty, nan = np.zeros(0), np.full(5, np.nan)
    plots.ma_plot(empty, empty, empty, 0.1, np.zeros(0, dtype=int), [], tmp_path / "ma.png", "none")
    plots.volcano_plot(nan, nan, nan, 0.1, np.zeros(0, dtype=int), list("abcde"), tmp_path / "v.png", "none")
    plots.pvalue_histogram(nan, nan, tmp_path / "p.png", "none")
    plots.dispersion_plot(np.zeros(5), nan, nan, nan, nan, tmp_path / "d.png", "none")
    plots.cooks_boxplot(np.full((5, 3), np.nan), ["a", "b", "c"], None, tmp_path / "c.png", "none")
    plots.count_plot([], ["x"] * 3, "x", ["x"], None, None, tmp_path / "n.png", "none")
    for name in ("ma.png", "v.png", "p.png", "d.png", "c.png", "n.png"):
        assert_sensible_png(tmp_path / name, min_bytes=3_000)


def test_cooks_boxplot_and_cutoff_line(tmp_path):
    rng = np.random.default_rng(4)
    cooks = rng.exponential(0.1, size=(500, 6))
    cooks[:, 2] *= 30  # an outlier sample
    cooks[:3] = np.nan  # all-zero genes
    path = tmp_path / "cooks.png"
    quantile = cooks_cutoff(6, 2)
    plots.cooks_boxplot(cooks, [f"s{i}" for i in range(6)], filter_cutoff(True, quantile), path, "cooks")
    assert_sensible_png(path)
    # DESeq2: qf(0.99, 2, 4) = 18.0 (R); a number is used as given; false draws nothing
    assert filter_cutoff(True, quantile) == pytest.approx(18.0, rel=1e-12)
    assert filter_cutoff(2.5, quantile) == 2.5
    assert filter_cutoff(False, quantile) is None


# ---------------------------------------------------------------- count plots


def build_model(samples, entry: dict):
    return build_model_of(samples, Analysis.from_study("a", entry))


def sheet() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sample": [f"s{i}" for i in range(12)],
            "batch": ["b1", "b2", "b3"] * 4,
            "condition": ["ctrl"] * 6 + ["trt"] * 6,
            "age": [str(a) for a in (21, 25, 30, 34, 38, 45, 50, 52, 57, 61, 66, 70)],
            "time": ["d0", "d6"] * 6,
        }
    )


def test_plot_axes_follow_the_tested_variable():
    wald = build_model(
        sheet(), {"design": "~ batch + condition", "contrasts": {"c": ["condition", "trt", "ctrl"]}}
    )
    assert plots.plot_axes(wald.full, plots.tested_columns(wald, "c")) == ("condition", "batch")
    trait = build_model(sheet(), {"design": "~ condition + age", "contrasts": {"a": {"coef": "age"}}})
    assert plots.plot_axes(trait.full, plots.tested_columns(trait, "a")) == ("age", "condition")
    assert plots.count_plot_columns(wald, "c") == ["condition", "batch"]  # read without pandas
    assert plots.count_plot_columns(trait, "a") is None  # the whole sheet: the trait's fitted curves
    spline = build_model(
        sheet(), {"design": "~ batch + ns(age, df = 3)", "test": "lrt", "reduced": "~ batch"}
    )
    np.testing.assert_array_equal(plots.tested_columns(spline, "lrt"), [3, 4, 5])
    assert plots.plot_axes(spline.full, plots.tested_columns(spline, "lrt")) == ("age", "batch")
    inter = build_model(
        sheet(), {"design": "~ time * condition", "contrasts": {"i": {"coef": "timed6.conditiontrt"}}}
    )
    assert plots.plot_axes(inter.full, plots.tested_columns(inter, "i")) == ("time", "condition")
    alone = build_model(sheet(), {"design": "~ condition"})
    assert plots.plot_axes(alone.full, plots.tested_columns(alone, "results")) == ("condition", None)


def test_term_variables_match_whole_names_only():
    assert plots.term_variables("ns(age, df=3)", ["age", "ag", "stage"]) == ["age"]
    assert plots.term_variables("time:treatment", ["treatment", "time", "tim"]) == ["treatment", "time"]


def test_trait_curve_is_the_model_mean_at_the_reference_level():
    samples = sheet()
    model = build_model(samples, {"design": "~ condition + age"})
    beta = np.array([[3.0, 1.0, 0.05], [1.0, -2.0, -0.01]])  # log2: intercept, conditiontrt, age
    grid, curves = plots.trait_curves(
        samples, model.full.formula, model.full.factors, "age", "condition", beta
    )
    assert grid[0] == 21 and grid[-1] == 70
    np.testing.assert_allclose(curves["ctrl"], 2 ** (beta[:, [0]] + beta[:, [2]] * grid))
    np.testing.assert_allclose(curves["trt"], 2 ** (beta[:, [0]] + beta[:, [1]] + beta[:, [2]] * grid))


def test_trait_curve_through_a_spline_basis_matches_the_design_rows():
    samples = sheet()
    model = build_model(samples, {"design": "~ ns(age, df = 3)"})
    beta = np.array([[2.0, 1.0, -0.5, 0.7]])
    grid, curves = plots.trait_curves(samples, model.full.formula, model.full.factors, "age", None, beta)
    fitted = 2 ** (model.full.matrix @ beta[0])
    ages = samples["age"].astype(float).to_numpy()
    # the grid's end points are the youngest and oldest samples: same basis rows, same means
    np.testing.assert_allclose(curves[""][0, [0, -1]], fitted[[np.argmin(ages), np.argmax(ages)]], rtol=1e-10)


@pytest.mark.parametrize(
    "design, spec, table",
    [
        ("~ batch + condition", {"contrasts": {"c": ["condition", "trt", "ctrl"]}}, "c"),
        ("~ condition + age", {"contrasts": {"a": {"coef": "age"}}}, "a"),
        ("~ time * condition", {"contrasts": {"i": {"coef": "timed6.conditiontrt"}}}, "i"),
    ],
)
def test_top_gene_counts(tmp_path, design, spec, table):
    samples = sheet()
    model = build_model(samples, {"design": design, **spec})
    rng = np.random.default_rng(5)
    counts = rng.poisson(50, size=(5, 12))
    beta = np.column_stack([np.full(5, np.log2(50))] + [np.zeros(5)] * (model.full.matrix.shape[1] - 1))
    path = tmp_path / f"{table}.png"
    plots.top_gene_counts(
        model,
        table,
        [f"g{i}" for i in range(5)],
        np.array([1e-300, 0.0, 0.01, np.nan, 0.5]),
        counts,
        np.ones(12),
        beta,
        path,
        "top genes",
    )
    assert_sensible_png(path)


def test_dollar_signs_in_ids_are_text_not_math(tmp_path, genes):
    """An id like `a$^^$` or `$\\q$` once crashed the plots (not valid matplotlib mathtext)."""
    ids = [f"g{i}$^^$" if i % 2 else f"${i}\\q$" for i in range(len(genes["ids"]))]
    top = np.arange(10)
    plots.ma_plot(genes["base_mean"], genes["lfc"], genes["padj"], 0.1, top, ids, tmp_path / "ma.png", "$t")
    samples = [f"s${i}^^$" for i in range(9)]
    result = vst.pca(np.random.default_rng(1).normal(size=(100, 9)))
    plots.pca_plot(result.scores, result.percent_var, samples, ["$a", "b$", "c"] * 3, "gr$", tmp_path / "f.png", 100)
    for name in ("ma.png", "f.png"):
        assert_sensible_png(tmp_path / name)


def limma_table(n: int = 400, f_test: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    p = rng.uniform(size=n) ** 2
    table = pd.DataFrame({"feature_id": [f"cg{i}" for i in range(n)], "logFC": rng.normal(size=n),
                          "AveExpr": rng.normal(2, 3, size=n)})  # negative averages: a linear axis
    if f_test:
        table = table.rename(columns={"logFC": "caseSLE"}).assign(F=rng.gamma(2, size=n))
    else:
        table = table.assign(t=rng.normal(size=n), B=rng.normal(size=n))
    return table.assign(**{"P.Value": p, "adj.P.Val": np.minimum(1, p * 4)})


@pytest.mark.parametrize("f_test", [False, True])
def test_limma_table_plots(tmp_path, f_test):
    paths = {name: tmp_path / f"{name}.png" for name in ("ma", "volcano", "pvalues")}
    plots.limma_table_plots(limma_table(f_test=f_test), np.arange(5), 0.1, 0.5, paths, "limma")
    for path in paths.values():
        assert_sensible_png(path)


def test_sigma_mean_plot_with_a_constant_and_a_trended_prior(tmp_path):
    rng = np.random.default_rng(4)
    amean, sigma = rng.normal(2, 3, size=500), rng.gamma(4, 0.1, size=500)
    sigma[:5] = np.nan  # features without residual df
    plots.sigma_mean_plot(amean, sigma, np.full(500, 0.2), tmp_path / "flat.png", "flat")
    plots.sigma_mean_plot(amean, sigma, 0.1 + 0.01 * (amean - amean.min()), tmp_path / "trend.png", "trend")
    plots.sigma_mean_plot(np.full(3, np.nan), np.full(3, np.nan), np.ones(3), tmp_path / "none.png", "none")
    for name in ("flat.png", "trend.png"):
        assert_sensible_png(tmp_path / name)
    assert_sensible_png(tmp_path / "none.png", min_bytes=3_000)


def test_top_feature_values_draw_a_trait_line_on_the_value_scale(tmp_path):
    import pandas as pd
    from glmstack.design.model import build_model
    from glmstack.spec import Analysis

    rng = np.random.default_rng(1)
    sheet = pd.DataFrame({"sample": [f"s{i}" for i in range(10)], "age": np.linspace(20, 70, 10)})
    model = build_model(sheet, Analysis.from_study("a", {"design": "~ age", "contrasts": {"age": {"coef": "age"}}}))
    beta = np.array([[5.0, 0.05], [2.0, -0.01]])
    values = beta @ model.full.matrix.T + rng.normal(0, 0.1, (2, 10))
    grid, curves = plots.trait_curves(sheet, "~ age", {}, "age", None, beta, log_link=False)
    np.testing.assert_allclose(curves[""][0], 5.0 + 0.05 * grid)  # the fitted line, not 2^line
    path = tmp_path / "values.png"
    plots.top_feature_values(model, "age", ["f1", "f2"], np.array([0.01, 0.2]), values, beta, path, "t")
    assert path.stat().st_size > 0


def test_every_drawing_function_shows_text_as_written():
    """Each public function that saves a figure is wrapped by plots.plain_text (ids are data,
    never mathtext), so no figure can be drawn outside the setting."""
    import inspect
    import re

    from glmstack.report import reverse_plots, sva

    drawing = []
    for module in (plots, reverse_plots, sva):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            source = inspect.getsource(inspect.unwrap(function))
            if re.search(r"_finish\w*\(|_save\(|_points_and_curve\(", source):
                drawing.append(name)
                assert getattr(function, "plain_text", False), f"{module.__name__}.{name} is not @plain_text"
    assert len(drawing) >= 16


def test_per_sample_plots_of_many_samples_keep_their_size(tmp_path):
    """1000 samples: no label per sample, figures no larger than for 60 (a label per sample was
    most of the drawing, and the 0.25-inch row per sample made a 250-inch figure)."""
    rng = np.random.default_rng(4)
    few, many = [f"s{i}" for i in range(60)], [f"s{i}" for i in range(1000)]
    sizes = {}
    for names in (few, many):
        n = len(names)
        distances = np.abs(rng.normal(size=(n, n)))
        distances = distances + distances.T
        np.fill_diagonal(distances, 0)
        linkage = vst.cluster_linkage(distances)
        paths = {k: tmp_path / f"{k}{n}.png" for k in ("sf", "heat", "cooks")}
        plots.size_factor_plot(names, rng.uniform(0.5, 2, n), rng.uniform(1e6, 3e7, n), paths["sf"])
        plots.distance_heatmap(distances, linkage, names, ["a", "b"] * (n // 2), "group", paths["heat"])
        plots.cooks_boxplot(rng.exponential(size=(500, n)), names, 3.0, paths["cooks"], "cooks")
        for path in paths.values():
            assert_sensible_png(path)
        sizes[n] = {k: png_size(p) for k, p in paths.items()}
    for kind in ("sf", "heat", "cooks"):
        assert sizes[1000][kind][0] <= sizes[60][kind][0] + 400 and sizes[1000][kind][1] <= sizes[60][kind][1]


def test_log_axes_label_decades_as_plain_numbers():
    """Figures show every text as written (plain_text), so matplotlib's mathtext decade labels
    (`$\\mathdefault{10^{3}}$`) would appear raw: log axes label decades as plain numbers."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.scatter([0.05, 3, 2e5], [1e-3, 0.1, 5])
    plots._plain_log_scale(ax, "x")
    plots._plain_log_scale(ax, "y")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    assert "1,000" in labels and "0.01" in labels
    assert not any("$" in label or "mathdefault" in label for label in labels)


@pytest.mark.parametrize(
    "values",
    [
        [str(x) for x in range(9)],
        ["1.5", "2e3", " 7 ", "+3", ".5", "1.", "-inf", "8", "9"],  # numbers as pandas reads them
        ["1", "2", "3", "4", "5"],  # five values: a factor
        ["1", "2", "3", "4", "5", "6", "1_000"],  # float() reads 1_000, pandas does not
        ["1", "2", "3", "4", "5", "6", "\u0661\u0662"],  # nor Arabic-Indic digits
        ["1", "2", "3", "4", "5", "6", "nan"],
        ["1", "2", "3", "4", "5", "6", float("nan")],  # a missing value of the sheet
        ["1", "2", "3", "4", "5", "6", "0x10"],
        ["a", "b", "c", "d", "e", "f"],
    ],
)
def test_numeric_colours_are_what_pandas_reads_as_numbers(values):
    as_number = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce")
    expected = None if as_number.isna().any() or as_number.nunique() <= 5 else as_number.to_numpy(dtype=float)
    got = plots._numeric(values)
    assert (got is None) == (expected is None)
    if expected is not None:
        np.testing.assert_array_equal(got, expected)


SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.mark.parametrize("script", ["plot_study", "plot_analysis"])
def test_study_and_analysis_plots_start_without_pandas_arrow_or_scipy_interpolate(script):
    """pandas (0.2 s, also pulled in by Arrow) and scipy.interpolate (0.3 s) were most of the
    start of these jobs, which need neither."""
    code = f"import sys; import {script}; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=SCRIPTS, check=True, capture_output=True,
                                text=True).stdout.split())
    assert not loaded & {"pandas", "pyarrow", "scipy.interpolate", "formulaic"}
    if script == "plot_analysis":  # its Cook's cutoff comes from the trend job's F quantile
        assert "scipy.special" not in loaded


def test_the_study_plots_draw_without_pandas_or_arrow(tmp_path):
    """The whole plot_study job, on 12 samples: the functions it calls import no pandas either."""
    rng = np.random.default_rng(11)
    samples = [f"s{i}" for i in range(12)]
    (tmp_path / "samples.tsv").write_text(
        "sample\tcondition\tage\n" + "".join(f"{s}\t{'ab'[i % 2]}\t{20 + i}\n" for i, s in enumerate(samples))
    )
    (tmp_path / "manifest.json").write_text(
        json.dumps({"samples": samples, "size_factors": rng.uniform(0.5, 2, 12).tolist()})
    )
    values = rng.normal(size=(50, 12))
    np.savez(tmp_path / "vst.npz", format_version=FORMAT_VERSION, gene_id=np.arange(50).astype(str),
             top_values=values, distances=vst.sample_distances(values), library_sizes=rng.uniform(1e6, 2e6, 12))
    code = f"""
import sys
from pathlib import Path
from types import SimpleNamespace as N
import plot_study
out = Path({str(tmp_path)!r})
for colour in ("condition", "age"):
    plot_study.main(N(
        input=N(plot_data=str(out / "vst.npz"), manifest=str(out / "manifest.json"), samples=str(out / "samples.tsv")),
        output=N(size_factors=str(out / "sf.png"), pca=str(out / "pca.png"), distances=str(out / "d.png"),
                 pca_table=str(out / f"pca_{{colour}}.tsv")),
        params=N(plot={{"color_by": colour}}), log=[str(out / "log.txt")]))
print(" ".join(sorted(sys.modules)))
"""
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=SCRIPTS, check=True, capture_output=True,
                                text=True).stdout.split())
    assert not loaded & {"pandas", "pyarrow", "scipy.interpolate", "formulaic"}
    table = pd.read_csv(tmp_path / "pca_age.tsv", sep="\t")
    assert table["sample"].tolist() == samples and table["age"].tolist() == list(range(20, 32))
    for name in ("sf.png", "pca.png", "d.png"):
        assert_sensible_png(tmp_path / name)


B_VS_A = {"b_vs_a": ["condition", "b", "a"]}
CONTRAST_JOBS = {  # analysis -> (its entry, the table drawn, whether the job may import pandas)
    "factor": ({"design": "~ batch + condition", "contrasts": B_VS_A}, "b_vs_a", False),
    "colour_trait": ({"design": "~ age + condition", "contrasts": B_VS_A}, "b_vs_a", False),
    # the rare paths: a trait's fitted curves rebuild the design, bins are made, with pandas
    "trait": ({"design": "~ condition + age", "contrasts": {"age": {"coef": "age"}}}, "age", True),
    "bins": ({"design": "~ batch + age_group", "bins": {"age_group": {"column": "age", "quantiles": 2}},
              "contrasts": {"old": ["age_group", "Q2", "Q1"]}}, "old", True),
}  # fmt: skip
CONTRAST_OUTPUTS = {**{key: f"{key}.png" for key in ("ma", "volcano", "pvalues", "counts")}, "top": "top.tsv"}


def contrast_job(folder: Path, name: str) -> dict:
    """The input and params of a plot_analysis job for a small nb analysis with one result table
    (40 genes in two fit and count shards, 8 samples listed in another order than the counts',
    genes named where the annotation has a name); its outputs go to `folder`/job."""
    from glmstack.design.matrices import model_to_params
    from glmstack.io.files import write_npz
    from glmstack.io.samples import aligned_samples
    from glmstack.io.tables import write_tsv

    entry, table, _ = CONTRAST_JOBS[name]
    rng = np.random.default_rng(8)
    samples = [f"s{i}" for i in range(8)]
    pd.DataFrame({"sample": samples, "batch": ["x", "y"] * 4, "condition": ["a"] * 4 + ["b"] * 4,
                  "age": ["23", "35", "41", "52", "60", "29", "47", "33"]}).iloc[::-1].to_csv(
        folder / "samples.tsv", sep="\t", index=False)  # fmt: skip
    analysis = Analysis.from_study(name, entry)
    model = build_model_of(aligned_samples(folder / "samples.tsv", samples), analysis)
    n = 40
    gene_id = np.array([f"ENSG{i:04d}" for i in range(n)])
    names = np.where(np.arange(n) % 3 == 0, "", np.char.add("G", gene_id))  # a third without a name
    write_tsv(folder / "features.tsv", {"gene_id": gene_id, "gene_name": names})
    pvalue = rng.uniform(size=n) ** 4
    pvalue[[3, 17]] = np.nan  # untested
    pvalue[[5, 6, 7]] = 0.0  # ties: padj 0, then table order
    fit = {"base_mean": rng.uniform(1, 500, n), "beta": rng.normal(4, 1, (n, model.full.matrix.shape[1])),
           f"estimate[{table}]": rng.normal(size=n), f"std_error[{table}]": rng.uniform(0.1, 1, n),
           f"statistic[{table}]": rng.normal(size=n), f"pvalue[{table}]": pvalue,
           "disp_gene_est": rng.uniform(1e-3, 1, n), "disp_fit": rng.uniform(0.01, 0.5, n),
           "dispersion": rng.uniform(0.01, 0.5, n), "disp_outlier": rng.random(n) < 0.1,
           "cooks": rng.exponential(0.1, (n, 8)).astype(np.float32)}  # fmt: skip
    counts = rng.poisson(40, (n, 8))
    shards = {"0000": slice(0, 25), "0001": slice(25, n)}
    for shard, rows in shards.items():
        write_npz(folder / "shards" / f"{shard}.npz", {"gene_id": gene_id[rows], "counts": counts[rows]})
        arrays = {f"{name}.{key}": values[rows] for key, values in fit.items()}  # as rule fit names them
        write_npz(folder / "fit" / f"{shard}.npz", {"gene_id": gene_id[rows], **arrays})
    size_factors = rng.uniform(0.5, 2, 8).tolist()
    (folder / "manifest.json").write_text(json.dumps({"samples": samples, "size_factors": size_factors}))
    (folder / "trend.json").write_text(json.dumps({"cooks_f_quantile": 0.9}))
    inputs = {"features": folder / "features.tsv", "manifest": folder / "manifest.json",
              "samples": folder / "samples.tsv", "trend": folder / "trend.json"}  # fmt: skip
    return {
        "input": {**{key: str(path) for key, path in inputs.items()}, "shrunk": [],
                  "fits": [str(folder / "fit" / f"{s}.npz") for s in shards],
                  "shards": [str(folder / "shards" / f"{s}.npz") for s in shards]},
        "params": {"analyses": [{
            "analysis": analysis.params("plots"), "model": model_to_params(model, samples), "shrunk": [],
            "outputs": {**{key: str(folder / "job" / f"{key}.png") for key in ("dispersion", "cooks")},
                        "tables": {table: {key: str(folder / "job" / file) for key, file in CONTRAST_OUTPUTS.items()}}},
        }], "top_genes": 12},
        "log": [str(folder / "job.log")],
    }  # fmt: skip


def contrast_with_frames(smk: dict, out: Path) -> None:
    """The table plots of rule plot_analysis drawn as the job drew them with the table and the
    sample sheet as pandas DataFrames (top genes: `top_genes`, row positions in its index)."""
    import dataclasses

    from glmstack.design.covariates import design_samples
    from glmstack.design.matrices import model_from_params
    from glmstack.io.annotation import annotation_columns, feature_labels
    from glmstack.io.features import read_features
    from glmstack.io.samples import aligned_samples
    from glmstack.io.shards import concat_fits, map_shard_counts, read_fit, select_pairs
    from glmstack.io.tables import write_tsv
    from glmstack.nb.results import analysis_tables
    from glmstack.report.summary import top_genes

    inputs, (params,) = smk["input"], smk["params"]["analyses"]
    (table_name,) = params["outputs"]["tables"]
    analysis = Analysis.from_params(params["analysis"])
    name = f"{analysis.name}: {table_name}"
    annotation = annotation_columns(inputs["features"])
    fit = concat_fits(inputs["fits"], analysis.name)
    columns, _ = analysis_tables(fit, [], read_features(inputs["features"]), analysis)[table_name]
    table = pd.DataFrame(columns)
    top = top_genes(table, smk["params"]["top_genes"], annotation)
    rows = top.index.to_numpy()
    paths = {key: out / file for key, file in CONTRAST_OUTPUTS.items()}
    plots.table_plots(table, rows[: plots.MAX_LABELS], analysis.alpha, analysis.lfc_threshold, paths, name,
                      annotation)
    manifest = json.loads(Path(inputs["manifest"]).read_text())
    sheet, _ = design_samples(aligned_samples(inputs["samples"], manifest["samples"]), analysis)
    model = dataclasses.replace(model_from_params(params["model"], manifest["samples"]), samples=sheet)
    beta = np.concatenate([read_fit(p, analysis.name, ["beta"])["beta"] for p in inputs["fits"]])[rows]
    sf = np.asarray(manifest["size_factors"])
    counts, factors = select_pairs((map_shard_counts(p, sf) for p in inputs["shards"]), rows)
    genes, padj = feature_labels(top, annotation), top["padj"].to_numpy(dtype=float)
    plots.top_gene_counts(model, table_name, genes, padj, counts, factors, beta, paths["counts"],
                          f"{name}: top {len(top)} genes by padj")
    write_tsv(paths["top"], top)


@pytest.mark.parametrize("name", list(CONTRAST_JOBS))
def test_the_contrast_plots_draw_without_pandas_what_frames_drew(tmp_path, name):
    """A plot_analysis job keeps each table as a dict of columns and reads the sample columns it
    plots without pandas (0.2 s of the job's start): every table file it writes has the bytes of
    the DataFrame path's. A trait's curves and bins still load pandas (the whole sheet)."""
    smk = contrast_job(tmp_path, name)
    (tmp_path / "smk.json").write_text(json.dumps(smk))
    code = """
import json, sys
from types import SimpleNamespace as N
import plot_analysis
smk = json.load(open(sys.argv[1]))
plot_analysis.main(N(**{key: N(**value) if isinstance(value, dict) else value for key, value in smk.items()}))
print(" ".join(sorted(sys.modules)))
"""
    job = subprocess.run([sys.executable, "-c", code, str(tmp_path / "smk.json")], cwd=SCRIPTS, check=True,
                         capture_output=True, text=True)
    loaded = set(job.stdout.split())
    if not CONTRAST_JOBS[name][2]:
        assert not loaded & {"pandas", "pyarrow.pandas_compat", "formulaic", "scipy.interpolate"}
    contrast_with_frames(smk, tmp_path / "frames")
    for key, file in CONTRAST_OUTPUTS.items():
        assert (tmp_path / "job" / file).read_bytes() == (tmp_path / "frames" / file).read_bytes(), key
    for key in ("dispersion", "cooks"):
        assert_sensible_png(tmp_path / "job" / f"{key}.png")
    top = pd.read_csv(tmp_path / "job" / "top.tsv", sep="\t", keep_default_na=False, na_values=[""])
    assert list(top.columns) == ["gene_id", "gene_name", "baseMean", "log2FoldChange", "pvalue", "padj"]
    assert len(top) == 12 and top["gene_name"].isna().any() and top["gene_name"].notna().any()
    assert top["padj"].is_monotonic_increasing and top["padj"].iloc[0] == 0.0
    assert top["gene_id"].tolist()[:3] == ["ENSG0005", "ENSG0006", "ENSG0007"]  # padj 0: in table order


@pytest.mark.parametrize("n_genes", [1, 2, 5, 998, 1001])
def test_box_statistics_are_matplotlibs_boxplot_numbers(n_genes):
    """Whiskers at the range (whis=(0, 100), DESeq2's range = 0) and the quartiles, per column,
    over the genes without NaN, from row blocks (shards) as from the stacked matrix."""
    from matplotlib import cbook

    rng = np.random.default_rng(n_genes)
    cooks = rng.exponential(0.1, size=(n_genes, 7)) * rng.choice([1.0, 1e-8, 1e5], size=(n_genes, 7))
    cooks[:, 3] = np.round(cooks[:, 3], 1)  # ties
    cooks[rng.random(n_genes) < 0.1, 1] = np.nan  # genes with a NaN: left out in every column
    cooks[:, 6] = 0.25  # one value
    finite = cooks[np.all(np.isfinite(cooks), axis=1)]
    stats = plots.box_statistics([cooks[:n_genes // 3], cooks[n_genes // 3 :]])
    if finite.shape[0] == 0:
        assert np.isnan(stats).all()
        return
    for j in range(7):
        (expected,) = cbook.boxplot_stats(finite[:, j], whis=(0, 100))
        got = dict(zip(["whislo", "q1", "med", "q3", "whishi"], stats[:, j]))
        assert got == {k: expected[k] for k in got}, j  # exactly the same doubles
    np.testing.assert_array_equal(stats, np.percentile(finite, [0, 25, 50, 75, 100], axis=0))
    np.testing.assert_array_equal(plots.box_statistics([cooks]), stats)


def test_box_statistics_of_single_precision_blocks_are_those_of_their_doubles():
    """The fit jobs store Cook's distances in single precision: gathered and sorted as they are,
    their quartiles are np.percentile's of the same values as doubles, to the last bit."""
    rng = np.random.default_rng(3)
    cooks = (rng.exponential(0.1, size=(1001, 9)) * rng.choice([1.0, 1e-8, 1e5], size=(1001, 9))).astype(np.float32)
    cooks[rng.random(1001) < 0.1, 2] = np.nan
    finite = cooks[np.all(np.isfinite(cooks), axis=1)].astype(float)
    stats = plots.box_statistics([cooks[:400], cooks[400:]])
    assert stats.dtype == np.float64
    np.testing.assert_array_equal(stats, np.percentile(finite, [0, 25, 50, 75, 100], axis=0))


def test_box_statistics_of_no_gene_are_nan():
    assert np.isnan(plots.box_statistics([np.full((4, 3), np.nan), np.zeros((0, 3))])).all()
    assert plots.box_statistics([np.zeros((0, 3))]).shape == (5, 3)


@pytest.mark.parametrize("numeric_x", [False, True])
def test_count_plots_of_many_samples_show_their_boxes(tmp_path, monkeypatch, numeric_x):
    """1000 samples: small light points under the boxes (with a point per sample over them, the
    boxes of a dense cell were hidden); 60 samples: points with edges over the boxes."""
    from matplotlib.collections import LineCollection, PathCollection

    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig))
    rng = np.random.default_rng(12)
    n = 1000
    panels = [plots.CountPanel(f"g{i}", 1e-5, rng.lognormal(4, 1, n)) for i in range(3)]
    batch = rng.choice(["b1", "b2"], n).tolist()
    if numeric_x:
        x_values, x_levels, grid = rng.uniform(20, 70, n).tolist(), None, np.linspace(20, 70, 5)
        panels = [plots.CountPanel(p.gene_id, p.padj, p.normalized, {"b1": np.full(5, 50.0)}) for p in panels]
    else:
        x_values, x_levels, grid = rng.choice(["a", "b"], n).tolist(), ["a", "b"], None
    plots.count_plot(panels, x_values, "x", x_levels, batch, "batch", tmp_path / "many.png", "many", grid)
    few = [plots.CountPanel(p.gene_id, p.padj, p.normalized[:60], p.curves) for p in panels]
    plots.count_plot(few, x_values[:60], "x", x_levels, batch[:60], "batch", tmp_path / "few.png", "few", grid)
    for fig, above in zip(figures, (True, False)):
        ax = fig.axes[0]
        points = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
        boxes = [c for c in ax.collections if isinstance(c, LineCollection)]
        assert len(points) == 2  # one scatter per colour
        assert len(boxes) == (0 if numeric_x else 2)
        assert all((b.get_zorder() > p.get_zorder()) == above for b in boxes for p in points)
        assert all((p.get_sizes()[0] < 14) == above for p in points)
