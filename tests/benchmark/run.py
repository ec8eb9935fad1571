#!/usr/bin/env python3
"""Benchmark: the whole workflow on seeded synthetic negative-binomial studies.

Not a test (pytest does not collect this file). Run from the repository root:

    .venv/bin/python tests/benchmark/run.py --sizes 20000x8,20000x48 --repeats 3 --compare-deseq2

For each size (genes x samples) it writes a synthetic study once (cached by size and seed),
then runs `snakemake --cores N` on it in a fresh directory `--repeats` times and prints the
median wall seconds, the peak RSS of the largest process of the run and of the largest job, and
the seconds spent per rule (from the `benchmark:` files under <outdir>/benchmarks/). With
`--compare-deseq2` it alternates each run with R DESeq2 (DESeqDataSetFromMatrix, DESeq, results)
on the same files, and prints the ratio glmstack / DESeq2 and the agreement of the two results.
See tests/benchmark/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZES = "20000x8,20000x48,20000x200,20000x1000,60000x200"
CONTRAST = ["condition", "treated", "untreated"]
TABLE = "treated_vs_untreated"
SECOND_ANALYSIS = "condition_lrt"  # --second-analysis: the LRT of the same design

# The R scripts read the study's files the same way (t0: before reading).
R_READ = r"""
suppressPackageStartupMessages({library(data.table)})
args <- commandArgs(trailingOnly = TRUE)
t0 <- proc.time()[["elapsed"]]
counts <- fread(args[1], sep = "\t", data.table = FALSE)
rownames(counts) <- counts[[1]]
counts <- as.matrix(counts[, -1])
samples <- read.delim(args[2], colClasses = "character")
rownames(samples) <- samples$sample
samples <- samples[colnames(counts), ]
samples$batch <- factor(samples$batch)
samples$condition <- factor(samples$condition, levels = c("untreated", "treated"))
"""
# R side of --compare-deseq2: the three calls a DESeq2 user makes, on the same files.
DESEQ2_SCRIPT = "suppressPackageStartupMessages(library(DESeq2))" + R_READ + r"""
t1 <- proc.time()[["elapsed"]]
dds <- DESeqDataSetFromMatrix(counts, samples, design = ~ batch + condition)
dds <- DESeq(dds, quiet = TRUE)
res <- results(dds, contrast = c("condition", "treated", "untreated"))
t2 <- proc.time()[["elapsed"]]
out <- data.frame(gene_id = rownames(res), as.data.frame(res), check.names = FALSE)
write.table(out, args[3], sep = "\t", quote = FALSE, row.names = FALSE, na = "")
cat(sprintf("deseq2_read_s\t%.3f\ndeseq2_fit_s\t%.3f\n", t1 - t0, t2 - t1))
"""
# R sides of --peers: what a user of each package writes, on the same files. glmGamPoi with its
# default "normed_sum" size factors and its quasi-likelihood test; edgeR's quasi-likelihood
# pipeline with filterByExpr.
PEER_SCRIPTS = {
    "glmgampoi": R_READ + r"""
suppressPackageStartupMessages(library(glmGamPoi))
fit <- glm_gp(counts, design = ~ batch + condition, col_data = samples, size_factors = "normed_sum")
res <- test_de(fit, contrast = conditiontreated)
write.table(res, args[3], sep = "\t", quote = FALSE, row.names = FALSE, na = "")
""",
    "edger": R_READ + r"""
suppressPackageStartupMessages(library(edgeR))
design <- model.matrix(~ batch + condition, samples)
y <- DGEList(counts)
keep <- filterByExpr(y, design)
y <- calcNormFactors(y[keep, , keep.lib.sizes = FALSE])
y <- estimateDisp(y, design)
fit <- glmQLFit(y, design)
res <- topTags(glmQLFTest(fit, coef = "conditiontreated"), n = Inf)$table
write.table(data.frame(gene_id = rownames(res), res), args[3], sep = "\t", quote = FALSE, row.names = FALSE)
""",
}
PEER_NAMES = {"deseq2": "DESeq2", "glmgampoi": "glmGamPoi", "edger": "edgeR QL"}


# ---------------------------------------------------------------- synthetic studies


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for item in text.split(","):
        genes, _, samples = item.strip().lower().partition("x")
        if not (genes.isdigit() and samples.isdigit()) or int(samples) < 4:
            raise SystemExit(f"--sizes: '{item}' is not GENESxSAMPLES with at least 4 samples (e.g. 20000x8)")
        sizes.append((int(genes), int(samples)))
    return sizes


def size_name(genes: int, samples: int) -> str:
    return f"{genes}x{samples}"


def simulate(genes: int, samples: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded NB study with design ~ batch + condition and a realistic mean-dispersion relation.

    Base means are log-normal (median ~ 50 reads, long right tail, some near zero); dispersion is
    the DESeq2 parametric trend a0 + a1/mean times log-normal scatter (sd 0.5 on the log scale);
    10 % of genes get a condition fold change (|log2 FC| ~ 0.5 + Exp(1), random sign); each gene
    has a small batch effect; size factors vary by +-20 %. Samples alternate condition within
    batch, so the design is balanced for any n >= 4.
    """
    rng = np.random.default_rng([seed, genes, samples])
    base = np.exp(rng.normal(np.log(50.0), 2.0, genes)).clip(0.05, 2e5)
    disp = (0.05 + 1.0 / base) * np.exp(rng.normal(0.0, 0.5, genes))
    condition = np.arange(samples) % 2  # 0 untreated, 1 treated
    batch = (np.arange(samples) // 2) % 2 if samples >= 4 else np.zeros(samples, int)
    de = rng.random(genes) < 0.10
    lfc = np.where(de, rng.choice([-1.0, 1.0], genes) * (0.5 + rng.exponential(1.0, genes)), 0.0)
    batch_lfc = rng.normal(0.0, 0.2, genes)
    sf = np.exp(rng.normal(0.0, 0.2, samples))
    log2_mu = np.log2(base)[:, None] + lfc[:, None] * condition + batch_lfc[:, None] * batch
    mu = 2.0**log2_mu * sf
    # NB(mean mu, dispersion disp) as a gamma-Poisson mixture
    size = 1.0 / disp[:, None]
    counts = rng.poisson(rng.gamma(size, mu / size))
    names = [f"s{i + 1:04d}" for i in range(samples)]
    frame = pd.DataFrame(counts, columns=names)
    frame.insert(0, "gene_id", [f"g{i + 1:06d}" for i in range(genes)])
    sheet = pd.DataFrame(
        {
            "sample": names,
            "batch": np.where(batch == 1, "b2", "b1"),
            "condition": np.where(condition == 1, "treated", "untreated"),
        }
    )
    return frame, sheet


def study_files(data_dir: Path, genes: int, samples: int, seed: int) -> tuple[Path, Path]:
    """Write (once) the counts and sample sheet of one size; later calls reuse them."""
    where = data_dir / f"{size_name(genes, samples)}-seed{seed}"
    counts, sheet = where / "counts.tsv", where / "samples.tsv"
    if not (counts.exists() and sheet.exists()):
        where.mkdir(parents=True, exist_ok=True)
        frame, sheet_frame = simulate(genes, samples, seed)
        frame.to_csv(f"{counts}.tmp", sep="\t", index=False)
        sheet_frame.to_csv(sheet, sep="\t", index=False)
        os.replace(f"{counts}.tmp", counts)
    return counts, sheet


REVERSE_ANALYSIS = "trait"  # --reverse: the analysis name


def reverse_sheet(sheet: Path, seed: int) -> Path:
    """--reverse: the sample sheet plus a numeric trait `score` (seeded, unrelated to the counts)."""
    out = sheet.with_name("samples_reverse.tsv")
    if not out.exists():
        frame = pd.read_csv(sheet, sep="\t")
        frame["score"] = np.round(np.random.default_rng([seed, len(frame)]).normal(50.0, 10.0, len(frame)), 3)
        frame.to_csv(out, sep="\t", index=False)
    return out


def study_yaml(
    counts: Path, sheet: Path, genes_per_shard: int | str, reverse: int = 0, second: bool = False
) -> dict:
    if reverse:  # which features predict a trait: score ~ batch + feature, VST of the counts
        return {
            "counts": str(counts),
            "samples": str(sheet),
            "outdir": "out",
            "genes_per_shard": genes_per_shard,
            "analyses": {
                REVERSE_ANALYSIS: {
                    "direction": "reverse",
                    "trait": "score",
                    "covariates": "~ batch",
                    "permutations": reverse,
                }
            },
        }
    condition = {
        "design": "~ batch + condition",
        "levels": {"batch": ["b1", "b2"], "condition": ["untreated", "treated"]},
        "test": "wald",
        "contrasts": {TABLE: CONTRAST},
    }
    analyses = {"condition": condition}
    if second:  # the LRT of the same design (shares its dispersion fit), as most studies ask
        analyses[SECOND_ANALYSIS] = {**condition, "test": "lrt", "reduced": "~ batch"}
    return {
        "counts": str(counts),
        "samples": str(sheet),
        "outdir": "out",
        "genes_per_shard": genes_per_shard,
        "analyses": analyses,
    }


def simulate_values(features: int, samples: int, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """A seeded values study for SVA: ~ condition, plus variation the design does not hold.

    Standard normal noise; 10 % of features shift with condition (0.5 to 2 sd); 30 % with a
    recorded but unmodelled `batch` (two levels, not aligned with condition); 20 % with an
    unrecorded continuous factor. Samples alternate condition.
    """
    rng = np.random.default_rng([seed, features, samples, 15])
    condition = np.arange(samples) % 2
    batch = rng.permutation(np.arange(samples) % 2)
    hidden = rng.normal(size=samples)
    values = rng.normal(size=(features, samples))
    for share, effect, scale in ((0.10, condition, 1.5), (0.30, batch, 1.0), (0.20, hidden, 0.7)):
        rows = rng.random(features) < share
        values[rows] += rng.normal(0, scale, rows.sum())[:, None] * effect[None, :]
    names = [f"s{i + 1:04d}" for i in range(samples)]
    sheet = pd.DataFrame({"sample": names, "condition": np.where(condition == 1, "treated", "untreated"),
                          "batch": np.where(batch == 1, "b2", "b1"), "hidden": np.round(hidden, 4)})
    return values, sheet


def sva_study_files(data_dir: Path, features: int, samples: int, seed: int) -> tuple[Path, Path]:
    """Write (once) the values and sample sheet of one SVA size; later calls reuse them."""
    where = data_dir / f"values-{size_name(features, samples)}-seed{seed}"
    values_path, sheet = where / "values.tsv", where / "samples.tsv"
    if not (values_path.exists() and sheet.exists()):
        where.mkdir(parents=True, exist_ok=True)
        values, sheet_frame = simulate_values(features, samples, seed)
        with open(f"{values_path}.tmp", "w") as out:
            out.write("feature_id\t" + "\t".join(sheet_frame["sample"]) + "\n")
            for start in range(0, features, 50_000):
                block = values[start : start + 50_000]
                ids = np.char.add("f", np.arange(start + 1, start + len(block) + 1).astype(str))
                np.savetxt(out, np.column_stack([ids, np.char.mod("%.5g", block)]), fmt="%s", delimiter="\t")
        sheet_frame.to_csv(sheet, sep="\t", index=False)
        os.replace(f"{values_path}.tmp", values_path)
    return values_path, sheet


def bench_sva(features: int, samples: int, args) -> dict:
    """SVA through the workflow on a values study: ingest, rule sva, least squares, moderation."""
    name = f"sva {size_name(features, samples)}"
    t0 = time.perf_counter()
    values, sheet = sva_study_files(args.workdir / "data", features, samples, args.seed)
    print(f"\n== {name}: data {values.parent} ({time.perf_counter() - t0:.1f} s to prepare)", flush=True)
    method = args.sva_method
    sva = {"n": "auto", "method": method} if method in ("be", "leek") else {"n": int(method)}
    study = {
        "values": str(values), "samples": str(sheet), "outdir": "out", "genes_per_shard": args.genes_per_shard,
        "analyses": {"condition": {"design": "~ condition", "levels": {"condition": ["untreated", "treated"]},
                                   "sva": sva, "contrasts": {TABLE: CONTRAST}}},
    }  # fmt: skip
    runs = []
    for rep in range(args.repeats):
        where = args.workdir / "runs" / name.replace(" ", "_")
        if where.exists():
            shutil.rmtree(where)
        where.mkdir(parents=True)
        (where / "study.yaml").write_text(yaml.safe_dump(study, sort_keys=False))
        cmd = [
            sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(where),
            f"out/condition/{TABLE}.tsv", "--configfile", str(where / "study.yaml"),
            "--cores", str(args.cores), "--quiet", "rules",
        ]  # fmt: skip
        run = timed(cmd, where, where / "snakemake.log")
        run.extra["rules"] = rule_times(where / "out")
        run.extra["sva"] = json.loads((where / "out" / "condition" / "surrogate_variables.json").read_text())
        runs.append(run)
        sva_rule = run.extra["rules"].get("sva", {})
        print(f"   run {rep + 1}: {run.wall_s:8.1f} s  peak RSS {run.peak_rss_mb:7.0f} MB; rule sva "
              f"{sva_rule.get('s', float('nan')):.1f} s, {sva_rule.get('max_rss_mb', float('nan')):.0f} MB; "
              f"{run.extra['sva']['n']} SVs", flush=True)
    return {
        "size": name, "features": features, "samples": samples, "method": method,
        "wall_s": median([r.wall_s for r in runs]), "peak_rss_mb": median([r.peak_rss_mb for r in runs]),
        "rules": runs[-1].extra["rules"], "n_sv": runs[-1].extra["sva"]["n"],
        "foreign_cpu_share": [round(r.foreign_cpu_share, 3) for r in runs],
    }  # fmt: skip


# ---------------------------------------------------------------- one timed run


@dataclass
class Run:
    wall_s: float
    peak_rss_mb: float  # largest process of the whole run (the tool itself or any job it started)
    foreign_cpu_share: float  # CPU time of other processes during the run / (wall x CPUs)
    extra: dict = field(default_factory=dict)


# A forked child starts with its parent's peak RSS on record, so `cmd` is forked from this small
# process (python -S, ~10 MB), not from the benchmark (numpy + pandas loaded), and it reports the
# child's rusage: ru_maxrss covers the child and every descendant it reaped (snakemake's jobs, R).
RUSAGE_HELPER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed(cmd: list[str], cwd: Path, log: Path) -> Run:
    """Run `cmd`: wall seconds, peak RSS of its largest process, share of CPU used by others."""
    rss_file = log.with_suffix(".maxrss")
    with open(log, "w") as out:
        busy = busy_cpu_s()
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", RUSAGE_HELPER, str(rss_file), *map(str, cmd)],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        busy = busy_cpu_s() - busy
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text()[-3000:]
        raise SystemExit(f"{' '.join(map(str, cmd))} failed (exit {proc.returncode}); log {log}:\n{tail}")
    foreign = max(busy - usage.ru_utime - usage.ru_stime, 0.0) / (wall * (os.cpu_count() or 1))
    run = Run(wall, int(rss_file.read_text()) / 1024, foreign)
    run.extra["cpu_s"] = usage.ru_utime + usage.ru_stime  # the whole tree: snakemake and its jobs
    return run


def busy_cpu_s() -> float:
    """CPU seconds all processes have used since boot (Linux /proc/stat; 0 elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def rule_of(bench: Path, root: Path) -> str:
    """Rule name from a benchmark path (the layout of rules/*.smk `benchmark:` entries).

    ingest.tsv, plot_study.tsv, report.tsv; models/<model>/genewise/<shard>.tsv,
    models/<model>/<fit_type>/trend.tsv, models/<model>/<fit_type>/fit/<shard>.tsv (the shared
    dispersion fit, and the fits of every analysis on it), models/<model>/<fit_type>/merge.tsv
    and plot_analysis.tsv (the tables and plots of those analyses: rules merge_<group>,
    plot_analysis_<group>); models/<id>/lmfit/<shard>.tsv, models/<id>/voom/<shard>.tsv,
    models/<id>/voom_trend.tsv, models/<id>/moderate.tsv, models/<id>/plot_limma_analysis.tsv
    (the shared least-squares fit, and the tables and plots of its analyses); <analysis>/<rule>.tsv
    (sva, reverse_merge, ...).
    """
    parts = bench.relative_to(root).with_suffix("").parts
    if parts[0] == "models":  # and the shared least-squares fits: lmfit, voom (points), voom_trend
        rules = {"genewise": "genewise", "fit": "fit", "trend": "trend", "merge": "merge",
                 "plot_analysis": "plot_analysis", "lmfit": "lmfit", "voom_trend": "voom_trend",
                 "voom": "voom_points", "moderate": "moderate", "plot_limma_analysis": "plot_limma_analysis"}  # fmt: skip
        return next(rule for part, rule in rules.items() if part in parts)
    if len(parts) == 3:
        return parts[1]
    return parts[-1]


def rule_times(outdir: Path) -> dict[str, dict]:
    """Seconds (sum over jobs), job count and largest max_rss per rule, from benchmark files."""
    root = outdir / "benchmarks"
    per_rule: dict[str, dict] = {}
    for bench in sorted(root.rglob("*.tsv")):
        row = pd.read_csv(bench, sep="\t").iloc[-1]
        rss = pd.to_numeric(row.get("max_rss"), errors="coerce")
        entry = per_rule.setdefault(
            rule_of(bench, root), {"jobs": 0, "s": 0.0, "max_job_s": 0.0, "max_rss_mb": 0.0}
        )
        entry["jobs"] += 1
        entry["s"] += float(row["s"])
        entry["max_job_s"] = max(entry["max_job_s"], float(row["s"]))
        if np.isfinite(rss):
            entry["max_rss_mb"] = max(entry["max_rss_mb"], float(rss))
    return per_rule


def run_glmstack(
    study: dict, where: Path, cores: int, tables_only: bool = False, reverse: bool = False
) -> tuple[Run, Path]:
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    (where / "study.yaml").write_text(yaml.safe_dump(study, sort_keys=False))
    cmd = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(ROOT / "Snakefile"),
        "--directory", str(where),
        "--configfile", str(where / "study.yaml"),
        "--cores", str(cores),
        "--quiet", "rules",
    ]  # fmt: skip
    if reverse:  # the reverse table and model.json (no plots, no report)
        cmd[3:3] = [f"out/{REVERSE_ANALYSIS}/reverse.tsv", f"out/{REVERSE_ANALYSIS}/model.json"]
    elif tables_only:  # what DESeq2 computes: no plots, no report (targets before --quiet's list)
        cmd[3:3] = [f"out/condition/{TABLE}.tsv", "out/condition/dispersions.tsv", "out/condition/model.json"]
    run = timed(cmd, where, where / "snakemake.log")
    out = where / "out"
    run.extra["rules"] = rule_times(out)
    run.extra["largest_job_rss_mb"] = max(
        (r["max_rss_mb"] for r in run.extra["rules"].values()), default=float("nan")
    )
    return run, out / (f"{REVERSE_ANALYSIS}/reverse.tsv" if reverse else f"condition/{TABLE}.tsv")


def run_deseq2(counts: Path, sheet: Path, where: Path) -> tuple[Run, Path]:
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    script = where / "deseq2.R"
    script.write_text(DESEQ2_SCRIPT)
    table = where / "deseq2.tsv"
    run = timed(["Rscript", str(script), str(counts), str(sheet), str(table)], where, where / "deseq2.log")
    for line in (where / "deseq2.log").read_text().splitlines():
        key, _, value = line.partition("\t")
        if key.startswith("deseq2_"):
            run.extra[key] = float(value)
    return run, table


def run_peer(tool: str, counts: Path, sheet: Path, where: Path) -> Run:
    """One R peer (PEER_SCRIPTS, or DESeq2) on the study's files, from Rscript's start to its table."""
    if tool == "deseq2":
        return run_deseq2(counts, sheet, where)[0]
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    script = where / f"{tool}.R"
    script.write_text(PEER_SCRIPTS[tool])
    return timed(["Rscript", str(script), str(counts), str(sheet), str(where / f"{tool}.tsv")], where, where / f"{tool}.log")


def bench_peers(genes: int, samples: int, args) -> dict:
    """The whole workflow (plots and report), its tables alone, DESeq2, glmGamPoi and edgeR QL on
    one study, in rotating order; median wall seconds and peak RSS of each."""
    name = size_name(genes, samples)
    counts, sheet = study_files(args.workdir / "data", genes, samples, args.seed)
    study = study_yaml(counts, sheet, args.genes_per_shard)
    tools = ["full", "tables", "deseq2", "glmgampoi", "edger"] + (["full2"] if args.second_analysis else [])
    runs: dict[str, list[Run]] = {tool: [] for tool in tools}
    rules: list[dict] = []
    print(f"\n== {name} (peers)", flush=True)
    for rep in range(args.repeats):
        for tool in tools[rep % len(tools):] + tools[: rep % len(tools)]:  # rotate the order
            where = args.workdir / "runs" / name / tool
            if tool == "full2":  # the whole workflow with a second analysis on the same design
                run, _ = run_glmstack(study_yaml(counts, sheet, args.genes_per_shard, second=True), where, args.cores)
            elif tool in ("full", "tables"):
                run, _ = run_glmstack(study, where, args.cores, tables_only=tool == "tables")
                if tool == "full":
                    rules.append(run.extra["rules"])
            else:
                run = run_peer(tool, counts, sheet, where)  # timed() stops the benchmark if it fails
            runs[tool].append(run)
            print(f"   run {rep + 1}: {tool:<10} {run.wall_s:8.2f} s  peak RSS {run.peak_rss_mb:7.0f} MB", flush=True)
    summary = {
        tool: {"wall_s": median([r.wall_s for r in rs]), "peak_rss_mb": median([r.peak_rss_mb for r in rs]),
               "wall_s_runs": [round(r.wall_s, 2) for r in rs]}
        for tool, rs in runs.items()
    }
    summary["full"]["largest_job_rss_mb"] = median(
        [max((v["max_rss_mb"] for v in r.values()), default=float("nan")) for r in rules]
    )
    summary["full"]["rules"] = {rule: median([r[rule]["s"] for r in rules if rule in r]) for rule in rules[0]}
    foreign = max(r.foreign_cpu_share for rs in runs.values() for r in rs)
    return {"size": name, "repeats": args.repeats, "foreign_cpu_share": round(foreign, 3), **summary}


def peers_markdown(results: list[dict]) -> str:
    """Wall seconds / peak MB of each tool, and the whole workflow's time over the fastest peer's."""
    lines = [
        (
            "| size | glmstack tables | glmstack + plots + report | DESeq2 | glmGamPoi | edgeR QL "
            "| full / fastest peer | full / DESeq2 | largest job MB / DESeq2 MB |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cell = {tool: f"{r[tool]['wall_s']:.2f} / {r[tool]['peak_rss_mb']:.0f}" for tool in
                ("tables", "full", "deseq2", "glmgampoi", "edger")}
        fastest = min(r[tool]["wall_s"] for tool in PEER_NAMES)
        lines.append(
            f"| {r['size']} | {cell['tables']} | {cell['full']} | {cell['deseq2']} | {cell['glmgampoi']} "
            f"| {cell['edger']} | {r['full']['wall_s'] / fastest:.2f} | {r['full']['wall_s'] / r['deseq2']['wall_s']:.2f} "
            f"| {r['full']['largest_job_rss_mb'] / r['deseq2']['peak_rss_mb']:.2f} |"
        )
    if any("full2" in r for r in results):
        lines += ["", "A second analysis on the same design (its LRT against ~ batch), whole workflow:", "",
                  "| size | one analysis s | two analyses s | two / one |", "|---|---|---|---|"]
        for r in results:
            one, two = r["full"]["wall_s"], r["full2"]["wall_s"]
            lines.append(f"| {r['size']} | {one:.2f} | {two:.2f} | {two / one:.2f} |")
    rules = [rule for rule in RULE_ORDER if any(rule in r["full"]["rules"] for r in results)]
    lines += ["", "Seconds per rule of the whole workflow (sum over jobs):", ""]
    lines.append("| size | " + " | ".join(rules) + " |")
    lines.append("|---" * (len(rules) + 1) + "|")
    for r in results:
        lines.append(f"| {r['size']} | " + " | ".join(
            f"{r['full']['rules'][rule]:.1f}" if rule in r["full"]["rules"] else "" for rule in rules) + " |")
    return "\n".join(lines) + "\n"


def agreement(ours: Path, theirs: Path, alpha: float = 0.1) -> dict:
    """log2FoldChange Pearson (both finite) and Jaccard of the padj < alpha sets."""
    a = pd.read_csv(ours, sep="\t", dtype={"gene_id": str}).set_index("gene_id")
    b = pd.read_csv(theirs, sep="\t", dtype={"gene_id": str}).set_index("gene_id").loc[a.index]
    both = np.isfinite(a["log2FoldChange"]) & np.isfinite(b["log2FoldChange"])
    pearson = float(np.corrcoef(a.loc[both, "log2FoldChange"], b.loc[both, "log2FoldChange"])[0, 1])
    sig_a = set(a.index[a["padj"] < alpha])
    sig_b = set(b.index[b["padj"] < alpha])
    union = sig_a | sig_b
    return {
        "lfc_pearson": pearson,
        "padj_jaccard": len(sig_a & sig_b) / len(union) if union else 1.0,
        "n_sig_glmstack": len(sig_a),
        "n_sig_deseq2": len(sig_b),
        "padj_na_glmstack": int(a["padj"].isna().sum()),
        "padj_na_deseq2": int(b["padj"].isna().sum()),
    }


# ---------------------------------------------------------------- one size, summaries


def median(values) -> float:
    return float(statistics.median(values)) if values else float("nan")


def bench_size(genes: int, samples: int, args) -> dict:
    name = size_name(genes, samples)
    t0 = time.perf_counter()
    counts, sheet = study_files(args.workdir / "data", genes, samples, args.seed)
    print(f"\n== {name}: data {counts.parent} ({time.perf_counter() - t0:.1f} s to prepare)", flush=True)
    if args.reverse:
        sheet = reverse_sheet(sheet, args.seed)
    study = study_yaml(counts, sheet, args.genes_per_shard, args.reverse)
    ours, theirs = [], []
    ours_table = theirs_table = None
    for rep in range(args.repeats):
        # alternate the order so neither tool always runs on a warm page cache
        order = ["glmstack", "deseq2"] if rep % 2 == 0 else ["deseq2", "glmstack"]
        for tool in order:
            if tool == "glmstack":
                where = args.workdir / "runs" / name / "glmstack"
                run, ours_table = run_glmstack(study, where, args.cores, args.no_report, bool(args.reverse))
                ours.append(run)
                print(
                    f"   run {rep + 1}: glmstack {run.wall_s:8.1f} s  peak RSS {run.peak_rss_mb:7.0f} MB",
                    flush=True,
                )
            elif args.compare_deseq2:
                run, theirs_table = run_deseq2(counts, sheet, args.workdir / "runs" / name / "deseq2")
                theirs.append(run)
                print(
                    f"   run {rep + 1}: DESeq2   {run.wall_s:8.1f} s  peak RSS {run.peak_rss_mb:7.0f} MB",
                    flush=True,
                )
    result = {
        "size": name,
        "genes": genes,
        "samples": samples,
        "repeats": args.repeats,
        "foreign_cpu_share": [round(r.foreign_cpu_share, 3) for r in ours + theirs],
        "glmstack": {
            "wall_s": median([r.wall_s for r in ours]),
            "wall_s_runs": [round(r.wall_s, 2) for r in ours],
            "peak_rss_mb": median([r.peak_rss_mb for r in ours]),
            "largest_job_rss_mb": median([r.extra["largest_job_rss_mb"] for r in ours]),
            "rules": {
                rule: {
                    "jobs": ours[0].extra["rules"][rule]["jobs"],
                    "s": median([r.extra["rules"][rule]["s"] for r in ours]),
                    "max_job_s": median([r.extra["rules"][rule]["max_job_s"] for r in ours]),
                    "max_rss_mb": median([r.extra["rules"][rule]["max_rss_mb"] for r in ours]),
                }
                for rule in ours[0].extra["rules"]
            },
        },
    }
    if theirs:
        g, d = (
            result["glmstack"],
            {
                "wall_s": median([r.wall_s for r in theirs]),
                "wall_s_runs": [round(r.wall_s, 2) for r in theirs],
                "fit_s": median([r.extra.get("deseq2_fit_s", float("nan")) for r in theirs]),
                "peak_rss_mb": median([r.peak_rss_mb for r in theirs]),
            },
        )
        result["deseq2"] = d
        result["ratio_wall"] = g["wall_s"] / d["wall_s"]
        result["ratio_peak_rss"] = g["peak_rss_mb"] / d["peak_rss_mb"]
        result["agreement"] = agreement(ours_table, theirs_table)
    print_size(result)
    return result


RULE_ORDER = [
    "ingest",
    "genewise",
    "trend",
    "fit",
    "merge",
    "normalize",
    "plot_study",
    "plot_analysis",
    "report",
    "reverse_plan",
    "reverse_shard",
    "reverse_merge",
]


def print_size(res: dict) -> None:
    g = res["glmstack"]
    print(f"-- {res['size']} (median of {res['repeats']})")
    if max(res["foreign_cpu_share"]) > 0.05:
        print(
            f"   WARNING: other processes used {max(res['foreign_cpu_share']):.0%} of the CPUs during a run; "
            "timings are not clean"
        )
    print(
        f"   glmstack: wall {g['wall_s']:.1f} s, peak RSS {g['peak_rss_mb']:.0f} MB (largest process), "
        f"{g['largest_job_rss_mb']:.0f} MB (largest job)"
    )
    rules = sorted(g["rules"], key=lambda r: RULE_ORDER.index(r) if r in RULE_ORDER else 99)
    for rule in rules:
        r = g["rules"][rule]
        print(
            f"     {rule:<14} {r['jobs']:4d} jobs  {r['s']:8.1f} s total  {r['max_job_s']:7.1f} s longest  "
            f"{r['max_rss_mb']:6.0f} MB max RSS"
        )
    if "deseq2" in res:
        d, a = res["deseq2"], res["agreement"]
        print(
            f"   DESeq2:   wall {d['wall_s']:.1f} s (DESeq+results {d['fit_s']:.1f} s), "
            f"peak RSS {d['peak_rss_mb']:.0f} MB"
        )
        print(f"   ratio glmstack/DESeq2: wall {res['ratio_wall']:.2f}, peak RSS {res['ratio_peak_rss']:.2f}")
        print(
            f"   agreement: log2FC Pearson {a['lfc_pearson']:.6f}, padj<0.1 Jaccard {a['padj_jaccard']:.4f} "
            f"({a['n_sig_glmstack']} vs {a['n_sig_deseq2']} genes)"
        )


def profile_size(genes: int, samples: int, args) -> None:
    """The statistics of one size in this process (nb.steps.run_analysis) under cProfile.

    Same data and analysis as the workflow run, same shards; reading the matrix and computing
    size factors happen before profiling starts. Prints the top functions by cumulative and by own
    time and writes <workdir>/profiles/<size>.prof (open with pstats or snakeviz).
    """
    import cProfile
    import pstats

    from glmstack import study
    from glmstack.allocator import retain_freed_memory
    from glmstack.io.counts import read_counts
    from glmstack.io.samples import read_samples
    from glmstack.io.shards import auto_genes_per_shard
    from glmstack.nb import size_factors, steps
    from glmstack.spec import Analysis

    retain_freed_memory()  # as the genewise and fit jobs do

    name = size_name(genes, samples)
    counts_path, sheet_path = study_files(args.workdir / "data", genes, samples, args.seed)
    counts = read_counts(counts_path)
    sheet = study.check_samples(read_samples(sheet_path), str(sheet_path), counts.samples)
    sf = size_factors.size_factors(counts.counts, "ratio")
    analysis = Analysis.from_study("condition", study_yaml(counts_path, sheet_path, args.genes_per_shard)["analyses"]["condition"])
    per_shard = args.genes_per_shard
    if per_shard == "auto":
        per_shard = auto_genes_per_shard(genes, samples)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    steps.run_analysis(counts.gene_id, counts.counts, sf, sheet, analysis, genes_per_shard=per_shard)
    profiler.disable()
    print(f"\n== {name}: nb.steps.run_analysis {time.perf_counter() - start:.1f} s under cProfile")
    out = args.workdir / "profiles" / f"{name}.prof"
    out.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(out)
    stats = pstats.Stats(profiler).strip_dirs()
    for key in ("cumulative", "tottime"):
        print(f"-- top {args.profile_top} by {key} time ({out})")
        stats.sort_stats(key).print_stats(args.profile_top)


def code_hash() -> str:
    """Hash of every glmstack source file, to tell which code was measured."""
    import glmstack

    digest = hashlib.sha256()
    package = Path(glmstack.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def markdown(results: list[dict], args) -> str:
    header = (
        f"Benchmark (glmstack code {code_hash()}, {os.cpu_count()} CPUs): `snakemake --cores {args.cores}`, "
        f"genes_per_shard {args.genes_per_shard}, seed {args.seed}, "
        f"median of {args.repeats} run(s){'; tables only (--no-report)' if args.no_report else ''}; "
        "DESeq2 1.38 single-threaded (DESeq(dds), results(dds))."
    )
    columns = (
        "| size | glmstack s | DESeq2 s | ratio | glmstack peak RSS MB (process / job) | DESeq2 peak RSS MB "
        "| log2FC Pearson | padj<0.1 Jaccard |"
    )
    lines = [
        header,
        "",
        columns,
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        g, d, a = r["glmstack"], r.get("deseq2"), r.get("agreement")
        lines.append(
            f"| {r['size']} | {g['wall_s']:.1f} | {d['wall_s']:.1f} | {r['ratio_wall']:.2f} "
            f"| {g['peak_rss_mb']:.0f} / {g['largest_job_rss_mb']:.0f} | {d['peak_rss_mb']:.0f} "
            f"| {a['lfc_pearson']:.5f} | {a['padj_jaccard']:.4f} |"
            if d
            else f"| {r['size']} | {g['wall_s']:.1f} | | | {g['peak_rss_mb']:.0f} / {g['largest_job_rss_mb']:.0f} "
            "| | | |"
        )
    lines += ["", "Seconds per rule (sum over jobs):", ""]
    rules = [rule for rule in RULE_ORDER if any(rule in r["glmstack"]["rules"] for r in results)]
    lines.append("| size | " + " | ".join(rules) + " |")
    lines.append("|---" * (len(rules) + 1) + "|")
    for r in results:
        cells = [
            f"{r['glmstack']['rules'][rule]['s']:.1f}" if rule in r["glmstack"]["rules"] else ""
            for rule in rules
        ]
        lines.append(f"| {r['size']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default=DEFAULT_SIZES, help=f"GENESxSAMPLES, comma-separated (default {DEFAULT_SIZES})"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per size; the median is reported (default 3)"
    )
    parser.add_argument(
        "--compare-deseq2", action="store_true", help="also run R DESeq2, alternating with glmstack"
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="side by side in rotating order: the whole workflow, its tables alone, DESeq2, glmGamPoi and "
        "edgeR QL (Rscript with DESeq2, glmGamPoi, edgeR, data.table)",
    )
    parser.add_argument(
        "--second-analysis",
        action="store_true",
        help="with --peers: also the whole workflow with a second analysis on the design (its LRT), "
        "and the ratio of the two",
    )
    parser.add_argument("--cores", type=int, default=2, help="snakemake --cores (default 2)")
    parser.add_argument(
        "--genes-per-shard",
        default="auto",
        type=lambda v: v if v == "auto" else int(v),
        help="genes_per_shard of the study (default auto, the workflow's default)",
    )
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="run only up to the tables, dispersions and model.json (no plots, no report)",
    )
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--sva-sizes",
        default="",
        help="opt-in: FEATURESxSAMPLES values studies (e.g. 500000x100) run with `sva:` through the workflow "
        "(instead of --sizes)",
    )
    parser.add_argument(
        "--sva-method", default="be", help="sva n/method of --sva-sizes: be | leek (n: auto) or a number of SVs"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "glmstack-benchmark",
        help="data (cached) and run directories (default: $TMPDIR/glmstack-benchmark)",
    )
    parser.add_argument("--json", type=Path, help="write the full summary as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the summary tables as markdown here")
    parser.add_argument("--data-only", action="store_true", help="only write the synthetic studies")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of timing the workflow, profile nb.steps.run_analysis in-process (cProfile)",
    )
    parser.add_argument("--profile-top", type=int, default=25, help="functions to print with --profile")
    parser.add_argument(
        "--reverse",
        type=int,
        default=0,
        metavar="PERMUTATIONS",
        help="time a reverse analysis (score ~ batch + feature on the VST, this many permutations; "
        "e.g. --sizes 20000x200 --reverse 1000) instead of the nb analysis; tables only",
    )
    args = parser.parse_args(argv)
    if args.reverse and (args.compare_deseq2 or args.profile):
        parser.error("--reverse times glmstack's reverse analysis alone (no --compare-deseq2, --profile)")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    args.workdir = args.workdir.resolve()
    sizes = parse_sizes(args.sizes)
    if (args.compare_deseq2 or args.peers) and shutil.which("Rscript") is None:
        parser.error("--compare-deseq2 needs Rscript (with DESeq2 and data.table) on PATH")
    if args.data_only:
        for genes, samples in sizes:
            print(study_files(args.workdir / "data", genes, samples, args.seed)[0])
        return
    if args.profile:
        for genes, samples in sizes:
            profile_size(genes, samples, args)
        return
    if args.sva_sizes:
        sva_results = [bench_sva(f, n, args) for f, n in parse_sizes(args.sva_sizes)]
        print(json.dumps(sva_results, indent=2))
        if args.json:
            args.json.write_text(json.dumps({"code": code_hash(), "cores": args.cores, "sva": sva_results},
                                            indent=2) + "\n")
        return
    if args.peers:
        peer_results = [bench_peers(genes, samples, args) for genes, samples in sizes]
        table = peers_markdown(peer_results)
        print("\n" + table)
        if args.json:
            args.json.write_text(json.dumps({"code": code_hash(), "cores": args.cores, "peers": peer_results},
                                            indent=2) + "\n")
        if args.markdown:
            args.markdown.write_text(table)
        return
    results = [bench_size(genes, samples, args) for genes, samples in sizes]
    summary = {
        "code": code_hash(),
        "cpus": os.cpu_count(),
        "cores": args.cores,
        "genes_per_shard": args.genes_per_shard,
        "seed": args.seed,
        "repeats": args.repeats,
        "no_report": args.no_report,
        "reverse_permutations": args.reverse,
        "results": results,
    }
    table = markdown(results, args)
    print("\n" + table)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=lambda o: asdict(o)) + "\n")
    if args.markdown:
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
