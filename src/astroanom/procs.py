"""Worker processes that end with their parent.

When Snakemake is interrupted (Ctrl-C, SIGINT or SIGTERM) it signals the job's own process, not
the workers that process started. Two guards make sure no worker outlives its parent:

- :func:`worker_pool` (a ``multiprocessing.Pool`` for the rule's own process pools): every
  worker asks Linux to send it SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)`` via
  ctypes; on other systems it checks the parent once at start), ignores SIGINT (the parent
  decides), and the pool is terminated when the ``with`` block ends by an exception, SIGINT or
  SIGTERM.
- :func:`end_children_on_signals` (installed by :func:`astroanom.runtime.configure` for every
  workflow script): on SIGTERM, SIGINT or SIGHUP it sends SIGTERM to every descendant process
  (e.g. joblib/loky workers, which no initializer of ours reaches), then ends the process as
  the signal would have (SIGINT still raises KeyboardInterrupt).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.pool
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

PR_SET_PDEATHSIG = 1
_HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent exits (Linux only);
    return whether it was set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: end with the parent ``parent_pid``; leave SIGINT to it."""
    set_parent_death_signal(signal.SIGTERM)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)


def _init_worker(parent_pid: int, initializer: Callable[[], None] | None) -> None:
    die_with_parent(parent_pid)
    if initializer is not None:
        initializer()


def child_pids(pid: int | None = None) -> list[int]:
    """Direct children of ``pid`` (default: this process), from /proc (Linux); [] elsewhere."""
    parent = os.getpid() if pid is None else pid
    out = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) "
        if len(fields) > 1 and int(fields[1]) == parent and fields[0] != "Z":
            out.append(int(entry.name))
    return out


def descendant_pids(pid: int | None = None) -> list[int]:
    """Every live descendant of ``pid`` (default: this process), children first."""
    found, frontier = [], child_pids(pid)
    while frontier:
        found.extend(frontier)
        frontier = [c for p in frontier for c in child_pids(p)]
    return found


def end_descendants(grace: float = 2.0) -> list[int]:
    """SIGTERM every descendant, SIGKILL those still alive after ``grace`` s; return the pids."""
    pids = descendant_pids()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + grace
    left = pids
    while left and time.monotonic() < end:
        time.sleep(0.02)
        left = [p for p in left if _alive(p)]
    for pid in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return pids


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _on_signal(signum: int, frame: FrameType | None) -> None:
    end_descendants(grace=1.0)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)  # end as the signal would have (exit status 128 + signum)


def end_children_on_signals() -> bool:
    """Install the handler that takes the descendants down on SIGTERM/SIGINT/SIGHUP (main
    thread only, and not for a signal this process ignores; returns whether it was installed)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    for sig in _HANDLED:
        if signal.getsignal(sig) is not signal.SIG_IGN:  # e.g. SIGHUP under nohup stays ignored
            signal.signal(sig, _on_signal)
    return True


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """Within the block, SIGTERM/SIGHUP raise SystemExit (so ``finally`` clauses run) and SIGINT
    raises KeyboardInterrupt; the previous handlers are restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_exit(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    old = {sig: signal.getsignal(sig) for sig in _HANDLED}
    for sig in _HANDLED:
        if old[sig] is not signal.SIG_IGN:  # an ignored signal (nohup, background) stays so
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else raise_exit)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def worker_pool(
    workers: int, initializer: Callable[[], None] | None = None
) -> Iterator[multiprocessing.pool.Pool]:
    """A process pool of ``workers`` whose workers end with this process (see module doc).

    On normal exit the pool is closed and joined; on an exception, SIGINT or SIGTERM it is
    terminated (workers get SIGTERM) before the exception propagates.
    """
    with _signals_raise():
        pool = multiprocessing.get_context().Pool(
            workers, initializer=_init_worker, initargs=(os.getpid(), initializer)
        )
        try:
            yield pool
        except BaseException:
            pool.terminate()
            pool.join()
            raise
        pool.close()
        pool.join()
