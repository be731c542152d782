"""A tiny real Snakemake run of the simulation chain (.test/config/config.yaml) in a temporary
directory: every figure and table is produced, reruns are byte-identical, the report builds,
and bad configs stop with the schema's message."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
FIGURES = ["fig1_tsne_heatmap", "fig6_examples", "fig7_incremental", "fig8_rws", "fig9_recall"]
DATASETS = ["sim_paper", "sim_table1"]


def run_snakemake(
    workdir: Path, *args: str, config: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    cmd = [
        SNAKEMAKE,
        "-s",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config or REPO / ".test" / "config" / "config.yaml"),
        "--cores",
        "2",
        *args,
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    wd = tmp_path_factory.mktemp("sim")
    run_snakemake(wd)
    return wd


def test_every_figure_and_table(tiny_run):
    res = tiny_run / "results"
    for name in DATASETS:
        for fig in FIGURES:
            for ext in ("png", "pdf"):
                f = res / name / "figures" / f"{fig}.{ext}"
                assert f.is_file() and f.stat().st_size > 5000, f
        m = pd.read_csv(res / name / "metrics.csv")
        assert set(m["stage"]) == {"before", "after"}
        assert set(m["class"]) == {2, 3, 4}
        assert set(m["N"]) == {10, 20, 40}
        rounds = pd.read_csv(res / name / "rounds.csv")
        assert sorted(rounds["n_labels"].unique()) == [0, 10, 20, 30]
        assert (res / name / "timing.md").read_text().count("|") > 20
        first = pd.read_csv(res / name / "seed7" / "anomalies_first_n.csv")
        assert set(first["method"]) == {"random", "lof", "active", "active_incremental"}
    rep = (res / "reproduction" / "simulation.md").read_text()
    assert "Preset `sim_paper`" in rep and "Preset `sim_table1`" in rep
    assert rep.count("**agrees") + rep.count("**differs") >= 10
    assert "wall time" not in rep  # no timings: the same seeds give the same bytes


def test_a_second_run_has_nothing_to_do_and_tables_are_stored_once(tiny_run):
    """(Runs before any test that rebuilds a file.) The links that keep results/ small (features.parquet -> features_raw.parquet, a hard
    link to the source's temp() values file) and the deleted temp() values and shards make no
    job rerun."""
    proc = run_snakemake(tiny_run, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[-3000:]
    d = tiny_run / "results" / "sim_paper" / "seed7"
    assert os.readlink(d / "features.parquet") == "features_raw.parquet"
    # the curves (temp(), deleted once gathered) live on only as features_raw.parquet
    assert not (d / "source" / "values.parquet").exists()
    assert os.stat(d / "features_raw.parquet").st_nlink == 1
    assert not (d / "shards").exists() or not any((d / "shards").iterdir())


def test_parquet_outputs_and_labels(tiny_run):
    d = tiny_run / "results" / "sim_paper" / "seed7"
    feats = pd.read_parquet(d / "features.parquet")
    assert feats.shape == (2070, 101)
    act = pd.read_parquet(d / "active.parquet")
    assert act["label"].notna().sum() == 30  # budget of the tiny config
    assert act["S"].between(0, 5).all() and act["S"].max() == 5 and act["S"].min() == 0


def test_rerun_is_byte_identical(tiny_run):
    files = [
        tiny_run / "results/sim_paper/metrics.csv",
        tiny_run / "results/sim_paper/seed7/active.parquet",
        tiny_run / "results/sim_paper/figures/fig7_incremental.png",
        tiny_run / "results/sim_paper/figures/fig8_rws.pdf",
        tiny_run / "results/reproduction/simulation.md",
    ]
    before = [digest(f) for f in files]
    for f in files:
        f.unlink()
    run_snakemake(tiny_run, *(str(f.relative_to(tiny_run)) for f in files))
    assert [digest(f) for f in files] == before


def test_report_builds(tiny_run):
    run_snakemake(tiny_run, "--report", str(tiny_run / "report.html"))
    html = (tiny_run / "report.html").read_text(errors="ignore")
    assert "fig7_incremental" in html


def test_schema_error_names_the_key(tmp_path):
    cfg = yaml.safe_load((REPO / ".test/config/config.yaml").read_text())
    cfg["datasets"]["sim_paper"]["oracle"]["batch"] = "ten"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(tmp_path, "-n", config=bad, check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "datasets.sim_paper.oracle.batch: 'ten' is not of type 'integer'" in out


def test_missing_oracle_class_fails_clearly(tmp_path):
    cfg = yaml.safe_load((REPO / ".test/config/config.yaml").read_text())
    sim = cfg["datasets"]["sim_paper"]
    sim["source"]["counts"] = {0: 300, 1: 300, 2: 20, 3: 20, 4: 20}
    del sim["oracle"]["relevance"][4]
    del cfg["datasets"]["sim_table1"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(
        tmp_path, "results/sim_paper/seed7/active.parquet", config=bad, check=False
    )
    assert proc.returncode != 0
    log = (tmp_path / "results/logs/sim_paper/seed7/active_simulated.log").read_text()
    assert "no entry for class(es) [4]" in log
    assert not (tmp_path / "results/sim_paper/seed7/active.parquet").exists()


def test_lint_is_clean():
    if shutil.which(SNAKEMAKE) is None and not Path(SNAKEMAKE).exists():
        pytest.fail("snakemake not installed")
    proc = subprocess.run(
        [SNAKEMAKE, "--lint"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
