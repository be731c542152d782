"""SAMP round trips to a hub started here on 127.0.0.1 (web profile off, its own lockfile):
a second client subscribed to table.load.votable and coord.pointAt.sky receives what
`astroanom send` and the labeller's /api/samp route broadcast, with the right rows."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import numpy as np
import pandas as pd
import pytest
import yaml
from astropy.io.votable import parse

from astroanom import cli
from astroanom.store.dataset import DatasetInfo
from astroanom.vo.samp import (
    NO_HUB,
    NoHubError,
    SampError,
    astropy_samp,
    point_at,
    select_rows,
    send_table,
)

samp = astropy_samp()
SAMPHubServer, SAMPIntegratedClient, conf = samp.SAMPHubServer, samp.SAMPIntegratedClient, samp.conf

IDS = ["a", "b", "c", "d", "e", "f"]
S_HAT = [4.5, 4.0, 3.0, 2.0, 1.0, 0.5]  # ranks 1..6
WAIT_S = 10.0


class Inbox:
    """What the viewer client received: (mtype, params), in order."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict]] = []
        self._new = threading.Condition()

    def receive(self, private_key, sender_id, mtype, params, extra) -> None:
        """A notification handler as astropy.samp calls it (a method of five arguments)."""
        with self._new:
            self.messages.append((mtype, dict(params)))
            self._new.notify_all()

    def wait_for(self, n: int) -> list[tuple[str, dict]]:
        deadline = time.monotonic() + WAIT_S
        with self._new:
            while len(self.messages) < n and time.monotonic() < deadline:
                self._new.wait(0.05)
        assert len(self.messages) >= n, f"got {self.messages} within {WAIT_S} s"
        return self.messages[:n]


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A hub on 127.0.0.1 whose lockfile is only in $SAMP_HUB (HOME moved: no ~/.samp found)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    lockfile = tmp_path / "hub.lock"
    with conf.set_temp("use_internet", False):
        server = SAMPHubServer(
            web_profile=False, lockfile=str(lockfile), addr="127.0.0.1", pool_size=1
        )
        server.start()
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{lockfile.as_uri()}")
    yield server, lockfile
    server.stop()


@pytest.fixture
def viewer(hub):
    """A client standing in for TOPCAT/Aladin: subscribed to tables and positions."""
    server, _ = hub
    inbox = Inbox()
    with conf.set_temp("use_internet", False):
        client = SAMPIntegratedClient(name="viewer", addr="127.0.0.1")
        client.connect(hub=server, pool_size=1)
    client.bind_receive_notification("table.load.votable", inbox.receive)
    client.bind_receive_notification("coord.pointAt.sky", inbox.receive)
    yield inbox
    client.disconnect()


def table_of(params: dict) -> pd.DataFrame:
    path = Path(url2pathname(urlparse(params["url"]).path))
    return parse(str(path)).get_first_table().to_table().to_pandas()


def make_run(tmp: Path) -> Path:
    """mine.yaml with one image dataset `field` and its results: six objects with RA/Dec."""
    (tmp / "imgs").mkdir()
    cfg = {"datasets": {"field": {"source": {"kind": "images", "path": "imgs"}}}}
    (tmp / "mine.yaml").write_text(yaml.safe_dump(cfg))
    d = tmp / "results" / "field"
    d.mkdir(parents=True)
    ra = [150.0 + 0.01 * k for k in range(6)]
    pd.DataFrame({"id": IDS, "ra": ra, "dec": 2.0}).to_parquet(d / "objects.parquet")
    S = [5.0, 3.0, 4.0, 2.5, 1.0, 0.0]
    pd.DataFrame({"id": IDS, "raw": S, "S": S}).to_parquet(d / "scores.parquet")
    pd.DataFrame({"id": IDS, "S": S, "U": 1.0, "d": 0.5, "score": S_HAT}).to_parquet(
        d / "active.parquet"
    )
    DatasetInfo(name="field", kind="image").write(d)
    return tmp / "mine.yaml"


def test_cli_send_top_and_one_id(hub, viewer, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = make_run(tmp_path)
    t0 = time.monotonic()
    assert cli.main(["send", "field", "--configfile", str(config), "--top", "3"]) == 0
    ((mtype, params),) = viewer.wait_for(1)
    assert mtype == "table.load.votable" and params["name"] == "astroanom field: top 3"
    got = table_of(params)
    assert got["id"].tolist() == ["a", "b", "c"] and got["rank"].tolist() == [1, 2, 3]
    np.testing.assert_array_equal(got["S_hat"], [4.5, 4.0, 3.0])
    np.testing.assert_array_equal(got["ra"], [150.0, 150.01, 150.02])
    assert "-> viewer" in capsys.readouterr().out
    # one id with RA/Dec: its row as a table, then the viewers are pointed at it
    assert cli.main(["send", "field", "--configfile", str(config), "--ids", "d"]) == 0
    second = dict(viewer.wait_for(3)[1:])  # the two notifications may arrive in either order
    assert sorted(second) == ["coord.pointAt.sky", "table.load.votable"]
    assert table_of(second["table.load.votable"])["id"].tolist() == ["d"]
    p3 = second["coord.pointAt.sky"]
    assert (float(p3["ra"]), float(p3["dec"])) == (150.03, 2.0)
    assert time.monotonic() - t0 < 20
    # an id that is not in the dataset is named; nothing is sent
    assert cli.main(["send", "field", "--configfile", str(config), "--ids", "zz"]) == 1
    assert "unknown id(s) 'zz'" in capsys.readouterr().err
    assert len(viewer.messages) == 3


def test_explicit_lockfile_and_no_hub(hub, viewer, tmp_path, monkeypatch):
    _, lockfile = hub
    rows = pd.DataFrame({"id": ["x"], "S": [1.0]})
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'none.lock').as_uri()}")
    with pytest.raises(NoHubError, match="start TOPCAT or Aladin"):
        send_table(rows, tmp_path / "out", "t")
    sent = send_table(rows, tmp_path / "out", "t", lockfile=lockfile)  # --hub LOCKFILE
    assert sent.recipients == ("viewer",)
    assert table_of(viewer.wait_for(1)[0][1])["id"].tolist() == ["x"]
    with pytest.raises(SampError, match="not a position in degrees"):
        point_at(400.0, 0.0, lockfile=lockfile)
    assert "`samp_hub --no-web-profile`" in NO_HUB  # astropy's hub command


def test_no_subscriber_is_an_error(hub, tmp_path):
    with pytest.raises(SampError, match="no client that accepts table.load.votable"):
        send_table(pd.DataFrame({"id": ["x"]}), tmp_path, "t")


def test_select_rows():
    t = pd.DataFrame({"id": ["p", "q", "r"], "rank": [3, 1, 2]})
    assert select_rows(t, top=2)["id"].tolist() == ["q", "r"]
    assert select_rows(t, ids=["r", "p", "r"])["id"].tolist() == ["r", "p"]
    with pytest.raises(SampError, match="at least one"):
        select_rows(t, top=0)


def labeller_client(tmp_path: Path):
    """The labeller's Flask test client on six images with RA/Dec (no hub needed to build)."""
    from labeller_helpers import image_dataset

    from astroanom.labeller import LabellerSettings, create_app

    d = image_dataset(tmp_path / "run", n=6)
    obj = pd.read_parquet(d / "objects.parquet")
    obj["ra"] = [10.0 + k for k in range(6)]
    obj["dec"] = -5.0
    obj.to_parquet(d / "objects.parquet")
    settings = LabellerSettings(alpha=1.0, n_estimators=10, seed=0, strategy={"name": "paper"})
    app = create_app(d, tmp_path / "labels" / "alice.csv", "alice", settings)
    client, token = app.test_client(), app.config["CSRF_TOKEN"]
    S = pd.read_parquet(d / "scores.parquet")
    by_s = S.sort_values("S", ascending=False, kind="stable")["id"].tolist()

    def post(body):
        return client.post(
            "/api/samp",
            json=body,
            headers={"X-CSRF-Token": token, "Origin": "http://localhost"},
        )

    return client, post, by_s


def test_labeller_route_sends_top_n_and_points(hub, viewer, tmp_path):
    client, post, by_s = labeller_client(tmp_path)
    page = client.get("/").get_data(as_text=True)
    assert 'id="samp-send"' in page and "samp.js" in page
    resp = post({"top": 3, "by": "score", "point": by_s[0]})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["rows"] == 3 and [s["recipients"] for s in body["sent"]] == [["viewer"]] * 2
    # the hub delivers each notification on its own: they may arrive in either order
    got_by_type = dict(viewer.wait_for(2))
    assert sorted(got_by_type) == ["coord.pointAt.sky", "table.load.votable"]
    got = table_of(got_by_type["table.load.votable"])
    assert got["id"].tolist() == by_s[:3]
    assert got["rank"].tolist() == [1, 2, 3]  # no retrain yet: ranked by S
    np.testing.assert_array_equal(got["S_hat"], got["S"])
    row = int(by_s[0].split("_")[1])
    p2 = got_by_type["coord.pointAt.sky"]
    assert (float(p2["ra"]), float(p2["dec"])) == (10.0 + row, -5.0)
    # a selection of ids (the map's), in its order
    assert post({"ids": [by_s[4], by_s[1]]}).status_code == 200
    assert table_of(viewer.wait_for(3)[2][1])["id"].tolist() == [by_s[4], by_s[1]]
    assert post({"ids": ["nope"]}).status_code == 404
    assert post({"top": 0}).status_code == 400
    assert len(viewer.messages) == 3


def test_labeller_route_without_hub(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'none.lock').as_uri()}")
    _, post, _ = labeller_client(tmp_path)
    resp = post({"top": 2})
    assert resp.status_code == 503 and "start TOPCAT or Aladin" in resp.get_json()["error"]
