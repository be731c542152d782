"""Issue 18, items 5-11: the labeller and the label store under late retrains, full disks,
read-only folders, bad plot parameters, huge cutouts and ids that need URL encoding."""

from __future__ import annotations

import errno
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import cv2
import numpy as np
import pandas as pd
import pytest
from labeller_helpers import curve_dataset, image_dataset

import astroanom.store.labels as labels_mod
from astroanom.active.score import RelevanceLearner
from astroanom.errors import LabelsError
from astroanom.labeller import LabellerSettings, create_app
from astroanom.labeller.data import LabellerData
from astroanom.store import dataset as ds
from astroanom.store.io import feature_frame, write_parquet
from astroanom.store.labels import LabelStore, read_labels, replay_log

REPO = Path(__file__).resolve().parents[1]
SETTINGS = LabellerSettings(alpha=1.0, n_estimators=5, seed=0, strategy={"name": "paper"})


def post(client, url, body, token):
    return client.post(
        url,
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRF-Token": token, "Origin": "http://localhost"},
    )


@pytest.fixture(scope="module")
def curves(tmp_path_factory) -> Path:
    return curve_dataset(tmp_path_factory.mktemp("curves"), n=80)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    return image_dataset(tmp_path_factory.mktemp("images"))


# -- item 5: a retrain that finishes late ---------------------------------------------------------
_LATE = "late-retrain"


def _hold_first_fit(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """The next forest fit of the thread named ``_LATE`` waits until ``release`` is set
    (``entered`` says it started). Fits in other threads (the distance worker's background
    prefit, which may wake after the test's labels were set) run at once: holding one of
    those instead would let the retrain finish before the change it must notice."""
    entered, release = threading.Event(), threading.Event()
    fit, calls = RelevanceLearner.fit, []

    def slow_fit(self, *args, **kwargs):
        if threading.current_thread().name == _LATE:
            calls.append(1)
            if len(calls) == 1:
                entered.set()
                assert release.wait(30)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(RelevanceLearner, "fit", slow_fit)
    # and the retrain always fits (never starts from a background prefit on the same labels)
    monkeypatch.setattr(LabellerData, "_prefitted", lambda self, idx, lab: None)
    return entered, release


def _late_retrain(data: LabellerData, monkeypatch, meanwhile) -> dict:
    entered, release = _hold_first_fit(monkeypatch)
    out: dict = {}
    worker = threading.Thread(target=lambda: out.update(data.retrain()), name=_LATE)
    worker.start()
    assert entered.wait(30)
    meanwhile()
    release.set()
    worker.join(30)
    return out


def test_late_retrain_after_delete_all_is_discarded(curves, tmp_path, monkeypatch):
    """Item 5: a retrain started with 6 labels ends after all labels were deleted (and the
    order reset): its result is discarded and S^ = S stays."""
    data = LabellerData(curves, tmp_path / "l" / "ann.csv", "ann", SETTINGS)
    for k in range(6):
        data.store.set(data.ids[k], k % 6)

    def delete_all() -> None:  # what POST /api/labels/delete does
        data.store.clear()
        data.retrain()

    out = _late_retrain(data, monkeypatch, delete_all)
    assert out.get("discarded") is True
    assert data.ranking is None and data.retrained_with == 0 and len(data.store) == 0
    rows = np.arange(data.n)
    assert np.array_equal(data.scores_of(rows), data.S)
    assert data.describe(data.ids[0])["score"] is None


def test_late_retrain_whose_label_was_deleted_is_discarded(curves, tmp_path, monkeypatch):
    """Item 5: one label used by a running retrain is removed: the result is not shown; an
    unlabel also withdraws a shown ranking made with that label; a new label marks it stale."""
    data = LabellerData(curves, tmp_path / "l" / "ann.csv", "ann", SETTINGS)
    for k in range(4):
        data.store.set(data.ids[k], 5 - k)
    out = _late_retrain(data, monkeypatch, lambda: data.store.delete(data.ids[0]))
    assert out.get("discarded") is True and data.ranking is None
    assert data.retrain()["n_labels"] == 3 and data.retrained_with == 3
    assert not data.stale()
    data.store.set(data.ids[10], 2)
    assert data.stale() and data.ranking is not None  # an addition: shown, but stale
    data.unlabel(data.ids[1])
    assert data.ranking is None and data.retrained_with == 0  # its label is gone


# -- item 6: refused labels -------------------------------------------------------------------------
def _disk_full(monkeypatch) -> None:
    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(labels_mod, "atomic_path", full)


def test_a_label_refused_by_a_full_disk_never_appears(tmp_path, monkeypatch):
    """Item 6: the CSV rewrite fails (ENOSPC): the set raises, and neither the next change,
    the log replay nor reopening the store ever applies the refused label."""
    path = tmp_path / "labels" / "ann.csv"
    store = LabelStore(path, "ann")
    store.set("a", 1)
    with monkeypatch.context() as m:
        _disk_full(m)
        for oid in ("b", "a"):
            with pytest.raises(OSError):
                store.set(oid, 5)
        with pytest.raises(OSError):
            store.delete("a")
    assert store.current() == {"a": 1}
    store.set("c", 2)
    assert store.current() == {"a": 1, "c": 2}
    assert {k: v[0] for k, v in replay_log(store.log_path).items()} == {"a": 1, "c": 2}
    again = LabelStore(path, "ann")
    assert again.current() == {"a": 1, "c": 2}
    assert dict(zip(*[read_labels(path)[c] for c in ("id", "label")], strict=True)) == {
        "a": 1,
        "c": 2,
    }


def test_refused_labels_over_http_are_500_and_never_stored(curves, tmp_path, monkeypatch):
    """Item 6 over HTTP: 500s on a full disk, then space returns: only acknowledged labels."""
    path = tmp_path / "labels" / "ann.csv"
    app = create_app(curves, path, "ann", SETTINGS)
    client, token = app.test_client(), app.config["CSRF_TOKEN"]
    assert post(client, "/api/label", {"id": "1", "label": 3}, token).status_code == 200
    with monkeypatch.context() as m:
        _disk_full(m)
        for oid in ("2", "3", "1"):
            resp = post(client, "/api/label", {"id": oid, "label": 5}, token)
            assert resp.status_code == 500 and "No space" in resp.get_json()["error"]
    assert post(client, "/api/label", {"id": "4", "label": 0}, token).status_code == 200
    got = {r["id"]: r["label"] for r in client.get("/api/labels").get_json()["labels"]}
    assert got == {"1": 3, "4": 0}
    assert LabelStore(path, "ann").current() == {"1": 3, "4": 0}


# -- item 7: a read-only labels folder; no lock file left -------------------------------------------
def _read_only_folder(monkeypatch) -> None:
    def refuse(folder):
        raise OSError(errno.EROFS, "Read-only file system", str(folder))

    monkeypatch.setattr(labels_mod, "probe_writable", refuse)


def test_read_only_folder_gives_one_clear_message(tmp_path, monkeypatch):
    """Item 7: a store in a read-only folder says what is wrong and what to do."""
    path = tmp_path / "labels" / "kro" / "frank.csv"
    LabelStore(path, "frank").set("x", 2)
    _read_only_folder(monkeypatch)
    with pytest.raises(LabelsError) as err:
        LabelStore(path, "frank")
    msg = str(err.value)
    assert "not writable" in msg and "Read-only file system" in msg and "--read-only" in msg
    assert str(path.parent) in msg


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a mode-555 folder")
def test_read_only_folder_for_real(tmp_path):
    path = tmp_path / "labels" / "frank.csv"
    LabelStore(path, "frank").set("x", 2)
    path.parent.chmod(0o555)
    try:
        with pytest.raises(LabelsError, match="--read-only"):
            LabelStore(path, "frank")
        assert LabelStore(path, "frank", read_only=True).current() == {"x": 2}
    finally:
        path.parent.chmod(0o755)


def test_read_only_store_reads_and_refuses_changes(tmp_path, monkeypatch):
    path = tmp_path / "labels" / "frank.csv"
    LabelStore(path, "frank").set("x", 2)
    before = path.read_bytes(), path.with_name("frank.log.csv").read_bytes()
    _read_only_folder(monkeypatch)
    store = LabelStore(path, "frank", read_only=True)
    assert store.current() == {"x": 2}
    for change in (lambda: store.set("y", 1), lambda: store.delete("x"), store.clear):
        with pytest.raises(labels_mod.LabelsReadOnlyError, match="read-only"):
            change()
    assert (path.read_bytes(), path.with_name("frank.log.csv").read_bytes()) == before
    missing = LabelStore(tmp_path / "none" / "frank.csv", "frank", read_only=True)
    assert missing.current() == {} and not (tmp_path / "none").exists()


def test_read_only_labeller_browses_with_a_banner_and_refuses_labels(curves, tmp_path):
    path = tmp_path / "labels" / "ann.csv"
    LabelStore(path, "ann").set("3", 4)
    settings = LabellerSettings(
        alpha=1.0, n_estimators=5, seed=0, strategy={"name": "paper"}, read_only=True
    )
    app = create_app(curves, path, "ann", settings)
    client, token = app.test_client(), app.config["CSRF_TOKEN"]
    page = client.get("/").get_data(as_text=True)
    assert 'id="read-only"' in page and 'name="read-only" content="1"' in page
    assert client.get("/api/info").get_json()["read_only"] is True
    assert client.get("/api/object?id=3").get_json()["label"] == 4
    for url, body in [
        ("/api/label", {"id": "1", "label": 2}),
        ("/api/unlabel", {"id": "3"}),
        ("/api/labels/delete", {"confirm": True}),
    ]:
        resp = post(client, url, body, token)
        assert resp.status_code == 403 and "read-only" in resp.get_json()["error"], url
    assert post(client, "/api/retrain", {}, token).status_code == 200  # browsing S^ is fine
    assert LabelStore(path, "ann").current() == {"3": 4}


def test_no_lock_file_stays_beside_the_labels(curves, tmp_path):
    """Item 7 (and issue item 4): the store locks the folder; no ``<user>.csv.lock`` file."""
    path = tmp_path / "labels" / "ann.csv"
    app = create_app(curves, path, "ann", SETTINGS)
    client, token = app.test_client(), app.config["CSRF_TOKEN"]
    assert post(client, "/api/label", {"id": "1", "label": 3}, token).status_code == 200
    assert post(client, "/api/unlabel", {"id": "1"}, token).status_code == 200
    assert sorted(p.name for p in path.parent.iterdir()) == ["ann.csv", "ann.log.csv"]


def test_cli_label_has_a_read_only_flag():
    from astroanom.cli import build_parser

    args = build_parser()[0].parse_args(["label", "x", "--read-only"])
    assert args.read_only is True


# -- item 8: bad plot parameters ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("mode=band&band=99", "band 99"),
        ("mode=rgb&rgb=9,9,9", "rgb"),
        ("mode=composite&rgb=9,9,9", "rgb"),
        ("mode=composite&q=nan", "q="),
        ("mode=composite&q=1e308", "q="),
        ("mode=composite&q=-1", "q="),
        ("mode=composite&q=inf", "q="),
    ],
)
def test_bad_plot_parameters_are_400_with_a_message(images, tmp_path, query, words):
    app = create_app(images, tmp_path / "l.csv", "ann", SETTINGS)
    resp = app.test_client().get(f"/api/plot?id=gal_001&{query}")
    assert resp.status_code == 400, resp.get_data()
    assert words in resp.get_json()["error"]


def test_good_q_still_renders(images, tmp_path):
    app = create_app(images, tmp_path / "l.csv", "ann", SETTINGS)
    resp = app.test_client().get("/api/plot?id=gal_001&mode=composite&q=8")
    assert resp.status_code == 200 and resp.mimetype == "image/png"


# -- item 9: a huge cutout is served at display size ----------------------------------------------
def test_reduce_to_averages_blocks():
    from astroanom.kinds.image_display import reduce_to

    img = np.arange(16, dtype=np.float32).reshape(4, 4)
    # 2 x 2 blocks: (0+1+4+5)/4 = 2.5, (2+3+6+7)/4 = 4.5, (8+9+12+13)/4 = 10.5, 12.5
    assert np.array_equal(reduce_to(img, 2), np.array([[2.5, 4.5], [10.5, 12.5]], np.float32))
    assert reduce_to(img, 4) is img
    rgb = np.zeros((3000, 1000, 3), np.uint8)
    assert reduce_to(rgb, 1024).shape == (1000, 333, 3)  # factor 3
    many = np.ones((40, 40, 6), np.float32)
    assert reduce_to(many, 10).shape == (10, 10, 6)


def test_a_huge_cutout_is_rendered_at_display_size(tmp_path):
    d = tmp_path / "big"
    image_dataset(d, n=3)
    big = np.zeros((4100, 3000), np.uint8)
    big[1000:3000, 500:2500] = 200
    cv2.imwrite(str(d / "images" / "gal_001.png"), big)
    app = create_app(d, tmp_path / "l.csv", "ann", SETTINGS)
    client = app.test_client()
    for query in ("", "&stretch=asinh", "&mode=band&band=0"):
        resp = client.get(f"/api/plot?id=gal_001{query}")
        assert resp.status_code == 200, query
        shown = cv2.imdecode(np.frombuffer(resp.data, np.uint8), cv2.IMREAD_UNCHANGED)
        assert max(shown.shape[:2]) <= 1024 and shown.shape[:2] == (820, 600), query


# -- item 10: ids that need URL encoding; go-to keeps the id exactly -------------------------------
def test_plot_url_of_an_id_with_url_characters(tmp_path):
    d = tmp_path / "odd"
    d.mkdir()
    ids = ["a&b#c%20d", " edge ", "plain"]
    write_parquet(feature_frame(np.array(ids), np.eye(3, dtype=np.float32)), d / ds.FEATURES)
    write_parquet(pd.DataFrame({"id": ids, "raw": [0.0, 1, 2], "S": [1.0, 2, 3]}), d / ds.SCORES)
    ds.DatasetInfo(name="odd", kind="curve", description="odd ids").write(d)
    app = create_app(d, tmp_path / "l.csv", "ann", SETTINGS)
    client = app.test_client()
    for oid in ids:
        obj = client.get(f"/api/object?id={quote(oid, safe='')}").get_json()
        assert obj["id"] == oid
        url = obj["plot"]
        assert parse_qs(urlsplit(url).query, keep_blank_values=True)["id"] == [oid]
        resp = client.get(url)
        assert resp.status_code == 200 and resp.mimetype == "image/png", oid


def test_go_to_does_not_trim_the_typed_id():
    js = (REPO / "src/astroanom/labeller/static/app.js").read_text()
    assert '$("jump").value.trim()' not in js
    assert 'const id = $("jump").value;' in js


#: what dispatching on the kind by hand, or guessing it from column names, looks like
GUESSES = re.compile(r'\bkind == "|"(lc|spectrum|image)_path" in')


# -- item 11: the docs name the CSRF header and where its token is ----------------------------------
def test_docs_name_the_csrf_header_and_the_token():
    doc = (REPO / "docs/labeller.md").read_text()
    assert "X-CSRF-Token" in doc and '<meta name="csrf-token">' in doc


def test_one_function_picks_the_view_of_each_kind(curves, images, tmp_path):
    """The labeller dispatches on the kind recorded in dataset.json in one place,
    ``render.view_for``, and draws every kind but in-page curves through the kind's own view."""
    from astroanom import kinds
    from astroanom.labeller import render

    assert type(LabellerData(curves, tmp_path / "a.csv", "a", SETTINGS).view) is render.CurveView
    img = LabellerData(images, tmp_path / "b.csv", "b", SETTINGS).view
    assert type(img) is render.KindView and img.kind is kinds.get("image")
    assert img.display_choices and not img.draws_in_page and not img.serialised
    sources = list((REPO / "src/astroanom/labeller").rglob("*.py"))
    guessing = [p.name for p in sources if GUESSES.search(p.read_text())]
    assert guessing == []
