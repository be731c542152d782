"""Several people labelling one dataset, through a tiny real Snakemake run: the retrain reads
both users' label files (one label disputed) and names them; a third user's new file makes
`snakemake -n` plan the retrain; `astroanom export` says the ranking is older than the labels
and `--retrain` retrains first; progress lines in the logs stay bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_datasets_workflow import planned_jobs, snakemake

from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate
from astroanom.store.labels import LabelStore

ASTROANOM = str(Path(sys.executable).with_name("astroanom"))


def _label(wd: Path, user: str, given: dict[str, int]) -> None:
    store = LabelStore(wd / "labels" / "team" / f"{user}.csv", user)
    for oid, value in given.items():
        store.set(oid, value)


def _export(wd: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [ASTROANOM, "export", "team", "--configfile", "mine.yaml", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=wd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """30 cutouts; alice and bob label the top 3 of the first ranking, disagreeing on #1."""
    wd = tmp_path_factory.mktemp("team")
    generate(
        wd / "data", SyntheticGalaxyConfig(n_objects=30, size=96, anomaly_fraction=0.2), seed=4
    )
    cfg = {
        "seeds": [3],
        "datasets": {
            "team": {
                "source": {"kind": "images", "path": "data"},
                "detector": {"name": "iforest", "n_estimators": 20},
                "embedding": {"n_objects": 20, "perplexity": 5, "include_top": 5},
                "figures": {"top_n": 6},
            }
        },
    }
    (wd / "mine.yaml").write_text(yaml.safe_dump(cfg))
    snakemake(wd)
    before = pd.read_csv(wd / "results" / "team" / "ranked.csv", dtype={"id": str})
    top = before["id"].tolist()[:3]
    _label(wd, "alice", {top[0]: 0, top[1]: 4, top[2]: 3})
    _label(wd, "bob", {top[0]: 5, top[1]: 4})
    plan = planned_jobs(snakemake(wd, "-n").stdout)
    proc = snakemake(wd)
    return wd, top, before, plan, proc


def test_the_retrain_uses_both_users_and_names_them(team):
    wd, top, _, plan, proc = team
    assert plan.get("active_retrain") == 1 and "features_shard" not in plan
    used = json.loads((wd / "results" / "team" / "labels_used.json").read_text())
    assert [u["user"] for u in used["users"]] == ["alice", "bob"]
    assert [u["n_labels"] for u in used["users"]] == [3, 2] and used["combine"] == "mean"
    assert used["n_objects"] == 3 and used["n_disputed"] == 1
    assert used["disputed"][0] == {
        "id": top[0],
        "labels": {"alice": 0, "bob": 5},
        "spread": 5,
        "combined": 2.5,
    }
    ranked = pd.read_csv(wd / "results" / "team" / "ranked.csv", dtype={"id": str})
    labels = ranked.set_index("id")["label"]
    assert labels[top[0]] == 2.5 and labels[top[1]] == 4.0 and labels[top[2]] == 3.0
    log = (wd / "results" / "logs" / "team" / "active_retrain.log").read_text()
    assert "labels of 2 user(s): alice (3), bob (2)" in log and "1 disputed" in log
    assert "retrained paper on 5 labels (3 object(s)) of alice, bob" in log
    assert "ranking retrained on the labels of alice (3), bob (2), combined by mean" in proc.stdout
    assert f"1 object(s) disputed (labels 2+ apart), e.g. {top[0]}" in proc.stdout


def test_a_new_users_file_plans_the_retrain_and_export_says_stale(team):
    wd, top, _, _, _ = team
    assert planned_jobs(snakemake(wd, "-n").stdout) == {}  # up to date
    _label(wd, "carol", {top[0]: 1})
    plan = planned_jobs(snakemake(wd, "-n").stdout)
    assert plan.get("active_retrain") == 1 and plan.get("export") == 1
    assert "embedding" not in plan and "detect" not in plan
    stale = _export(wd)
    assert "warning: the ranking S^ in results/team/active.parquet is older than the labels" in (
        stale.stderr
    )
    assert "labels/team/carol.csv: user carol labelled after the retrain" in stale.stderr
    fresh = _export(wd, "--retrain")
    assert "retrained on the labels of alice (3), bob (2), carol (1), combined by mean" in (
        fresh.stdout
    )
    used = json.loads((wd / "results" / "team" / "labels_used.json").read_text())
    assert used["disputed"][0]["combined"] == 2.0  # (0 + 5 + 1) / 3
    assert "warning" not in _export(wd).stderr  # now fresh


def test_progress_lines_in_the_logs_are_bounded(team):
    wd = team[0]
    logs = sorted((wd / "results" / "logs" / "team").glob("*.log"))
    assert logs
    for path in logs:
        text = path.read_text()
        n = sum(1 for line in text.splitlines() if "astroanom" in line and "done in" in line)
        n += text.count("%), ")
        assert n <= 20, (path, n)
    export = (wd / "results" / "logs" / "team" / "export.log").read_text()
    assert "export thumbnails: " in export and "objects done in" in export
