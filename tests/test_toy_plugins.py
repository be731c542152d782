"""Each plug-in kind added from a test module (tests/toy_plugins.py, toy_detector.py), by dotted
path only: a source, a feature extractor, a detector and a strategy run through a tiny real
Snakemake run, and ``astroanom check`` refuses their bad parameters by the declarations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from astroanom.store.io import feature_columns

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CONFIG = {
    "datasets": {
        "toys": {
            "source": {"kind": "toy_plugins.BlobSource", "n": 60, "n_odd": 4},
            "features": {"kind": "toy_plugins.ScaledColumns", "factor": 2.0},
            "detector": {
                "name": "toy_detector.DeclaredDistance",
                "power": 1.0,
                "lower_is_weirder": False,
            },
            "strategy": {"name": "toy_plugins.PreferS", "bonus": 10.0, "radius": 3.0},
            "truth": {"kind": "class", "column": "class", "anomaly_classes": [1]},
            "oracle": {"mode": "simulated", "relevance": {0: 0, 1: 5}, "batch": 5, "budget": 5},
            "embedding": {"n_objects": 30, "perplexity": 5},
            "metrics": {"rws_table_n": [5, 10], "fig7_n": 10, "curve_max_n": 30},
        }
    }
}


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def _write(wd: Path, cfg: dict) -> Path:
    wd.mkdir(parents=True, exist_ok=True)
    (wd / "toys.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return wd / "toys.yaml"


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory) -> Path:
    wd = tmp_path_factory.mktemp("toys")
    cfg = _write(wd, CONFIG)
    cmd = [str(BIN / "snakemake"), "-s", str(REPO / "workflow" / "Snakefile"), "-d", str(wd)]
    cmd += ["--configfile", str(cfg), "--cores", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return wd / "results" / "toys"


def test_the_toy_plugins_run_through_the_workflow(toy_run):
    info = json.loads((toy_run / "dataset.json").read_text())
    assert info["kind"] == "table"  # the source's declared object kind
    feats = pd.read_parquet(toy_run / "features_raw.parquet")
    objects = pd.read_parquet(toy_run / "objects.parquet").set_index("id").loc[feats["id"]]
    X = feats[feature_columns(feats)].to_numpy()
    assert np.allclose(X, 2.0 * objects[["x", "y"]].to_numpy())  # ScaledColumns, factor 2
    scores = pd.read_parquet(toy_run / "scores.parquet")
    odd = [f"b{i:03d}" for i in range(56, 60)]
    top4 = scores.sort_values("S", ascending=False)["id"].head(4)
    assert sorted(top4) == odd  # the distance from the median puts the far blob first
    active = pd.read_parquet(toy_run / "active.parquet")
    labelled = active[active["label"].notna()]
    assert len(labelled) == 5 and set(odd) <= set(labelled["id"])
    # PreferS: S + 10 for each object labelled 5 within radius 3: the four odd ones are within
    # it of all four (+40); the main blob, far from them in the scaled features, gets nothing
    by_id = active.set_index("id")
    far = by_id.drop(index=odd)
    assert np.allclose(by_id.loc[odd, "score"], by_id.loc[odd, "S"] + 40.0)
    assert np.array_equal(far["score"].to_numpy(), far["S"].to_numpy())


@pytest.mark.parametrize(
    ("entry", "key", "value", "pattern"),
    [
        ("source", "n", 3, r"source.*\bn\b.*3"),
        ("features", "factor", -1.0, r"features.*factor"),
        ("detector", "power", 0.0, r"detector.*power"),
        ("strategy", "radius", -2.0, r"strategy.*radius"),
        ("strategy", "radios", 2.0, r"radios"),
    ],
)
def test_check_refuses_a_toy_plugins_bad_parameter(tmp_path, entry, key, value, pattern):
    cfg = json.loads(json.dumps(CONFIG))
    cfg["datasets"]["toys"][entry][key] = value
    path = _write(tmp_path, cfg)
    proc = subprocess.run(
        [str(BIN / "astroanom"), "check", "--configfile", str(path)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode != 0
    import re

    assert re.search(pattern, proc.stdout + proc.stderr, flags=re.S), proc.stdout + proc.stderr
