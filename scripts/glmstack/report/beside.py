"""Two groups of figures drawn at once by one plot job.

A plot job's start (Python, numpy, matplotlib) costs about as much as its figures, and after the
fits it often has a core to itself: forked once its imports are done, a child draws one group
while the job draws the other, at no second start. Where a fork is unsafe the groups are drawn
one after the other, the same figures.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


@contextmanager
def drawn_beside(draw: Callable[[], None]) -> Iterator[None]:
    """Run draw() in a forked child while the with-block runs in this process.

    At the end of the block, wait for the child and raise what draw() raised (with its
    traceback as a note). If the block raises, the child is stopped first, so that it writes
    nothing after the job has failed. Where this process cannot fork safely (no fork, or a
    second thread: a forked child holds a copy of locks that other threads may hold), draw()
    runs here before the block.
    """
    if not _can_fork():
        draw()
        yield
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_report_to, args=(send, draw, os.getpid()), daemon=True)
    child.start()
    send.close()
    try:
        yield
    except BaseException:
        child.terminate()
        child.join()
        raise
    try:
        outcome = receive.recv()
    except EOFError:  # the child ended without a word (killed)
        outcome = None
    child.join()
    if isinstance(outcome, BaseException):
        raise outcome
    if outcome != "done" or child.exitcode != 0:
        raise RuntimeError(f"the figures drawn beside this job's others stopped (exit code {child.exitcode})")


def split_in_two(items: Sequence[T], weight: Callable[[T], float]) -> tuple[list[T], list[T]]:
    """`items` in two lists of about equal total `weight` (this process's, the forked child's):
    the heaviest first, each to the list with less so far (ties: the first list); among equal
    weights the order of `items` is kept."""
    sides: tuple[list[T], list[T]] = ([], [])
    loads = [0.0, 0.0]
    for item in sorted(items, key=lambda i: -weight(i)):  # stable
        side = 0 if loads[0] <= loads[1] else 1
        sides[side].append(item)
        loads[side] += weight(item)
    return sides


# a result table's figures take about twice as long to draw as an analysis's model plots (the
# count or value plot's panels)
PLOT_WEIGHTS = {"model": 1, "table": 2}


def split_analysis_plots(analyses: Sequence[tuple[Any, dict]]) -> tuple[list[tuple], list[tuple]]:
    """The plots of a plot job's analyses in two halves of about equal drawing time, this
    process's and the forked child's (`split_in_two`): ("model", analysis, job, None) for an
    analysis's model plots, ("table", analysis, job, table) for each of its result tables.

    analyses : (glmstack.spec.Analysis, its entry of the job's params.analyses) pairs. One
    analysis with one table: the table here, the model's plots in the child.
    """
    tasks: list[tuple] = []
    for analysis, job in analyses:
        tasks += [("table", analysis, job, name) for name in analysis.table_names]
        tasks.append(("model", analysis, job, None))
    return split_in_two(tasks, lambda task: PLOT_WEIGHTS[task[0]])


def _report_to(send, draw: Callable[[], None], parent: int) -> None:
    """The child: draw, then send "done" or the exception; killed with the job if the job is
    killed (so that it writes nothing after Snakemake has cleaned up after the job)."""
    _die_with(parent)
    try:
        draw()
    except BaseException as error:  # noqa: BLE001 - every failure goes back to the job
        error.add_note("".join(traceback.format_exception(error)))
        try:
            send.send(error)
        except Exception:  # an exception that does not pickle: its text  # noqa: BLE001
            send.send(RuntimeError("".join(traceback.format_exception(error))))
        return
    send.send("done")


def _die_with(parent: int) -> None:
    """Ask Linux to kill this process when its parent ends (prctl PR_SET_PDEATHSIG, SIGKILL);
    end now if the parent has already gone."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _can_fork() -> bool:
    """fork is there and this process runs one thread (Linux: /proc counts them all, also
    those of C libraries; elsewhere fork is not used)."""
    try:
        return hasattr(os, "fork") and len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False
