"""Issue 9 hardening of the label store: exact ids, ASCII digits, encodings, log/CSV recovery
after crashes, and user names that cannot take another user's log."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
import pytest

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

IDS = ["a", "b", "c", " lead", "trail ", "two words"]


def log_rows(path: Path) -> list[list[str]]:
    with log_path_for(path).open(newline="") as fh:
        return list(csv.reader(fh))


# -- item 1: ids with leading/trailing spaces ---------------------------------------------------
def test_ids_with_surrounding_spaces_round_trip(tmp_path):
    path = tmp_path / "u.csv"
    store = LabelStore(path, "u", valid_ids=IDS)
    store.set("trail ", 4)
    store.set(" lead", 2)
    frame = read_labels(path, valid_ids=IDS)
    assert frame["id"].tolist() == ["trail ", " lead"]
    assert frame["label"].tolist() == [4, 2]
    again = LabelStore(path, "u", valid_ids=IDS)  # restart: the file must still be readable
    assert again.current() == {"trail ": 4, " lead": 2}
    assert replay_log(log_path_for(path)) == {k: v for k, v in again._state.items()}
    # an id that differs only by spaces is another object
    with pytest.raises(LabelsError, match="unknown id 'trail'"):
        again.set("trail", 1)


def test_human_retrain_accepts_space_ids(tmp_path):
    from astroanom.pipeline.active import human_labels

    path = tmp_path / "u.csv"
    LabelStore(path, "u", valid_ids=IDS).set("trail ", 5)
    rows, values = human_labels(path, np.array(IDS))
    assert rows.tolist() == [IDS.index("trail ")] and values.tolist() == [5]


@pytest.mark.parametrize("oid", ["", "   ", "a\nb", "a\rb", "a\x00b"])
def test_ids_with_line_breaks_or_blank_are_refused(tmp_path, oid):
    store = LabelStore(tmp_path / "u.csv", "u")
    with pytest.raises(LabelsError, match="cannot be labelled"):
        store.set(oid, 1)
    assert store.current() == {}


@pytest.mark.parametrize("oid", ["a\x00b", '"a\nb"', '"a\rb"'])
def test_files_with_line_breaks_or_nul_in_ids_are_refused(tmp_path, oid):
    path = tmp_path / "u.csv"
    path.write_text(f"id,label,user,time\n{oid},1,u,t\n", encoding="utf-8", newline="")
    with pytest.raises(LabelsError, match=r"line [23]: id .* line break or NUL"):
        read_labels(path)


# -- item 10: ASCII digits only -----------------------------------------------------------------
@pytest.mark.parametrize("value", ["٥", "５", "३", "٠", "\u00a03"])
def test_unicode_digits_are_not_labels(value):
    with pytest.raises(LabelsError, match="integer from 0 to 5"):
        parse_label(value)


def test_unicode_digit_in_a_file_names_the_line(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("id,label,user,time\na,５,u,t\n", encoding="utf-8")
    with pytest.raises(LabelsError, match=r"line 2 \(id a\)"):
        read_labels(path)


# -- item 5: encodings ---------------------------------------------------------------------------
def test_latin1_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes("id,label,user,time\ncaf\u00e9,3,u,t\n".encode("latin-1"))
    with pytest.raises(LabelsError) as info:
        read_labels(path)
    msg = str(info.value)
    assert str(path) in msg and "not UTF-8" in msg and "CSV UTF-8" in msg
    assert "offset 22" in msg  # the byte 0xe9 of 'café' is at offset 22
    with pytest.raises(LabelsError, match="not UTF-8"):
        LabelStore(path, "u")


def test_latin1_log_gives_a_clear_error(tmp_path):
    log = tmp_path / "u.log.csv"
    log.write_bytes("time,user,action,id,label\nt,u,set,caf\u00e9,3\n".encode("latin-1"))
    with pytest.raises(LabelsError, match=r"u\.log\.csv: not UTF-8"):
        replay_log(log)


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(b"\xef\xbb\xbfid,label,user,time\r\nb,3,u,t\r\n")
    assert read_labels(path, valid_ids=IDS)["id"].tolist() == ["b"]
    store = LabelStore(path, "u", valid_ids=IDS)
    assert store.current() == {"b": 3}
    store.set("a", 1)
    assert store.current() == {"b": 3, "a": 1}


# -- item 7: user names and log paths -------------------------------------------------------------
@pytest.mark.parametrize("user", ["bob.log", "bob.LOG", "x.log"])
def test_user_names_ending_in_log_are_refused(user):
    with pytest.raises(LabelsError, match="log of user"):
        check_user(user)
    with pytest.raises(LabelsError):
        labels_path("d", user)


def test_bob_log_cannot_take_bobs_log(tmp_path):
    bob = LabelStore(
        labels_path("d", "bob", template=str(tmp_path / "{dataset}/{user}.csv")), "bob"
    )
    bob.set("a", 2)
    with pytest.raises(LabelsError, match="reserved for label logs"):
        LabelStore(bob.log_path, "somebody")
    assert LabelStore(bob.path, "bob").current() == {"a": 2}
    assert log_rows(bob.path)[1][2:] == ["set", "a", "2"]


# -- item 4: log / CSV consistency after crashes -------------------------------------------------
def _crash_after_log_append(path: Path, action: str, *args: object) -> None:
    """What a kill between the log append and the CSV rewrite leaves behind."""
    store = LabelStore(path, "u", valid_ids=IDS)
    store._append_log(action, *args)


def test_crash_between_log_and_csv_is_repaired_on_open(tmp_path, caplog):
    path = tmp_path / "u.csv"
    LabelStore(path, "u", valid_ids=IDS).set("a", 1)
    _crash_after_log_append(path, "set", "b", 4, "2026-01-01T00:00:00.000+00:00")
    assert read_labels(path)["id"].tolist() == ["a"]  # the CSV lacks the logged change
    with caplog.at_level(logging.WARNING, logger="astroanom.store.labels"):
        store = LabelStore(path, "u", valid_ids=IDS)
    assert store.current() == {"a": 1, "b": 4}
    assert read_labels(path)["label"].tolist() == [1, 4]
    assert "repaired the CSV from the log" in caplog.text
    frame = read_labels(path)
    assert replay_log(log_path_for(path)) == {
        r.id: (r.label, r.user, r.time) for r in frame.itertuples()
    }


def test_crash_after_clear_is_completed(tmp_path):
    path = tmp_path / "u.csv"
    store = LabelStore(path, "u", valid_ids=IDS)
    store.set("a", 1)
    store.set("b", 2)
    _crash_after_log_append(path, "clear")
    assert LabelStore(path, "u", valid_ids=IDS).current() == {}
    assert read_labels(path).empty


def test_hand_edited_csv_wins_and_is_logged(tmp_path, caplog):
    path = tmp_path / "u.csv"
    store = LabelStore(path, "u", valid_ids=IDS)
    store.set("a", 1)
    store.set("b", 2)
    store.set("c", 3)
    path.write_text("id,label,user,time\na,5,u,t1\nc,3,u,t9\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="astroanom.store.labels"):
        again = LabelStore(path, "u", valid_ids=IDS)
    assert again.current() == {"a": 5, "c": 3}
    assert "recorded 2 set and 1 delete entries" in caplog.text
    assert replay_log(log_path_for(path)) == {"a": (5, "u", "t1"), "c": (3, "u", "t9")}
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="astroanom.store.labels"):
        LabelStore(path, "u", valid_ids=IDS)
    assert caplog.text == ""  # consistent now: nothing to repair


def test_half_written_last_log_line_is_dropped(tmp_path, caplog):
    path = tmp_path / "u.csv"
    LabelStore(path, "u", valid_ids=IDS).set("a", 1)
    log = log_path_for(path)
    whole = log.read_bytes()
    with log.open("ab") as fh:
        fh.write(b"2026-01-01T00:00:00.000+00:00,u,se")  # killed mid-append
    with caplog.at_level(logging.WARNING, logger="astroanom.store.labels"):
        store = LabelStore(path, "u", valid_ids=IDS)
    assert "removed an unfinished last line" in caplog.text and ",u,se" in caplog.text
    assert log.read_bytes() == whole
    store.set("b", 2)
    assert replay_log(log) == {k: v for k, v in store._state.items()}
    assert [r[2:] for r in log_rows(path)[1:]] == [["set", "a", "1"], ["set", "b", "2"]]


def test_drop_unfinished_log_line_cases(tmp_path):
    from astroanom.store.labels import drop_unfinished_log_line

    log = tmp_path / "x.log.csv"
    log.write_bytes(b"h\r\nrow1\r\n")
    assert drop_unfinished_log_line(log) is None and log.read_bytes() == b"h\r\nrow1\r\n"
    log.write_bytes(b"h\r\nrow1\r\nrow2\r")
    assert drop_unfinished_log_line(log) == "row2\r" and log.read_bytes() == b"h\r\nrow1\r\n"
    log.write_bytes(b"tim")  # killed while writing the header
    assert drop_unfinished_log_line(log) == "tim" and log.read_bytes() == b""


def test_empty_log_after_a_crash_at_creation(tmp_path):
    path = tmp_path / "u.csv"
    LabelStore(path, "u", valid_ids=IDS)
    log_path_for(path).write_bytes(b"time,us")  # killed while creating the log
    store = LabelStore(path, "u", valid_ids=IDS)
    store.set("c", 0)
    assert replay_log(log_path_for(path)) == {k: v for k, v in store._state.items()}


def _consistent(path: Path) -> bool:
    frame = read_labels(path)
    return replay_log(log_path_for(path)) == {
        r.id: (r.label, r.user, r.time) for r in frame.itertuples()
    }


def test_running_store_completes_a_change_of_a_writer_that_died(tmp_path, caplog):
    """Two writers on one file: B dies between its log append and its CSV rewrite; A's next
    change notices (the log grew but the CSV lacks it), completes B's change, then its own."""
    path = tmp_path / "u.csv"
    a = LabelStore(path, "u", valid_ids=IDS)
    b = LabelStore(path, "u", valid_ids=IDS)
    a.set("a", 1)
    b.set("c", 3)
    b._append_log("set", "b", 4, "2026-01-01T00:00:00.000+00:00")  # B killed here
    with caplog.at_level(logging.WARNING, logger="astroanom.store.labels"):
        a.set(" lead", 2)
    assert "repaired the CSV from the log" in caplog.text and "edited by hand" not in caplog.text
    assert a.current() == {"a": 1, "c": 3, "b": 4, " lead": 2}
    assert _consistent(path)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="astroanom.store.labels"):
        assert LabelStore(path, "u", valid_ids=IDS).current() == a.current()
    assert caplog.text == ""


def test_fragment_left_by_a_dead_writer_is_dropped_before_appending(tmp_path, caplog):
    path = tmp_path / "u.csv"
    a = LabelStore(path, "u", valid_ids=IDS)
    a.set("a", 1)
    with log_path_for(path).open("ab") as fh:
        fh.write(b"2026-01-01T00:00:00.000+00:00,u,set,")  # another writer died mid-append
    with caplog.at_level(logging.WARNING, logger="astroanom.store.labels"):
        a.set("b", 2)
    assert "removed an unfinished last line" in caplog.text
    assert replay_log(log_path_for(path)) == {k: v for k, v in a._state.items()}
    assert _consistent(path)


def test_reader_does_not_skip_past_another_writers_fragment(tmp_path):
    """A store that saw a fragment (reading only) must resume parsing at its start once another
    writer has replaced it with complete rows."""
    path = tmp_path / "u.csv"
    a = LabelStore(path, "u", valid_ids=IDS)
    b = LabelStore(path, "u", valid_ids=IDS)
    a.set("a", 1)
    with log_path_for(path).open("ab") as fh:
        fh.write(b"2026-01-01T00:00:00.000+00:00,u,set,c")  # a third writer died mid-append
    assert a.current() == {"a": 1}  # a sees the fragment, appends nothing
    b.set("b", 2)  # b drops the fragment and appends a complete row in its place
    assert a.current() == {"a": 1, "b": 2}
    a.set("c", 3)
    assert _consistent(path) and replay_log(log_path_for(path)) == {
        k: v for k, v in a._state.items()
    }
