"""The README's install command (`pip install -e .`, no extras) brings what every documented
command needs, `snakemake --report report.html` included."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import requires
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# imported by snakemake.report when it writes a report (snakemake/report/html_reporter)
REPORT_PACKAGES = {"pygments", "jinja2"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~\[;(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_the_report_packages_come_with_the_plain_install():
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    snakemakes = [r for r in requires("snakemake") or [] if "extra ==" not in r]
    installed = {_name(r) for r in [*ours, *snakemakes]}
    assert REPORT_PACKAGES <= installed, REPORT_PACKAGES - installed
