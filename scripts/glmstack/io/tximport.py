"""Transcript quantifications summarised to genes, as R's tximport (Soneson, Love & Robinson 2015).

Gene counts and abundances are sums over a gene's transcripts; a gene's length in a sample
is the abundance-weighted mean of its transcripts' effective lengths. Where a gene has no
abundance in a sample (0 / 0), the length is the geometric mean of its lengths in the other
samples, or, where it has none in any sample, the plain mean over its transcripts of their
mean lengths (tximport's replaceMissingLength). `counts_from_abundance` rescales abundances
to counts ("scaledTPM", "lengthScaledTPM") keeping each sample's total; DESeq2 then uses the
counts alone, without length offsets (DESeqDataSetFromTximport).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import StudyError, preview
from .quant import TranscriptMatrices

COUNTS_FROM_ABUNDANCE = ("no", "scaledTPM", "lengthScaledTPM")  # tximport countsFromAbundance


@dataclass(frozen=True)
class GeneMatrices:
    """tximport's txi at gene level, genes sorted by id (R rowsum's order), (G, N) each.

    counts : estimated counts (not rounded); abundance : summed TPM; length : average
    transcript length; n_unmapped : transcripts left out because tx2gene has no gene for them;
    counts_from_abundance : how `counts` were made ("no": summed estimated counts).
    """

    gene_id: np.ndarray
    counts: np.ndarray
    abundance: np.ndarray
    length: np.ndarray
    n_unmapped: int
    counts_from_abundance: str = "no"

    @property
    def has_offsets(self) -> bool:
        """Length offsets apply: DESeq2 uses the lengths only with countsFromAbundance "no"."""
        return self.counts_from_abundance == "no"


def summarize_to_gene(
    tx: TranscriptMatrices, gene_of_tx: np.ndarray, counts_from_abundance: str = "no"
) -> GeneMatrices:
    """tximport(..., tx2gene, countsFromAbundance) from transcript matrices.

    Parameters
    ----------
    tx : (T, N) abundance, counts, effective length of each transcript and sample.
    gene_of_tx : (T,) gene id of each transcript; "" for transcripts tx2gene does not map
        (left out, as tximport does).
    counts_from_abundance : "no" | "scaledTPM" | "lengthScaledTPM".

    Returns
    -------
    GeneMatrices (lengths also with counts from abundance, as tximport returns them).
    """
    from scipy import sparse  # transcript quantifications only: not on a count matrix's ingest

    keep = gene_of_tx != ""
    genes, index = np.unique(gene_of_tx[keep], return_inverse=True)
    n_tx = int(keep.sum())
    member = sparse.csr_matrix((np.ones(n_tx), (index, np.arange(n_tx))), shape=(genes.size, n_tx))
    abundance_tx, counts_tx, length_tx = tx.abundance[keep], tx.counts[keep], tx.length[keep]
    abundance = member @ abundance_tx
    counts = member @ counts_tx
    with np.errstate(invalid="ignore", divide="ignore"):
        length = (member @ (abundance_tx * length_tx)) / abundance
    # replaceMissingLength: 0/0 where a gene has no abundance in a sample
    mean_tx_length = (member @ length_tx.mean(axis=1)) / np.asarray(member.sum(axis=1)).ravel()
    missing = np.isnan(length)
    if missing.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            log_len = np.where(missing, np.nan, np.log(length))
            geo = np.exp(np.nanmean(np.where(missing.all(axis=1)[:, None], 0.0, log_len), axis=1))
        fill = np.where(missing.all(axis=1), mean_tx_length, geo)
        length = np.where(missing, fill[:, None], length)
    if counts_from_abundance != "no":
        counts = counts_from_abundance_matrix(counts, abundance, length, counts_from_abundance)
    return GeneMatrices(genes, counts, abundance, length, int((~keep).sum()), counts_from_abundance)


def counts_from_abundance_matrix(
    counts: np.ndarray, abundance: np.ndarray, length: np.ndarray, method: str
) -> np.ndarray:
    """tximport makeCountsFromAbundance: abundance (times the gene's mean length for
    lengthScaledTPM) scaled so that each sample keeps its total count. (G, N) each."""
    new = abundance * length.mean(axis=1)[:, None] if method == "lengthScaledTPM" else abundance
    with np.errstate(invalid="ignore", divide="ignore"):
        return new * (counts.sum(axis=0) / new.sum(axis=0))


def check_lengths(genes: GeneMatrices, samples: list[str], where: str) -> None:
    """DESeq2 needs every average transcript length > 0 (DESeqDataSetFromTximport)."""
    if not genes.has_offsets:
        return
    rows, cols = np.nonzero(~(genes.length > 0))
    if rows.size:
        cells = [f"{genes.gene_id[r]}/{samples[c]}" for r, c in zip(rows, cols)]
        raise StudyError(
            f"{where}: average transcript length 0 for genes/samples {preview(cells)} (every transcript "
            "of the gene has effective length 0). Fix: set `quant.counts_from_abundance: lengthScaledTPM` "
            "(no length offsets), or requantify with a transcriptome whose transcripts are longer than "
            "the fragment length."
        )


def import_quant(paths: dict[str, str], kind: str, tx2gene: str, counts_from_abundance: str) -> GeneMatrices:
    """tximport(files, type = kind, tx2gene, countsFromAbundance) from the files of a study.

    paths : sample -> quantification file (samples in study order). Raises StudyError for
    missing files or columns, different transcript sets across samples, a tx2gene that maps
    none of the transcripts, and genes of average length 0 where offsets are used.
    """
    from .quant import map_transcripts, read_quant_files, read_tx2gene

    tx = read_quant_files(paths, kind)
    tx_ids, gene_ids = read_tx2gene(tx2gene)
    gene_of_tx, _ = map_transcripts(tx.transcript_id, tx_ids, gene_ids, f"{tx2gene} (quant.tx2gene)")
    genes = summarize_to_gene(tx, gene_of_tx, counts_from_abundance)
    check_lengths(genes, list(paths), f"{tx2gene} (quant.tx2gene)")
    return genes
