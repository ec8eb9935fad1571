"""Transcript quantifications (salmon, kallisto, RSEM) and the transcript -> gene table.

What `quant:` in a study names: one quantification file per sample (a path template over
the sheet's `sample`, or a sheet column of paths) and `tx2gene` (a two-column table or a
GTF). Every problem is a StudyError naming the file, the sample and the fix; the checks that
need only file names and headers run before any job (`check_quant`), the rest in ingest.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import StudyError, preview
from .files import DECODE_ERRORS, open_text, table_separator, unreadable


@dataclass(frozen=True)
class QuantFormat:
    """The columns tximport reads from one quantifier's per-sample table."""

    transcript: str
    abundance: str
    counts: str
    length: str
    typical_name: str


# tximport 1.26's columns for type = "salmon" | "kallisto" | "rsem" (RSEM's isoforms.results)
QUANT_FORMATS = {
    "salmon": QuantFormat("Name", "TPM", "NumReads", "EffectiveLength", "quant.sf"),
    "kallisto": QuantFormat("target_id", "tpm", "est_counts", "eff_length", "abundance.tsv"),
    "rsem": QuantFormat("transcript_id", "TPM", "expected_count", "effective_length", "isoforms.results"),
}
RSEM_MIN_LENGTH = 1.0  # tximport: RSEM effective lengths below 1 are set to 1


def quant_paths(quant: dict, sheet: pd.DataFrame, samples_path: str) -> dict[str, str]:
    """Sample -> quantification file, from `quant.files` (a template with {sample}, or a column).

    Raises StudyError when `files` is neither a template nor a column of the sheet, or names a
    column with empty cells.
    """
    files = str(quant["files"])
    ids = sheet["sample"].astype(str).tolist()
    if "{sample}" in files:
        return {s: files.replace("{sample}", s) for s in ids}
    if files in sheet.columns:
        column = sheet[files]
        blank = [s for s, v in zip(ids, column) if pd.isna(v) or not str(v).strip()]
        if blank:
            raise StudyError(
                f"{samples_path}: column {files!r} (quant.files) is empty for samples {preview(blank)}. "
                "Fix: give every sample the path of its quantification file."
            )
        return {s: str(v).strip() for s, v in zip(ids, column)}
    raise StudyError(
        f"study config: `quant.files: {files}` is neither a path template with '{{sample}}' "
        f"(e.g. quant/{{sample}}/{QUANT_FORMATS[quant['type']].typical_name}) nor a column of "
        f"{samples_path} (columns: {', '.join(map(str, sheet.columns))}). Fix: write a template or name "
        "the column holding each sample's path."
    )


def quant_header(path: str | Path) -> list[str]:
    """The column names of a quantification file (first line)."""
    path = Path(path)
    try:
        with open_text(path) as fh:
            line = fh.readline(1 << 20)
    except DECODE_ERRORS as exc:
        raise unreadable(path, exc) from None
    return next(csv.reader([line.rstrip("\r\n")], delimiter="\t"), [])


def check_quant_files(paths: dict[str, str], kind: str) -> None:
    """Each sample's file exists and has the columns tximport reads for `kind`."""
    missing = [f"{s}: {p}" for s, p in paths.items() if not Path(p).is_file()]
    if missing:
        raise StudyError(
            f"quant.files: no quantification file for samples {preview(missing)}. Fix: correct "
            "`quant.files` (relative paths are relative to the directory snakemake runs in), or "
            "leave those samples out with `exclude_samples:`."
        )
    fmt = QUANT_FORMATS[kind]
    wanted = [fmt.transcript, fmt.abundance, fmt.counts, fmt.length]
    for sample, path in paths.items():
        header = quant_header(path)
        absent = [c for c in wanted if c not in header]
        if absent:
            guess = next(
                (name for name, f in QUANT_FORMATS.items()
                 if name != kind and {f.transcript, f.abundance, f.counts, f.length} <= set(header)),
                None,
            )  # fmt: skip
            hint = f"it looks like {guess} output: set `quant.type: {guess}`" if guess else (
                f"point quant.files at {kind}'s {fmt.typical_name} files"
            )
            raise StudyError(
                f"{path} (sample {sample!r}): columns {preview(absent)} are missing for quant.type "
                f"{kind} (columns present: {', '.join(header[:8])}). Fix: {hint}."
            )


@dataclass(frozen=True)
class TranscriptMatrices:
    """Transcript-level matrices of a study, (T, N): tximport's txi before summarising."""

    transcript_id: np.ndarray
    abundance: np.ndarray
    counts: np.ndarray
    length: np.ndarray


def read_quant_files(paths: dict[str, str], kind: str) -> TranscriptMatrices:
    """Read every sample's quantification (tximport's importer), samples in `paths` order.

    Raises StudyError when the files do not list the same transcripts in the same order
    (tximport stops there too), or hold non-numbers.
    """
    fmt = QUANT_FORMATS[kind]
    check_quant_files(paths, kind)
    tx_id, columns = None, {"abundance": [], "counts": [], "length": []}
    first = None
    for sample, path in paths.items():
        try:
            table = pd.read_csv(
                path, sep="\t", usecols=[fmt.transcript, fmt.abundance, fmt.counts, fmt.length],
                dtype={fmt.transcript: str}, keep_default_na=False, na_values=[""],
            )  # fmt: skip
        except DECODE_ERRORS as exc:
            raise unreadable(Path(path), exc) from None
        ids = table[fmt.transcript].to_numpy(dtype=str)
        if tx_id is None:
            tx_id, first = ids, (sample, path)
        elif ids.size != tx_id.size or np.any(ids != tx_id):
            differ = sorted(set(ids) ^ set(tx_id))
            what = (
                f"transcripts {preview(differ)} are in one file and not the other"
                if differ
                else "the same transcripts are listed in a different order"
            )
            raise StudyError(
                f"{path} (sample {sample!r}) and {first[1]} (sample {first[0]!r}) do not list the same "
                f"transcripts ({ids.size} and {tx_id.size} rows; {what}). Fix: quantify every sample "
                "against the same transcriptome index."
            )
        for key, column in (("abundance", fmt.abundance), ("counts", fmt.counts), ("length", fmt.length)):
            values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
            bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
            if bad.size:
                raise StudyError(
                    f"{path} (sample {sample!r}): column {column!r} holds values that are not "
                    f"non-negative numbers for transcripts {preview(ids[bad].tolist())}. Fix: rerun "
                    f"{kind} or repair the file."
                )
            columns[key].append(values)
    length = np.column_stack(columns["length"])
    if kind == "rsem":
        length = np.maximum(length, RSEM_MIN_LENGTH)
    return TranscriptMatrices(
        tx_id, np.column_stack(columns["abundance"]), np.column_stack(columns["counts"]), length
    )


_GTF_ATTRIBUTE = {key: re.compile(rf'{key}\s+"([^"]*)"') for key in ("transcript_id", "gene_id")}


def is_gtf(path: str | Path) -> bool:
    name = str(path).lower()
    return name.endswith((".gtf", ".gtf.gz", ".gff", ".gff.gz"))


def read_tx2gene(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(transcript ids, gene ids) of `tx2gene`: a two-column table or a GTF.

    Table: TSV/CSV, first column transcript, second gene (further columns ignored); a header
    line is recognised by the caller (`map_transcripts`). GTF: every line with both a
    transcript_id and a gene_id attribute. Duplicated transcripts keep their first gene
    (tximport cleanTx2Gene).
    """
    path = Path(path)
    try:
        if is_gtf(path):
            tx, gene = [], []
            with open_text(path) as fh:
                for line in fh:
                    if line.startswith("#"):
                        continue
                    t = _GTF_ATTRIBUTE["transcript_id"].search(line)
                    g = _GTF_ATTRIBUTE["gene_id"].search(line)
                    if t and g:
                        tx.append(t.group(1))
                        gene.append(g.group(1))
            if not tx:
                raise StudyError(
                    f"{path}: no line of this GTF has both transcript_id and gene_id attributes. Fix: "
                    "give the transcriptome's GTF, or a two-column table (transcript, gene)."
                )
            table = pd.DataFrame({"tx": tx, "gene": gene})
        else:
            table = pd.read_csv(
                path, sep=table_separator(path), header=None, dtype=str, keep_default_na=False, comment=None
            )
    except DECODE_ERRORS as exc:
        raise unreadable(path, exc) from None
    except pd.errors.ParserError as exc:
        raise StudyError(f"{path}: not a table ({str(exc).strip()}). Fix: give two columns, transcript and gene.") from None
    if table.shape[1] < 2:
        raise StudyError(
            f"{path}: tx2gene has {table.shape[1]} column; it needs two (transcript id, gene id). "
            "Fix: give a two-column table (tab- or comma-separated as its name says) or a GTF."
        )
    table = table.iloc[:, :2]
    table = table[~table.iloc[:, 0].duplicated()]
    return table.iloc[:, 0].to_numpy(dtype=str), table.iloc[:, 1].to_numpy(dtype=str)


def map_transcripts(
    transcript_id: np.ndarray, tx: np.ndarray, gene: np.ndarray, where: str
) -> tuple[np.ndarray, int]:
    """Gene of each quantified transcript ("" where tx2gene has none), and how many lack one.

    A first row of `tx` that is not a quantified transcript is taken for a header. None of the
    transcripts in tx2gene: StudyError showing ids of both (tximport stops there too).
    """
    if tx.size and tx[0] not in set(transcript_id):
        tx, gene = tx[1:], gene[1:]
    lookup = pd.Series(gene, index=tx)
    mapped = lookup.reindex(transcript_id)
    known = mapped.notna().to_numpy()
    if not known.any():
        versions = any("." in t for t in transcript_id[:100]) != any("." in t for t in tx[:100])
        hint = " One side has version suffixes (ENST00000456328.2) and the other not: make them agree." if versions else ""
        raise StudyError(
            f"{where}: none of the quantified transcripts ({preview(transcript_id[:3].tolist())}) is in the "
            f"first column of tx2gene ({preview(tx[:3].tolist())}).{hint} Fix: use the tx2gene table or GTF "
            "of the transcriptome the samples were quantified against."
        )
    genes = mapped.fillna("").to_numpy(dtype=str)
    return genes, int((~known).sum())
