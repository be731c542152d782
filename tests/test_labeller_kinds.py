"""The labeller shows each kind of object as astronomers look at it: light curves per band,
tables against their population, images with a chosen stretch, links where RA/Dec are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
from labeller_helpers import image_dataset

from astroanom.labeller import LabellerSettings, create_app
from astroanom.store import dataset as ds
from astroanom.store.io import feature_frame, write_parquet

SETTINGS = LabellerSettings(alpha=1.0, n_estimators=5, seed=0, strategy={"name": "paper"})
PNG = b"\x89PNG\r\n\x1a\n"


def _client(d, tmp_path):
    return create_app(d, tmp_path / "l.csv", "ann", SETTINGS).test_client()


def _table_dataset(d, lc_path=None):
    rng = np.random.default_rng(0)
    n = 30
    ids = [f"s{k}" for k in range(n)]
    raw = pd.DataFrame({"I": rng.normal(15, 1, n), "P": rng.uniform(0.3, 2, n)})
    write_parquet(feature_frame(np.array(ids), raw.to_numpy(np.float32)), d / ds.FEATURES)
    objects = raw.assign(id=ids, ra=np.linspace(10, 11, n), dec=np.linspace(-5, -4, n))
    objects["imputed"] = ["P" if k == 4 else "" for k in range(n)]  # as the table source writes it
    if lc_path is not None:
        objects = objects.assign(lc_path=str(lc_path), value_kind="mag", period=0.5)
    write_parquet(objects, d / ds.OBJECTS)
    S = rng.uniform(0, 5, n)
    write_parquet(pd.DataFrame({"id": ids, "raw": -S, "S": S}), d / ds.SCORES)
    ds.DatasetInfo(name="t", kind="table", extra={"feature_names": ["I", "P"]}).write(d)
    return ids


def test_table_object_is_drawn_against_its_population_with_links(tmp_path):
    d = tmp_path / "t"
    d.mkdir()
    _table_dataset(d)
    client = _client(d, tmp_path)
    obj = client.get("/api/object?id=s3").get_json()
    assert set(obj["links"]) >= {"simbad", "aladin", "legacy"}
    assert all(u.startswith("https://") for u in obj["links"].values())
    png = client.get("/api/plot?id=s3")
    assert png.status_code == 200 and png.data.startswith(PNG)
    assert "imputed" not in obj["metadata"]  # nothing imputed: no empty row
    assert client.get("/api/object?id=s4").get_json()["metadata"]["imputed"] == "P"
    page = client.get("/").get_data(as_text=True)
    assert "(30 table rows)" in page


def test_light_curves_are_drawn_from_their_table(tmp_path):
    d = tmp_path / "lc"
    d.mkdir()
    t = np.linspace(0, 5, 40)
    curves = pd.DataFrame(
        {
            "id": np.repeat(["s0", "s1"], 40),
            "band": "V",
            "time": np.tile(t, 2),
            "value": np.tile(15 + 0.3 * np.sin(2 * np.pi * t / 0.5), 2),
            "err": 0.02,
        }
    )
    curves.to_parquet(d / "light_curves.parquet")
    _table_dataset(d, lc_path=d / "light_curves.parquet")
    png = _client(d, tmp_path).get("/api/plot?id=s0")
    assert png.status_code == 200 and png.data.startswith(PNG)


def test_image_stretch_is_a_choice_and_bad_ones_are_refused(tmp_path):
    import cv2

    imgs = image_dataset(tmp_path / "imgs")
    client = _client(imgs, tmp_path)
    plain = client.get("/api/plot?id=gal_001").data
    asinh = client.get("/api/plot?id=gal_001&stretch=asinh").data
    log = client.get("/api/plot?id=gal_001&stretch=log").data
    assert plain.startswith(PNG) and asinh.startswith(PNG)
    a = cv2.imdecode(np.frombuffer(asinh, np.uint8), cv2.IMREAD_UNCHANGED).astype(float)
    g = cv2.imdecode(np.frombuffer(log, np.uint8), cv2.IMREAD_UNCHANGED).astype(float)
    assert a.shape[:2] == g.shape[:2] and not np.array_equal(a, g)  # the stretch changes pixels
    bad = client.get("/api/plot?id=gal_001&stretch=cubic")
    assert bad.status_code == 400 and "stretch" in bad.get_json()["error"]
