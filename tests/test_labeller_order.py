"""The compact and paged forms of /api/order, and /api/ids, agree with the full id list."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from labeller_helpers import curve_dataset

from astroanom.labeller import LabellerSettings, create_app

SETTINGS = LabellerSettings(alpha=1.0, n_estimators=20, seed=0, strategy={"name": "paper"})


@pytest.fixture(scope="module")
def curves(tmp_path_factory) -> Path:
    return curve_dataset(tmp_path_factory.mktemp("curves"))


@pytest.fixture
def env(curves, tmp_path):
    app = create_app(curves, tmp_path / "labels" / "bob.csv", "bob", SETTINGS)
    return app.test_client(), app.config["CSRF_TOKEN"]


def _post(client, url, body, token):
    return client.post(
        url,
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRF-Token": token, "Origin": "http://localhost"},
    )


def _rows(client, query: str) -> tuple[np.ndarray, dict[str, str]]:
    resp = client.get(f"/api/order?{query}&format=rows")
    assert resp.status_code == 200 and resp.mimetype == "application/octet-stream"
    return np.frombuffer(resp.get_data(), dtype="<i4"), dict(resp.headers)


def test_rows_index_the_id_list_and_match_the_json_order(env):
    client, token = env
    ids = client.get("/api/ids").get_json()["ids"]
    assert len(ids) == 120 and len(set(ids)) == 120
    for by in ("score", "retrained", "random"):
        rows, head = _rows(client, f"by={by}")
        assert rows.size == 120 and sorted(rows.tolist()) == list(range(120))
        full = client.get(f"/api/order?by={by}").get_json()["ids"]
        assert [ids[r] for r in rows] == full
        assert head["X-Total"] == "120" and head["X-Labelled"] == "0"
    _post(client, "/api/label", {"id": full[0], "label": 5}, token)
    _post(client, "/api/label", {"id": full[1], "label": 0}, token)
    assert _post(client, "/api/retrain", {}, token).get_json()["n_labels"] == 2
    rows, head = _rows(client, "by=retrained&unlabelled_first=1")
    assert head["X-Labelled"] == "2"
    assert [ids[r] for r in rows] == client.get(
        "/api/order?by=retrained&unlabelled_first=1"
    ).get_json()["ids"]
    assert {ids[r] for r in rows[-2:]} == {full[0], full[1]}


def test_pages_concatenate_to_the_whole_order(env):
    client, _ = env
    full = client.get("/api/order?by=score").get_json()["ids"]
    pages = [
        client.get(f"/api/order?by=score&offset={o}&limit=50").get_json() for o in (0, 50, 100)
    ]
    assert [p["offset"] for p in pages] == [0, 50, 100]
    assert [len(p["ids"]) for p in pages] == [50, 50, 20]
    assert sum((p["ids"] for p in pages), []) == full
    assert pages[0]["total"] == 120
    assert client.get("/api/order?by=score&offset=500&limit=5").get_json()["ids"] == []
    for bad in ("offset=-1", "limit=x"):
        assert client.get(f"/api/order?by=score&{bad}").status_code == 400
    assert client.get("/api/order?by=evil&format=rows").status_code == 400
