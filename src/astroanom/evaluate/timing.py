"""Timing tables assembled from Snakemake ``benchmark:`` files (tab-separated, one row per run:
``s`` wall seconds, ``max_rss`` MB, ``cpu_time`` seconds, ...), and the same files written by
the steps of a job that runs several (:func:`timed_step`)."""

from __future__ import annotations

import contextlib
import datetime
import os
import resource
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TimedTask:
    """One row of a timing table: the task, how it was done, its benchmark files, and the
    paper's time in seconds for the same task (NaN if the paper gives none)."""

    task: str
    notes: str
    files: Sequence[str | os.PathLike[str]]
    paper_seconds: float = float("nan")
    summed: bool = False  # one job's work split over files (feature shards): add them up


def read_benchmark(path: str | os.PathLike[str]) -> pd.DataFrame:
    """One Snakemake benchmark TSV (the only reader of these files in astroanom): a row per
    run with numeric ``s`` (wall seconds), ``cpu_time`` (s) and ``max_rss`` (MB), NaN where
    Snakemake could not measure (it writes "-")."""
    t = pd.read_csv(path, sep="\t")
    for col in ("s", "cpu_time", "max_rss"):
        t[col] = pd.to_numeric(t[col], errors="coerce") if col in t else np.nan
    return t


#: The columns :func:`timed_step` writes (Snakemake's names; the others it cannot measure).
STEP_COLUMNS = ("s", "h:m:s", "max_rss", "cpu_time")


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process, every thread, so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (ru_maxrss: KiB on Linux, bytes
    on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def step_row(wall_s: float, cpu_s: float, max_rss_mb: float) -> str:
    """A benchmark TSV (header + one row) for one step: wall and CPU seconds, peak RSS MB."""
    row = (
        f"{wall_s:.4f}",
        str(datetime.timedelta(seconds=int(wall_s))),
        f"{max_rss_mb:.2f}",
        f"{cpu_s:.4f}",
    )
    return "\t".join(STEP_COLUMNS) + "\n" + "\t".join(row) + "\n"


@contextlib.contextmanager
def timed_step(path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Time the enclosed step of a job that runs several, and write its benchmark TSV to
    ``path`` (nothing if None) in the columns the timing tables read: wall seconds, CPU
    seconds of the process over the step, and the process's peak RSS so far (MB: a step's
    own peak or an earlier step's, whichever is higher). Written atomically, only if the
    step succeeds."""
    from astroanom.store.io import write_text

    wall0, cpu0 = time.perf_counter(), _cpu_seconds()
    yield
    if path is not None:
        row = step_row(time.perf_counter() - wall0, _cpu_seconds() - cpu0, _peak_rss_mb())
        write_text(row, path)


def wall_and_rss(path: str | os.PathLike[str]) -> tuple[float, float]:
    """(mean wall seconds, peak RSS in MB) of one benchmark file."""
    t = read_benchmark(path)
    return float(t["s"].mean()), float(t["max_rss"].max())


def timing_table(tasks: Sequence[TimedTask]) -> pd.DataFrame:
    """Mean, sd and max of wall time (s), CPU time (s) and peak RSS (MB) over each task's files."""
    rows = []
    for t in tasks:
        b = pd.concat([read_benchmark(f) for f in t.files], ignore_index=True)
        if t.summed:
            b = pd.DataFrame(
                {
                    "s": [b["s"].sum()],
                    "cpu_time": [b["cpu_time"].sum()],
                    "max_rss": [b["max_rss"].max()],
                }
            )
        rows.append(
            {
                "task": t.task,
                "notes": t.notes,
                "runs": len(b),
                "wall_s_mean": float(b["s"].mean()),
                "wall_s_sd": float(b["s"].std(ddof=1)) if len(b) > 1 else float("nan"),
                "cpu_s_mean": float(b["cpu_time"].mean()),
                "max_rss_mb": float(b["max_rss"].max()),
                "paper_s": t.paper_seconds,
            }
        )
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame, title: str) -> str:
    """Render a timing table as Markdown (numbers to 2 decimals; '-' for missing)."""

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return "-" if np.isnan(v) else f"{v:.2f}"
        return str(v)

    head = "| task | notes | runs | wall time (s), mean ± sd | CPU time (s) | peak RSS (MB) | paper (s, one laptop core) |"
    lines = [f"## {title}", "", head, "|---|---|---|---|---|---|---|"]
    for r in table.itertuples(index=False):
        lines.append(
            f"| {r.task} | {r.notes} | {r.runs} | {fmt(r.wall_s_mean)} ± {fmt(r.wall_s_sd)} | "
            f"{fmt(r.cpu_s_mean)} | {fmt(r.max_rss_mb)} | {fmt(r.paper_s)} |"
        )
    return "\n".join(lines) + "\n"
