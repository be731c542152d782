"""The export as VOTable (units, UCDs, round trip through astropy) and the offline cross-match
against a user's catalogue: separations worked out by hand, and bad catalogues named by line."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io.votable import parse
from astropy.io.votable.ucd import check_ucd
from astropy.table import Table
from test_export import dataset  # noqa: F401  (the six-object fixture, reused)

from astroanom.errors import AstroanomError
from astroanom.export import export_anomalies
from astroanom.store.dataset import DatasetInfo
from astroanom.vo.crossmatch import CatalogueError, crossmatch, read_catalogue
from astroanom.vo.votable import COLUMNS, NO_COORDINATES

ARCSEC = 1.0 / 3600.0


def read_vot(path: Path):
    """The first table of a VOTable file, parsed strictly (any VOTable warning fails)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return parse(str(path), verify="exception")


def test_every_ucd_is_valid_ucd1plus():
    for name, (ucd, _, _) in COLUMNS.items():
        assert check_ucd(ucd, check_controlled_vocabulary=True), (name, ucd)


def test_votable_round_trip_keeps_values_units_and_ucds(dataset, tmp_path):  # noqa: F811
    d, files = dataset
    res = export_anomalies(d, files, tmp_path / "out", threshold=3, top_n=4)
    assert res.votable == tmp_path / "out" / "anomalies.vot"
    vot = read_vot(res.votable)
    table = vot.get_first_table()
    fields = {f.name: f for f in table.fields}
    csv = pd.read_csv(res.csv, dtype={"id": str, "user": str}, keep_default_na=False)
    assert list(fields) == list(csv.columns)
    assert (fields["ra"].ucd, fields["ra"].unit) == ("pos.eq.ra;meta.main", "deg")
    assert (fields["dec"].ucd, str(fields["dec"].unit)) == ("pos.eq.dec;meta.main", "deg")
    assert fields["id"].ucd == "meta.id;meta.main"
    assert fields["S_hat"].ucd == "stat.value;meta.main" and fields["rank"].ucd == "stat.rank"
    assert fields["label"].ucd == "meta.code.qual" and fields["S"].ucd == "stat.value"
    t = table.to_table()
    assert list(t["id"]) == ["a", "b", "c", "c", "d", "f"]
    np.testing.assert_array_equal(t["ra"], [150.0, 150.01, 150.02, 150.02, 150.03, 150.05])
    np.testing.assert_array_equal(t["S_hat"], [4.5, 4.0, 3.0, 3.0, 2.0, 0.5])
    np.testing.assert_array_equal(t["U"], 0.0)
    np.testing.assert_array_equal(t["d"], 1.0)
    assert list(t["rank"]) == [1, 2, 3, 3, 4, 6]
    assert list(t["label"].mask) == [False, False, False, False, True, False]  # d: no label
    assert list(t["label"].filled(-1)) == [1, 0, 5, 4, -1, 3]
    assert list(t["user"]) == ["alice", "bob", "alice", "bob", "", "bob"]
    infos = {i.name: i.value for i in vot.resources[0].infos}
    assert infos == {"dataset": "field", "threshold": "3", "top_n": "4"}


def test_votable_without_coordinates_says_so(tmp_path):
    d = tmp_path / "curves"
    d.mkdir()
    ids = ["x1", "x2"]
    pd.DataFrame({"id": ids}).to_parquet(d / "objects.parquet")
    pd.DataFrame({"id": ids, "raw": [1.0, 0.0], "S": [5.0, 0.0]}).to_parquet(d / "scores.parquet")
    pd.DataFrame({"id": ids, "score": [5.0, 0.0], "label": np.nan}).to_parquet(d / "active.parquet")
    DatasetInfo(name="curves", kind="curve").write(d)
    res = export_anomalies(d, [], tmp_path / "o", top_n=2, render=lambda oid: b"")
    vot = read_vot(res.votable)
    names = [f.name for f in vot.get_first_table().fields]
    assert "ra" not in names and "dec" not in names and names[:2] == ["id", "S"]
    (info,) = [i for i in vot.resources[0].infos if i.name == "coordinates"]
    assert info.value == "none" and info.content == NO_COORDINATES
    with pytest.raises(CatalogueError, match="has no ra/dec, so it cannot be cross-matched"):
        export_anomalies(
            d, [], tmp_path / "o3", top_n=2, render=lambda oid: b"", crossmatch={"path": "x.csv"}
        )


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_export_marks_known_objects_with_hand_worked_separations(dataset, tmp_path):  # noqa: F811
    """a (150, 2) has M-a 1" north: known at 1.0"; c (150.02, 2) has M-c 1.5" south: 1.5";
    d (150.03, 2) has 'far' 10" north, beyond the 2" radius: not known; b, f: nothing near."""
    d, files = dataset
    cat = write_csv(
        tmp_path / "known.csv",
        [
            "RAJ2000,DEJ2000,ident",
            f"150.0,{2 + ARCSEC!r},M-a",
            f"150.02,{2 - 1.5 * ARCSEC!r},M-c",
            f"150.03,{2 + 10 * ARCSEC!r},far",
        ],
    )
    xm = {"path": str(cat), "ra": "RAJ2000", "dec": "DEJ2000", "name": "ident", "radius_arcsec": 2}
    res = export_anomalies(d, files, tmp_path / "out", threshold=3, top_n=4, crossmatch=xm)
    assert res.n_known == 2
    csv = pd.read_csv(res.csv, dtype={"id": str, "known_name": str}, keep_default_na=False)
    per_id = csv.drop_duplicates("id").set_index("id")
    assert per_id["known"].tolist() == [True, False, True, False, False]  # a b c d f
    assert per_id["known_name"].tolist() == ["M-a", "", "M-c", "", ""]
    sep = pd.to_numeric(per_id["known_sep_arcsec"].replace("", np.nan))
    np.testing.assert_allclose(sep[["a", "c"]], [1.0, 1.5], atol=1e-6)
    assert sep[["b", "d", "f"]].isna().all()
    t = read_vot(res.votable).get_first_table()
    f = {x.name: x for x in t.fields}
    assert (f["known_sep_arcsec"].ucd, str(f["known_sep_arcsec"].unit)) == (
        "pos.angDistance",
        "arcsec",
    )
    assert f["known_name"].ucd == "meta.id.cross" and f["known"].datatype == "boolean"
    assert list(t.to_table()["known"]) == [True, False, True, True, False, False]
    fits = Table.read(res.fits)
    assert list(fits["known"]) == [True, False, True, True, False, False]
    assert str(fits["known_sep_arcsec"].unit) == "arcsec"
    assert "M-a (1.00″)" in res.html.read_text()


def test_crossmatch_wraps_ra_and_takes_the_nearest(tmp_path):
    """On the equator separations are differences: 359.9995 -> 0.0005 is 0.001 deg = 3.6";
    (10, 0) has entries 1" north and 0.5" south: the south one, 0.5"."""
    cat = write_csv(
        tmp_path / "c.csv",
        ["ra,dec,name", "0.0005,0,wrap", f"10,{ARCSEC!r},north", f"10,{-0.5 * ARCSEC!r},south"],
    )
    marks = crossmatch(
        np.array([359.9995, 10.0, 200.0, np.nan]),
        np.array([0.0, 0.0, -30.0, 0.0]),
        read_catalogue(cat),
        radius_arcsec=5.0,
    )
    assert marks["known"].tolist() == [True, True, False, False]
    assert marks["known_name"].tolist() == ["wrap", "south", "", ""]
    np.testing.assert_allclose(marks["known_sep_arcsec"][:2], [3.6, 0.5], atol=1e-6)
    tight = crossmatch(np.array([359.9995]), np.array([0.0]), read_catalogue(cat), 3.5)
    assert not tight["known"][0]
    with pytest.raises(CatalogueError, match="radius must be above 0"):
        crossmatch(np.array([1.0]), np.array([0.0]), read_catalogue(cat), 0)


def test_fits_and_votable_catalogues_with_units(tmp_path):
    t = Table({"RA": [np.radians(10.0)], "DEC": [0.0], "NAME": ["rad"]})
    t["RA"].unit, t["DEC"].unit = "rad", "deg"
    t.write(tmp_path / "c.fits")
    cat = read_catalogue(tmp_path / "c.fits", "RA", "DEC", "NAME")
    np.testing.assert_allclose(cat.ra, [10.0])  # converted from radians by its unit
    assert cat.name.tolist() == ["rad"]
    t2 = Table({"ra": [10.0, 20.0], "dec": [1.0, 2.0], "name": ["a", "b"]})
    t2.write(tmp_path / "c.vot", format="votable")
    assert read_catalogue(tmp_path / "c.vot").name.tolist() == ["a", "b"]
    t3 = Table({"ra": [10.0], "dec": [1.0], "name": ["p"]})
    t3["ra"].unit = "%"
    t3.write(tmp_path / "pc.fits")
    with pytest.raises(
        CatalogueError,
        match=r"pc.fits: column ra has unit .* \(a fraction or percentage\); give degrees",
    ):
        read_catalogue(tmp_path / "pc.fits")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ["ra,dec,label", "1,2,x"],
            r"bad.csv: no column 'name' \(columns: \['ra', 'dec', 'label'\]",
        ),
        (["ra,dec,name", "1,2,x", "400,2,y"], r"bad.csv, line 3: ra = 400 is outside 0..360 deg"),
        (["ra,dec,name", "1,-91,x"], r"bad.csv, line 2: dec = -91 is outside -90..90 deg"),
        (["ra,dec,name", "12%,2,x"], r"bad.csv, line 2: ra = '12%' \(a percentage is not an angle"),
        (["ra,dec,name", "1,2,x", "10:00:00,2,y"], r"line 3: ra = '10:00:00' \(sexagesimal"),
        (["ra,dec,name", "1,,x"], r"bad.csv, line 2: dec = '' \(empty\); give decimal degrees"),
        (["ra,dec,name"], r"bad.csv: the catalogue has no rows"),
    ],
)
def test_bad_catalogues_name_file_and_line(tmp_path, lines, message):
    with pytest.raises(CatalogueError, match=message):
        read_catalogue(write_csv(tmp_path / "bad.csv", lines))


def test_missing_or_unknown_catalogue_file(tmp_path):
    with pytest.raises(CatalogueError, match="nope.csv: catalogue file not found"):
        read_catalogue(tmp_path / "nope.csv")
    (tmp_path / "c.parquet").write_bytes(b"x")
    with pytest.raises(CatalogueError, match="unknown catalogue format '.parquet'"):
        read_catalogue(tmp_path / "c.parquet")
    assert issubclass(CatalogueError, AstroanomError)


def test_hours_look_alike_warns(tmp_path, caplog):
    cat = write_csv(tmp_path / "h.csv", ["ra,dec,name", "1,0,a", "12,0,b", "23.5,0,c"])
    read_catalogue(cat)
    assert "every ra is within 0..24: hours?" in caplog.text


def test_cli_export_with_configured_and_given_catalogue(tmp_path, monkeypatch, capsys):
    """export.crossmatch in the config (catalogue columns renamed, radius 2"), then the
    command line's --crossmatch/--radius on top; `astroanom check` names a missing catalogue."""
    import yaml
    from test_samp import make_run

    from astroanom import cli
    from astroanom.config import load

    monkeypatch.chdir(tmp_path)
    config = make_run(tmp_path)  # objects a..f at RA 150.00..150.05, Dec 2
    write_csv(tmp_path / "mine.csv", ["RA,DE,N", f"150.01,{2 + 1.5 * ARCSEC!r},near-b"])
    cfg = yaml.safe_load(config.read_text())
    cfg["datasets"]["field"]["export"] = {
        "top_n": 3,
        "crossmatch": {"path": "mine.csv", "ra": "RA", "dec": "DE", "name": "N"},
    }
    config.write_text(yaml.safe_dump(cfg))
    assert load([config])["datasets"]["field"]["export"]["crossmatch"]["radius_arcsec"] == 2.0
    assert cli.main(["export", "field", "--configfile", str(config)]) == 0
    out = capsys.readouterr().out
    assert "1 of them known in the cross-match catalogue" in out and "anomalies.vot" in out
    csv = pd.read_csv(tmp_path / "results/field/export/anomalies.csv", keep_default_na=False)
    assert csv["known_name"].tolist() == ["", "near-b", ""]
    # a radius below the separation (1.5"): nothing is known
    assert cli.main(["export", "field", "--configfile", str(config), "--radius", "1"]) == 0
    assert "0 of them known" in capsys.readouterr().out
    # a bad catalogue given on the command line: the error names its file and line
    write_csv(tmp_path / "bad.csv", ["RA,DE,N", "150,95,x"])
    assert cli.main(["export", "field", "--configfile", str(config), "--crossmatch", "bad.csv"])
    assert "bad.csv, line 2: DE = 95 is outside -90..90 degrees" in capsys.readouterr().err
    (tmp_path / "mine.csv").unlink()
    assert cli.main(["check", "--configfile", str(config)]) == 1
    assert "datasets.field.export.crossmatch.path: mine.csv does not exist" in (
        capsys.readouterr().err
    )
