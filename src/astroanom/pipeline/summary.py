"""What a finished run tells the user: per dataset, what was made, what failed, how to label."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from astroanom.store.rundir import RESULTS, run_dirs

#: The config file the workflow's default profile and the command line read when none is given.
DEFAULT_CONFIG = Path("config/config.yaml")


def configfile_option(files: Sequence[str | os.PathLike[str]] | None) -> str:
    """`` --configfile a.yaml b.yaml`` for the config files of a run, or ``""`` when they are
    the default (``config/config.yaml``, what a bare ``snakemake``/``astroanom`` reads).
    Paths below the working directory are shown relative to it."""
    if not files:
        return ""
    here = Path.cwd().resolve()
    paths = [Path(f).resolve() for f in files]
    if paths == [(here / DEFAULT_CONFIG).resolve()]:
        return ""
    shown = [str(p.relative_to(here)) if p.is_relative_to(here) else str(p) for p in paths]
    return " --configfile " + " ".join(shown)


def summary_lines(
    cfg: Mapping[str, Any],
    results: str = RESULTS,
    configfiles: Sequence[str | os.PathLike[str]] | None = None,
) -> list[str]:
    """One block of lines per dataset run that has a summary.json; only files that exist are
    named. ``configfiles``: the run's config files (for the labelling hint's ``--configfile``)."""
    lines: list[str] = []
    option = configfile_option(configfiles)
    for name, entry in cfg["datasets"].items():
        runs = run_dirs(cfg, name, results)
        for i, rd in enumerate(runs):
            if not Path(rd.summary).is_file():
                continue
            s = json.loads(Path(rd.summary).read_text(encoding="utf-8"))
            ranked = f"ranked in {rd.ranked}" if Path(rd.ranked).is_file() else "with features"
            lines.append(
                f"{rd.run}: {s['n_features_ok']} objects {ranked}; "
                f"{s['n_failures_recorded']} problem(s) recorded in {rd.failures}"
            )
            for table in s.get("feature_tables") or []:
                if table.get("n_unmatched"):
                    from astroanom.features.embeddings import unmatched_sentence

                    lines.append(f"  {unmatched_sentence(table)}")
            if entry["oracle"]["mode"] == "human" and i == 0:
                lines += _labels_lines(rd, option)
    return lines


def _labels_lines(rd: Any, option: str) -> list[str]:
    """Whose labels the ranking of a human-oracle run used (its ``labels_used.json``), its
    disputes, and how to label or retrain."""
    from astroanom.store.users import read_record

    record = read_record(rd.labels_used) or {}
    users = record.get("users") or []
    hint = (
        f"label with `astroanom label {rd.run}{option}`, then rerun "
        f"`snakemake --cores all{option}` to retrain"
    )
    if not users:
        return [f"  no labels yet: {hint}"]
    who = ", ".join(f"{u['user']} ({u['n_labels']})" for u in users)
    out = [
        f"  ranking retrained on the labels of {who}, combined by {record['combine']} "
        f"({rd.labels_used}): {hint}"
    ]
    if record.get("n_disputed"):
        ids = ", ".join(str(d["id"]) for d in record["disputed"])
        out.append(
            f"  {record['n_disputed']} object(s) disputed (labels {record['dispute_spread']}+ "
            f"apart), e.g. {ids}"
        )
    return out


def print_summary(
    cfg: Mapping[str, Any],
    results: str = RESULTS,
    configfiles: Sequence[str | os.PathLike[str]] | None = None,
) -> None:
    lines = summary_lines(cfg, results, configfiles)
    if lines:
        print("\nastroanom:\n" + "\n".join(lines), flush=True)
