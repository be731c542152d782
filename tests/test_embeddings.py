"""``features.kind: embeddings``: precomputed features joined to any source's objects by id —
the join (order, missing and extra ids, duplicates), the column choice, every table format, a
FITS padded-string id, ``combine`` beside a real image extractor, and a tiny real Snakemake run
of an image folder whose failures.csv holds the objects without a row."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from astropy.table import Table

from astroanom import plugins
from astroanom.errors import ConfigError
from astroanom.features import READS_ANY
from astroanom.features.combine import CombinedExtractor
from astroanom.features.embeddings import EmbeddingsExtractor
from astroanom.pipeline.features import shard_step

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def table(n: int = 6) -> pd.DataFrame:
    """id g000.., a text column, feat_0 = k, feat_1 = 10 k, other = -k (k: the id's number)."""
    k = np.arange(n, dtype=np.float64)
    return pd.DataFrame(
        {
            "id": [f"g{i:03d}" for i in range(n)],
            "label": "spiral",
            "feat_0": k,
            "feat_1": 10 * k,
            "other": -k,
        }
    )


def build(path: Path, **params) -> EmbeddingsExtractor:
    return plugins.build("extractor", "embeddings", {"path": str(path), **params})


def write(frame: pd.DataFrame, path: Path) -> Path:
    name = path.name
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif name.endswith(".fits"):
        Table.from_pandas(frame).write(path)
    else:
        frame.to_csv(path, index=False, sep="\t" if ".tsv" in name else ",")
    return path


@pytest.mark.parametrize("name", ["e.parquet", "e.csv", "e.csv.gz", "e.tsv", "e.fits"])
def test_join_follows_the_objects_order_in_every_format(tmp_path, name):
    shuffled = table().sample(frac=1.0, random_state=4)  # file order != object order
    ext = build(write(shuffled, tmp_path / name), prefix="feat_")
    assert ext.reads == READS_ANY and ext.names() == ["feat_0", "feat_1"]
    X, reasons = ext.extract(pd.DataFrame({"id": ["g005", "g000", "g003"]}))
    np.testing.assert_array_equal(X, [[5, 50], [0, 0], [3, 30]])
    assert reasons == [None, None, None]


def test_objects_without_a_row_are_failure_rows_and_extra_rows_are_counted(tmp_path):
    path = write(table(), tmp_path / "e.parquet")
    ext = build(path, columns=["feat_1"])
    X, reasons = ext.extract(pd.DataFrame({"id": ["g001", "x9", " g002 "]}))
    assert X[0, 0] == 10 and np.isnan(X[1]).all() and X[2, 0] == 20  # blanks stripped
    assert reasons == [None, f"no row for id 'x9' in {path} (id column 'id')", None]
    (report,) = ext.join_reports(np.array(["g001", "x9", "g002"]))
    assert report == {
        "path": str(path),
        "id_column": "id",
        "n_rows": 6,
        "n_matched": 2,
        "n_unmatched": 4,
        "unmatched_ids": ["g000", "g003", "g004", "g005"],
    }
    with pytest.raises(ConfigError, match="no object of the dataset has a row"):
        ext.join_reports(np.array(["a", "b"]))


def test_column_choice_prefix_columns_or_every_numeric_one(tmp_path):
    path = write(table(), tmp_path / "e.csv")
    assert build(path).names() == ["feat_0", "feat_1", "other"]  # not id, not label
    assert build(path, columns=["other", "feat_0"]).names() == ["other", "feat_0"]
    X, _ = build(path, columns=["other", "feat_0"]).extract(pd.DataFrame({"id": ["g002"]}))
    np.testing.assert_array_equal(X, [[-2, 2]])
    with pytest.raises(ConfigError, match="not both"):
        build(path, columns=["feat_0"], prefix="feat_")
    with pytest.raises(ConfigError, match=r"\['label'\].*not numeric"):
        build(path, columns=["feat_0", "label"])
    with pytest.raises(ConfigError, match=r"no column\(s\) \['feat_9'\]"):
        build(path, columns=["feat_9"])
    with pytest.raises(ConfigError, match="prefix 'emb_': no numeric column"):
        build(path, prefix="emb_")
    with pytest.raises(ConfigError, match="no id column 'objid'.*features.id_column"):
        build(path, id_column="objid")


def test_a_text_cell_past_the_sampled_rows_is_named(tmp_path, monkeypatch):
    import astroanom.features.embeddings as emb

    monkeypatch.setattr(emb, "SAMPLE_ROWS", 2)  # types from the first 2 rows only
    frame = table().astype({"feat_1": object})
    frame.loc[4, "feat_1"] = "n/a?"
    ext = build(write(frame, tmp_path / "e.csv"), prefix="feat_")
    with pytest.raises(
        ConfigError, match=r"'feat_1' is not numeric: 'n/a\?' at id 'g004' \(line 6\)"
    ):
        ext.extract(pd.DataFrame({"id": ["g000"]}))


@pytest.mark.parametrize(
    ("name", "where"), [("e.csv", "line 3, line 6"), ("e.parquet", "row 2, row 5")]
)
def test_a_repeated_id_is_an_error_naming_its_lines(tmp_path, name, where):
    frame = table()
    frame.loc[4, "id"] = "g001"
    ext = build(write(frame, tmp_path / name))
    with pytest.raises(ConfigError, match=f"id 'g001' is on 2 rows \\({where}\\)"):
        ext.extract(pd.DataFrame({"id": ["g000"]}))


def test_a_fits_padded_byte_string_id_matches(tmp_path):
    t = Table.from_pandas(table(3).drop(columns="label"))
    t["id"] = np.array([b"  g000", b"g001    ", b" g002 "], dtype="S8")  # FITS pads with blanks
    t.write(tmp_path / "e.fits")
    X, reasons = build(tmp_path / "e.fits", prefix="feat_").extract(
        pd.DataFrame({"id": ["g002", "g000"]})
    )
    np.testing.assert_array_equal(X, [[2, 20], [0, 0]])
    assert reasons == [None, None]


def test_integer_ids_and_zero_padded_object_ids_say_so(tmp_path):
    frame = pd.DataFrame({"id": np.array([123, 7], dtype=np.int64), "f": [1.0, 2.0]})
    ext = build(write(frame, tmp_path / "e.parquet"))
    X, _ = ext.extract(pd.DataFrame({"id": ["7"]}))  # an integer id is written in decimal
    assert X[0, 0] == 2.0
    with pytest.raises(ConfigError, match="only when leading zeros are dropped"):
        ext.extract(pd.DataFrame({"id": ["00123", "00007"]}))
    frame["id"] = frame["id"].astype(np.float64)
    with pytest.raises(ConfigError, match="float64 values, not ids"):
        build(write(frame, tmp_path / "f.parquet")).extract(pd.DataFrame({"id": ["7"]}))


def test_a_shard_makes_non_finite_values_failure_rows_naming_the_columns(tmp_path):
    frame = table(4)
    frame.loc[2, "feat_1"] = np.inf
    frame.loc[3, "feat_0"] = np.nan
    path = write(frame, tmp_path / "e.parquet")
    pd.DataFrame({"id": ["g003", "g002", "g001", "zz"]}).to_parquet(tmp_path / "man.parquet")
    features = {"kind": "embeddings", "path": str(path), "prefix": "feat_", "shard_size": 10}
    shard_step(tmp_path / "man.parquet", 0, features, tmp_path, tmp_path / "s.parquet")
    out = pd.read_parquet(tmp_path / "s.parquet")
    assert out["id"].tolist() == ["g003", "g002", "g001", "zz"]
    reasons = out["reason"].tolist()
    assert "not finite in feat_0" in reasons[0] and "not finite in feat_1" in reasons[1]
    assert pd.isna(reasons[2]) and reasons[3].startswith("no row for id 'zz'")
    assert out.loc[2, ["f000", "f001"]].tolist() == [1.0, 10.0]


def test_check_names_a_missing_features_table(tmp_path, monkeypatch):
    from astroanom.cli import missing_inputs

    monkeypatch.chdir(tmp_path)
    (tmp_path / "cutouts").mkdir()
    parts = [{"kind": "ellipse"}, {"kind": "embeddings", "path": "z.csv"}]
    cfg = {
        "datasets": {
            "a": {
                "source": {"path": "cutouts"},
                "features": {"kind": "embeddings", "path": "e.pq"},
            },
            "b": {
                "source": {"path": "cutouts"},
                "features": {"kind": "combine", "extractors": parts},
            },
        }
    }
    assert missing_inputs(cfg) == [
        "datasets.a.features.path: e.pq does not exist",
        "datasets.b.features.extractors[1].path: z.csv does not exist",
    ]


# -- combine with a real image extractor ---------------------------------------------------------


@pytest.fixture(scope="module")
def galaxies(tmp_path_factory) -> pd.DataFrame:
    from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate

    out = tmp_path_factory.mktemp("gal")
    cat = generate(out, SyntheticGalaxyConfig(n_objects=6, size=64, image_format="png"), seed=2)
    return cat[["id", "image_path"]].astype(str)


def test_combine_puts_embeddings_beside_an_image_extractor(tmp_path, galaxies, monkeypatch):
    ids = galaxies["id"].tolist()
    emb = pd.DataFrame({"id": ids[1:][::-1], "z0": np.arange(5.0), "z1": np.arange(5.0) ** 2})
    path = write(emb, tmp_path / "zoobot.parquet")
    parts = [
        {"kind": "moments"},
        {"kind": "histogram", "n_bins": 4},
        {"kind": "embeddings", "path": str(path)},
    ]
    comb = CombinedExtractor(parts, n_threads=1)
    assert comb.reads == "image"
    assert comb.names()[-2:] == ["embeddings.z0", "embeddings.z1"] and len(comb.names()) == 13
    import astroanom.features.combine as combine

    reads = []
    real = combine.load_image
    monkeypatch.setattr(combine, "load_image", lambda p: reads.append(p) or real(p))
    X, reasons = comb.extract(galaxies)
    assert len(reads) == len(ids)  # each image read once for both image parts
    alone = plugins.build("extractor", "moments", {})
    Xm, _ = alone.extract(galaxies)
    ok = [i for i, r in enumerate(reasons) if r is None]
    np.testing.assert_allclose(X[ok, :7], Xm[ok], rtol=1e-12)
    # ids[1:] reversed: ids[5] -> z0 0, ids[1] -> z0 4
    assert X[5, -2:].tolist() == [0.0, 0.0] and X[1, -2:].tolist() == [4.0, 16.0]
    assert np.isnan(X[0]).all() and reasons[0] == (
        f"embeddings: no row for id {ids[0]!r} in {path} (id column 'id')"
    )
    (report,) = comb.join_reports(np.array(ids))
    assert (report["part"], report["n_matched"], report["n_unmatched"]) == ("embeddings", 5, 0)
    only = CombinedExtractor([{"kind": "embeddings", "path": str(path), "name": "a"}], n_threads=1)
    assert only.reads == READS_ANY


def test_table_rows_are_shown_by_their_own_columns_not_the_embeddings(tmp_path):
    from astroanom.kinds.base import RunObjects
    from astroanom.kinds.table import population

    objs = pd.DataFrame({"id": ["a", "b"], "mag": [15.0, 16.0], "colour": [0.1, 0.2]})
    objs.to_parquet(tmp_path / "objects.parquet")
    pd.DataFrame({"id": ["a", "b"], "f000": [1.0, 2.0]}).to_parquet(tmp_path / "features.parquet")
    info = {
        "kind": "table",
        "extra": {"feature_names": ["z0"], "source_columns": ["mag", "colour"]},
    }
    pop = population(RunObjects.open(tmp_path, info))
    assert list(pop.columns) == ["mag", "colour"] and pop.loc["b", "mag"] == 16.0


# -- a tiny real Snakemake run -------------------------------------------------------------------


@pytest.mark.workflow
def test_an_image_folder_runs_with_embeddings_and_records_missing_and_extra_ids(tmp_path):
    from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate

    n = 24
    cat = generate(
        tmp_path / "data" / "cutouts",
        SyntheticGalaxyConfig(n_objects=n, size=32, image_format="png"),
        seed=3,
    )
    ids = cat["id"].astype(str).tolist()
    rng = np.random.default_rng(0)
    have = ids[3:] + ["ghost1", "ghost2"]  # 3 objects without a row, 2 rows without an object
    emb = pd.DataFrame(rng.normal(size=(len(have), 8)), columns=[f"feat_{j}" for j in range(8)])
    emb.insert(0, "id_str", have)
    emb.sample(frac=1.0, random_state=1).to_csv(tmp_path / "data" / "zoobot.csv", index=False)
    cfg = {
        "datasets": {
            "cutouts": {
                "source": {"kind": "images", "path": "data/cutouts"},
                "features": {
                    "kind": "embeddings",
                    "path": "data/zoobot.csv",
                    "id_column": "id_str",
                    "prefix": "feat_",
                },
                "embedding": {"n_objects": 21, "perplexity": 5},
            }
        }
    }
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    cmd = [SNAKEMAKE, "-s", str(REPO / "workflow" / "Snakefile"), "--directory", str(tmp_path)]
    cmd += ["--configfile", str(tmp_path / "cfg.yaml"), "--cores", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    d = tmp_path / "results" / "cutouts"
    fails = pd.read_csv(d / "failures.csv", dtype=str)
    assert sorted(fails["id"]) == sorted(ids[:3])
    assert all(
        r.startswith("no row for id ") and "(id column 'id_str')" in r for r in fails["reason"]
    )
    summary = json.loads((d / "summary.json").read_text())
    assert (summary["n_features_ok"], summary["n_failed"]) == (n - 3, 3)
    (report,) = summary["feature_tables"]
    assert (report["n_rows"], report["n_matched"], report["n_unmatched"]) == (n - 1, n - 3, 2)
    assert sorted(report["unmatched_ids"]) == ["ghost1", "ghost2"]
    assert "2 of 23 rows of data/zoobot.csv match no object" in proc.stdout + proc.stderr
    info = json.loads((d / "dataset.json").read_text())
    assert info["kind"] == "image" and info["extra"]["feature_names"] == [
        f"feat_{j}" for j in range(8)
    ]
    assert (d / "figures" / "top.png").is_file()
    html = (d / "export" / "anomalies.html").read_text()
    assert (
        len(re.findall("data:image/(?:png|jpeg);base64,", html)) == n - 3
    )  # the cutouts, as images
