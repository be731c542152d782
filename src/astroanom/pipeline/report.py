"""Steps of ``workflow/rules/report.smk``: timing tables from Snakemake benchmark files (cf. the
paper's Tables C.2 and C.3) and the simulation experiment's reproduction report."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from importlib.resources import files

import pandas as pd

from astroanom.store.io import write_csv, write_text

log = logging.getLogger("astroanom.report")
PathLike = str | os.PathLike[str]


def paper_timings(experiment: str) -> dict[str, float]:
    """The paper's time in seconds of each task of an experiment (from ``paper.yaml``)."""
    import yaml

    facts = yaml.safe_load(files("astroanom.evaluate").joinpath("paper.yaml").read_text("utf-8"))
    return {str(k): float(v) for k, v in facts["timings"].get(experiment, {}).items()}


def timing_step(
    tasks: Mapping[str, Sequence[PathLike]],
    notes: Mapping[str, str],
    experiment: str,
    title: str,
    out_csv: PathLike,
    out_md: PathLike,
    summed: Sequence[str] = (),
) -> None:
    """Timing table: per task, mean/sd wall time, CPU time and peak RSS over its benchmark files
    (e.g. one per seed; the tasks in ``summed`` add their files up, e.g. feature shards), beside
    the paper's time for the task if it gives one (``paper.yaml``)."""
    from astroanom.evaluate.timing import TimedTask, timing_table, to_markdown

    paper = paper_timings(experiment)
    table = timing_table(
        [
            TimedTask(
                task, notes.get(task, ""), files_, paper.get(task, float("nan")), task in summed
            )
            for task, files_ in tasks.items()
            if files_
        ]
    )
    write_csv(table, out_csv)
    write_text(to_markdown(table, title), out_md)


def reproduction_step(
    presets: Sequence[str],
    metrics_by_seed: Sequence[PathLike],
    rounds: Sequence[PathLike],
    out_md: PathLike,
    seeds: Sequence[int],
    top: int,
    descriptions: Mapping[str, str],
) -> None:
    """reproduction.md: the paper's claims beside our numbers for every simulation dataset.
    No timings (they vary between runs; they are in each dataset's timing.md)."""
    from astroanom.evaluate.reproduction import render, simulation_claims

    per_preset = {
        p: simulation_claims(pd.read_csv(m), pd.read_csv(r), n=top)
        for p, m, r in zip(presets, metrics_by_seed, rounds, strict=True)
    }
    write_text(render(per_preset, descriptions, seeds), out_md)
