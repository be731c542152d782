"""Several users' labels of one dataset (astroanom.store.users): which files, one relevance per
object by each rule (values worked out by hand), disputes, the record, staleness; the retrain
step on two users' files; bounded progress lines (astroanom.progress)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from astroanom.progress import Progress
from astroanom.store.labels import LabelStore
from astroanom.store.users import (
    combine_labels,
    select_label_files,
    stale_reasons,
    user_of,
)


def _file(path, rows):
    """A label file by hand: rows of (id, label, time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["id,label,user,time"] + [f"{i},{lab},{path.stem},{t}" for i, lab, t in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def two(tmp_path):
    alice = _file(
        tmp_path / "alice.csv",
        [("a", 0, "2024-01-01T10:00:00Z"), ("b", 5, "2024-01-01T10:00:01Z"), ("c", 3, "")],
    )
    bob = _file(
        tmp_path / "bob.csv",
        [("a", 5, "2024-01-02T09:00:00Z"), ("b", 4, "2024-01-01T09:00:00Z"), ("d", 1, "x")],
    )
    return alice, bob


@pytest.mark.parametrize(
    ("rule", "a", "b"),
    [
        ("mean", 2.5, 4.5),
        ("median", 2.5, 4.5),
        ("max", 5.0, 5.0),
        ("min", 0.0, 4.0),
        ("latest", 5.0, 5.0),  # a: bob's label is a day later; b: alice's an hour later
    ],
)
def test_each_rule_gives_one_relevance_per_object(two, rule, a, b):
    c = combine_labels(two, rule)
    assert c.labels == {"a": a, "b": b, "c": 3.0, "d": 1.0}
    assert list(c.labels) == ["a", "b", "c", "d"]  # alice's order, then bob's new ids
    assert c.user_names == ["alice", "bob"] and c.n_multi == 2
    assert [u["n_labels"] for u in c.users] == [3, 3]


def test_disputes_are_the_spreads_of_two_or_more(two):
    c = combine_labels(two, "mean", dispute_spread=2)
    assert [d["id"] for d in c.disputes] == ["a"]  # 0 vs 5; b (5 vs 4) is not disputed
    assert c.disputes[0] == {
        "id": "a",
        "labels": {"alice": 0, "bob": 5},
        "spread": 5,
        "combined": 2.5,
    }
    assert [d["id"] for d in combine_labels(two, "mean", dispute_spread=1).disputes] == ["a", "b"]
    rec = c.record()
    assert rec["n_labels"] == 6 and rec["n_objects"] == 4 and rec["n_disputed"] == 1
    assert "alice (3), bob (3)" in c.summary() and "1 disputed" in c.summary()
    json.dumps(rec)  # JSON-able


def test_latest_with_unreadable_times_goes_to_the_later_user(tmp_path):
    x = _file(tmp_path / "x.csv", [("a", 1, "")])
    y = _file(tmp_path / "y.csv", [("a", 4, "not a time")])
    assert combine_labels([y, x], "latest").labels == {"a": 4.0}


def test_unknown_rule_and_unknown_id_are_errors(two):
    with pytest.raises(ValueError, match="labels.combine must be one of"):
        combine_labels(two, "vote")
    with pytest.raises(Exception, match=r"bob.csv, line 4: id 'd' is not an object"):
        combine_labels(two, "mean", valid_ids={"a", "b", "c"})


def test_selection_by_users_and_exclude(tmp_path):
    files = [tmp_path / f"{u}.csv" for u in ("carol", "alice", "bob")]
    assert [user_of(f) for f in select_label_files(files)] == ["alice", "bob", "carol"]
    assert [user_of(f) for f in select_label_files(files, ["bob", "zed"])] == ["bob"]
    assert [user_of(f) for f in select_label_files(files, None, ["alice"])] == ["bob", "carol"]


def test_staleness_names_new_changed_and_gone_files(two, tmp_path):
    alice, bob = two
    rec = combine_labels([alice], "mean").record()
    assert stale_reasons(rec, [alice]) == []
    assert stale_reasons(rec, [alice, bob]) == [f"{bob}: user bob labelled after the retrain"]
    store = LabelStore(alice, "alice")
    store.set("z", 2)
    (why,) = stale_reasons(rec, [alice])
    assert "changed since the retrain (was 3 labels)" in why
    assert stale_reasons(rec, []) == [f"{alice}: gone since the retrain"]
    assert stale_reasons(None, [alice]) and stale_reasons(None, []) == []
    assert stale_reasons({"oracle": "simulated"}, [alice]) == []


def test_retrain_step_uses_both_users_and_records_them(tmp_path):
    from labeller_helpers import curve_dataset

    from astroanom.pipeline.active import retrain_step

    d = curve_dataset(tmp_path / "ds", n=40, embedding=False)
    ids = [str(i) for i in range(40)]
    lab = tmp_path / "labels"
    for user, given in (("alice", {"3": 5, "7": 0}), ("bob", {"3": 0, "9": 4})):
        store = LabelStore(lab / f"{user}.csv", user, valid_ids=ids)
        for oid, v in given.items():
            store.set(oid, v)
    used = d / "labels_used.json"
    retrain_step(
        d / "features.parquet",
        d / "scores.parquet",
        d / "active.parquet",
        oracle={"mode": "human"},
        strategy={"name": "paper"},
        shared={"alpha": 1.0, "n_estimators": 10},
        seed=1,
        label_files=[lab / "alice.csv", lab / "bob.csv"],
        labels_cfg={"combine": "max", "dispute_spread": 2},
        labels_used=used,
    )
    act = pd.read_parquet(d / "active.parquet").set_index("id")
    assert act["label"].dropna().to_dict() == {3: 5.0, 7: 0.0, 9: 4.0}
    rec = json.loads(used.read_text())
    assert [u["user"] for u in rec["users"]] == ["alice", "bob"] and rec["combine"] == "max"
    assert rec["n_disputed"] == 1 and rec["disputed"][0]["labels"] == {"alice": 5, "bob": 0}


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "astroanom.progress"]


def test_progress_writes_tenths_and_a_final_line(caplog):
    caplog.set_level(logging.INFO)
    clock = _Clock()
    with Progress("work", 1000, "objects", min_s=0, clock=clock) as bar:
        for _ in range(1000):
            clock.t += 0.001  # 1 s in all: no quiet spell
            bar.advance()
    lines = _lines(caplog)
    assert len(lines) == 10  # 10%..90% and the end
    assert lines[0] == "work: 100/1000 objects (10%), 0.1 s, about 1 s left"
    assert lines[-1] == "work: 1000/1000 objects done in 1.0 s"


def test_progress_is_bounded_for_a_long_slow_step(caplog):
    """10^5 items over 10 hours: tenths plus doubling quiet spells, never above 20 lines."""
    caplog.set_level(logging.INFO)
    clock = _Clock()
    with Progress("slow", 100_000, clock=clock) as bar:
        for _ in range(100_000):
            clock.t += 0.36
            bar.advance()
    lines = _lines(caplog)
    assert 10 < len(lines) <= 20 and lines[-1].startswith("slow: 100000/100000 done in 36000.0 s")


def test_progress_of_unknown_total_and_with_messages(caplog):
    caplog.set_level(logging.INFO)
    clock = _Clock()
    bar = Progress("stream", None, "rows", clock=clock, max_lines=3, min_s=0)
    for k in range(50):
        clock.t += 5.0
        bar.advance(message=None if k < 49 else "last: ok")
    bar.done()
    bar.done()  # once only
    lines = _lines(caplog)
    assert lines == [
        "stream: 2 rows, 10.0 s",
        "stream: 6 rows, 30.0 s",
        "stream: last: ok; 50 rows done in 250.0 s",
    ]


def test_a_quick_step_writes_only_its_final_line(caplog):
    caplog.set_level(logging.INFO)
    clock = _Clock()
    with Progress("quick", 100, clock=clock) as bar:  # min_s = 2 s
        for _ in range(100):
            clock.t += 0.015
            bar.advance()
    assert _lines(caplog) == ["quick: 100/100 done in 1.5 s"]


def test_image_features_report_their_progress(tmp_path, caplog):
    from astroanom.features.image_extractor import run_rows

    caplog.set_level(logging.INFO)
    paths = [str(tmp_path / f"{k}.png") for k in range(250)]
    X, why = run_rows(lambda p: (np.ones(2), None), paths, [str(k) for k in range(250)], 1, 2)
    assert X.shape == (250, 2) and why == [None] * 250
    lines = [r.getMessage() for r in caplog.records if "image features" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("image features: 250/250 objects done in")
