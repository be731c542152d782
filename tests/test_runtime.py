"""The thread policy: pools bounded in this process, environment set for child processes."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np  # noqa: F401  (loads BLAS, so there is a pool to bound)
from threadpoolctl import threadpool_info, threadpool_limits

from astroanom.runtime import THREAD_ENV_VARS, limit_threads


def test_limit_threads_bounds_pools_and_sets_the_environment(monkeypatch):
    for var in (*THREAD_ENV_VARS, "OMP_WAIT_POLICY"):
        monkeypatch.setenv(var, "x")  # restored (or removed) after the test
    monkeypatch.delitem(sys.modules, "numba", raising=False)  # as in a fresh job
    guard = threadpool_limits(limits=None)  # remembers the current limits
    try:
        assert limit_threads(0) == 1  # at least one thread
        blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
        assert blas and all(p["num_threads"] == 1 for p in blas)
        assert {v: os.environ[v] for v in THREAD_ENV_VARS} == dict.fromkeys(THREAD_ENV_VARS, "1")
        assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
        assert limit_threads(2) == 2
        assert os.environ["OMP_NUM_THREADS"] == "2"
        child = subprocess.run(
            [sys.executable, "-c", "import os; print(os.environ['OPENBLAS_NUM_THREADS'])"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert child.stdout.strip() == "2"
    finally:
        guard.restore_original_limits()


def test_package_import_sets_a_passive_wait_policy_unless_set():
    code = "import os, astroanom; print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"  # the user's choice is kept
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "ACTIVE"
