"""Shared by the benchmark scripts: time, CPU time and peak memory of one call in this process."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def peak_rss_mib() -> float:
    """Peak resident set size of this process, MiB: VmHWM of /proc/self/status (reset by exec,
    unlike ru_maxrss, which a spawned child inherits from its parent's peak at fork time)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measured(fn: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """``fn(**kwargs)`` with its wall seconds, CPU seconds and the process's peak RSS (MiB);
    ``ok`` False and the error's repr when it raised."""
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn(**kwargs)
        return {
            "ok": True,
            "wall_s": time.perf_counter() - t0,
            "cpu_s": time.process_time() - c0,
            "peak_rss_mib": peak_rss_mib(),
            "out": out,
        }
    except BaseException as exc:
        return {"ok": False, "error": repr(exc)}


def _child(fn: Callable[..., Any], kwargs: dict[str, Any], q: Any) -> None:
    q.put(measured(fn, **kwargs))


def run_in_child(fn: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """``fn(**kwargs)`` in a fresh spawned process (a clean peak RSS); its result, wall and CPU
    seconds and peak RSS. ``fn`` must be a module-level function."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, kwargs, q))
    p.start()
    res = q.get()
    p.join()
    if not res["ok"]:
        raise RuntimeError(f"step {fn.__name__} failed: {res['error']}")
    return res
