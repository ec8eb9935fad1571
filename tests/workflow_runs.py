"""Running the workflow from the end-to-end tests: snakemake on a study in its own directory."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from cases import DATA

ROOT = Path(__file__).resolve().parents[1]
# The marioni study of the end-to-end tests (`write_study` copies its files): a Wald test and the
# LRT of the same design. Tests copy it ({**MARIONI_STUDY, ...}), never change it.
MARIONI_STUDY = {
    "counts": "counts.tsv.gz",
    "samples": "samples.tsv.gz",
    "outdir": "out",
    "genes_per_shard": 1500,
    "analyses": {
        "tissue": {
            "design": "~ run + tissue",
            "levels": {"run": ["R1", "R2"], "tissue": ["Kidney", "Liver"]},
            "contrasts": {"liver_vs_kidney": ["tissue", "Liver", "Kidney"]},
        },
        "tissue_lrt": {
            "design": "~ run + tissue",
            "test": "lrt",
            "reduced": "~ run",
            "levels": {"run": ["R1", "R2"], "tissue": ["Kidney", "Liver"]},
            "contrasts": {"liver_vs_kidney": {"coef": "tissue_Liver_vs_Kidney"}},
        },
    },
}


def snakemake_command(workdir: Path, *args: str, configfile: Path | None = None) -> list[str]:
    """`python -m snakemake` on `workdir` with <workdir>/study.yaml (or `configfile`)."""
    return [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(ROOT / "Snakefile"),
        "--directory", str(workdir),
        *args,  # before --configfile, which takes every word after it: targets may end `args`
        "--configfile", str(configfile or workdir / "study.yaml"),
    ]  # fmt: skip


def snakemake(
    workdir: Path, *args: str, configfile: Path | None = None, timeout: int = 900
) -> subprocess.CompletedProcess:
    """Run `snakemake_command` to the end, output captured."""
    command = snakemake_command(workdir, *args, configfile=configfile)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def write_study(work: Path, study: dict) -> Path:
    """`work` holding the marioni counts and sample sheet, and `study` as study.yaml."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("counts.tsv.gz", "samples.tsv.gz"):
        shutil.copy(DATA / "marioni" / name, work / name)
    (work / "study.yaml").write_text(yaml.safe_dump(study))
    return work


def rule_kind(name: str) -> str:
    """A rule's name without its group: merge_<model id>_<fit type> -> merge, moderate_<lmfit
    id> -> moderate (the genome-wide rules have one rule per group of analyses sharing a fit;
    rules/merge.smk, rules/gaussian.smk)."""
    return re.sub(r"_[0-9a-f]{10}(_(parametric|local|mean))?$", "", name)
