"""Issue 9 item 14: a rule's worker processes end with it when it gets SIGINT, SIGTERM or is
killed: the synthetic-galaxy process pool (data/galaxies.py) and joblib/loky workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from astroanom.procs import _alive, descendant_pids

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
SRC = str(Path(__file__).parents[1] / "src")

POOL_SCRIPT = """
import sys
from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate

cfg = SyntheticGalaxyConfig(n_objects=3000, size=256)
generate(sys.argv[1], cfg, seed=0, workers=2, chunk=10)
"""

JOBLIB_SCRIPT = """
import time
from joblib import Parallel, delayed
from astroanom.runtime import configure

configure(None, 1)
Parallel(n_jobs=2, backend="loky")(delayed(time.sleep)(60) for _ in range(4))
"""


def _start(tmp_path: Path, script: str) -> subprocess.Popen:
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(script))
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, str(path), str(tmp_path / "out")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # signals go to the job only, as snakemake sends them
        # SIGINT at its default, as snakemake starts a job: an ignored signal is inherited,
        # and the test runner's worker may have it ignored (seen in the full suite under
        # pytest-xdist: the job then ran to its end, exit 0)
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_workers(proc: subprocess.Popen, n: int, timeout: float = 60.0) -> list[int]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pids = descendant_pids(proc.pid)
        if len(pids) >= n:
            time.sleep(0.5)  # let the workers start their first task
            return descendant_pids(proc.pid)
        if proc.poll() is not None:
            raise AssertionError(f"job ended early: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"no {n} workers after {timeout} s")


def _survivors(pids: list[int], within: float = 15.0) -> list[int]:
    """The ``pids`` still alive after ``within`` s (15: a loaded 2-core machine delays the
    workers' noticing that their job ended; the property is that they end, not how fast)."""
    end = time.monotonic() + within
    left = pids
    while left and time.monotonic() < end:
        time.sleep(0.05)
        left = [p for p in left if _alive(p)]
    for pid in left:  # clean up whatever the code under test left behind
        os.kill(pid, signal.SIGKILL)
    return left


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_galaxy_pool_workers_end_with_the_job(tmp_path, sig):
    proc = _start(tmp_path, POOL_SCRIPT)
    workers = _wait_for_workers(proc, 2)
    assert len(workers) >= 2
    proc.send_signal(sig)
    code = proc.wait(timeout=60)  # a loaded 2-core machine can take long to unwind
    assert code != 0
    assert _survivors(workers) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_joblib_workers_end_with_the_job(tmp_path, sig):
    pytest.importorskip("joblib")
    proc = _start(tmp_path, JOBLIB_SCRIPT)
    workers = _wait_for_workers(proc, 2)
    proc.send_signal(sig)
    code = proc.wait(timeout=60)  # a loaded 2-core machine can take long to unwind
    assert code != 0
    assert _survivors(workers) == []


POOL_ERRORS_SCRIPT = """
from astroanom.procs import _alive, descendant_pids, worker_pool


def inverse(x):
    return 1 / x


if __name__ == "__main__":
    with worker_pool(2) as pool:
        assert pool.map(abs, range(-5, 0)) == [5, 4, 3, 2, 1]
    try:
        with worker_pool(2) as pool:
            pool.map(inverse, [1, 0])
    except ZeroDivisionError:
        print("ZeroDivisionError reported")
    left = [p for p in descendant_pids() if _alive(p)]
    assert left == [], left
    print("no worker left")
"""


def test_pool_still_computes_and_reports_worker_errors(tmp_path):
    """In a process of its own (as a rule's job): a pool forked inside a pytest worker that
    earlier tests left with many threads can deadlock in the fork, which is not what this
    checks."""
    path = tmp_path / "pool.py"
    path.write_text(textwrap.dedent(POOL_ERRORS_SCRIPT))
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split("\n")[:2] == ["ZeroDivisionError reported", "no worker left"]


def test_ignored_signals_stay_ignored():
    """Under nohup SIGHUP is ignored: installing the handlers must not make it fatal."""
    code = (
        "import signal\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "from astroanom.procs import end_children_on_signals, worker_pool\n"
        "end_children_on_signals()\n"
        "assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN\n"
        "assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL\n"
        "with worker_pool(1) as pool:\n"
        "    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN\n"
        "    assert pool.apply(abs, (-2,)) == 2\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
