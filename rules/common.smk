# The study: config and sample-sheet checks before any job runs, the analyses (glmstack.spec),
# and the input and params functions of the rules. No rules here.

import functools
import sys
from pathlib import Path

from snakemake.common.configfile import load_configfile
from snakemake.logging import logger
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))

from glmstack import study as study_checks  # noqa: E402
from glmstack.io.files import read_json  # noqa: E402
from glmstack.report.layout import (
    ReportPaths,
    layout_files,
    report_layout,
)  # noqa: E402
from glmstack.spec import SCHEMA_PATH, study_input  # noqa: E402
from glmstack.workflow import (
    code_hash,
    file_digest,
    read_stamp,
    write_stamp,
)  # noqa: E402

study_checks.check_config(config, load_configfile(SCHEMA_PATH))
validate(config, schema=str(SCHEMA_PATH))

CHECKED = study_checks.check_study(
    config
)  # outdir, inputs, sheet, designs, contrasts, report
for warning in CHECKED.warnings:
    logger.warning(f"glmstack: {warning}")
OUTDIR = study_checks.check_outdir(
    config["outdir"], Path.cwd()
)  # the folder, normalised
ANALYSES = CHECKED.analyses  # name -> glmstack.spec.Analysis, defaults filled in
REPORT = CHECKED.report  # the report: block, color_by filled in
# "counts" or "values": the feature matrix of the study
STUDY_INPUT = study_input(config)
NB = {name: a for name, a in ANALYSES.items() if not a.is_gaussian}
GAUSSIAN = {name: a for name, a in ANALYSES.items() if a.is_gaussian}
# one dispersion fit per design: model id -> the first nb analysis with that design
MODELS = {a.shape_id("model"): a for a in reversed(NB.values())}
# (model, fit_type) used by several nb analyses: their MAP dispersions are one shared job
_TRENDS = [(a.shape_id("model"), a.fit_type) for a in NB.values()]
SHARED_MAP = {key for key in _TRENDS if _TRENDS.count(key) > 1}
SCRIPTS = Path(workflow.basedir) / "scripts"
REPORT_PATHS = ReportPaths(OUTDIR, Path(workflow.basedir) / "rules" / "captions")


def alternatives(names):
    """A wildcard constraint matching exactly these names (none: a pattern matching nothing)."""
    return "|".join(names) or "(?!)"


NB_NAMES = alternatives(NB)  # the analysis wildcard of the nb rules
# nb analyses with shrunken fold changes (lfc_shrink: normal | apeglm): the shrink rules' wildcard
SHRINK_NAMES = alternatives([n for n, a in NB.items() if a.lfc_shrink != "none"])
GAUSSIAN_NAMES = alternatives(GAUSSIAN)  # and of the gaussian rules


wildcard_constraints:
    shard=r"\d\d\d\d+",
    model=alternatives(MODELS),
    fit_type="parametric|local|mean",
    analysis="|".join(ANALYSES),
    table="|".join(sorted({t for a in ANALYSES.values() for t in a.table_names})),


@functools.cache
def code(script):
    """Hash of an entry script and the glmstack modules it imports: edits rerun its jobs."""
    return code_hash(SCRIPTS / script, SCRIPTS / "glmstack")


def analysis_params(job):
    """Params of an analysis's `job`: the keys of the analysis that shape it (glmstack.spec)."""

    def params(wildcards):
        return ANALYSES[wildcards.analysis].params(job)

    return params


def ingest_params():
    if STUDY_INPUT == "values":
        return {key: config[key] for key in ("genes_per_shard", "exclude_samples")}
    keys = ("genes_per_shard", "size_factors_method", "exclude_samples", "round_counts")
    return {key: config[key] for key in keys}


def size_factor_input(wildcards):
    path = config.get("size_factors_file")
    return {"size_factors_file": path} if path else {}


def shard_ids():
    """Shard ids from the manifest written by the ingest checkpoint."""
    manifest = checkpoints.ingest.get().output.manifest
    return [s["id"] for s in read_json(manifest)["shards"]]


def shard_file(wildcards):
    checkpoints.ingest.get()
    return f"{OUTDIR}/shards/{wildcards.shard}.npz"


def all_shard_files(wildcards):
    return expand(f"{OUTDIR}/shards/{{shard}}.npz", shard=shard_ids())


def genewise_files(wildcards):
    return expand(rules.genewise.output[0], model=wildcards.model, shard=shard_ids())


def model_params(wildcards):
    """Params of a shared gene-wise job: the design keys, named by the model id."""
    return {**MODELS[wildcards.model].params("model"), "name": wildcards.model}


def trend_params(wildcards):
    """Params of a shared trend or MAP job: the design keys and the trend type."""
    return {**model_params(wildcards), "fit_type": wildcards.fit_type}


def dispersion_fit(wildcards):
    """The shared dispersion fit an analysis's fit job starts from (one shard): gene-wise
    estimates and trend, and the MAP dispersions where another analysis shares them (an
    analysis alone computes its MAP dispersions in its fit job: one job less per shard).
    """
    analysis = ANALYSES[wildcards.analysis]
    at = {
        "model": analysis.shape_id("model"),
        "fit_type": analysis.fit_type,
        "shard": wildcards.shard,
    }
    inputs = {
        "genewise": expand(rules.genewise.output[0], **at)[0],
        "trend": analysis_trend(wildcards),
    }
    if (at["model"], at["fit_type"]) in SHARED_MAP:
        inputs["map"] = expand(rules.map.output[0], **at)[0]
    return inputs


def analysis_trend(wildcards):
    analysis = ANALYSES[wildcards.analysis]
    return expand(
        rules.trend.output[0],
        model=analysis.shape_id("model"),
        fit_type=analysis.fit_type,
    )[0]


def fit_files(wildcards):
    return expand(rules.fit.output[0], analysis=wildcards.analysis, shard=shard_ids())


def shrink_files(wildcards):
    """The shrink shards of an analysis with lfc_shrink (none: no files)."""
    if ANALYSES[wildcards.analysis].lfc_shrink == "none":
        return []
    return expand(
        rules.shrink.output[0], analysis=wildcards.analysis, shard=shard_ids()
    )


def lmfit_files(wildcards):
    return expand(rules.lmfit.output[0], analysis=wildcards.analysis, shard=shard_ids())


def shard_mem_mb(wildcards, attempt):
    """Memory of one shard job: 500 MB plus 160 bytes per count of the largest shard.

    Measured peaks are about 100 bytes per count (tests/benchmark: ~1 GB for the fit job of
    a 10-million-count shard); `attempt` doubles and triples it on retries.
    """
    manifest = read_json(f"{OUTDIR}/manifest.json")
    n_samples = len(manifest["samples"])
    genes = max(s["stop"] - s["start"] for s in manifest["shards"])
    return int(500 + genes * n_samples * 160 / 1e6) * attempt


def study_plot_params():
    vst_analysis = REPORT["vst_analysis"]
    return {
        "color_by": REPORT["color_by"],
        "pca_genes": REPORT["pca_genes"],
        # None: blind to the design (DESeq2's vst default); else that analysis's design
        "vst_model": ANALYSES[vst_analysis].params("model") if vst_analysis else None,
    }


def values_plot_params():
    return {"color_by": REPORT["color_by"], "pca_genes": REPORT["pca_genes"]}


def report_study_rows():
    if STUDY_INPUT == "values":
        return {"values": config["values"], "samples": config["samples"]}
    return {
        "counts": config["counts"],
        "samples": config["samples"],
        "size_factors": config.get("size_factors_file")
        or config["size_factors_method"],
    }


REPORT_LAYOUT = report_layout(REPORT_PATHS, ANALYSES, values=STUDY_INPUT == "values")


# Stamps: one small file per step (and analysis) holding what shapes its jobs, i.e. the analysis
# keys, report settings, the code hash, and for ingest the input files' checksums. Each is
# an input of those jobs and is rewritten only when its content changes, so results cannot
# go stale when .snakemake/ is lost, the study runs from elsewhere, or an input is restored
# with an old timestamp.
ANALYSIS_STAMPS = (
    {  # rule name -> (analysis job of glmstack.spec.JOB_KEYS, entry script)
        "fit": ("fit", "fit.py"),
        "results_table": ("tables", "results_table.py"),
        "merge": ("tables", "merge.py"),
        "plot_analysis": ("plots", "plot_analysis.py"),
        "plot_contrast": ("plots", "plot_contrast.py"),
    }
)
SHRINK_STAMPS = {  # the same for the rules of an nb analysis with lfc_shrink
    "shrink_prior": ("shrink", "shrink_prior.py"),
    "shrink": ("shrink", "shrink.py"),
}
GAUSSIAN_STAMPS = {  # the same for the gaussian analyses' rules
    "lmfit": ("lmfit", "lmfit.py"),
    "moderate": ("moderate", "moderate.py"),
    "limma_model": ("limma_summary", "limma_model.py"),
    "plot_limma_analysis": ("limma_summary", "plot_limma_analysis.py"),
    "plot_limma_table": ("limma_summary", "plot_limma_table.py"),
}


def stamp(rule, key=None):
    """Path of a rule's stamp (per analysis, model or model.fit_type where the rule has those)."""
    return (
        f"{OUTDIR}/stamps/{rule}.json"
        if key is None
        else f"{OUTDIR}/stamps/{rule}/{key}.json"
    )


def _write_stamps():
    previous = read_stamp(stamp("ingest")).get("inputs", {})
    inputs = {
        key: file_digest(config[key], previous.get(key))
        for key in ("counts", "values", "samples", "size_factors_file")
        if config.get(key)
    }
    ingest_script = "ingest.py" if STUDY_INPUT == "counts" else "ingest_values.py"
    stamps = {
        stamp("ingest"): {
            "settings": ingest_params(),
            "inputs": inputs,
            "code": code(ingest_script),
        },
        stamp("plot_study"): {
            "params": study_plot_params(),
            "code": code("plot_study.py"),
        },
        stamp("report"): {
            "layout": REPORT_LAYOUT,
            "study": report_study_rows(),
            "code": code("report.py"),
        },
    }
    for name, analysis in ANALYSES.items():
        steps = GAUSSIAN_STAMPS if analysis.is_gaussian else ANALYSIS_STAMPS
        if not analysis.is_gaussian and analysis.lfc_shrink != "none":
            steps = {**steps, **SHRINK_STAMPS}
        for step, (job, script) in steps.items():
            content = {"params": analysis.params(job), "code": code(script)}
            if step in ("plot_contrast", "plot_limma_table"):
                content["top_genes"] = config["report"]["top_genes"]
            stamps[stamp(step, name)] = content
    for model, analysis in MODELS.items():
        params = {**analysis.params("model"), "name": model}
        stamps[stamp("genewise", model)] = {
            "params": params,
            "code": code("genewise.py"),
        }
        for fit_type in sorted(
            {a.fit_type for a in NB.values() if a.shape_id("model") == model}
        ):
            steps = ("trend", "map") if (model, fit_type) in SHARED_MAP else ("trend",)
            for step in steps:
                content = {
                    "params": {**params, "fit_type": fit_type},
                    "code": code(f"{step}.py"),
                }
                stamps[stamp(step, f"{model}.{fit_type}")] = content
    if STUDY_INPUT == "values":
        stamps[stamp("plot_values")] = {
            "params": values_plot_params(),
            "code": code("plot_values.py"),
        }
    for path, content in stamps.items():
        write_stamp(path, content)


study_checks.mark_outdir(OUTDIR)  # before the stamps: the first thing written in outdir
_write_stamps()


def report_inputs(wildcards):
    """Every file the HTML report reads."""
    return layout_files(REPORT_LAYOUT)


def all_outputs():
    out = [rules.ingest.output.manifest]
    if STUDY_INPUT == "counts":
        out.append(rules.ingest.output.size_factors)
    for name, analysis in ANALYSES.items():
        out += [f"{OUTDIR}/{name}/{table}.tsv" for table in analysis.table_names]
        merge = rules.limma_model if analysis.is_gaussian else rules.merge
        out += expand(merge.output, analysis=name)
    # the report needs every plot, so the plots are made too
    out.append(rules.report.output[0])
    return out
