"""`glmstack check|run`: the study is read as data and checked before anything runs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from glmstack import cli
from workflow_runs import ROOT, write_study

GOOD = """\
counts: counts.tsv.gz
samples: samples.tsv.gz
outdir: out
analyses:
  tissue:
    design: "~ run + tissue"
    levels: {run: [R1, R2], tissue: [Kidney, Liver]}
    contrasts:
      liver_vs_kidney: [tissue, Liver, Kidney]
"""


@pytest.fixture
def study_dir(tmp_path, monkeypatch):
    """A directory holding the marioni counts and sample sheet, and the current directory."""
    write_study(tmp_path, {})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_check(study_dir: Path, text: str, capsys) -> tuple[int, str, str]:
    (study_dir / "study.yaml").write_text(text)
    status = cli.main(["check", "study.yaml"])
    out, err = capsys.readouterr()
    return status, out, err


def test_a_good_study_passes(study_dir, capsys):
    status, out, err = run_check(study_dir, GOOD, capsys)
    assert (status, err) == (0, "")
    assert out == "study OK: 1 analysis (tissue), 10 samples\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD + '  tissue:\n    design: "~ tissue"\n',
            r"study.yaml: key 'tissue' appears twice in one mapping \(lines 5 and 10\).*Fix: keep one",
        ),
        (GOOD + "outdir: elsewhere\n", r"key 'outdir' appears twice in one mapping \(lines 3 and 10\)"),
        (
            GOOD.replace("outdir: out", "outdir: !!python/object/apply:os.system ['touch pwned']"),
            r"study.yaml: line 3: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'; tags are not allowed",
        ),
        (GOOD.replace("outdir: out", "outdir: !!str out"), r"line 3: YAML tag 'tag:yaml.org,2002:str'"),
        (GOOD.replace("outdir: out", "outdir: !mine out"), r"line 3: YAML tag '!mine'"),
        (
            GOOD.replace("  tissue:\n", "  tissue: &base\n") + "  again: *base\n",
            r"line 5: anchor &base; anchors and aliases are not allowed",
        ),
        (
            GOOD.replace("outdir: out", "outdir: *nowhere"),
            r"study.yaml: line 3: alias \*nowhere repeats an anchored value|line 3: not valid YAML",
        ),
        (
            GOOD + '  again:\n    <<: {design: "~ tissue"}\n',
            r"line 11: merge key '<<'; merges are not allowed",
        ),
        (
            "__use_yte__: true\n"
            + GOOD.replace("outdir: out", "outdir: ?__import__('os').system('touch pwned')"),
            r"study.yaml: key '__use_yte__' \(line 1\) is Snakemake's templating \(YTE\).*never templated",
        ),
        (
            GOOD + "    __use_yte__: true\n",
            r"key '__use_yte__' \(line 10\) is Snakemake's templating",
        ),
        (
            '{"counts": "counts.tsv.gz", "samples": "samples.tsv.gz",\n'
            ' "analyses": {"a": {"design": "~ tissue"},\n "a": {"design": "~ run"}}}',
            r"key 'a' appears twice in one object \(lines 2, 3\)",
        ),
        ('{"counts": "c", "__use_yte__": true}', r"key '__use_yte__' is Snakemake's templating"),
        ("counts: [unclosed\n", r"study.yaml: line 2: not valid YAML"),
        ("- a list\n", r"the study must be a mapping of keys"),
        (
            GOOD.replace('"~ run + tissue"', "\"~ run + I(__import__('os').system('touch pwned'))\""),
            r"^analyses.tissue.design: design formula .* calls __import__",
        ),
        (
            GOOD.replace("outdir: out", "outdri: out"),
            r"study.yaml: unknown key 'outdri' \(did you mean 'outdir'\?\)",
        ),
        (
            GOOD.replace("  tissue:\n", "  tissue:\n    alpha: 3\n"),
            r"study.yaml: Error validating config file",
        ),
        (GOOD.replace("counts.tsv.gz", "nope.tsv"), r"`counts: nope.tsv` does not exist"),
        (GOOD.replace("Liver, Kidney]", "Liver, Heart]"), r"names level\(s\) 'Heart' of 'tissue'"),
    ],
)
def test_each_refusal_is_one_message_and_exit_1(study_dir, capsys, text, message):
    status, out, err = run_check(study_dir, text, capsys)
    assert status == 1 and out == ""
    assert err.count("\n") <= 12 and "Traceback" not in err
    assert re.search(message, err, flags=re.S), err
    assert not (study_dir / "pwned").exists()


def test_a_missing_study_file(study_dir, capsys):
    assert cli.main(["check", "absent.yaml"]) == 1
    assert "absent.yaml: no such study file" in capsys.readouterr().err


def test_warnings_are_printed_and_the_study_passes(study_dir, capsys):
    sheet = (study_dir / "samples.tsv").open("w")
    sheet.write("sample\trun\tcode\n")
    for i, name in enumerate(["R1L1Kidney", "R1L2Liver", "R1L3Kidney", "R1L4Liver", "R1L6Liver",
                              "R1L7Kidney", "R1L8Liver", "R2L2Kidney", "R2L3Liver", "R2L6Kidney"]):  # fmt: skip
        sheet.write(f"{name}\tR{1 + i // 7}\t{i % 3}\n")
    sheet.close()
    text = 'counts: counts.tsv.gz\nsamples: samples.tsv\nanalyses:\n  a:\n    design: "~ run + code"\n'
    status, out, err = run_check(study_dir, text, capsys)
    assert status == 0 and out.startswith("study OK: 1 analysis (a), 10 samples")
    assert err.startswith("warning: samples.tsv: column 'code' (analyses.a) holds the integers 0, 1, 2")


def test_check_names_a_reference_level_chosen_alphabetically(study_dir, capsys):
    status, out, err = run_check(study_dir, GOOD.replace("levels: {run: [R1, R2], tissue: [Kidney, Liver]}",
                                                          "levels: {run: [R1, R2]}"), capsys)
    assert status == 0 and out.startswith("study OK")
    assert (
        "warning: analyses.tissue: factor `tissue` has no levels: entry; its reference level is `Kidney` "
        "(alphabetical first). Fix: levels: {tissue: [Kidney, Liver]} (first = reference)\n"
    ) in err


@pytest.mark.parametrize(
    "options",
    [
        ["--configfile", "other.yaml"],
        ["--configfiles", "other.yaml"],
        ["--configf", "other.yaml"],
        ["--config", "outdir=/"],
        ["--config=outdir=/"],
        ["-C", "outdir=/"],
        ["--snakefile", "Other"],
        ["-sOther"],
        ["--directory", "/"],
        ["-nd", "/"],
        ["-n", "--", "target"],
    ],
)
def test_run_refuses_options_that_replace_what_was_checked(study_dir, capsys, monkeypatch, options):
    (study_dir / "study.yaml").write_text(GOOD)
    monkeypatch.setattr(cli.subprocess, "Popen", None)  # nothing may start
    assert cli.main(["run", "study.yaml", *options]) == 2
    assert "would make snakemake read another config" in capsys.readouterr().err


def test_run_does_not_start_snakemake_on_a_bad_study(study_dir, capsys, monkeypatch):
    (study_dir / "study.yaml").write_text("__use_yte__: true\n" + GOOD)
    monkeypatch.setattr(cli.subprocess, "Popen", None)
    assert cli.main(["run", "study.yaml", "--cores", "1"]) == 1
    assert "templating" in capsys.readouterr().err


def test_run_passes_options_and_targets_before_the_configfile(study_dir, capsys, monkeypatch):
    (study_dir / "study.yaml").write_text(GOOD)
    started = []

    class Process:
        def __init__(self, command):
            started.append(command)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def wait(self):
            return 0

    monkeypatch.setattr(cli.subprocess, "Popen", Process)
    assert cli.main(["run", "study.yaml", "--cores", "2", "-n", "out/tissue/liver_vs_kidney.tsv"]) == 0
    [command] = started
    assert command[1:] == [
        "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
        "--cores", "2", "-n", "out/tissue/liver_vs_kidney.tsv",
        "--configfile", str(study_dir / "study.yaml"),
    ]  # fmt: skip
    assert "study OK: 1 analysis (tissue)" in capsys.readouterr().err


def test_the_console_script_is_cli_main():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"] == {"glmstack": "glmstack.cli:main"}
    assert cli.ROOT == ROOT
