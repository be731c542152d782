"""A tiny real snakemake run of the galaxy image chain (60 synthetic images, 3 shards)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


@pytest.mark.workflow
def test_tiny_galaxy_chain(tmp_path):
    cmd = [
        str(SNAKEMAKE),
        "-s",
        str(ROOT / "workflow" / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(ROOT / ".test" / "config" / "galaxies.yaml"),
        "--cores",
        "2",
        "--quiet",
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    d = tmp_path / "results" / "gal_tiny"
    summary = json.loads((d / "summary.json").read_text())
    assert summary["n_objects"] == 60 and summary["n_features_ok"] + summary["n_failed"] == 60
    # three shard jobs ran (their benchmark files stay); the shards are temporary, deleted
    # once gathered
    assert (
        len(list((tmp_path / "results" / "benchmarks" / "gal_tiny").glob("features_shard*.tsv")))
        == 3
    )
    assert not list((d / "shards").glob("shard*.parquet"))
    feats, objects = pd.read_parquet(d / "features.parquet"), pd.read_parquet(d / "objects.parquet")
    assert feats.shape[1] == 22 and list(feats["id"]) == list(objects["id"])
    assert "odd_fraction" not in objects and "kind" not in objects  # truth kept apart
    truth = pd.read_parquet(d / "truth.parquet")
    assert list(truth["id"]) == list(feats["id"]) and truth["known"].all()
    first = pd.read_csv(d / "anomalies_first_n.csv")
    assert set(first["method"]) == {"random", "iforest", "active", "active_incremental"}
    assert (first["n_anomalies_total"] == int(truth["is_anomaly"].sum())).all()
    for name in ("fig4_grids", "fig5_recall_rws", "map", "top", "scores"):
        assert (d / "figures" / f"{name}.png").stat().st_size > 1000
        assert (d / "figures" / f"{name}.pdf").is_file()
    timing = pd.read_csv(d / "timing.csv")
    shards = timing.set_index("task").loc["feature extraction"]
    assert shards["runs"] == 1 and shards["wall_s_mean"] > 0  # three shard jobs, summed
    export = pd.read_csv(d / "export" / "anomalies.csv")
    assert len(export) == 50 and export["rank"].tolist() == list(range(1, 51))
    # the slurm profile dry-runs the same chain (needs the optional extra astroanom[slurm])
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm not installed (pip install -e .[slurm])")
    dry = subprocess.run(
        [
            *cmd[:-3],
            "-n",
            "--profile",
            str(ROOT / "workflow" / "profiles" / "slurm"),
            "--forcerun",
            "features_gather",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dry.returncode == 0, dry.stderr[-4000:]
