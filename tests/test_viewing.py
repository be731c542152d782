"""Anomalies in the first N viewed, three ways, on small hand-worked rankings."""

import numpy as np
import pandas as pd
import pytest

from astroanom.evaluate.viewing import FIRST_N_COLUMNS, experiment_orders, first_n_counts
from astroanom.ordering import shown_order_rounds, shown_order_single
from astroanom.pipeline.evaluate import first_n_step


def test_three_ways_by_hand():
    """Wanted = {1, 4, 8}; shown (labelled) 3 then 1; ranking 1, 4, 3, 0, 8, ...
    ranked: [1,4 | 3 | 0,8] -> 2, 2, 3; viewed: [3,1 | 4 | 0,8] -> 1, 2, 3;
    unlabelled: [4,0 | 8 | 2,5] -> 1, 2, 2."""
    wanted = np.zeros(10, dtype=bool)
    wanted[[1, 4, 8]] = True
    order = np.array([1, 4, 3, 0, 8, 2, 5, 6, 7, 9])
    t = first_n_counts(wanted, order, np.array([3, 1]), [2, 3, 5])
    assert list(t["found_ranked"]) == [2, 2, 3]
    assert list(t["found_viewed"]) == [1, 2, 3]
    assert list(t["found_unlabelled"]) == [1, 2, 2]
    assert set(t["n_labelled"]) == {2} and set(t["anomalies_labelled"]) == {1}
    assert set(t["n_anomalies_unlabelled"]) == {2}


def test_method_without_labels_on_another_runs_pool():
    """No labels: viewed = ranked; ``exclude`` = {1} removes object 1 from the pool."""
    wanted = np.zeros(10, dtype=bool)
    wanted[[1, 4]] = True
    t = first_n_counts(wanted, np.arange(10), np.empty(0, int), [2, 5], exclude=np.array([1]))
    assert list(t["found_ranked"]) == [1, 2] and list(t["found_viewed"]) == [1, 2]
    assert list(t["found_unlabelled"]) == [0, 1]  # pool 0, 2, 3, 4, 5, ...
    assert set(t["n_labelled"]) == {0} and set(t["n_anomalies_unlabelled"]) == {1}


def test_order_must_be_a_permutation():
    with pytest.raises(ValueError, match="permutation"):
        first_n_counts(np.zeros(3, bool), np.array([0, 0, 1]), np.empty(0, int), [1])


def test_shown_orders():
    assert list(shown_order_single(np.array([0.1, 0.9, 0.5, 0.7]), [True, True, False, True])) == [
        1,
        3,
        0,
    ]
    rounds = np.array([[0.0, 0.5, 0.1, 0.9, 0.2], [0.3, 9.0, 0.1, 9.0, 0.8]])
    assert list(shown_order_rounds(np.array([2, 1, -1, 1, 2]), rounds)) == [3, 1, 4, 0]
    assert shown_order_rounds(np.full(3, -1), rounds[:, :3]).size == 0


def test_single_retrain_shown_in_the_strategy_label_free_order():
    """The single retrain showed its labels by the strategy's ranking without labels: the
    rounds table's round00 (a random strategy: not S); without a rounds table, by S."""
    S = np.array([0.1, 0.9, 0.5, 0.7])
    labelled = np.array([True, True, False, True])
    score = np.array([0.2, 0.3, 0.9, 0.1])
    rounds = pd.DataFrame(
        {
            "round00": [0.9, 0.1, 0.5, 0.7],
            "round01": [0.0, 0.0, 1.0, 0.0],
            "label_round": [1, 1, -1, 1],
        }
    )
    methods, viewed = experiment_orders(S, score, labelled, rounds, seed=0, detector_name="lof")
    assert list(methods["active"][1]) == [0, 3, 1]
    assert list(viewed["active_viewed"]) == [0, 3, 1, 2]
    assert list(methods["active_incremental"][1]) == [0, 3, 1]
    methods, _ = experiment_orders(S, score, labelled, None, seed=0, detector_name="lof")
    assert list(methods["active"][1]) == [1, 3, 0]


def _tables(tmp_path, value, known=None):
    ids = list("abcdef")
    known = [True] * 6 if known is None else known
    pd.DataFrame(
        {"id": ids, "value": value, "known": known, "is_anomaly": [v > 0.9 for v in value]}
    ).to_parquet(tmp_path / "t.parquet")
    S = np.array([6.0, 5, 4, 3, 2, 1])
    score = np.array([0.0, 4, 1, 5, 2, 3])
    label = np.array([0.0, 5, np.nan, np.nan, np.nan, np.nan])
    pd.DataFrame({"id": ids, "S": S, "score": score, "label": label}).to_parquet(
        tmp_path / "a.parquet"
    )
    pd.DataFrame(
        {"id": ids, "round00": S, "round01": score, "label_round": [1, 1, -1, -1, -1, -1]}
    ).to_parquet(tmp_path / "r.parquet")


def test_evaluate_step_writes_three_ways(tmp_path):
    """Anomalies b, d, f; a and b labelled (top 2 by S); S^ ranks d, b, f, e, c, a."""
    _tables(tmp_path, [0.1, 0.95, 0.2, 0.99, 0.0, 1.0])
    first_n_step(
        tmp_path / "t.parquet",
        tmp_path / "a.parquet",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        tmp_path / "f.csv",
        {"kind": "fraction", "column": "odd", "anomaly_above": 0.9},
        "iforest",
        seed=0,
        first_n=(1, 2, 3),
    )
    t = pd.read_csv(tmp_path / "f.csv")
    assert list(t.columns) == [*FIRST_N_COLUMNS, "n_truth_unknown"]
    get = t.set_index(["method", "first_n"])
    for col, iforest, active in (
        ("found_ranked", [0, 1, 1], [1, 2, 3]),
        ("found_viewed", [0, 1, 1], [0, 1, 2]),
        ("found_unlabelled", [0, 1, 1], [1, 2, 2]),
    ):
        assert [get.loc[("iforest", k), col] for k in (1, 2, 3)] == iforest
        assert [get.loc[("active", k), col] for k in (1, 2, 3)] == active
        assert [get.loc[("active_incremental", k), col] for k in (1, 2, 3)] == active
    assert get.loc[("active", 1), "n_labelled"] == 2
    assert get.loc[("active", 1), "anomalies_labelled"] == 1
    curves = pd.read_parquet(tmp_path / "c.parquet")
    viewed = curves[curves["method"] == "active_viewed"]
    assert list(viewed["recall"]) == [0, 1, 2, 3, 3, 3]


def test_class_truth_counts_the_wanted_classes(tmp_path):
    """Class 4 = wanted at b, d, f (as above): the same hand-worked counts, detector 'lof';
    without the incremental loop there is no active_incremental row."""
    _tables(tmp_path, [0, 4, 3, 4, 0, 4])
    first_n_step(
        tmp_path / "t.parquet",
        tmp_path / "a.parquet",
        None,
        tmp_path / "c.parquet",
        tmp_path / "f.csv",
        {"kind": "class", "column": "class", "anomaly_classes": [3, 4], "wanted_classes": [4]},
        "lof",
        seed=0,
        first_n=(2,),
    )
    t = pd.read_csv(tmp_path / "f.csv").set_index("method")
    assert set(t.index) == {"random", "lof", "active"}
    assert list(t.loc["lof", ["found_ranked", "found_viewed", "found_unlabelled"]]) == [1, 1, 1]
    assert list(t.loc["active", ["found_ranked", "found_viewed", "found_unlabelled"]]) == [2, 1, 2]
