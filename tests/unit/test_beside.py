"""glmstack.report.beside: figures drawn by a forked child beside the job's own."""

import os
import signal
import time

import pytest
from glmstack.report import beside
from glmstack.report.beside import drawn_beside


@pytest.fixture
def forking():
    """The tests of the forked child need a process that may fork (one thread)."""
    if not beside._can_fork():
        pytest.skip("this test process runs several threads: drawn_beside draws in-process here")


def _write(path, text="drawn"):
    def draw():
        path.write_text(f"{text} by {os.getpid()}")

    return draw


def test_the_child_draws_while_the_block_runs_and_is_waited_for(tmp_path, forking):
    done = tmp_path / "child.txt"

    def draw():
        time.sleep(0.2)
        done.write_text(str(os.getpid()))

    with drawn_beside(draw):
        own = os.getpid()
        assert not done.exists()  # the block does not wait for the child
    assert done.exists() and int(done.read_text()) != own  # drawn, by another process, before the block's end returns


def test_what_the_child_raises_is_raised_by_the_job(tmp_path, forking):
    def draw():
        raise ValueError("no dispersions in fit 0001")

    with pytest.raises(ValueError, match="no dispersions in fit 0001") as raised:
        with drawn_beside(draw):
            pass
    assert any("draw" in note for note in raised.value.__notes__)  # the child's traceback


def test_a_child_that_does_not_finish_is_an_error(tmp_path, forking):
    def draw():
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(RuntimeError, match="stopped"):
        with drawn_beside(draw):
            pass


def test_a_failing_block_stops_the_child_before_it_writes(tmp_path, forking):
    late = tmp_path / "late.txt"

    def draw():
        time.sleep(1.0)
        late.write_text("written after the job failed")

    with pytest.raises(KeyError):
        with drawn_beside(draw):
            raise KeyError("table")
    time.sleep(1.2)
    assert not late.exists()


def test_without_a_safe_fork_the_same_figures_are_drawn_here_first(tmp_path, monkeypatch):
    monkeypatch.setattr(beside, "_can_fork", lambda: False)
    done = tmp_path / "here.txt"
    order = []
    with drawn_beside(lambda: order.append("draw")):
        order.append("block")
        _write(done)()
    assert order == ["draw", "block"]
    assert done.read_text() == f"drawn by {os.getpid()}"


def test_a_process_with_a_second_thread_does_not_fork():
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not beside._can_fork()
    finally:
        stop.set()
        thread.join()


def test_the_child_dies_with_a_killed_job(tmp_path, forking):
    """A job killed while its child draws: the child ends too, and writes nothing after."""
    import multiprocessing

    late = tmp_path / "late.txt"
    pid_file = tmp_path / "child.pid"

    def job():
        def draw():
            pid_file.write_text(str(os.getpid()))
            time.sleep(1.5)
            late.write_text("written after the job was killed")

        with drawn_beside(draw):
            time.sleep(10)

    process = multiprocessing.get_context("fork").Process(target=job)
    process.start()
    deadline = time.time() + 10
    while not pid_file.exists() and time.time() < deadline:
        time.sleep(0.01)
    child = int(pid_file.read_text())
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    time.sleep(2.0)
    assert not late.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
