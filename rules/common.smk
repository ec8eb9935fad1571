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

study_checks.check_config(config, load_configfile(Path(workflow.basedir) / "config" / "schema.yaml"))
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
        read_samples(config["samples"]), config["samples"], header, config["exclude_samples"]
    )
    for warning in study_checks.check_analyses(config, sheet, config["samples"]):
        logger.warning(f"glmstack: {warning}")


_check_study()


def _code_hash():
    """Hash of the glmstack library: editing it reruns the jobs that use it."""
    digest = hashlib.sha256()
    for path in sorted((Path(workflow.basedir) / "scripts" / "glmstack").glob("*.py")):
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
        f"{OUTDIR}/{wildcards.analysis}/genewise/{{shard}}.npz", shard=shard_ids(wildcards)
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
    return {**design_params(wildcards), "fit_type": config["analyses"][wildcards.analysis]["fit_type"]}


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
    """Memory of one shard job: a few (genes x samples) float arrays, plus headroom."""
    n_samples = len(read_json(f"{OUTDIR}/manifest.json")["samples"])
    genes = config["genes_per_shard"]
    return int(500 + genes * n_samples * 8 * 40 / 1e6) * attempt


def table_names(analysis):
    """Result tables of an analysis: lrt for an LRT, else one per contrast."""
    a = config["analyses"][analysis]
    if a["test"] == "lrt":
        return ["lrt"]
    return list(a.get("contrasts") or {}) or ["results"]


def result_tables(analysis):
    return [f"{OUTDIR}/{analysis}/{name}.tsv" for name in table_names(analysis)]


def summary_files(wildcards):
    return [
        f"{OUTDIR}/{wildcards.analysis}/summaries/{name}.json"
        for name in table_names(wildcards.analysis)
    ]


def fit_params(wildcards):
    """What the fit job needs: the whole analysis except alpha (merge-only)."""
    a = dict(config["analyses"][wildcards.analysis])
    a.pop("alpha", None)
    return a


def table_params(wildcards):
    a = config["analyses"][wildcards.analysis]
    return {"alpha": a["alpha"], "test": a["test"], "contrasts": list(a.get("contrasts") or {}) or ["results"], "table": wildcards.table}


def all_outputs():
    out = [f"{OUTDIR}/normalization/size_factors.tsv"]
    for analysis in ANALYSES:
        out += result_tables(analysis)
        out += [f"{OUTDIR}/{analysis}/dispersions.tsv", f"{OUTDIR}/{analysis}/model.json"]
    return out
