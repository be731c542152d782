"""The anomaly catalogue export on a tiny labelled dataset: CSV rows worked out by hand, FITS
columns, a self-contained HTML page, curve datasets, and bad input."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.table import Table

from astroanom.errors import AstroanomError, LabelsError
from astroanom.export import anomaly_table, export_anomalies
from astroanom.store.dataset import DatasetInfo
from astroanom.store.io import feature_frame

IDS = ["a", "b", "c", "d", "e", "f"]
S_HAT = [4.5, 4.0, 3.0, 2.0, 1.0, 0.5]  # ranks 1..6


def write_labels(path: Path, rows: list[tuple[str, int, str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["id,label,user,time"] + [f"{i},{lab},{u},{t}" for i, lab, u, t in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def dataset(tmp_path: Path):
    """Six objects with cutouts (3-band FITS cubes) and RA/Dec; alice and bob have labelled."""
    d = tmp_path / "results" / "field"
    (d / "cutouts").mkdir(parents=True)
    rng = np.random.default_rng(0)
    paths = []
    for oid in IDS:
        fits.PrimaryHDU(rng.normal(size=(3, 16, 16)).astype(np.float32)).writeto(
            d / "cutouts" / f"{oid}.fits"
        )
        paths.append(f"cutouts/{oid}.fits")  # relative to the dataset directory
    ra = [150.0 + 0.01 * k for k in range(6)]
    pd.DataFrame({"id": IDS, "ra": ra, "dec": 2.0, "image_path": paths}).to_parquet(
        d / "objects.parquet"
    )
    DatasetInfo(name="field", kind="image").write(d)
    S = [5.0, 3.0, 4.0, 2.5, 1.0, 0.0]
    pd.DataFrame({"id": IDS, "raw": S, "S": S}).to_parquet(d / "scores.parquet")
    pd.DataFrame(
        {"id": IDS, "S": S, "U": 0.0, "d": 1.0, "score": S_HAT, "label": np.nan}
    ).to_parquet(d / "active.parquet")
    labels = tmp_path / "labels" / "field"
    alice = write_labels(
        labels / "alice.csv",
        [("c", 5, "alice", "t1"), ("a", 1, "alice", "t2"), ("e", 2, "alice", "t3")],
    )
    bob = write_labels(
        labels / "bob.csv", [("c", 4, "bob", "t4"), ("f", 3, "bob", "t5"), ("b", 0, "bob", "t6")]
    )
    return d, [alice, bob]


def test_rows_worked_out_by_hand(dataset):
    """threshold 3: relevant = c (alice 5, bob 4) and f (bob 3); top 4 by S-hat = a, b, c, d.
    Rows: a/alice 1 (top), b/bob 0 (top), c/alice 5 and c/bob 4 (label+top), d with no label
    (top), f/bob 3 (label); e (alice 2, rank 5) is not selected."""
    d, files = dataset
    rows = anomaly_table(d, files, threshold=3, top_n=4)
    got = list(
        zip(
            rows["id"], rows["user"], rows["label"].astype(object), rows["selected_by"], strict=True
        )
    )
    assert got == [
        ("a", "alice", 1, "top"),
        ("b", "bob", 0, "top"),
        ("c", "alice", 5, "label+top"),
        ("c", "bob", 4, "label+top"),
        ("d", "", pd.NA, "top"),
        ("f", "bob", 3, "label"),
    ]
    assert rows["rank"].tolist() == [1, 2, 3, 3, 4, 6]
    assert rows["S_hat"].tolist() == [4.5, 4.0, 3.0, 3.0, 2.0, 0.5]
    assert rows["S"].tolist() == [5.0, 3.0, 4.0, 4.0, 2.5, 0.0]
    assert rows.loc[rows["id"] == "f", "time"].item() == "t5"
    # no labels at all: just the top N
    assert anomaly_table(d, [], top_n=2)["id"].tolist() == ["a", "b"]


def test_export_files(dataset, tmp_path):
    d, files = dataset
    res = export_anomalies(d, files, tmp_path / "out", threshold=3, top_n=4)
    assert (res.n_rows, res.n_objects) == (6, 5)
    csv = pd.read_csv(res.csv, dtype={"id": str, "user": str}, keep_default_na=False)
    assert list(csv.columns) == [
        "id", "ra", "dec", "S", "U", "d", "S_hat", "rank", "label", "user", "time",
        "selected_by",
    ]  # fmt: skip
    assert res.csv.read_text().splitlines()[1] == "a,150.0,2.0,5.0,0.0,1.0,4.5,1,1,alice,t2,top"
    assert res.csv.read_text().splitlines()[5] == "d,150.03,2.0,2.5,0.0,1.0,2.0,4,,,,top"
    t = Table.read(res.fits, mask_invalid=False)
    assert t.colnames == list(csv.columns)
    assert list(t["id"]) == ["a", "b", "c", "c", "d", "f"]
    assert np.isnan(t["label"][4])  # the unlabelled object
    assert list(t["label"][[0, 1, 2, 3, 5]]) == [1, 0, 5, 4, 3]
    assert str(t["ra"].unit) == "deg" and t.meta["THRESH"] == 3 and t.meta["TOPN"] == 4
    page = res.html.read_text()
    for oid in ("a", "b", "c", "d", "f"):
        assert f'id="obj-{oid}"' in page
    assert 'id="obj-e"' not in page
    srcs = re.findall(r'src="([^"]*)"', page)
    assert len(srcs) == 5 and all(
        s.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")) for s in srcs
    )
    assert not re.search(r"""(src|href)\s*=\s*["']?//""", page)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "https://simbad.cds.unistra.fr/simbad/sim-coo?Coord=150.000000+%2B2.000000" in page
    assert "label (bob)" in page and "label (alice)" in page
    assert not list((tmp_path / "out").glob(".*.tmp"))  # atomic writes left no temporaries
    # the same inputs give the same page, whenever it is written (no time stamp in it)
    again = export_anomalies(d, files, tmp_path / "again", threshold=3, top_n=4)
    assert again.html.read_bytes() == res.html.read_bytes()
    assert not re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", page)


def test_curve_dataset_gets_plots_and_bad_image_is_reported(tmp_path):
    d = tmp_path / "curves"
    d.mkdir()
    ids = np.array(["x1", "x2"])
    pd.DataFrame({"id": ids}).to_parquet(d / "objects.parquet")
    feature_frame(ids, np.array([[0.0, 1, 0], [1, 0, 1]], np.float32)).to_parquet(
        d / "features.parquet"
    )
    pd.DataFrame({"id": ids, "raw": [1.0, 0.0], "S": [5.0, 0.0]}).to_parquet(d / "scores.parquet")
    pd.DataFrame({"id": ids, "score": [5.0, 0.0], "label": np.nan}).to_parquet(d / "active.parquet")
    DatasetInfo(name="curves", kind="curve").write(d)
    res = export_anomalies(d, [], tmp_path / "o", top_n=2)
    page = res.html.read_text()
    assert page.count("data:image/png;base64,") == 2 and "simbad" not in page
    csv = pd.read_csv(res.csv)
    assert list(csv.columns[:5]) == ["id", "S", "U", "d", "S_hat"]  # no position columns
    assert csv["U"].isna().all() and csv["d"].isna().all()  # a strategy without U and d
    # an image dataset whose cutout is missing: the page says why, the tables are complete
    pd.DataFrame(
        {"id": ids, "image_path": ["/nonexistent/x1.fits", "/nonexistent/x2.fits"]}
    ).to_parquet(d / "objects.parquet")
    DatasetInfo(name="curves", kind="image").write(d)
    res = export_anomalies(d, [], tmp_path / "o2", top_n=2)
    assert res.html.read_text().count("no image: file not found") == 2


def test_bad_inputs(dataset, tmp_path):
    d, files = dataset
    bad = write_labels(tmp_path / "zed.csv", [("nosuch", 4, "zed", "t")])
    with pytest.raises(LabelsError, match="'nosuch' is not an object of this dataset"):
        anomaly_table(d, [bad])
    with pytest.raises(LabelsError, match="label file not found"):
        anomaly_table(d, [tmp_path / "missing.csv"])
    with pytest.raises(ValueError, match="threshold must be a label 0..5"):
        anomaly_table(d, files, threshold=6)
    (d / "active.parquet").unlink()
    with pytest.raises(AstroanomError, match="active.parquet not found"):
        anomaly_table(d, files)
