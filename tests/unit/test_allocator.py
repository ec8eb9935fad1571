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


def test_jobs_get_plain_pages_unless_the_user_chose():
    """The workflow sets NUMPY_MADVISE_HUGEPAGE=0 for the jobs it starts; a job's numpy then
    gives no huge-page advice. A value the user exported is kept."""
    from glmstack.allocator import plain_pages_for_jobs

    environ = {}
    plain_pages_for_jobs(environ)
    assert environ == {"NUMPY_MADVISE_HUGEPAGE": "0"}
    environ = {"NUMPY_MADVISE_HUGEPAGE": "1"}
    plain_pages_for_jobs(environ)
    assert environ == {"NUMPY_MADVISE_HUGEPAGE": "1"}
    probe = "import numpy as np; print(int(np._core.multiarray._get_madvise_hugepage()))"
    for value, advice in (("0", "0"), ("1", "1")):
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                             env={"PYTHONPATH": ":".join(sys.path), "NUMPY_MADVISE_HUGEPAGE": value}).stdout
        assert out.strip() == advice
