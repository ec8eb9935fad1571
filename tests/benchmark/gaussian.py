#!/usr/bin/env python3
"""Benchmark of the gaussian family: the workflow up to the tables against R limma, side by side.

Not a test (pytest does not collect this file). Run from the repository root:

    .venv/bin/python tests/benchmark/gaussian.py --sizes 500000x100,50000x1000 --repeats 1 --compare-limma
    .venv/bin/python tests/benchmark/gaussian.py --sizes 50000x200 --repeats 3 --analyses 1,2

--analyses 1,2 runs the study with one analysis and with two of one design (the moderated t, and
the moderated F of `test: lrt`), which share one least-squares fit per shard; the cost of the
second analysis is its moderation and table alone.

For each size (features x samples) it writes a seeded synthetic value matrix once (log-scale
values, design ~ batch + condition, 10 % of features shifted by condition, 1 % of cells NA with
--missing), then runs the workflow to the moderated-t table and model.json (no plots, no report)
and, with --compare-limma, an R script doing what a limma user writes: data.table::fread,
lmFit, eBayes, topTable, fwrite. Runs alternate; medians of wall seconds and peak RSS (of the
largest process; for glmstack also of the largest job) are printed with the agreement of t.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from run import ROOT, median, parse_sizes, rule_times, size_name, timed

TABLE = "treated_vs_untreated"
LIMMA_SCRIPT = r"""
suppressPackageStartupMessages({library(limma); library(data.table)})
args <- commandArgs(trailingOnly = TRUE)
values <- fread(args[1], sep = "\t", data.table = FALSE, na.strings = c("", "NA"))
rownames(values) <- values[[1]]
values <- as.matrix(values[, -1])
samples <- read.delim(args[2], colClasses = "character")
samples <- samples[match(colnames(values), samples$sample), ]
condition <- factor(samples$condition, levels = c("untreated", "treated"))
batch <- factor(samples$batch, levels = c("b1", "b2"))
fit <- eBayes(lmFit(values, model.matrix(~ batch + condition)))
top <- topTable(fit, coef = "conditiontreated", number = Inf, sort.by = "none")
fwrite(data.frame(feature_id = rownames(top), top), args[3], sep = "\t")
"""


def simulate(features: int, samples: int, seed: int, missing: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded log-scale values: feature means ~ N(8, 2), sd per feature from a scaled inverse
    chi-square (d0 = 4), 10 % of features with a condition effect, a small batch effect."""
    rng = np.random.default_rng([seed, features, samples])
    condition = np.arange(samples) % 2
    batch = (np.arange(samples) // 2) % 2
    sd = np.sqrt(0.25 * 4 / rng.chisquare(4, features))
    effect = np.where(rng.random(features) < 0.1, rng.normal(0, 1, features), 0.0)
    values = (
        rng.normal(8, 2, (features, 1))
        + effect[:, None] * condition
        + rng.normal(0, 0.2, (features, 1)) * batch
        + rng.normal(0, 1, (features, samples)) * sd[:, None]
    )
    if missing > 0:
        values[rng.random(values.shape) < missing] = np.nan
    names = [f"s{i + 1:04d}" for i in range(samples)]
    frame = pd.DataFrame(values.round(6), columns=names)
    frame.insert(0, "feature_id", [f"f{i + 1:07d}" for i in range(features)])
    sheet = pd.DataFrame(
        {"sample": names, "batch": np.where(batch == 1, "b2", "b1"), "condition": np.where(condition == 1, "treated", "untreated")}
    )
    return frame, sheet


def study_files(data_dir: Path, features: int, samples: int, seed: int, missing: float) -> tuple[Path, Path]:
    where = data_dir / f"values-{size_name(features, samples)}-seed{seed}-na{missing}"
    values, sheet = where / "values.tsv", where / "samples.tsv"
    if not (values.exists() and sheet.exists()):
        where.mkdir(parents=True, exist_ok=True)
        frame, sheet_frame = simulate(features, samples, seed, missing)
        frame.to_csv(f"{values}.tmp", sep="\t", index=False, na_rep="NA")
        sheet_frame.to_csv(sheet, sep="\t", index=False)
        os.replace(f"{values}.tmp", values)
    return values, sheet


LEVELS = {"batch": ["b1", "b2"], "condition": ["untreated", "treated"]}
ANALYSES = {  # analyses of one design, in the order --analyses adds them: they share the lmfit jobs
    "condition": {"design": "~ batch + condition", "levels": LEVELS,
                  "contrasts": {TABLE: ["condition", "treated", "untreated"]}},
    "condition_f": {"design": "~ batch + condition", "levels": LEVELS, "test": "lrt", "reduced": "~ batch"},
}  # fmt: skip


def run_glmstack(values: Path, sheet: Path, where: Path, cores: int, n_analyses: int = 1):
    """The workflow to the tables (target `tables`) with the first `n_analyses` of ANALYSES."""
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    analyses = dict(list(ANALYSES.items())[:n_analyses])
    study = {"values": str(values), "samples": str(sheet), "outdir": "out", "analyses": analyses}
    (where / "study.yaml").write_text(yaml.safe_dump(study, sort_keys=False))
    cmd = [
        sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(where),
        "tables", "--configfile", str(where / "study.yaml"), "--cores", str(cores), "--quiet", "rules",
    ]  # fmt: skip
    run = timed(cmd, where, where / "snakemake.log")
    rules = rule_times(where / "out")
    run.extra["largest_job_rss_mb"] = max((r["max_rss_mb"] for r in rules.values()), default=float("nan"))
    run.extra["rules"] = rules
    run.extra["job_s"] = sum(r["s"] for r in rules.values())
    return run, where / "out" / "condition" / f"{TABLE}.tsv"


def run_limma(values: Path, sheet: Path, where: Path):
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    (where / "limma.R").write_text(LIMMA_SCRIPT)
    table = where / "limma.tsv"
    return timed(["Rscript", str(where / "limma.R"), str(values), str(sheet), str(table)], where, where / "limma.log"), table


def agreement(ours: Path, theirs: Path) -> dict:
    a = pd.read_csv(ours, sep="\t", index_col=0)
    b = pd.read_csv(theirs, sep="\t", index_col=0).loc[a.index]
    ok = a["t"].notna() & b["t"].notna()
    tiny = np.finfo(float).tiny  # below it (subnormal or 0) neither side keeps 53 bits
    positive = ok & (a["P.Value"] > tiny) & (b["P.Value"] > tiny)
    return {
        "t_pearson": float(np.corrcoef(a["t"][ok], b["t"][ok])[0, 1]),
        "max_abs_log10_p": float(np.max(np.abs(np.log10(a["P.Value"][positive]) - np.log10(b["P.Value"][positive])))),
        "same_na": bool((a["t"].isna() == b["t"].isna()).all()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500000x100,50000x1000")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--compare-limma", action="store_true")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--missing", type=float, default=0.0, help="share of NA cells (default 0)")
    parser.add_argument("--seed", type=int, default=20251126)
    parser.add_argument(
        "--analyses", default="1", help="numbers of analyses of one design to run, e.g. 1,2 (default 1)"
    )
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "glmstack-benchmark")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.analyses.split(",")]
    rows, shared = [], []
    for features, samples in parse_sizes(args.sizes):
        name = size_name(features, samples)
        t0 = time.perf_counter()
        values, sheet = study_files(args.workdir / "data", features, samples, args.seed, args.missing)
        print(f"== {name}: data {values.parent} ({time.perf_counter() - t0:.1f} s to prepare)", flush=True)
        ours, theirs, tables = {n: [] for n in counts}, [], {}
        tools = [f"glmstack{n}" for n in counts] + (["limma"] if args.compare_limma else [])
        for rep in range(args.repeats):
            for tool in tools if rep % 2 == 0 else tools[::-1]:  # runs alternate
                where = args.workdir / "runs" / f"values-{name}" / tool
                if tool == "limma":
                    run, tables["limma"] = run_limma(values, sheet, where)
                    theirs.append(run)
                else:
                    n = int(tool.removeprefix("glmstack"))
                    run, tables["glmstack"] = run_glmstack(values, sheet, where, args.cores, n)
                    ours[n].append(run)
                jobs = f"  jobs {run.extra['job_s']:7.1f} s" if "job_s" in run.extra else ""
                jobs += f"  CPU {run.extra['cpu_s']:7.1f} s"
                print(f"   run {rep + 1}: {tool:9s} {run.wall_s:8.1f} s{jobs}  peak RSS {run.peak_rss_mb:7.0f} MB",
                      flush=True)
        first = ours[counts[0]]
        row = {
            "size": name,
            "glmstack_s": median([r.wall_s for r in first]),
            "glmstack_peak_mb": median([r.peak_rss_mb for r in first]),
            "largest_job_mb": median([r.extra["largest_job_rss_mb"] for r in first]),
            "rules": {rule: round(v["s"], 1) for rule, v in first[0].extra["rules"].items()},
        }
        if theirs:
            row |= {
                "limma_s": median([r.wall_s for r in theirs]),
                "limma_peak_mb": median([r.peak_rss_mb for r in theirs]),
                **agreement(tables["glmstack"], tables["limma"]),
            }
        print(row, flush=True)
        rows.append(row)
        for n in counts:
            shared.append({"size": name, "analyses": n, "wall_s": median([r.wall_s for r in ours[n]]),
                           "job_s": median([r.extra["job_s"] for r in ours[n]]),
                           "cpu_s": median([r.extra["cpu_s"] for r in ours[n]]),
                           "lmfit_jobs": ours[n][0].extra["rules"].get("lmfit", {}).get("jobs", 0)})
    if args.compare_limma:
        print("\n| size | glmstack s | limma s | ratio | peak MB glmstack (largest job) / limma | t Pearson | max abs dlog10 p |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            limma_s = r.get("limma_s", float("nan"))
            print(
                f"| {r['size']} | {r['glmstack_s']:.1f} | {limma_s:.1f} | {r['glmstack_s'] / limma_s:.2f} | "
                f"{r['glmstack_peak_mb']:.0f} ({r['largest_job_mb']:.0f}) / {r.get('limma_peak_mb', float('nan')):.0f} | "
                f"{r.get('t_pearson', float('nan')):.6f} | {r.get('max_abs_log10_p', float('nan')):.2g} |"
            )
    print(f"\n| size | analyses | wall s (median of {args.repeats}) | summed job s | CPU s | lmfit jobs | x the first |")
    print("|---|---|---|---|---|---|---|")
    for r in shared:
        base = next(b for b in shared if b["size"] == r["size"])
        print(f"| {r['size']} | {r['analyses']} | {r['wall_s']:.1f} | {r['job_s']:.1f} | {r['cpu_s']:.1f} | "
              f"{r['lmfit_jobs']} | {r['wall_s'] / base['wall_s']:.2f} (jobs {r['job_s'] / base['job_s']:.2f}, "
              f"CPU {r['cpu_s'] / base['cpu_s']:.2f}) |")

if __name__ == "__main__":
    main()
