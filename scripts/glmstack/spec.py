"""One analysis of a study, typed, with its defaults from config/schema.yaml (written nowhere else).

`Analysis.from_study` builds it once from the study's entry; `Analysis.params(job)` is what a
workflow job receives: only the keys that shape that job, so that editing `alpha` reruns the
tables and not the shard fits. `JOB_KEYS` is the one place that says which key shapes which job.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "config" / "schema.yaml"

# Keys of an analysis that shape each job (a change in any of them reruns the job).
_MODEL = ("design", "levels", "bins", "sva")  # the design matrix: gene-wise dispersions, VST design
# what shapes the surrogate variables: the designs and the tested terms (the default null design)
_SVA = _MODEL + ("test", "reduced", "contrasts")
_TREND = _MODEL + ("fit_type",)
_FIT = _TREND + (
    "test",
    "reduced",
    "contrasts",
    "lfc_threshold",
    "alt_hypothesis",
    "cooks_cutoff",
    "min_replicates_for_replace",
)
# family gaussian (limma's method): least squares per shard, then the genome-wide moderation
_LMFIT = ("family",) + _MODEL + ("normalization",)
_MODERATE = _LMFIT + ("test", "reduced", "contrasts", "lfc_threshold", "moderation")
# direction reverse (trait ~ covariates + feature): plan, per-shard statistics, calibration
_REVERSE = ("direction", "trait", "covariates", "levels", "bins", "transform", "permutations", "seed")
JOB_KEYS: dict[str, tuple[str, ...]] = {
    "sva": _SVA,  # surrogate variables (genome-wide), which join the design of every job
    "model": _MODEL,  # genewise; the VST of report.vst_analysis
    "trend": _TREND,  # trend, prior and MAP dispersions
    "fit": _FIT,  # MAP dispersions, GLM fits, tests, Cook's
    "shrink": _FIT + ("lfc_shrink",),  # shrunken fold changes: prior variance, MAP refit
    "tables": _FIT + ("alpha", "lfc_shrink"),  # independent filtering, BH, model.json
    "plots": _FIT + ("alpha", "lfc_shrink"),  # plots of an analysis and of its tables
    "lmfit": _LMFIT,  # gaussian: least squares per shard
    "moderate": _MODERATE,  # gaussian: prior, moderated t/F, treat, B, BH (the tables)
    "limma_summary": _MODERATE + ("alpha",),  # gaussian: model.json and plots (alpha: counts, colours)
    "reverse": _REVERSE,  # reverse: the permutation plan and the per-shard statistics
    "reverse_merge": _REVERSE + ("alpha",),  # reverse: calibration, BH, table, model.json, plots
}
# input key -> families it allows (quant: transcript quantifications, tximport)
FAMILIES = {"counts": ("nb", "voom"), "values": ("gaussian",), "quant": ("nb",)}
DEFAULT_FAMILY = {"counts": "nb", "values": "gaussian", "quant": "nb"}


@functools.cache
def schema() -> dict:
    """config/schema.yaml, parsed once."""
    return yaml.safe_load(SCHEMA_PATH.read_text())


def analysis_defaults() -> dict[str, Any]:
    """The schema's default of every analysis key that has one."""
    properties = schema()["properties"]["analyses"]["additionalProperties"]["properties"]
    return {key: prop["default"] for key, prop in properties.items() if "default" in prop}


def sva_defaults() -> dict[str, Any]:
    """The schema's default of every key of an analysis's `sva:` block."""
    properties = schema()["properties"]["analyses"]["additionalProperties"]["properties"]["sva"]["properties"]
    return {key: prop["default"] for key, prop in properties.items()}


@dataclass(frozen=True)
class Analysis:
    """One entry of the study's `analyses:` with every default filled in.

    A job built from `params(job)` sees the keys of `JOB_KEYS[job]`; the others are None, so
    reading a key the job does not declare fails at once instead of using a stale value.
    """

    name: str
    design: str | None = None
    levels: dict[str, list] | None = None
    bins: dict[str, dict] | None = None
    test: str | None = None
    reduced: str | None = None
    fit_type: str | None = None
    alpha: float | None = None
    lfc_threshold: float | None = None
    alt_hypothesis: str | None = None
    cooks_cutoff: bool | float | None = None
    min_replicates_for_replace: int | None = None
    lfc_shrink: str | None = None
    contrasts: dict[str, Any] | None = field(default=None)
    family: str | None = None
    moderation: dict[str, bool] | None = None
    normalization: str | None = None
    direction: str | None = None
    trait: str | None = None
    covariates: str | None = None
    transform: str | None = None
    permutations: int | None = None
    seed: int | None = None
    sva: dict[str, Any] | None = None

    @classmethod
    def from_study(cls, name: str, entry: dict, family: str = "nb") -> Analysis:
        """The study's entry (a mapping from the YAML) with the schema's defaults.

        family : the default family, which depends on the study's input (`DEFAULT_FAMILY`);
        `moderation:` is completed key by key from the schema's default.
        """
        defaults = analysis_defaults()
        values = {**defaults, "family": family, **entry}
        values["moderation"] = {**defaults["moderation"], **(entry.get("moderation") or {})}
        if entry.get("sva") is not None:
            values["sva"] = {**sva_defaults(), **entry["sva"]}
        known = {f.name for f in dataclasses.fields(cls)} - {"name"}
        return cls(name=name, **{k: v for k, v in values.items() if k in known})

    @classmethod
    def from_params(cls, params: dict) -> Analysis:
        """Rebuild the analysis a job was given (`params(job)`)."""
        return cls(**params)

    def shape_id(self, job: str) -> str:
        """A short id of the keys that shape `job`, without the analysis name: analyses with
        the same id share that job's outputs (one dispersion fit per design: "model"; one
        least-squares fit per design, family and normalization: "lmfit")."""
        keys = {key: getattr(self, key) for key in JOB_KEYS[job]}
        if self.sva is None:
            keys.pop("sva", None)  # ids of analyses without surrogate variables as before
        elif job in ("model", "lmfit"):
            # the surrogate variables join the design: analyses share a dispersion fit (nb) or a
            # least-squares fit (gaussian, voom) only where everything that shapes them is the
            # same (the tested terms, too)
            keys = {key: getattr(self, key) for key in (*JOB_KEYS[job], *JOB_KEYS["sva"])}
        text = json.dumps(keys, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def params(self, job: str) -> dict[str, Any]:
        """Name plus the keys that shape `job` (plain YAML values: Snakemake compares them)."""
        return {"name": self.name, **{key: getattr(self, key) for key in JOB_KEYS[job]}}

    @property
    def is_gaussian(self) -> bool:
        """limma's method (family gaussian, or voom on counts); else DESeq2's (family nb)."""
        return self.family in ("gaussian", "voom")

    @property
    def is_reverse(self) -> bool:
        """trait ~ covariates + feature (robust, permutation-calibrated); else feature ~ design."""
        return self.direction == "reverse"

    @property
    def is_lrt(self) -> bool:
        return self.test == "lrt"

    @property
    def contrast_names(self) -> list[str]:
        """Contrasts in study order; DESeq2's default (the last coefficient) is "results"."""
        return list(self.contrasts or {}) or ["results"]

    @property
    def table_names(self) -> list[str]:
        """Result tables: `reverse` for a reverse analysis, `lrt` for a likelihood-ratio test,
        else one per contrast."""
        if self.is_reverse:
            return ["reverse"]
        return ["lrt"] if self.is_lrt else self.contrast_names


def study_input(config: dict) -> str:
    """The key of the study's feature matrix: "values" or "quant" where given, else "counts"."""
    return "values" if config.get("values") else "quant" if config.get("quant") else "counts"


def counts_from_abundance(config: dict) -> str:
    """quant.counts_from_abundance as tximport spells it (YAML reads a bare `no` as false)."""
    value = (config.get("quant") or {}).get("counts_from_abundance", "no")
    return "no" if value is False or value is None else str(value)


def study_analyses(config: dict) -> dict[str, Analysis]:
    """Every analysis of a study, in the study's order (family defaulting from the input)."""
    family = DEFAULT_FAMILY[study_input(config)]
    return {name: Analysis.from_study(name, entry, family) for name, entry in config["analyses"].items()}
