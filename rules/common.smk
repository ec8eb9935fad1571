# The study: config and sample-sheet checks before any job runs, the analyses (glmstack.spec),
# and the input and params functions of the rules. No rules here.

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
from glmstack.spec import SCHEMA_PATH, study_analyses  # noqa: E402
from glmstack.workflow import code_hash  # noqa: E402

study_checks.check_config(config, load_configfile(SCHEMA_PATH))
validate(config, schema=str(SCHEMA_PATH))

OUTDIR = config["outdir"].rstrip("/")
ANALYSES = study_analyses(config)  # name -> glmstack.spec.Analysis, defaults filled in
SCRIPTS = Path(workflow.basedir) / "scripts"
REPORT_PATHS = ReportPaths(OUTDIR, Path(workflow.basedir) / "rules" / "captions")


def _check_study():
    """Meaning checks before any job runs: sheet vs count header, designs, contrasts."""
    checked = study_checks.check_study(config)
    for warning in checked.warnings:
        logger.warning(f"glmstack: {warning}")
    return checked.report


REPORT = _check_study()


wildcard_constraints:
    shard=r"\d{4}",
    analysis="|".join(ANALYSES),
    table="|".join(sorted({t for a in ANALYSES.values() for t in a.table_names})),


def code(script):
    """Hash of an entry script and the glmstack modules it imports: edits rerun its jobs."""
    return code_hash(SCRIPTS / script, SCRIPTS / "glmstack")


def analysis_params(job):
    """Params of an analysis's `job`: the keys of the analysis that shape it (glmstack.spec)."""

    def params(wildcards):
        return ANALYSES[wildcards.analysis].params(job)

    return params


def ingest_params():
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
    return expand(
        rules.genewise.output[0], analysis=wildcards.analysis, shard=shard_ids()
    )


def fit_files(wildcards):
    return expand(rules.fit.output[0], analysis=wildcards.analysis, shard=shard_ids())


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


def report_study_rows():
    return {
        "counts": config["counts"],
        "samples": config["samples"],
        "size_factors": config.get("size_factors_file")
        or config["size_factors_method"],
    }


REPORT_LAYOUT = report_layout(REPORT_PATHS, ANALYSES)


def report_inputs(wildcards):
    """Every file the HTML report reads."""
    return layout_files(REPORT_LAYOUT)


def all_outputs():
    out = [rules.ingest.output.size_factors]
    for name, analysis in ANALYSES.items():
        out += [f"{OUTDIR}/{name}/{table}.tsv" for table in analysis.table_names]
        out += expand(rules.merge.output, analysis=name)
    out.append(rules.report.output[0])  # needs every plot, so the plots are made too
    return out
