"""Table source: readers, the missing-value policies (values worked out by hand), derived
columns, errors that name the column and the row, and the columns extractor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from astroanom.errors import ConfigError
from astroanom.features.columns import ColumnsExtractor
from astroanom.sources.table import TableSource, policy_report, read_table

# 5 objects; -99.99 marks missing. Column a: one missing (row of id "c"); b: two missing
# ("a", "e"); c: complete; name: text (never a feature).
CSV = """obj,a,b,c,name
a,1.0,-99.99,10,x
b,2.0,4.0,20,y
c,-99.99,6.0,30,z
d,4.0,8.0,40,w
e,10.0,,50,v
"""


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    p = tmp_path / "cat.csv"
    p.write_text(CSV)
    return p


def _src(path: Path, **kw) -> TableSource:
    return TableSource(path, id_column="obj", missing=-99.99, **kw)


def test_impute_median_by_hand(csv, tmp_path):
    src = _src(csv, missing_policy="impute_median")
    obj, fail = src.manifest(tmp_path, seed=0)
    assert src.feature_columns == ["a", "b", "c"]  # text column "name" is not numeric
    assert len(fail) == 0 and obj["id"].tolist() == ["a", "b", "c", "d", "e"]
    # a: median of 1, 2, 4, 10 = 3.0 ; b: median of 4, 6, 8 = 6.0 (the empty cell is missing too)
    assert obj.loc[obj["id"] == "c", "a"].item() == 3.0
    assert obj.loc[obj["id"].isin(["a", "e"]), "b"].tolist() == [6.0, 6.0]
    rep = policy_report(src.report).set_index("column")
    assert rep.loc["a", "n_missing"] == 1 and rep.loc["a", "median"] == 3.0
    assert rep.loc["b", "n_missing"] == 2 and rep.loc["b", "fraction"] == pytest.approx(0.4)
    assert "c" not in rep.index
    assert obj.set_index("id")["imputed"].to_dict() == {
        "a": "b",
        "b": "",
        "c": "a",
        "d": "",
        "e": "b",
    }


def test_drop_column_removes_only_incomplete_columns(csv, tmp_path):
    src = _src(csv, missing_policy="drop_column")
    obj, fail = src.manifest(tmp_path, seed=0)
    assert src.feature_columns == ["c"] and len(obj) == 5 and len(fail) == 0
    assert [e["column"] for e in src.report] == ["a", "b"]
    X, reasons = ColumnsExtractor(src.feature_columns).extract(obj)
    np.testing.assert_array_equal(X[:, 0], [10, 20, 30, 40, 50])
    assert reasons == [None] * 5


def test_drop_row_records_failures_and_medians_use_kept_rows(csv, tmp_path):
    src = _src(csv, missing_policy={"default": "impute_median", "b": "drop_row"})
    obj, fail = src.manifest(tmp_path, seed=0)
    assert obj["id"].tolist() == ["b", "c", "d"]
    assert fail.to_dict("records") == [
        {"id": "a", "stage": "source", "reason": "missing value in b"},
        {"id": "e", "stage": "source", "reason": "missing value in b"},
    ]
    # a is imputed from the kept rows b, d only: median(2, 4) = 3.0
    assert obj.loc[obj["id"] == "c", "a"].item() == 3.0


def test_fail_names_column_id_and_line(csv, tmp_path):
    with pytest.raises(ConfigError) as err:
        _src(csv, missing_policy={"default": "fail", "a": "impute_median"}).manifest(tmp_path, 0)
    msg = str(err.value)
    # column b; ids a (file line 2) and e (line 6); count 2 of 5
    assert "'b'" in msg and "2 missing value(s) of 5" in msg
    assert "'a' (line 2)" in msg and "'e' (line 6)" in msg


def test_default_policy_is_fail(csv, tmp_path):
    with pytest.raises(ConfigError, match="column 'a' has 1 missing"):
        _src(csv).manifest(tmp_path, 0)


def test_explicit_columns_derived_and_keep(csv, tmp_path):
    src = _src(
        csv,
        columns=["c", "a_plus_c"],
        derived={"a_plus_c": "a + c", "log_c": "log10(c)"},
        keep=["name"],
        missing_policy="drop_row",
    )
    obj, fail = src.manifest(tmp_path, 0)
    assert src.feature_columns == ["c", "a_plus_c", "log_c"]
    assert fail["id"].tolist() == ["c"]  # a missing -> a + c missing -> row dropped
    assert obj["a_plus_c"].tolist() == [11.0, 22.0, 44.0, 60.0]
    np.testing.assert_allclose(obj["log_c"], np.log10([10, 20, 40, 50]))
    assert obj["name"].tolist() == ["x", "y", "w", "v"]


def test_non_numeric_cell_names_id_and_row(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("id,a\nq,1\nr,oops\n")
    with pytest.raises(
        ConfigError, match=r"column 'a' is not numeric: 'oops' at id 'r' \(line 3\)"
    ):
        TableSource(p, columns=["a"]).manifest(tmp_path, 0)


def test_duplicate_ids_and_unknown_policy(csv, tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("id,a\nq,1\nq,2\n")
    with pytest.raises(ConfigError, match="occur more than once"):
        TableSource(p).manifest(tmp_path, 0)
    with pytest.raises(ConfigError, match="missing_policy"):
        TableSource(csv, missing_policy="zero")


def test_parquet_and_fits_read_like_csv(csv, tmp_path):
    df = pd.read_csv(csv, dtype={"obj": str})
    df.to_parquet(tmp_path / "cat.parquet", index=False)
    from astropy.table import Table

    Table.from_pandas(df.drop(columns=["name"])).write(tmp_path / "cat.fits")
    want, _ = _src(csv, missing_policy="impute_median").manifest(tmp_path, 0)
    for name in ("cat.parquet", "cat.fits"):
        got, _ = _src(tmp_path / name, missing_policy="impute_median").manifest(tmp_path, 0)
        np.testing.assert_array_equal(got[["a", "b", "c"]].to_numpy(), want[["a", "b", "c"]])
        assert got["id"].tolist() == want["id"].tolist()


def test_comment_header_tab_separated(tmp_path):
    p = tmp_path / "ogle_like.txt"
    p.write_text("# Date: x\n# Columns:\n# ID\tP\tA\nS1\t0.5\t0.3\nS2\t-99.99\t0.4\n")
    df = read_table(p, sep="\t", comment="#", header="last_comment")
    assert list(df.columns) == ["ID", "P", "A"] and df["P"].tolist() == [0.5, -99.99]


def test_seeded_subset(csv, tmp_path):
    a, _ = _src(csv, missing_policy="impute_median", n_max=3).manifest(tmp_path, seed=4)
    b, _ = _src(csv, missing_policy="impute_median", n_max=3).manifest(tmp_path, seed=4)
    assert len(a) == 3 and a["id"].tolist() == b["id"].tolist()
    assert a["id"].tolist() == sorted(a["id"])  # file order kept


def test_columns_extractor_fails_rows_with_nan():
    obj = pd.DataFrame({"id": ["p", "q"], "x": [1.0, np.nan], "y": [2.0, 3.0]})
    X, reasons = ColumnsExtractor(["x", "y"]).extract(obj)
    assert X[0].tolist() == [1.0, 2.0] and np.isnan(X[1]).all()
    assert reasons == [None, "feature value NaN or inf in x"]


def test_category_oracle_by_type():
    import pandas as pd

    from astroanom.active.oracle import make_oracle

    types = ["LPV", "RCB", "DSCT", "LPV", "RCB", None]
    truth = pd.DataFrame(
        {"id": list("abcdef"), "value": types, "known": [t is not None for t in types]}
    )
    spec = {"kind": "category", "column": "Type", "anomaly_classes": ["RCB"]}
    oracle = make_oracle(truth, spec, {"relevance": {"RCB": 5, "DSCT": 0}, "default_relevance": 0})
    assert oracle(np.arange(5)).tolist() == [0, 5, 0, 0, 5]
    assert oracle.unknown.tolist() == [False] * 5 + [True]  # no type: never shown to the oracle
    with pytest.raises(ConfigError, match=r"no entry for \['LPV'\]"):
        make_oracle(truth, spec, {"relevance": {"RCB": 5, "DSCT": 0}})
    quiet = make_oracle(truth, spec, {"relevance": {"DPV": 5}, "default_relevance": 0})
    assert quiet(np.arange(5)).tolist() == [0] * 5  # a label no object has labels nothing
