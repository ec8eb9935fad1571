"""`quant:` studies: reading salmon/kallisto/RSEM files and tx2gene, tximport's edge cases,
normalization factors, and one clear StudyError per kind of bad input."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cases import DATA
from glmstack import study as study_checks
from glmstack.errors import StudyError
from glmstack.io import quant, tximport
from glmstack.nb import size_factors, steps
from glmstack.spec import Analysis

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())
CASE = DATA / "tximport_salmon"
SAMPLES = ["Fibroblasts_0", "Fibroblasts_1", "hESC_0", "hESC_1", "iPS_0", "iPS_1"]


def salmon_table(sample: str) -> pd.DataFrame:
    return pd.read_csv(CASE / "quant" / sample / "quant.sf.gz", sep="\t", dtype={"Name": str})


@pytest.fixture
def study_dir(tmp_path, monkeypatch) -> Path:
    """A copy of the salmon case in the current directory, with its study."""
    for sample in SAMPLES:
        (tmp_path / "quant" / sample).mkdir(parents=True)
        shutil.copy(CASE / "quant" / sample / "quant.sf.gz", tmp_path / "quant" / sample / "quant.sf.gz")
    for name in ("samples.tsv.gz", "tx2gene.tsv.gz", "quant_study.yaml"):
        shutil.copy(CASE / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def config(**quant_keys) -> dict:
    study = yaml.safe_load((CASE / "quant_study.yaml").read_text())
    study["quant"].update(quant_keys)
    return {**study, **yaml.safe_load("{outdir: results, exclude_samples: [], report: {top_genes: 12, "
                                      "color_by: null, pca_genes: 500, vst_analysis: null}}")}


def check(study: dict):
    study_checks.check_config(study, SCHEMA)
    return study_checks.check_study(study)


def test_the_case_passes(study_dir):
    assert check(config()).n_samples == 6


# ---------------------------------------------------------------- bad input, before any job


def test_missing_file_names_the_sample(study_dir):
    (study_dir / "quant" / "iPS_1" / "quant.sf.gz").unlink()
    with pytest.raises(StudyError, match=r"no quantification file for samples 'iPS_1: quant/iPS_1/quant.sf.gz'.*Fix"):
        check(config())


def test_files_neither_template_nor_column(study_dir):
    with pytest.raises(StudyError, match=r"`quant.files: quant.sf` is neither a path template.*nor a column of samples"):
        check(config(files="quant.sf"))


def test_files_from_a_sheet_column(study_dir):
    sheet = pd.read_csv("samples.tsv.gz", sep="\t")
    sheet["path"] = [f"quant/{s}/quant.sf.gz" for s in sheet["sample"]]
    sheet.to_csv("samples.tsv", sep="\t", index=False)
    study = {**config(files="path"), "samples": "samples.tsv"}
    assert check(study).n_samples == 6
    sheet.loc[2, "path"] = ""
    sheet.to_csv("samples.tsv", sep="\t", index=False)
    with pytest.raises(StudyError, match=r"samples.tsv: column 'path' \(quant.files\) is empty for samples 'hESC_0'"):
        check(study)


def test_wrong_type_names_the_file_and_the_right_type(study_dir):
    with pytest.raises(StudyError, match=r"quant/Fibroblasts_0/quant.sf.gz \(sample 'Fibroblasts_0'\): columns 'target_id'"
                       r".*it looks like salmon output: set `quant.type: salmon`"):
        check(config(type="kallisto"))


def test_missing_column(study_dir):
    table = salmon_table("hESC_1").drop(columns="EffectiveLength")
    table.to_csv(study_dir / "quant" / "hESC_1" / "quant.sf.gz", sep="\t", index=False)
    with pytest.raises(StudyError, match=r"hESC_1/quant.sf.gz \(sample 'hESC_1'\): columns 'EffectiveLength' are missing"):
        check(config())


def test_missing_tx2gene(study_dir):
    with pytest.raises(StudyError, match=r"`quant.tx2gene: t2g.tsv` does not exist"):
        check(config(tx2gene="t2g.tsv"))


def test_unknown_type_and_counts_from_abundance():
    with pytest.raises(StudyError, match=r"quant.type: 'salmonn' is not one of salmon, kallisto, rsem \(did you mean 'salmon'\?\)"):
        study_checks.check_config(config(type="salmonn"), SCHEMA)
    with pytest.raises(StudyError, match=r"quant.counts_from_abundance: 'lengthScaled' is not one of"):
        study_checks.check_config(config(counts_from_abundance="lengthScaled"), SCHEMA)
    study_checks.check_config(config(counts_from_abundance=False), SCHEMA)  # YAML's bare `no`


def test_counts_and_quant_together():
    with pytest.raises(StudyError, match=r"both `counts:` and `quant:` are given"):
        study_checks.check_config({**config(), "counts": "c.tsv"}, SCHEMA)


def test_size_factors_file_refused(study_dir):
    Path("sf.tsv").write_text("sample\tsize_factor\n")
    with pytest.raises(StudyError, match=r"size_factors_file applies to `counts:`; with `quant:`"):
        check({**config(), "size_factors_file": "sf.tsv"})


# ---------------------------------------------------------------- bad input, in the ingest step


def import_case(study_dir: Path, tx2gene: str = "tx2gene.tsv.gz", kind: str = "salmon", name: str = "quant.sf.gz"):
    paths = {s: str(study_dir / "quant" / s / name) for s in SAMPLES}
    return tximport.import_quant(paths, kind, str(study_dir / tx2gene), "no")


def test_mismatched_transcripts(study_dir):
    table = salmon_table("iPS_0").iloc[:-2]
    table.to_csv(study_dir / "quant" / "iPS_0" / "quant.sf.gz", sep="\t", index=False)
    with pytest.raises(StudyError, match=r"iPS_0/quant.sf.gz \(sample 'iPS_0'\) and .*Fibroblasts_0/quant.sf.gz .* do not "
                       r"list the same transcripts \(1090 and 1092 rows; transcripts 'TCONS_.*Fix: quantify every sample"):
        import_case(study_dir)


def test_no_transcript_in_tx2gene(study_dir):
    pd.DataFrame({"tx": ["ENST1.1", "ENST2.1"], "gene": ["g1", "g2"]}).to_csv(study_dir / "t2g.tsv", sep="\t", index=False)
    with pytest.raises(StudyError, match=r"t2g.tsv \(quant.tx2gene\): none of the quantified transcripts \('TCONS_00000001'.*"
                       r"\('ENST1.1', 'ENST2.1'\). One side has version suffixes"):
        import_case(study_dir, "t2g.tsv")


def test_transcripts_missing_from_tx2gene_are_left_out(study_dir):
    """As tximport: unmapped transcripts are dropped (counted), the rest summarised."""
    table = pd.read_csv(CASE / "tx2gene.tsv.gz", sep="\t")
    table.iloc[10:].to_csv(study_dir / "t2g.csv", index=False, header=False)  # the first row is data
    whole, partial = import_case(study_dir), import_case(study_dir, "t2g.csv")
    assert partial.n_unmapped == 10  # so the header-less table was read from its first row
    dropped = set(table["gene_id"][:10]) - set(table["gene_id"][10:])
    assert dropped and set(partial.gene_id) == set(whole.gene_id) - dropped


def test_zero_length_genes_refused(study_dir):
    for sample in SAMPLES:
        table = salmon_table(sample)
        table.loc[table["Name"] == "TCONS_00000001", "EffectiveLength"] = 0
        table.loc[table["Name"] == "TCONS_00000001", "TPM"] = 0
        table.to_csv(study_dir / "quant" / sample / "quant.sf.gz", sep="\t", index=False)
    t2g = pd.DataFrame({"tx": ["TCONS_00000001"] + [f"x{i}" for i in range(3)], "gene": ["lonely"] * 4})
    full = pd.read_csv(CASE / "tx2gene.tsv.gz", sep="\t")
    full = full[full["transcript_id"] != "TCONS_00000001"]
    pd.concat([t2g.iloc[:1], full.set_axis(["tx", "gene"], axis=1)]).to_csv(study_dir / "t2g.tsv", sep="\t", index=False)
    with pytest.raises(StudyError, match=r"average transcript length 0 for genes/samples 'lonely/Fibroblasts_0'"):
        import_case(study_dir, "t2g.tsv")


# ---------------------------------------------------------------- formats and tximport's rules


def test_kallisto_and_rsem_give_salmon_numbers(study_dir):
    salmon = import_case(study_dir)
    renames = {
        "kallisto": ("abundance.tsv", {"Name": "target_id", "TPM": "tpm", "NumReads": "est_counts", "EffectiveLength": "eff_length"}),
        "rsem": ("isoforms.results", {"Name": "transcript_id", "TPM": "TPM", "NumReads": "expected_count",
                                      "EffectiveLength": "effective_length"}),
    }
    for kind, (name, columns) in renames.items():
        for sample in SAMPLES:
            salmon_table(sample).rename(columns=columns).to_csv(study_dir / "quant" / sample / name, sep="\t", index=False)
        other = import_case(study_dir, kind=kind, name=name)
        np.testing.assert_array_equal(other.counts, salmon.counts)
        lengths_above_one = (salmon.length >= 1).all()
        assert lengths_above_one  # so RSEM's floor at 1 changes nothing here
        np.testing.assert_allclose(other.length, salmon.length, rtol=1e-15)


def test_rsem_lengths_below_one_become_one():
    tx = quant.TranscriptMatrices(np.array(["t1", "t2"]), np.ones((2, 2)), np.ones((2, 2)), np.array([[0.5, 2.0], [1.0, 1.0]]))
    genes = tximport.summarize_to_gene(tx, np.array(["g", "g"]))
    np.testing.assert_allclose(genes.length, [[0.75, 1.5]])  # salmon: taken as given
    floored = quant.TranscriptMatrices(tx.transcript_id, tx.abundance, tx.counts, np.maximum(tx.length, quant.RSEM_MIN_LENGTH))
    np.testing.assert_allclose(tximport.summarize_to_gene(floored, np.array(["g", "g"])).length, [[1.0, 1.5]])


def test_missing_lengths_as_tximport():
    """0 / 0 lengths: geometric mean of the gene's other samples, else the transcripts' mean."""
    abundance = np.array([[0.0, 2.0, 8.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    length = np.array([[100.0, 200.0, 800.0], [10.0, 20.0, 30.0], [50.0, 50.0, 50.0]])
    tx = quant.TranscriptMatrices(np.array(["a", "b", "c"]), abundance, abundance, length)
    genes = tximport.summarize_to_gene(tx, np.array(["g1", "g2", "g2"]))
    np.testing.assert_allclose(genes.length[0], [400.0, 200.0, 800.0])  # exp(mean(log(200, 800)))
    np.testing.assert_allclose(genes.length[1], [35.0] * 3)  # mean(20, 50)


def test_tx2gene_from_gtf_equals_the_table():
    t1, g1 = quant.read_tx2gene(CASE / "tx2gene.tsv.gz")
    t2, g2 = quant.read_tx2gene(CASE / "annotation.gtf.gz")
    assert dict(zip(t1[1:], g1[1:])) == dict(zip(t2, g2))


# ---------------------------------------------------------------- normalization factors


def test_normalization_factors_of_equal_lengths_are_size_factors():
    rng = np.random.default_rng(1)
    counts = rng.poisson(50, (200, 6)).astype(float)
    nf, sf = size_factors.normalization_factors(counts, np.full(counts.shape, 1500.0))
    np.testing.assert_allclose(sf, size_factors.size_factors(counts), rtol=1e-14)
    np.testing.assert_allclose(nf, np.broadcast_to(sf / np.exp(np.log(sf).mean()), nf.shape), rtol=1e-14)


def test_a_matrix_of_size_factors_gives_the_vector_numbers():
    """The (G, N) path equals the (N,) path when every row is the size factors."""
    rng = np.random.default_rng(7)
    n = 8
    sheet = pd.DataFrame({"sample": [f"s{i}" for i in range(n)], "group": ["a", "b"] * (n // 2)})
    mean = rng.gamma(1.0, 50.0, 300)[:, None] * np.where(sheet["group"] == "b", 2.0, 1.0)
    counts = rng.negative_binomial(5, 5 / (5 + mean)).astype(float)
    counts[:3] = 0
    sf = size_factors.size_factors(counts[3:])
    analysis = Analysis.from_study("g", {"design": "~ group", "contrasts": {"b": ["group", "b", "a"]}})
    vector = steps.run_analysis(np.arange(300).astype(str), counts, sf, sheet, analysis)
    matrix = steps.run_analysis(np.arange(300).astype(str), counts, np.tile(sf, (300, 1)), sheet, analysis, 64)
    pd.testing.assert_frame_equal(vector["tables"]["b"], matrix["tables"]["b"], rtol=1e-9)
    pd.testing.assert_frame_equal(vector["dispersions"], matrix["dispersions"], rtol=1e-9)


def test_gzipped_quant_files_and_plain_ones_agree(study_dir):
    for sample in SAMPLES:
        with gzip.open(study_dir / "quant" / sample / "quant.sf.gz", "rb") as src:
            (study_dir / "quant" / sample / "quant.sf").write_bytes(src.read())
    np.testing.assert_array_equal(import_case(study_dir, name="quant.sf").counts, import_case(study_dir).counts)
