"""Memory allocator settings for the jobs whose large arrays repeat (genewise, fit, ingest of values)."""

from __future__ import annotations

import ctypes
import os
from collections.abc import MutableMapping

# glibc mallopt() parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
RETAIN_BYTES = 1 << 30


def retain_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse rather than hand it back at once.

    numpy allocates a new array for each temporary. glibc serves arrays above its mmap
    threshold (128 KiB, rising to at most 32 MiB) with a fresh mapping and unmaps it on free,
    and trims the heap when much is free at its top, so each (genes x samples) temporary of
    the dispersion line search and IRLS costs page faults on fresh pages -- a fifth to a third
    of a shard job's time. Raising both thresholds keeps those pages in the heap for the next
    temporary of the same size; the peak is the same arrays at the same moments (the benchmark
    reports peak RSS). Only for jobs whose temporaries repeat (the value reader's pieces are
    all about PIECE_BYTES of text): a job that reads a table in chunks of varying size would
    keep more than it reuses. Returns False, changing
    nothing, where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(M_MMAP_THRESHOLD, RETAIN_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, RETAIN_BYTES))


def plain_pages_for_jobs(environ: MutableMapping[str, str] = os.environ) -> None:
    """Have the jobs' numpy use the kernel's plain pages for large arrays, not transparent huge
    pages (NUMPY_MADVISE_HUGEPAGE=0 in the environment the jobs inherit), unless it is set.

    numpy advises huge pages (madvise) for every large array. Where the kernel compacts memory
    for such advice on the spot (defrag `madvise`, Debian's and Ubuntu's default) and free memory
    is fragmented, as on any machine that has been busy a while, the first touch of a fresh
    array then waits for compaction: 0.17 s per 80 MB on the benchmark machine against 0.03 s
    with plain pages (0.005 s when huge pages happen to be free). The shard and matrix jobs touch
    gigabytes at 1,000 samples: the whole workflow took 13.6 s instead of 14.9 s there, the same
    at 8 and 200 samples. Called by the workflow when it starts, before any job.
    """
    environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
