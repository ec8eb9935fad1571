"""The `glmstack` command: check a study as data, then run the workflow on it.

    glmstack check STUDY                      every check that runs before any job
    glmstack run STUDY [snakemake options]    the same checks, then snakemake on the study

Both read the study with `glmstack.io.study_yaml.load_study` (no templating, tags, anchors
or duplicate keys), then run the checks of rules/common.smk in the same order: the key
check (`study.check_config`), the JSON schema with its defaults (Snakemake's `validate`, as
common.smk does), and `study.check_study` (files, sample sheet, designs, contrasts, report).
Relative paths in the study are relative to the current directory, as with snakemake.

`run` then starts `python -m snakemake --snakefile <repo>/Snakefile [options] [targets]
--configfile STUDY` in the current directory. Snakemake reads STUDY again itself; it would
template the file only if it set `__use_yte__`, which `load_study` refused, so the same path
is safe to hand over. Options that would make Snakemake read another config, Snakefile or
directory than the one checked (--configfile, --config, --snakefile, --directory) are
refused; a profile must not set them either.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import StudyError
from .io.study_yaml import load_study
from .spec import schema
from .study import StudyCheck, check_config, check_study

ROOT = Path(__file__).resolve().parents[2]  # the workflow: Snakefile, rules/, config/
# Snakemake options that would replace what was checked: long names and short flags
REFUSED_LONG = ("--configfile", "--configfiles", "--config", "--snakefile", "--directory")
REFUSED_SHORT = ("s", "d", "C")


def check(path: str | Path) -> StudyCheck:
    """Every check before jobs on the study file at `path`; raises StudyError."""
    config = load_study(path)
    check_config(config, schema(), where=str(path))
    _validate(config, path)
    return check_study(config)


def _validate(config: dict, path: str | Path) -> None:
    """The JSON schema, defaults filled in, through the same function rules/common.smk calls."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate  # snakemake's import is slow; only the CLI needs it

    from .spec import SCHEMA_PATH

    try:
        validate(config, schema=str(SCHEMA_PATH))
    except WorkflowError as exc:
        raise StudyError(f"{path}: {exc}\nFix: see config/schema.yaml and config/config.yaml.") from None


def snakemake_command(study: str | Path, options: Sequence[str]) -> list[str]:
    """`python -m snakemake` on the workflow, with `options` (and targets) before --configfile.

    --configfile takes every word after it, so it comes last.
    """
    return [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(ROOT / "Snakefile"),
        *options,
        "--configfile", str(Path(study).resolve()),
    ]  # fmt: skip


def refused_option(options: Sequence[str]) -> str | None:
    """The first option that would let Snakemake read something other than what was checked.

    argparse accepts unambiguous prefixes (`--configf`), so a prefix of a refused long
    option is refused too; short flags may be clustered (`-nd dir`) or glued (`-sFile`).
    A bare `--` is refused: after it, Snakemake would read --configfile as a target.
    """
    for option in options:
        if option == "--":
            return option
        if option.startswith("--"):
            name = option.split("=", 1)[0]
            if len(name) > 2 and any(long.startswith(name) for long in REFUSED_LONG):
                return option
        elif option.startswith("-") and len(option) > 1 and not option[1].isdigit():
            for letter in option[1:]:
                if letter in REFUSED_SHORT:
                    return option
                if not letter.isalpha():  # a glued value (-j4) ends the flags
                    break
    return None


def _summary(checked: StudyCheck) -> str:
    n = len(checked.analyses)
    return (
        f"study OK: {n} analys{'is' if n == 1 else 'es'} ({', '.join(checked.analyses)}), "
        f"{checked.n_samples} samples"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `glmstack` console script; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="glmstack", description="Check a glmstack study as data, then run the workflow on it."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check_parser = commands.add_parser("check", help="run every check that runs before any job")
    check_parser.add_argument("study", help="the study YAML")
    run_parser = commands.add_parser(
        "run", help="check the study, then run snakemake on it (options and targets follow the study)"
    )
    run_parser.add_argument("study", help="the study YAML")
    run_parser.add_argument(
        "options", nargs=argparse.REMAINDER, help="snakemake options and targets, e.g. --cores 4"
    )
    args = parser.parse_args(argv)

    if args.command == "run":
        refused = refused_option(args.options)
        if refused:
            print(
                f"glmstack run: option {refused!r} would make snakemake read another config, "
                "Snakefile or directory than the study checked (or, for '--', the study as a "
                "target). Fix: leave it out; run from the directory the study's relative paths "
                "start from.",
                file=sys.stderr,
            )
            return 2
    try:
        checked = check(args.study)
    except StudyError as exc:
        print(exc, file=sys.stderr)
        return 1
    for warning in checked.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.command == "check":
        print(_summary(checked))
        return 0
    print(f"{_summary(checked)}; running snakemake", file=sys.stderr)
    with subprocess.Popen(snakemake_command(args.study, args.options)) as process:
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:  # snakemake got the same signal and shuts down itself
                continue


if __name__ == "__main__":
    sys.exit(main())
