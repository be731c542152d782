"""Label storage: validation, the append-only log, atomic current state, concurrency, and the
workflow's human-mode retrain."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from astroanom.active.score import RelevanceLearner
from astroanom.errors import LabelsError
from astroanom.store.labels import (
    LabelStore,
    check_user,
    labels_path,
    log_path_for,
    parse_label,
    read_labels,
    replay_log,
)

IDS = [str(i) for i in range(50)]


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize(
    "value, expected", [(0, 0), (5, 5), ("3", 3), (np.int64(2), 2), (" 4 ", 4)]
)
def test_parse_label_accepts_integers_0_to_5(value, expected):
    assert parse_label(value) == expected


@pytest.mark.parametrize("value", [6, -1, 2.5, 3.0, "2.5", "x", "", None, True, [1], "-1"])
def test_parse_label_rejects_everything_else(value):
    with pytest.raises(LabelsError, match="integer from 0 to 5"):
        parse_label(value)


def test_paths_and_user_names():
    assert labels_path("simulation/paper/seed1", "alice") == Path(
        "labels/simulation/paper/seed1/alice.csv"
    )
    assert labels_path("g", "bob", "x/{user}-{dataset}.csv") == Path("x/bob-g.csv")
    assert log_path_for("labels/a/alice.csv") == Path("labels/a/alice.log.csv")
    for bad in ("../evil", "a/b", "", ".hidden", "x" * 65):
        with pytest.raises(LabelsError, match="not allowed"):
            check_user(bad)
    with pytest.raises(LabelsError, match="without '..'"):
        labels_path("../outside", "alice")


def test_store_writes_current_state_and_log(tmp_path):
    path = tmp_path / "labels" / "alice.csv"
    store = LabelStore(path, "alice", valid_ids=IDS)
    assert rows(path) == [["id", "label", "user", "time"]]  # created empty, with header
    store.set("3", 5)
    store.set(7, 0)
    store.set("3", 2)  # relabel: replaces, moves to the end
    assert store.current() == {"7": 0, "3": 2}
    frame = read_labels(path)
    assert frame["id"].tolist() == ["7", "3"]
    assert frame["label"].tolist() == [0, 2]
    assert set(frame["user"]) == {"alice"}
    assert store.delete("7") is True
    assert store.delete("7") is False
    log_rows = rows(log_path_for(path))
    assert log_rows[0] == ["time", "user", "action", "id", "label"]
    assert [r[2:] for r in log_rows[1:]] == [
        ["set", "3", "5"],
        ["set", "7", "0"],
        ["set", "3", "2"],
        ["delete", "7", ""],
    ]
    assert replay_log(log_path_for(path)) == {
        k: v for k, v in LabelStore(path, "alice")._state.items()
    }


def test_clear_keeps_history_and_replay_rebuilds_missing_state(tmp_path):
    path = tmp_path / "bob.csv"
    store = LabelStore(path, "bob", valid_ids=IDS)
    for i in range(4):
        store.set(str(i), i)
    assert store.clear() == 4
    assert read_labels(path).empty
    store.set("9", 4)
    path.unlink()  # the current state is lost; the log is not
    again = LabelStore(path, "bob", valid_ids=IDS)
    assert again.current() == {"9": 4}
    assert read_labels(path)["id"].tolist() == ["9"]
    actions = [r[2] for r in rows(log_path_for(path))[1:]]
    assert actions == ["set"] * 4 + ["clear", "set"]


def test_store_rejects_bad_input_and_changes_nothing(tmp_path):
    path = tmp_path / "a.csv"
    store = LabelStore(path, "a", valid_ids=IDS)
    store.set("1", 1)
    before = path.read_bytes()
    for oid, label in [("1", 9), ("1", "2.5"), ("999", 3), ("../../etc/passwd", 1), (None, 1)]:
        with pytest.raises(LabelsError):
            store.set(oid, label)
    assert path.read_bytes() == before
    assert store.current() == {"1": 1}


@pytest.mark.parametrize(
    "text, message",
    [
        ("id,label\n1,2\n", r"line 1: the header must be id,label,user,time"),
        (
            "id,label,user,time\n1,2,a,t\n2,7,a,t\n",
            r"line 3 \(id 2\): a label must be an integer from 0 to 5, got 7",
        ),
        ("id,label,user,time\n1,2.5,a,t\n", r"line 2 \(id 1\): .*got '2.5'"),
        (
            "id,label,user,time\n1,2,a,t\n1,3,a,t\n",
            r"line 3: id 1 is labelled again \(first on line 2\)",
        ),
        ("id,label,user,time\n1,2,a\n", r"line 2: expected 4 fields"),
        ("id,label,user,time\n,2,a,t\n", r"line 2: empty id"),
        (
            "id,label,user,time\n1,2,a,t\n77,1,a,t\n",
            r"line 3: id '77' is not an object of this dataset",
        ),
    ],
)
def test_read_labels_names_the_bad_line(tmp_path, text, message):
    path = tmp_path / "labels.csv"
    path.write_text(text)
    with pytest.raises(LabelsError, match=message):
        read_labels(path, valid_ids=IDS)


def test_concurrent_labels_are_never_lost(tmp_path):
    path = tmp_path / "c.csv"
    ids = [str(i) for i in range(200)]
    # Two stores on one file stand for two processes; each serves four request threads.
    stores = [LabelStore(path, "c", valid_ids=ids), LabelStore(path, "c", valid_ids=ids)]

    def work(k: int) -> None:
        for i in range(k, 200, 8):
            stores[k % 2].set(str(i), i % 6)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    frame = read_labels(path, valid_ids=ids)
    assert sorted(frame["id"].astype(int)) == list(range(200))
    assert all(frame["label"] == frame["id"].astype(int) % 6)
    assert len(rows(log_path_for(path))) == 201


def test_retrain_step_human_mode_matches_the_learner_and_handles_no_labels(tmp_path):
    from labeller_helpers import curve_dataset

    from astroanom.pipeline.active import retrain_step
    from astroanom.store.io import read_features

    d = curve_dataset(tmp_path / "ds", n=60, embedding=False)
    lab = tmp_path / "labels" / "u.csv"
    common = dict(
        oracle={"mode": "human", "batch": 5, "budget": 10},
        strategy={"name": "paper"},
        shared={"alpha": 1.0, "n_estimators": 10},
        seed=1,
        label_files=[lab],
    )
    retrain_step(d / "features.parquet", d / "scores.parquet", d / "active.parquet", **common)
    act = pd.read_parquet(d / "active.parquet")  # no label file yet: S^ = S
    assert act["label"].isna().all() and (act["score"] == act["S"]).all() and act["U"].isna().all()
    store = LabelStore(lab, "u", valid_ids=[str(i) for i in range(60)])
    for oid, label in (("4", 5), ("10", 0), ("2", 3)):
        store.set(oid, label)
    retrain_step(d / "features.parquet", d / "scores.parquet", d / "active.parquet", **common)
    act = pd.read_parquet(d / "active.parquet")
    labelled = act.dropna(subset=["label"])
    assert labelled["id"].tolist() == [2, 4, 10] and labelled["label"].tolist() == [3.0, 5.0, 0.0]
    _, X = read_features(d / "features.parquet")
    direct = RelevanceLearner(n_estimators=10, seed=1).retrain(
        X, act["S"].to_numpy(), np.array([4, 10, 2]), np.array([5.0, 0, 3]), alpha=1.0
    )
    np.testing.assert_allclose(act["score"], direct.score)
    assert not np.allclose(act["score"], act["S"])
