"""Timing tables: the benchmark TSV a step of a several-step job writes (timed_step) reads as
Snakemake's own do, and adds up with them."""

from __future__ import annotations

import pytest

from astroanom.evaluate.timing import TimedTask, read_benchmark, step_row, timed_step, timing_table

SNAKEMAKE_TSV = (
    "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    "3.67\t0:00:03\t357.98\t1727.02\t252.66\t290.18\t0.32\t5.93\t82.94\t3.54\n"
)


def test_step_row_is_snakemakes_columns():
    assert step_row(3725.5, 2.25, 100.0) == (
        "s\th:m:s\tmax_rss\tcpu_time\n3725.5000\t1:02:05\t100.00\t2.2500\n"
    )


def test_timed_step_writes_what_read_benchmark_reads(tmp_path):
    path = tmp_path / "steps" / "retrain.tsv"
    path.parent.mkdir()
    with timed_step(path):
        sum(i * i for i in range(200_000))  # some CPU work
    t = read_benchmark(path)
    assert len(t) == 1
    assert t["s"][0] > 0 and t["cpu_time"][0] > 0 and t["max_rss"][0] > 1.0
    assert t["cpu_time"][0] <= t["s"][0] + 0.05  # one thread: CPU <= wall


def test_timed_step_writes_nothing_when_the_step_fails(tmp_path):
    path = tmp_path / "retrain.tsv"
    with pytest.raises(ZeroDivisionError), timed_step(path):
        _ = 1 / 0
    assert not path.exists()
    with timed_step(None):  # no file asked for: nothing to write
        pass


def test_step_files_and_snakemake_files_add_up(tmp_path):
    (tmp_path / "a.tsv").write_text(SNAKEMAKE_TSV)
    (tmp_path / "b.tsv").write_text(step_row(1.33, 1.46, 400.0))
    files = [tmp_path / "a.tsv", tmp_path / "b.tsv"]
    table = timing_table([TimedTask("x", "", files, summed=True)])
    row = table.iloc[0]
    assert row["runs"] == 1
    assert row["wall_s_mean"] == pytest.approx(5.0)
    assert row["cpu_s_mean"] == pytest.approx(5.0) and row["max_rss_mb"] == pytest.approx(400.0)
