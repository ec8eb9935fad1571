import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # tests/cases.py, tests/tolerances.py


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow checks too")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow check: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
