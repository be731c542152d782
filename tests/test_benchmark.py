"""The benchmark library (metrics on the viewed order, wanted objects, tables) and a tiny real
`snakemake ... benchmark` run with a toy detector given by dotted path."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from astroanom.evaluate.timing import wall_and_rss
from astroanom.ordering import viewing_order
from astroanom.pipeline.benchmark import cell_metrics, found_curve, markdown_table, summary
from astroanom.sources.truth import wanted

REPO = Path(__file__).resolve().parents[1]


def test_viewing_order_puts_labelled_first_then_final_ranking():
    final = np.array([0.1, 0.9, 0.5, 0.7, 0.3])
    np.testing.assert_array_equal(viewing_order(np.array([4, 0]), final), [4, 0, 1, 3, 2])


def test_cell_metrics_by_hand():
    wanted = np.array([False, True, False, True, False, False])
    viewed = np.array([1, 0, 3, 2, 4, 5])  # hits at positions 1 and 3
    m = cell_metrics(viewed, wanted, ns=[1, 3], first_viewed=2)
    assert m["found_first_2"] == 1 and m["recall_1"] == 1 and m["recall_3"] == 2
    assert m["rws_1"] == 1.0
    assert m["rws_3"] == pytest.approx((3 + 1) / 6)  # weights 3, 2, 1 over S0 = 6
    assert m["average_precision"] == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert m["n_wanted"] == 2 and m["n_objects"] == 6


def test_unseen_first_n_leaves_out_the_labelled_objects():
    """Objects 1 and 0 were labelled (shown first); the next 2 unseen are 3 and 2: one wanted."""
    wanted = np.array([False, True, False, True, False, True])
    viewed = np.array([1, 0, 3, 2, 4, 5])
    m = cell_metrics(viewed, wanted, ns=[3], first_viewed=2, n_shown=2)
    assert m["found_first_2"] == 1  # 1 (wanted), 0
    assert m["unseen_first_2"] == 1  # 3 (wanted), 2
    assert m["n_wanted_unseen"] == 2  # 3 and 5
    # nothing labelled: the unseen count is the viewed count
    m0 = cell_metrics(viewed, wanted, ns=[3], first_viewed=2)
    assert m0["unseen_first_2"] == m0["found_first_2"] == 1


def test_found_curve_counts_labels_spent():
    c = found_curve(np.array([3, 0, 1]), np.array([False, True, False, True]))
    assert c["labels"].tolist() == [0, 1, 2, 3] and c["found"].tolist() == [0, 1, 1, 2]


def test_wanted_objects_from_truth():
    truth = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "value": [0.0, 4.0, 2.0, 4.0],
            "known": [True, True, True, False],
            "is_anomaly": [False, True, True, False],
        }
    )
    spec = {"kind": "class", "column": "class", "anomaly_classes": [2, 4]}
    # class truth: the wanted classes (default: the anomaly classes); unknown rows never wanted
    assert wanted(truth, {**spec, "wanted_classes": [4]}).tolist() == [False, True, False, False]
    assert wanted(truth, spec).tolist() == [False, True, True, False]
    fraction = {"kind": "fraction", "column": "odd", "anomaly_above": 0.9}
    assert wanted(truth, fraction).tolist() == [False, True, True, False]
    assert not wanted(truth, {**spec, "wanted_classes": [9]}).any()


def test_snakemake_benchmark_file_with_missing_memory(tmp_path):
    p = tmp_path / "b.tsv"
    p.write_text("s\th:m:s\tmax_rss\n1.50\t0:00:01\tNA\n")
    s, rss = wall_and_rss(p)
    assert s == 1.5 and np.isnan(rss)


def test_summary_and_markdown():
    rows = []
    for strat, found in (("paper", [10, 12, 14]), ("random", [1, 0, 2])):
        for seed, f in zip((1, 2, 3), found, strict=True):
            rows.append(
                {
                    "dataset": "sim",
                    "detector": "lof",
                    "strategy": strat,
                    "seed": seed,
                    "n_wanted": 40.0,
                    "found_first_100": f,
                    "unseen_first_100": f - 1,
                    "recall_50": f / 2,
                    "rws_50": 0.1,
                    "average_precision": 0.2,
                    "detector_job_s": 2.0,
                    "detector_max_rss_mb": 100.0,
                    "strategy_loop_s": 0.5,
                    "strategy_job_s": 3.0,
                    "strategy_max_rss_mb": np.nan,
                }
            )
    summ = summary(pd.DataFrame(rows), 100, [50])
    paper = summ.set_index("strategy").loc["paper"]
    assert (
        paper["found_first_100_mean"] == 12
        and paper["found_first_100_std"] == 2
        and paper["n_seeds"] == 3
    )
    md = markdown_table(summ, 100, [50])
    assert "| sim | lof | paper | 3 | 40 | 12.0 ± 2.0 | 11.0 ± 2.0 |" in md and "| n/a |" in md


@pytest.mark.workflow
def test_tiny_benchmark_workflow(tmp_path):
    """`snakemake ... benchmark` with the toy dotted-path detector and every built-in strategy
    (coniferest's two when it is installed) in a temporary directory."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]),
    }
    snakemake = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    cmd = [
        snakemake,
        "-s",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(REPO / ".test/config/config.yaml"),
        str(REPO / ".test/config/benchmark.yaml"),
        "--cores",
        "2",
        "--quiet",
        "all",
        "--",
        "benchmark",
    ]
    res = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    out = tmp_path / "results" / "benchmark"
    table = pd.read_parquet(out / "benchmark.parquet")
    strategies = {"paper", "gp", "none", "random"}
    if importlib.util.find_spec("coniferest") is not None:  # installed by `make test`
        strategies |= {"pineforest", "aadforest"}  # issue 18.1: failed with 'alpha'
    assert set(table["detector"]) == {"toy"} and set(table["strategy"]) == strategies
    assert len(table) == len(strategies) and (table["n_wanted"] == 40).all()
    assert table[["detector_job_s", "strategy_job_s"]].notna().all().all()
    assert ((table["found_first_30"] >= 0) & (table["found_first_30"] <= 30)).all()
    assert (table["unseen_first_30"] <= table[["n_wanted_unseen"]].clip(upper=30).squeeze()).all()
    pd.testing.assert_frame_equal(pd.read_csv(out / "benchmark.csv"), table, check_dtype=False)
    md = (out / "summary.md").read_text()
    assert "| sim_paper | toy | paper | 1 | 40 |" in md
    for fig in ("found_vs_labels.png", "found_vs_labels.pdf"):
        assert (out / "figures" / fig).stat().st_size > 5000
    curve = pd.read_parquet(out / "sim_paper" / "toy" / "seed7" / "paper.curve.parquet")
    assert curve["labels"].max() == 20 and curve["found"].is_monotonic_increasing


def test_benchmark_paper_strategy_uses_active_learning_alpha(tmp_path, monkeypatch):
    """The walk config -> cell_step(shared=) -> PaperScore -> active_score gets alpha."""
    import astroanom.active.score as score
    from astroanom.pipeline.benchmark import cell_step
    from astroanom.store.io import feature_frame

    rng = np.random.default_rng(1)
    n = 60
    X = rng.normal(size=(n, 3)).astype(np.float32)
    ids = np.arange(n)
    cls = np.where(np.arange(n) < 6, 4, 0)
    feature_frame(ids, X).to_parquet(tmp_path / "f.parquet")
    truth = pd.DataFrame({"id": ids, "value": cls.astype(float), "known": True})
    truth["is_anomaly"] = cls == 4
    truth.to_parquet(tmp_path / "t.parquet")
    S = rng.uniform(0, 5, n)
    pd.DataFrame({"id": ids, "raw": -S, "S": S}).to_parquet(tmp_path / "s.parquet")
    seen: list[float] = []
    real = score.active_score

    def spy(S, U, d, alpha, *args, **kwargs):
        seen.append(alpha)
        return real(S, U, d, alpha, *args, **kwargs)

    monkeypatch.setattr(score, "active_score", spy)
    spec = {"kind": "class", "column": "class", "anomaly_classes": [4], "wanted_classes": [4]}
    cell_step(
        tmp_path / "f.parquet",
        tmp_path / "t.parquet",
        tmp_path / "s.parquet",
        tmp_path / "cell.parquet",
        tmp_path / "curve.parquet",
        {"dataset": "d", "detector": "x", "strategy": "paper", "seed": 1},
        {"name": "paper"},
        {"alpha": 2.5, "n_estimators": 10},
        {"mode": "simulated", "relevance": {0: 0, 4: 5}, "batch": 5, "budget": 10},
        spec,
        batch=5,
        budget=10,
        ns=[10],
        first_viewed=10,
        seed=1,
    )
    assert seen and set(seen) == {2.5}
