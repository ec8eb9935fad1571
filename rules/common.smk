# Config and sample-sheet checks, paths, and the parameters each rule passes to its script.
# No rules here.

import hashlib
import sys
from pathlib import Path

from snakemake.common.configfile import load_configfile
from snakemake.logging import logger
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))

from glmstack import validate as study_checks  # noqa: E402
from glmstack.errors import StudyError  # noqa: E402
from glmstack.io import read_json, read_samples  # noqa: E402

study_checks.check_config(
    config, load_configfile(Path(workflow.basedir) / "config" / "schema.yaml")
)
validate(config, schema="../config/schema.yaml")

OUTDIR = config["outdir"].rstrip("/")
ANALYSES = list(config["analyses"])


def _check_study():
    """Meaning checks before any job runs: sheet vs count header, designs, contrasts."""
    for key in ("counts", "samples", "size_factors_file"):
        path = config.get(key)
        if path and not Path(path).exists():
            raise StudyError(
                f"study config: `{key}: {path}` does not exist (relative paths are relative "
                f"to the directory snakemake runs in, {Path.cwd()}). Fix: correct the path."
            )
    header = study_checks.read_count_header(config["counts"])
    sheet = study_checks.check_samples(
        read_samples(config["samples"]),
        config["samples"],
        header,
        config["exclude_samples"],
    )
    for warning in study_checks.check_analyses(config, sheet, config["samples"]):
        logger.warning(f"glmstack: {warning}")


_check_study()


def _code_hash():
    """Hash of the glmstack library (code and shipped tables): editing it reruns the jobs that use it."""
    digest = hashlib.sha256()
    library = Path(workflow.basedir) / "scripts" / "glmstack"
    for path in sorted(p for p in library.rglob("*") if p.suffix in (".py", ".npz")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


GLMSTACK_CODE_HASH = _code_hash()


def _table_names():
    names = {"lrt", "results"}
    for a in config["analyses"].values():
        names.update(a.get("contrasts") or {})
    return sorted(names)


wildcard_constraints:
    shard=r"\d{4}",
    analysis="|".join(ANALYSES),
    table="|".join(_table_names()),


def shard_ids(wildcards):
    """Shard ids from the manifest written by the validate checkpoint."""
    manifest = checkpoints.validate.get().output.manifest
    return [s["id"] for s in read_json(manifest)["shards"]]


def genewise_files(wildcards):
    return expand(
        f"{OUTDIR}/{wildcards.analysis}/genewise/{{shard}}.npz",
        shard=shard_ids(wildcards),
    )


def fit_files(wildcards):
    return expand(
        f"{OUTDIR}/{wildcards.analysis}/fit/{{shard}}.npz", shard=shard_ids(wildcards)
    )


def shard_file(wildcards):
    checkpoints.validate.get()
    return f"{OUTDIR}/shards/{wildcards.shard}.npz"


def analysis_config(wildcards):
    """The analysis as the scripts see it: the study entry with defaults filled in."""
    return dict(config["analyses"][wildcards.analysis])


def design_params(wildcards):
    """Only the keys that shape the model (genewise and trend rerun when these change)."""
    a = config["analyses"][wildcards.analysis]
    return {"design": a["design"], "levels": a.get("levels") or {}}


def trend_params(wildcards):
    return {
        **design_params(wildcards),
        "fit_type": config["analyses"][wildcards.analysis]["fit_type"],
    }


def validate_params():
    return {
        "genes_per_shard": config["genes_per_shard"],
        "size_factors_method": config["size_factors_method"],
        "exclude_samples": config["exclude_samples"],
        "round_counts": config["round_counts"],
    }


def size_factor_input(wildcards):
    path = config.get("size_factors_file")
    return {"size_factors_file": path} if path else {}


def shard_mem_mb(wildcards, attempt):
    """Memory of one shard job: 500 MB plus 160 bytes per count of the largest shard.

    Measured peaks are about 100 bytes per count (tests/benchmark: ~1 GB for the fit job of
    a 10-million-count shard); `attempt` doubles and triples it on retries.
    """
    manifest = read_json(f"{OUTDIR}/manifest.json")
    n_samples = len(manifest["samples"])
    genes = max(s["stop"] - s["start"] for s in manifest["shards"])
    return int(500 + genes * n_samples * 160 / 1e6) * attempt


def table_names(analysis):
    """Result tables of an analysis: lrt for an LRT, else one per contrast."""
    a = config["analyses"][analysis]
    if a["test"] == "lrt":
        return ["lrt"]
    return list(a.get("contrasts") or {}) or ["results"]


def result_tables(analysis):
    return [f"{OUTDIR}/{analysis}/{name}.tsv" for name in table_names(analysis)]


def fit_params(wildcards):
    """What the fit job needs: the whole analysis except alpha (merge-only)."""
    a = dict(config["analyses"][wildcards.analysis])
    a.pop("alpha", None)
    return a


def table_params(wildcards):
    return _table_params(wildcards.analysis, wildcards.table)


def _table_params(analysis, table):
    a = config["analyses"][analysis]
    return {
        "alpha": a["alpha"],
        "test": a["test"],
        "contrasts": list(a.get("contrasts") or {}) or ["results"],
        "table": table,
    }


def merge_table_params(wildcards):
    """Every table of the analysis: merge puts their counts in model.json."""
    return [_table_params(wildcards.analysis, name) for name in table_names(wildcards.analysis)]


def all_outputs():
    out = [f"{OUTDIR}/normalization/size_factors.tsv"]
    for analysis in ANALYSES:
        out += result_tables(analysis)
        out += [
            f"{OUTDIR}/{analysis}/dispersions.tsv",
            f"{OUTDIR}/{analysis}/model.json",
        ]
    out.append(f"{OUTDIR}/report.html")  # needs every plot, so the plots are made too
    return out


# ---------------------------------------------------------------- plots and report


def report_plot_titles():
    """Plot name -> heading in the HTML report; the names are the PNG and caption file names."""
    return {
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
    }


def study_plot(name):
    return f"{OUTDIR}/qc/{name}.png"


def analysis_plot(name, analysis="{analysis}"):
    return f"{OUTDIR}/{analysis}/plots/{name}.png"


def table_plot(name, analysis="{analysis}", table="{table}"):
    return f"{OUTDIR}/{analysis}/plots/{table}.{name}.png"


def summary_table(analysis="{analysis}"):
    return f"{OUTDIR}/{analysis}/report/summary.tsv"


def top_genes_table(analysis="{analysis}", table="{table}"):
    return f"{OUTDIR}/{analysis}/report/{table}.top_genes.tsv"


def caption_file(name):
    return str(Path(workflow.basedir) / "rules" / "captions" / f"{name}.rst")


def all_shard_files(wildcards):
    return expand(f"{OUTDIR}/shards/{{shard}}.npz", shard=shard_ids(wildcards))


def report_settings():
    """The study's report: block, checked: the colour column exists, vst_analysis is an analysis."""
    settings = dict(config["report"])
    columns = list(read_samples(config["samples"]).columns)
    if settings["color_by"] is None:
        from glmstack.design import formula_variables

        # DESeq2's convention: the variable of interest comes last in the design
        variables = formula_variables(next(iter(config["analyses"].values()))["design"])
        present = [v for v in variables if v in columns]
        settings["color_by"] = (
            present[-1]
            if present
            else next((c for c in columns if c != "sample"), "sample")
        )
    elif settings["color_by"] not in columns:
        raise StudyError(
            f"study config: report.color_by names {settings['color_by']!r}, which is not a column of "
            f"{config['samples']} (columns: {', '.join(columns)}). Fix: name one of these columns, or "
            "set report.color_by: null to colour by the last design variable."
        )
    if (
        settings["vst_analysis"] is not None
        and settings["vst_analysis"] not in config["analyses"]
    ):
        raise StudyError(
            f"study config: report.vst_analysis names {settings['vst_analysis']!r}, which is not an "
            f"analysis (analyses: {', '.join(ANALYSES)}). Fix: name an analysis, or null for a VST "
            "blind to the design."
        )
    return settings


def _vst_design(analysis):
    """Only the keys that shape the design of the VST's trend (None: blind, design ~ 1)."""
    if analysis is None:
        return None
    a = config["analyses"][analysis]
    return {k: a[k] for k in ("design", "levels", "bins") if k in a}


def study_plot_params():
    settings = report_settings()
    vst_analysis = settings["vst_analysis"]
    return {
        "color_by": settings["color_by"],
        "pca_genes": settings["pca_genes"],
        "vst_design": _vst_design(vst_analysis),
    }


def table_plot_params(wildcards):
    return {**table_params(wildcards), "top_genes": config["report"]["top_genes"]}


def report_layout():
    """What the HTML report shows, in order: titles, PNG, caption and table files."""
    titles = report_plot_titles()

    def plots(kind, **where):
        path = {"study": study_plot, "analysis": analysis_plot, "table": table_plot}[
            kind
        ]
        return [
            {"title": t, "png": path(n, **where), "caption": caption_file(n)}
            for n, t in titles[kind].items()
        ]

    return {
        "outdir": OUTDIR,
        "study": plots("study"),
        "analyses": [
            {
                "name": a,
                "model": f"{OUTDIR}/{a}/model.json",
                "plots": plots("analysis", analysis=a),
                "tables": [
                    {
                        "name": t,
                        "top": top_genes_table(a, t),
                        "plots": plots("table", analysis=a, table=t),
                    }
                    for t in table_names(a)
                ],
            }
            for a in ANALYSES
        ],
    }


def report_inputs(wildcards):
    """Every file the HTML report reads (from report_layout)."""
    layout = report_layout()
    files = [p["png"] for p in layout["study"]] + [
        p["caption"] for p in layout["study"]
    ]
    for a in layout["analyses"]:
        files += (
            [a["model"]]
            + [p["png"] for p in a["plots"]]
            + [p["caption"] for p in a["plots"]]
        )
        for t in a["tables"]:
            files += (
                [t["top"]]
                + [p["png"] for p in t["plots"]]
                + [p["caption"] for p in t["plots"]]
            )
    return list(dict.fromkeys(files))
