"""The shard jobs' allocator setting: freed memory is reused without page faults."""

import subprocess
import sys
import textwrap

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings")
def test_retained_memory_is_reused_without_page_faults():
    """After retain_freed_memory, a shard-sized temporary (40 MB, above the largest mmap
    threshold glibc picks by itself) reuses freed pages instead of mapping fresh ones."""
    probe = textwrap.dedent(
        """
        import resource, sys
        import numpy as np
        from glmstack.allocator import retain_freed_memory
        if sys.argv[1] == "retain":
            assert retain_freed_memory()
        np.ones((5000, 1000)).sum()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):
            np.ones((5000, 1000)).sum()
        print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        """
    )
    faults = {
        mode: int(subprocess.run([sys.executable, "-c", probe, mode], capture_output=True, text=True, check=True,
                                 env={"PYTHONPATH": ":".join(sys.path)}).stdout)
        for mode in ("default", "retain")
    }  # fmt: skip
    # fresh pages for every array by default (fewer faults with transparent huge pages)
    assert faults["default"] >= 20 * 10
    assert faults["retain"] * 10 < faults["default"]
