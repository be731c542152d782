"""Timing tables assembled from Snakemake ``benchmark:`` files (tab-separated, one row per run:
``s`` wall seconds, ``max_rss`` MB, ``cpu_time`` seconds, ...)."""

from __future__ import annotations

import os
from collections.abc import Sequence
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


def read_benchmark(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read one Snakemake benchmark TSV."""
    return pd.read_csv(path, sep="\t")


def timing_table(tasks: Sequence[TimedTask]) -> pd.DataFrame:
    """Mean, sd and max of wall time (s), CPU time (s) and peak RSS (MB) over each task's files."""
    rows = []
    for t in tasks:
        b = pd.concat([read_benchmark(f) for f in t.files], ignore_index=True)
        rows.append(
            {
                "task": t.task,
                "notes": t.notes,
                "runs": len(b),
                "wall_s_mean": float(b["s"].mean()),
                "wall_s_sd": float(b["s"].std(ddof=1)) if len(b) > 1 else float("nan"),
                "cpu_s_mean": float(pd.to_numeric(b.get("cpu_time"), errors="coerce").mean()),
                "max_rss_mb": float(pd.to_numeric(b["max_rss"], errors="coerce").max()),
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
