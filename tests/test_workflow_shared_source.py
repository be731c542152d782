"""A replicated dataset whose objects do not depend on the seed parses its source once: one
source_manifest and one set of feature shards (the first seed's) for every seed's run, the
later seeds gathering those shards; with a seeded subsample (n_max) each seed keeps its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_datasets_workflow import planned_jobs

from astroanom import config as acfg

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def _table(path: Path, n: int = 240) -> None:
    """A catalogue of n rows, 3 numeric columns, a type column (6 rows of type "odd" far out)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    kind = np.array(["normal"] * n, dtype=object)
    x[:6] += 8.0
    kind[:6] = "odd"
    pd.DataFrame(
        {
            "name": [f"o{i:03d}" for i in range(n)],
            "a": x[:, 0],
            "b": x[:, 1],
            "c": x[:, 2],
            "t": kind,
        }
    ).to_csv(path, index=False)


#: a five-class preset of the simulation (the paper's forms, class 3 narrow bumps)
PRESET = {
    0: {"form": "sine", "params": {"omega": [5, 2]}},
    1: {"form": "quadratic", "params": {"a": [0.5, 0.2], "b": [0.5, 0.2], "c": [0.0, 0.2]}},
    2: {"form": "step", "params": {"h": [1.0, 0.3], "x0": [0.5, 0.2]}},
    3: {"form": "gaussian", "params": {"A": [1.0, 0.5], "mu": [0.5, 0.2], "w": [0.1, 0.05]}},
    4: {"form": "sum_of_sines", "params": {"omega": [30, 20]}},
}


def _dataset(**source_extra) -> dict:
    return {
        "replicate": True,
        "seeds": [1, 2],
        "source": {
            "kind": "table",
            "path": "cat.csv",
            "id_column": "name",
            "keep": ["t"],
            **source_extra,
        },
        "features": {"kind": "columns"},
        "detector": {"name": "iforest", "n_estimators": 20},
        "truth": {"kind": "category", "column": "t", "anomaly_classes": ["odd"]},
        "oracle": {
            "mode": "simulated",
            "relevance": {"odd": 5},
            "default_relevance": 0,
            "batch": 5,
            "budget": 10,
        },
        "embedding": {"n_objects": 30, "perplexity": 5, "include_top": 5},
        "figures": {"top_n": 6, "first_n": [10, 20]},
    }


def snakemake(workdir: Path, *args: str) -> str:
    cmd = [SNAKEMAKE, "-s", str(REPO / "workflow" / "Snakefile"), "--directory", str(workdir)]
    cmd += ["--configfile", str(workdir / "mine.yaml"), "--cores", "2", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


planned = planned_jobs  # rule -> count of a dry run's "Job stats" table


def _entry(source: dict, features: str = "values") -> dict:
    return {"source": source, "features": {"kind": features}}


@pytest.mark.parametrize(
    ("entry", "uses_seed"),
    [
        (_dataset(), False),  # a whole table: the same rows for every seed
        (_dataset(n_max=100), True),  # a seeded subsample of it
        (_entry({"kind": "simulation", "preset": "p"}), True),  # declares nothing
        (_entry({"kind": "light_curves", "path": "lc.csv"}), False),  # never uses it
        (_entry({"kind": "images", "path": "cutouts"}, "ellipse"), False),
        (_entry({"kind": "images", "path": "cutouts", "n_objects": 10}, "ellipse"), True),
        (_entry({"kind": "images", "path": "cutouts"}, "learned"), True),  # trained per seed
    ],
)
def test_source_uses_seed(entry, uses_seed):
    assert acfg.source_uses_seed(entry) is uses_seed


def test_source_run_of_a_later_seed_is_the_first(tmp_path):
    cfg = acfg.validate({"seeds": [1, 2], "datasets": {"d": _dataset(), "s": _dataset(n_max=100)}})
    assert acfg.source_run(cfg, "d/seed2").path == "d/seed1"
    assert acfg.source_run(cfg, "d/seed1").path == "d/seed1"
    assert acfg.source_run(cfg, "s/seed2").path == "s/seed2"  # subsample: its own


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> tuple[Path, str]:
    wd = tmp_path_factory.mktemp("shared")
    _table(wd / "cat.csv")
    raw = {**_dataset(n_max=200), "scale": "none"}  # unscaled: features.parquet is a link
    # the simulation's unscaled curves: seed 2's features.parquet and features_raw.parquet are
    # hard links to its source's values.parquet, an input of the same job (its timestamps)
    counts = {0: 150, 1: 140, 2: 4, 3: 3, 4: 3}
    sim = {
        **_entry({"kind": "simulation", "preset": "paper", "counts": counts}),
        "replicate": True,
        "seeds": [1, 2],
        "scale": "none",
    }
    cfg = {"datasets": {"cat": _dataset(), "sub": _dataset(n_max=200), "raw": raw, "sim": sim}}
    cfg["simulation_presets"] = {"paper": {"classes": PRESET}}
    (wd / "mine.yaml").write_text(yaml.safe_dump(cfg))
    plan = snakemake(wd, "-n")
    targets = [f"results/cat/seed{k}/features.parquet" for k in (1, 2)]
    # sub/seed2's objects come with its scores: a job asked for by name keeps its temp() outputs
    targets += ["results/sub/seed1/objects.parquet"]
    targets += ["results/sub/seed2/scores.parquet", "results/raw/seed2/scores.parquet"]
    targets += ["results/sim/seed2/scores.parquet"]
    snakemake(wd, *targets)  # the feature chain (and sub/seed2's detection): what sharing changes
    return wd, plan


def test_one_parse_per_dataset_without_a_seeded_subsample(shared):
    wd, plan = shared
    jobs = planned(plan)
    # cat: 1 source + 1 shard for both seeds; sub, raw (n_max) and sim: one each per seed
    assert jobs["source_manifest"] == 7
    # the first seed's detect keeps the fitted detector for the bundle, later seeds' do not
    # (sim has no truth: a human's dataset, whose later seeds the default target does not run)
    assert jobs["detect"] + jobs.get("detect_seed", 0) == 7
    # sub's, raw's and sim's later seeds keep their features only as temp() files
    assert jobs["features_gather"] == 5 and jobs["features_gather_seed"] == 3
    res = wd / "results"
    assert (res / "cat" / "seed1" / "manifest.parquet").is_file()
    assert not (res / "cat" / "seed2" / "manifest.parquet").exists()
    assert not (res / "cat" / "seed2" / "shards").exists()
    assert (res / "sub" / "seed2" / "manifest.parquet").is_file()
    # sim/seed2 made its one shard and curves inside its gather job; cat's shard (read by both
    # seeds) had a job of its own
    bench = res / "benchmarks"
    assert (bench / "sim" / "seed2" / "features_gather.tsv").is_file()
    assert not list((bench / "sim" / "seed2").glob("features_shard*"))
    assert not (bench / "sim" / "seed2" / "source_values.tsv").exists()
    assert not list((res / "sim" / "seed2").glob(".one-shard-*"))  # its scratch removed
    assert list((bench / "cat" / "seed1").glob("features_shard*"))


def test_later_seeds_gather_the_first_seeds_shards(shared):
    wd, _ = shared
    res = wd / "results" / "cat"
    for name in ("features.parquet", "objects.parquet", "truth.parquet", "failures.csv"):
        assert (res / "seed1" / name).read_bytes() == (res / "seed2" / name).read_bytes(), name
    assert len(pd.read_parquet(res / "seed2" / "features.parquet")) == 240
    # the same tables, not a second copy: links to the first seed's
    for name in ("features_raw.parquet", "features.parquet"):
        assert os.readlink(res / "seed2" / name) == f"../seed1/{name}", name
    info = [yaml.safe_load((res / s / "dataset.json").read_text()) for s in ("seed1", "seed2")]
    assert [i["seed"] for i in info] == [1, 2]  # each run still says its seed
    sub = wd / "results" / "sub"
    ids = [set(pd.read_parquet(sub / s / "objects.parquet")["id"]) for s in ("seed1", "seed2")]
    assert len(ids[0]) == len(ids[1]) == 200 and ids[0] != ids[1]  # each seed its own subsample


def test_a_later_seed_of_a_seeded_subsample_keeps_no_features_and_reruns_nothing(shared):
    """sub/seed2's and raw/seed2's features (their own subsamples) were read by their
    detection, then deleted (temp()); the first seeds and cat/seed2 (the same table as
    cat/seed1) keep theirs, and a second run of the same targets has nothing to do."""
    wd, _ = shared
    res = wd / "results"
    assert (res / "sub" / "seed2" / "scores.parquet").is_file()
    for name in ("features_raw.parquet", "features.parquet"):
        for d in ("sub", "raw"):  # raw: unscaled, features.parquet was a hard link
            assert not (res / d / "seed2" / name).exists(), (d, name)
        assert (res / "cat" / "seed2" / name).is_file(), name
    assert (res / "sub" / "seed1" / "features_raw.parquet").is_file()
    assert (res / "sub" / "seed2" / "scaler.json").is_file()  # what the scaling was is kept
    targets = ["results/sub/seed2/scores.parquet", "results/raw/seed2/scores.parquet"]
    targets += ["results/sim/seed2/scores.parquet"]
    out = snakemake(wd, "-n", *targets, "results/cat/seed2/features.parquet")
    assert "Nothing to be done" in out, out[-2000:]
