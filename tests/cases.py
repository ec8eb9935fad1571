"""The reference cases in tests/data: real public count matrices with R DESeq2 1.38 output."""

from __future__ import annotations

import csv
import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from glmstack import study as study_checks
from glmstack.io import counts as count_files
from glmstack.io.samples import read_samples

DATA = Path(__file__).parent / "data"


def case_names() -> list[str]:
    return sorted(p.name for p in DATA.iterdir() if (p / "study.yaml").exists())


def analyses() -> list[tuple[str, str]]:
    """(case, analysis) for every analysis with a reference."""
    out = []
    for case in case_names():
        study = yaml.safe_load((DATA / case / "study.yaml").read_text())
        out += [(case, name) for name in study["analyses"] if (DATA / case / "reference" / name).exists()]
    return out


@dataclass(frozen=True)
class Case:
    name: str
    study: dict
    gene_id: np.ndarray
    counts: np.ndarray
    samples: pd.DataFrame
    sample_ids: list[str]

    def reference(self, analysis: str, table: str = "results") -> pd.DataFrame:
        return read_table(DATA / self.name / "reference" / analysis / f"{table}.tsv.gz")

    def meta(self, analysis: str) -> dict:
        return json.loads((DATA / self.name / "reference" / analysis / "meta.json").read_text())

    def reference_size_factors(self) -> np.ndarray:
        sf = read_table(DATA / self.name / "reference" / "size_factors.tsv.gz").set_index("sample")
        return sf.loc[self.sample_ids, "size_factor"].to_numpy()


def data_file(relative: str) -> Path:
    """tests/data/<relative>, gzipped or not (the reference tables ship gzipped)."""
    for candidate in (DATA / (relative + ".gz"), DATA / relative):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"tests/data/{relative}(.gz) is missing")


def read_json(path: Path) -> dict:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return json.load(handle)


def write_text(tmp_path: Path, name: str, text: str) -> Path:
    """tmp_path/name holding `text` (gzipped when the name ends in .gz)."""
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype={"gene_id": str, "sample": str}, na_values=["NA"])


@functools.cache
def rmath_reference() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """tests/data/rmath/random_reference.tsv.gz: R call -> (0-based positions, values).

    The values are parsed by Python's float(), which reads R's %.17g back exactly.
    """
    rows: dict[str, list[tuple[int, float]]] = {}
    with gzip.open(DATA / "rmath" / "random_reference.tsv.gz", "rt") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            rows.setdefault(row["sequence"], []).append((int(row["position"]) - 1, float(row["value"])))
    out = {}
    for name, pairs in rows.items():
        out[name] = (np.array([p for p, _ in pairs]), np.array([v for _, v in pairs]))
    return out


@functools.lru_cache(maxsize=2)
def load(name: str) -> Case:
    root = DATA / name
    study = yaml.safe_load((root / "study.yaml").read_text())
    counts = count_files.read_counts(root / study["counts"])
    samples = study_checks.check_samples(read_samples(root / study["samples"]), study["samples"], counts.samples)
    return Case(name, study, counts.gene_id, counts.counts, samples, counts.samples)
