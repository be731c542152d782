"""Known examples ("find more like these"): reading, checking, the workflow step and the labeller."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from labeller_helpers import curve_dataset

from astroanom.active.known import known_rows, merge_labels, read_known
from astroanom.errors import ConfigError
from astroanom.labeller import LabellerSettings
from astroanom.labeller.session import LabellerData, UnknownIdError
from astroanom.ordering import rank_order
from astroanom.pipeline.active import retrain_step, with_known


def test_csv_and_inline_known_examples(tmp_path):
    """The CSV's rows (a missing relevance gets the entry's), then inline ids winning."""
    f = tmp_path / "known.csv"
    f.write_text("id,relevance\na,5\nb,\nc,2\n")
    got = read_known({"path": str(f), "ids": {"c": 4, "d": 0}, "relevance": 3})
    assert got == {"a": 5, "b": 3, "c": 4, "d": 0}
    assert read_known({"ids": ["x", 7], "relevance": 5}) == {"x": 5, "7": 5}
    assert read_known({}) == {} and read_known(None) == {}
    assert merge_labels({"a": 5, "b": 3}, {"b": 0}) == {"a": 5, "b": 0}


@pytest.mark.parametrize(
    "text, match",
    [
        ("name,relevance\na,5\n", r"known.csv:1: the header needs an 'id'"),
        ("id,relevance\na,5\na,4\n", r"known.csv:3: id 'a' is given twice"),
        ("id,relevance\na,7\n", r"known.csv:2: relevance '7' must be an integer 0..5"),
        ("id,relevance\na,high\n", r"known.csv:2: relevance 'high' is not a number"),
        ("id,relevance\n,5\n", r"known.csv:2: empty id"),
    ],
)
def test_bad_known_csv_names_file_and_line(tmp_path, text, match):
    f = tmp_path / "known.csv"
    f.write_text(text)
    with pytest.raises(ConfigError, match=match):
        read_known({"path": str(f)})


def test_unknown_ids_are_named():
    ids = np.array(["a", "b", "c"])
    rows, rel = known_rows({"c": 5, "a": 2}, ids)
    assert rows.tolist() == [2, 0] and rel.tolist() == [5.0, 2.0]
    with pytest.raises(ConfigError, match=r"2 known example id\(s\) .*'zz', 'q'"):
        known_rows({"a": 5, "zz": 5, "q": 1}, ids)
    rows, rel = known_rows({}, ids)
    assert rows.dtype == np.int64 and rows.size == 0 and rel.dtype == np.float64 and rel.size == 0


def test_with_known_lets_a_label_win():
    rows, lab = with_known(np.array([4, 7]), np.array([5.0, 5.0]), np.array([7, 1]), [0.0, 2.0])
    assert rows.tolist() == [4, 7, 1] and lab.tolist() == [5.0, 0.0, 2.0]


def _run(tmp_path):
    d = curve_dataset(tmp_path / "run", n=120)
    return d, pd.read_parquet(d / "scores.parquet")


def test_human_retrain_starts_from_known_examples_without_any_label(tmp_path):
    """No label file: with known examples the retrain fits them (score != S, known column);
    an id not of the run is an error naming it."""
    d, scores = _run(tmp_path)
    args = dict(
        oracle={"mode": "human"},
        strategy={"name": "paper"},
        shared={"alpha": 1.0, "n_estimators": 10},
        seed=1,
        label_files=[],
    )
    out = tmp_path / "active.parquet"
    retrain_step(d / "features.parquet", d / "scores.parquet", out, **args)
    np.testing.assert_array_equal(pd.read_parquet(out)["score"], scores["S"])
    known = {"ids": {"110": 5, "3": 0}}
    retrain_step(d / "features.parquet", d / "scores.parquet", out, known=known, **args)
    act = pd.read_parquet(out)
    assert not np.array_equal(act["score"], scores["S"])
    assert act["label"].isna().all()
    assert act.loc[[110, 3], "known"].tolist() == [5.0, 0.0] and act["known"].notna().sum() == 2
    with pytest.raises(ConfigError, match="'nope'"):
        retrain_step(
            d / "features.parquet", d / "scores.parquet", out, known={"ids": ["nope"]}, **args
        )


SETTINGS = dict(alpha=1.0, n_estimators=10, seed=0, strategy={"name": "paper"})


def test_labeller_starts_from_known_examples_and_a_label_by_id_feeds_the_first_retrain(tmp_path):
    """Known examples: retrained at start-up (not in the label file, marked known). Without
    them, labelling an object by id before viewing any (the page's "Go to id") and retraining
    fits that label: the order equals the strategy's refit on it."""
    from astroanom.active.loop import refit_strategy
    from astroanom.active.strategies import strategy_from_config

    d, scores = _run(tmp_path)
    S = scores["S"].to_numpy()
    known = LabellerData(
        d,
        tmp_path / "k.csv",
        "alice",
        LabellerSettings(**SETTINGS, known={"110": 5}),
    )
    assert known.retrained_with == 0 and known.ranking is not None and len(known.store) == 0
    assert known.describe("110")["known"] == 5 and known.describe("0")["known"] is None
    assert known.order("retrained") != known.order("score")

    data = LabellerData(d, tmp_path / "a.csv", "alice", LabellerSettings(**SETTINGS))
    last = str(rank_order(S)[-1])  # the object shown last: labelled by id first
    data.store.set(last, 5)
    answer = data.retrain()
    assert answer["n_labels"] == 1 and answer["n_known"] == 0
    strat = strategy_from_config(
        {"name": "paper"}, seed=0, shared={"alpha": 1.0, "n_estimators": 10}
    )
    expect = refit_strategy(strat, data.X, S, np.array([int(last)]), np.array([5.0]))
    assert data.order("retrained") == [str(i) for i in rank_order(expect)]
    with pytest.raises(UnknownIdError, match="'zz'"):
        LabellerData(d, tmp_path / "b.csv", "bob", LabellerSettings(**SETTINGS, known={"zz": 5}))


def test_check_names_known_ids_missing_from_a_run(tmp_path, monkeypatch):
    from astroanom.cli import known_problems

    d, _ = _run(tmp_path)

    class FakeRun:
        features = str(d / "features.parquet")

    monkeypatch.setattr("astroanom.store.rundir.run_dirs", lambda cfg, name: [FakeRun()])
    cfg = {"datasets": {"sim": {"known": {"ids": {"5": 5, "ghost": 5}}}, "plain": {"known": {}}}}
    assert known_problems(cfg) == [
        "datasets.sim.known: 1 known example id(s) are not objects of this dataset: 'ghost'; "
        "fix the dataset's known: entry (ids are the source's id column)"
    ]
