"""The run directory as one object (RunDir), what `astroanom check` and the end-of-run summary
read from it, and a Snakefile whose parsing imports nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from astroanom import cli
from astroanom import config as acfg
from astroanom.errors import LabelsError
from astroanom.pipeline.summary import configfile_option, summary_lines
from astroanom.store.rundir import (
    FAILURE_COLUMNS,
    RunDir,
    n_shards,
    run_dir,
    run_dirs,
    threads_for_objects,
)

REPO = Path(__file__).resolve().parents[1]


def own_config(tmp: Path, **dataset) -> Path:
    """mine.yaml in ``tmp``: one image dataset `cut` (folder imgs/, made here) plus changes."""
    (tmp / "imgs").mkdir(exist_ok=True)
    entry = {"source": {"kind": "images", "path": "imgs"}, **dataset}
    path = tmp / "mine.yaml"
    path.write_text(yaml.safe_dump({"seeds": [1, 2], "datasets": {"cut": entry}}))
    return path


def test_rundir_paths_of_a_replicated_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = acfg.load([own_config(tmp_path, replicate=True)])
    first, second = run_dirs(cfg, "cut")
    assert (first.run, second.run) == ("cut/seed1", "cut/seed2")
    assert second.scores == "results/cut/seed2/scores.parquet"
    assert second.source_failures == "results/cut/seed2/source/failures.csv"
    assert second.shard(3) == "results/cut/seed2/shards/shard00003.parquet"
    assert second.log("detect") == "results/logs/cut/seed2/detect.log"
    assert second.benchmark("features_shard00000") == (
        "results/benchmarks/cut/seed2/features_shard00000.tsv"
    )
    assert second.step_benchmark("active_retrain") == (
        "results/benchmarks/cut/seed2/steps/active_retrain.tsv"
    )
    assert second.label_file("alice") == Path("labels/cut/seed2/alice.csv")
    # files made across seeds live in the dataset's own directory
    assert second.name == "cut" and second.dataset.metrics == "results/cut/metrics.csv"
    assert second.dataset.figure("fig7_incremental") == {
        "png": "results/cut/figures/fig7_incremental.png",
        "pdf": "results/cut/figures/fig7_incremental.pdf",
    }
    assert run_dir(cfg, "cut/seed2") == second
    # summary, ranked, 3 figures x 2 formats, 4 export files (csv, fits, html, vot), the bundle
    # in the first run; the summary after
    assert len(first.outputs(first=True, truth=False)) == 13
    assert first.bundle == "results/cut/seed1/bundle.zip"
    assert first.scored("tonight") == "results/cut/seed1/scored/tonight"
    assert second.outputs(first=False, truth=False) == ["results/cut/seed2/summary.json"]
    assert second.outputs(first=False, truth=True) == [
        "results/cut/seed2/summary.json",
        "results/cut/seed2/anomalies_first_n.csv",
    ]


def test_rundir_paths_of_a_plain_run_and_as_a_pattern(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = acfg.load([own_config(tmp_path)])
    (rd,) = run_dirs(cfg, "cut")
    assert rd.run == "cut" and rd.dataset == rd
    assert rd.ranked == "results/cut/ranked.csv" and rd.root == "results/cut"
    assert rd.export_files() == [
        "results/cut/export/anomalies.csv",
        "results/cut/export/anomalies.fits",
        "results/cut/export/anomalies.html",
        "results/cut/export/anomalies.vot",
    ]
    assert rd.label_file("bob") == Path("labels/cut/bob.csv")
    # what the rules write: wildcard patterns
    pattern = RunDir("{run}")
    assert pattern.scores == "results/{run}/scores.parquet"
    assert pattern.shard("{shard}") == "results/{run}/shards/shard{shard}.parquet"
    assert pattern.log("features_shard{shard}") == "results/logs/{run}/features_shard{shard}.log"


def test_label_files_of_every_user_skip_logs_and_locks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rd = RunDir("cut/seed2")
    assert rd.label_files() == []  # no folder yet
    folder = tmp_path / "labels" / "cut" / "seed2"
    folder.mkdir(parents=True)
    for name in ("bob.csv", "alice.csv", "alice.log.csv", "alice.csv.lock", "notes.txt"):
        (folder / name).write_text("id,label,user,time\n")
    assert rd.label_files() == [
        Path("labels/cut/seed2/alice.csv"),
        Path("labels/cut/seed2/bob.csv"),
    ]
    flat = RunDir("g", labels="x/{user}-{dataset}.csv")
    (tmp_path / "x").mkdir()
    for name in ("ann-g.csv", "ann-h.csv", "ann.log-g.csv"):
        (tmp_path / "x" / name).write_text("")
    assert flat.label_files() == [Path("x/ann-g.csv")]
    with pytest.raises(LabelsError, match="not allowed"):
        rd.label_file("../eve")


def test_one_failures_schema_and_one_shard_count():
    from astroanom.pipeline import features
    from astroanom.sources import folder, table, truth

    assert FAILURE_COLUMNS == ["id", "stage", "reason"]
    assert features.FAILURE_COLUMNS is table.FAILURE_COLUMNS is FAILURE_COLUMNS
    assert folder.FAILURE_COLUMNS is truth.FAILURE_COLUMNS is FAILURE_COLUMNS
    assert features.n_shards is n_shards
    assert [n_shards(n, 25) for n in (0, 1, 25, 26, 60)] == [1, 1, 1, 2, 3]


def test_check_reports_finished_seed_runs_as_made(tmp_path, monkeypatch, capsys):
    """Seeds 2.. of a replicated dataset write no ranked.csv; check used to call them
    'not made yet' because it looked for one."""
    monkeypatch.chdir(tmp_path)
    mine = own_config(tmp_path, replicate=True)
    for seed in (1, 2):
        d = tmp_path / "results" / "cut" / f"seed{seed}"
        d.mkdir(parents=True)
        (d / "summary.json").write_text("{}")
    assert cli.main(["check", "--configfile", str(mine)]) == 0
    out = capsys.readouterr().out
    assert "results/cut/seed2/ (made, seed 2)" in out
    assert "results/cut/seed1/ (partly made (1 of 13 files), seed 1)" in out
    (tmp_path / "results" / "cut" / "seed2" / "summary.json").unlink()
    assert cli.main(["check", "--configfile", str(mine)]) == 0
    assert "results/cut/seed2/ (not made yet, seed 2)" in capsys.readouterr().out


def test_check_names_each_missing_input_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    mine = own_config(tmp_path)
    cfg = yaml.safe_load(mine.read_text())
    cfg["datasets"]["cut"]["source"]["path"] = "no_such_folder"
    cfg["datasets"]["cut"]["truth"] = {"kind": "fraction", "column": "odd", "table": "t.csv"}
    cfg["datasets"]["sky"] = {
        "source": {"kind": "fits_mosaic", "images": {"r": "r.fits"}, "catalogue": "cat.csv"}
    }
    mine.write_text(yaml.safe_dump(cfg))
    assert cli.main(["check", "--configfile", str(mine)]) == 1
    err = capsys.readouterr().err
    assert "4 input path(s) do not exist" in err
    assert "datasets.cut.source.path: no_such_folder does not exist" in err
    assert "datasets.cut.truth.table: t.csv does not exist" in err
    assert "datasets.sky.source.images.r: r.fits does not exist" in err
    assert "datasets.sky.source.catalogue: cat.csv does not exist" in err
    assert "valid" not in err


def test_check_of_the_default_config_finds_every_input(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    assert cli.main(["check"]) == 0
    assert "config/config.yaml: valid; 4 dataset(s)" in capsys.readouterr().out


def test_the_labelling_hint_names_the_config_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = own_config(tmp_path, replicate=True)
    cfg = acfg.load([mine])
    for seed in (1, 2):
        d = tmp_path / "results" / "cut" / f"seed{seed}"
        d.mkdir(parents=True)
        (d / "summary.json").write_text(json.dumps({"n_features_ok": 5, "n_failures_recorded": 0}))
    (tmp_path / "results" / "cut" / "seed1" / "ranked.csv").write_text("id\n")
    lines = summary_lines(cfg, configfiles=[mine])
    assert lines == [
        "cut/seed1: 5 objects ranked in results/cut/seed1/ranked.csv; 0 problem(s) recorded "
        "in results/cut/seed1/failures.csv",
        "  no labels yet: label with `astroanom label cut/seed1 --configfile mine.yaml`, then "
        "rerun `snakemake --cores all --configfile mine.yaml` to retrain",
        # seed 2 has no ranked.csv, so none is named
        "cut/seed2: 5 objects with features; 0 problem(s) recorded in "
        "results/cut/seed2/failures.csv",
    ]
    (tmp_path / "config").mkdir()
    default = tmp_path / "config" / "config.yaml"
    assert configfile_option([default]) == "" and configfile_option(None) == ""
    assert configfile_option([default, mine]) == " --configfile config/config.yaml mine.yaml"
    assert configfile_option(["/elsewhere/a.yaml"]) == " --configfile /elsewhere/a.yaml"


PROBE = """
import atexit, sys
def report():
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {HEAVY})
    print("HEAVY=" + ",".join(heavy), file=sys.stderr)
atexit.register(report)
from snakemake.cli import main
sys.argv = ["snakemake", *sys.argv[1:]]
main()
"""


@pytest.mark.workflow
def test_parsing_the_snakefile_imports_nothing_heavy(tmp_path):
    """`snakemake -n` (parse, validate, build the DAG) imports no OpenCV, scikit-learn,
    matplotlib or scipy: helpers/download.smk used to import sources.galaxy_zoo -> cv2."""
    heavy = {"cv2", "sklearn", "matplotlib", "scipy", "numba", "astropy", "flask"}
    cmd = [
        sys.executable,
        "-c",
        PROBE.replace("{HEAVY}", repr(heavy)),
        "-n",
        "-s",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(REPO / ".test" / "config" / "config.yaml"),
        str(REPO / ".test" / "config" / "galaxies.yaml"),
        "--cores",
        "1",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "HEAVY=\n" in proc.stderr, proc.stderr[-500:]


def test_threads_for_objects_one_per_objects_per_thread_within_bounds():
    # the default parallel: 500000 objects per thread, at most 2
    assert threads_for_objects(49_950, 500_000, 2) == 1  # a simulation run
    assert threads_for_objects(399_679, 500_000, 2) == 1  # OGLE-III
    assert threads_for_objects(999_999, 500_000, 2) == 1
    assert threads_for_objects(1_000_000, 500_000, 2) == 2
    assert threads_for_objects(10_000_000, 500_000, 2) == 2  # capped
    assert threads_for_objects(10_000_000, 500_000, 32) == 20
    assert threads_for_objects(0, 500_000, 2) == 1  # an empty run still gets a thread
