"""What a finished run tells the user: per dataset, what was made, what failed, how to label."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from astroanom import config as acfg
from astroanom.store.labels import labels_path


def summary_lines(cfg: Mapping[str, Any], results: str = "results") -> list[str]:
    """One block of lines per dataset run that has a summary.json."""
    lines: list[str] = []
    for name, entry in cfg["datasets"].items():
        for run in acfg.runs(cfg, name):
            d = Path(results) / run.path
            summary = d / "summary.json"
            if not summary.is_file():
                continue
            s = json.loads(summary.read_text(encoding="utf-8"))
            lines.append(
                f"{run.path}: {s['n_features_ok']} objects ranked in {d}/ranked.csv; "
                f"{s['n_failures_recorded']} problem(s) recorded in {d}/failures.csv"
            )
            if entry["oracle"]["mode"] == "human" and run == acfg.runs(cfg, name)[0]:
                lab = labels_path(run.path, cfg["labels"]["user"], cfg["labels"]["path"])
                state = "no labels yet" if not lab.is_file() else f"labels in {lab}"
                lines.append(
                    f"  {state}: label with `astroanom label {run.path}`, then rerun snakemake "
                    "to retrain"
                )
    return lines


def print_summary(cfg: Mapping[str, Any], results: str = "results") -> None:
    lines = summary_lines(cfg, results)
    if lines:
        print("\nastroanom:\n" + "\n".join(lines), flush=True)
