"""Human labels flow back into the DAG: after the label file changes, `snakemake -n` plans only
active learning and what depends on it (here the t-SNE map), never simulation or detection."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from threadpoolctl import threadpool_limits

from astroanom.pipeline import steps
from astroanom.pipeline.simulation import embedding_step
from astroanom.store.labels import LabelStore

pytestmark = pytest.mark.workflow
DATASET = "simulation/paper/seed7"


def snakemake(repo: Path, workdir: Path, *args: str) -> str:
    cmd = [
        str(Path(sys.executable).with_name("snakemake")),
        "-s",
        str(repo / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        *args,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout + run.stderr


def planned_jobs(output: str) -> dict[str, int]:
    """Rule -> count from the 'Job stats' table of a dry run ({} if nothing to do)."""
    if "Job stats:" not in output:
        return {}
    table = output.split("Job stats:", 1)[1]
    jobs = {}
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\S+)\s+(\d+)$", line.strip())
        if not m or m.group(1) == "total":
            break
        jobs[m.group(1)] = int(m.group(2))
    return jobs


def test_changed_labels_rerun_only_active_learning_and_dependants(repo, tmp_path):
    cfg = yaml.safe_load((repo / ".test" / "config" / "config.yaml").read_text())
    sim = cfg["simulation"]
    sim["presets"] = ["paper"]
    sim["counts"] = {0: 100, 1: 95, 2: 5, 3: 5, 4: 5}
    sim["oracle"]["mode"] = "human"
    cfg["seeds"] = [7]
    cfg["labels"] = {"user": "alice", "path": "labels/{dataset}/{user}.csv"}
    cfg["embedding"] = {"n_objects": 40, "perplexity": 5}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))

    # The upstream outputs, made by the same library steps the rules call, in DAG order (no
    # label file yet: active learning keeps S).
    d = tmp_path / "results" / DATASET
    label_file = tmp_path / "labels" / DATASET / "alice.csv"
    with threadpool_limits(limits=1):
        steps.simulate_step(
            d,
            sim["preset_definitions"]["paper"],
            sim["counts"],
            7,
            sim["n_x"],
            sim["noise_sd"],
            DATASET,
        )
        steps.detect_step(d / "features.parquet", d / "scores.parquet", sim["detector"], 7)
        steps.retrain_step(
            d / "features.parquet",
            d / "scores.parquet",
            d / "objects.parquet",
            d / "active.parquet",
            sim["oracle"],
            10,
            1.0,
            20,
            7,
            labels_file=label_file,
        )
        embedding_step(
            d / "features.parquet", d / "active.parquet", d / "embedding.parquet", 40, 5, 7
        )
    assert pd.read_parquet(d / "active.parquet")["label"].isna().all()

    # A scientist labels three objects in the labeller (same storage code).
    store = LabelStore(label_file, "alice", valid_ids=[str(i) for i in range(210)])
    for oid, lab in (("200", 5), ("3", 0), ("150", 2)):
        store.set(oid, lab)

    target = f"results/{DATASET}/embedding.parquet"
    plan = planned_jobs(snakemake(repo, tmp_path, "-n", target))
    assert plan == {"active_learning": 1, "embedding": 1}, plan

    # Running the rule for real retrains on exactly those labels.
    snakemake(repo, tmp_path, "--cores", "1", f"results/{DATASET}/active.parquet")
    act = pd.read_parquet(d / "active.parquet").set_index("id")
    assert act["label"].dropna().to_dict() == {3: 0.0, 150: 2.0, 200: 5.0}
    assert (act["score"] != act["S"]).any()
    assert (
        "retrained on 3 labels"
        in (tmp_path / "results" / "logs" / DATASET / "active_learning.log").read_text()
    )
