"""The run's model bundle and ``astroanom score``: a tiny real Snakemake run (a table of 300
rows, isolation forest, the paper's S^ with 12 simulated labels), then new batches scored with
its bundle. A batch of the run's own objects gets the run's S, U, d and S^ exactly; a changed
bundle, an unknown version and mismatched features are refused with their reasons; LOF scores
new objects in novelty mode (as scikit-learn's ``novelty=True``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from astroanom import bundle as B
from astroanom import cli

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
N = 300


def _table(path: Path) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(N, 3))
    cls = np.zeros(N, dtype=int)
    X[-8:] += 5.0  # eight far objects of class 1: the wanted ones
    cls[-8:] = 1
    ids = [f"o{i:04d}" for i in range(N)]
    df = pd.DataFrame({"id": ids, "a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "class": cls})
    df.to_csv(path, index=False)
    return df


CONFIG = {
    "datasets": {
        "tab": {
            "source": {"kind": "table", "path": "cat.csv", "keep": ["class"]},
            "detector": {"name": "iforest", "n_estimators": 50},
            "truth": {"kind": "class", "column": "class", "anomaly_classes": [1]},
            "oracle": {"mode": "simulated", "relevance": {0: 0, 1: 5}, "batch": 12, "budget": 12},
        }
    }
}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    wd = tmp_path_factory.mktemp("bundle")
    _table(wd / "cat.csv")
    (wd / "c.yaml").write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    cmd = [str(BIN / "snakemake"), "-s", str(REPO / "workflow" / "Snakefile"), "-d", str(wd)]
    cmd += ["--configfile", str(wd / "c.yaml"), "--cores", "2"]
    cmd += ["results/tab/ranked.csv", "results/tab/bundle.zip"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return wd


def _score(wd: Path, batch: str, *extra: str, config: str = "c.yaml") -> int:
    cwd = Path.cwd()
    os.chdir(wd)
    try:
        args = ["score", "tab", batch, "--configfile", config, "--top", "3", *extra]
        return cli.main(args)
    finally:
        os.chdir(cwd)


def _ranked(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"id": str}).set_index("id")


def test_a_batch_of_the_runs_objects_gets_the_runs_scores(run):
    full = pd.read_csv(run / "cat.csv", dtype={"id": str})
    full.iloc[::7].to_csv(run / "sub.csv", index=False)  # 43 rows, some of them labelled
    assert _score(run, "sub.csv") == 0
    out = run / "results" / "tab" / "scored" / "sub"
    got = _ranked(out / "ranked.csv")
    want = _ranked(run / "results" / "tab" / "ranked.csv").loc[got.index]
    assert len(got) == 43 and want["label"].notna().sum() >= 1  # labelled objects are in it
    for col in ("S", "S_hat", "U", "d"):
        np.testing.assert_allclose(got[col], want[col], rtol=0, atol=1e-12)
    assert (got["rank"].to_numpy() == np.arange(1, 44)).all()  # ranked by S^
    assert got["S_hat"].is_monotonic_decreasing
    lab = want["label"].notna()
    assert (got.loc[lab, "d"] == 0).all() and (got.loc[lab, "U"] == want.loc[lab, "label"]).all()
    exported = pd.read_csv(out / "export" / "anomalies.csv", dtype={"id": str})
    assert list(exported["id"]) == list(got.index[:3])  # --top 3: the top three by S^
    record = json.loads((out / "batch.json").read_text())
    assert record["n_scored"] == 43 and record["bundle_version"] == B.VERSION
    assert not list(out.parent.glob(".sub.*"))  # the staging folder was renamed, none left


def test_a_new_object_far_out_gets_s_above_the_runs_range(run):
    pd.DataFrame(
        {
            "id": ["far", "mid"],
            "a": [40.0, 0.0],
            "b": [40.0, 0.0],
            "c": [40.0, 0.0],
            "class": [0, 0],
        }
    ).to_csv(run / "new.csv", index=False)
    assert _score(run, "new.csv", "--name", "tonight") == 0
    got = _ranked(run / "results" / "tab" / "scored" / "tonight" / "ranked.csv")
    assert got.index[0] == "far"
    assert got.loc["far", "S"] >= got.loc["mid", "S"]
    assert np.isfinite(got["U"]).all() and (got["d"] > 0).all()  # neither is a labelled one


def _rewrite(src: Path, dst: Path, edit) -> None:
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    edit(members)
    with zipfile.ZipFile(dst, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)


def test_a_changed_bundle_is_refused(run, tmp_path):
    path = run / "results" / "tab" / "bundle.zip"

    def flip(members):
        name = "detector/model.skops"
        data = bytearray(members[name])
        data[len(data) // 2] ^= 0xFF
        members[name] = bytes(data)

    changed = tmp_path / "changed.zip"
    _rewrite(path, changed, flip)
    with pytest.raises(B.BundleError, match="SHA-256 of member 'detector/model.skops'"):
        B.Bundle(changed)
    raw = bytearray(path.read_bytes())  # bytes of the compressed file itself
    raw[len(raw) // 3] ^= 0xFF
    (tmp_path / "raw.zip").write_bytes(bytes(raw))
    with pytest.raises(B.BundleError, match="changed|damaged"):
        B.Bundle(tmp_path / "raw.zip")
    extra = tmp_path / "extra.zip"
    _rewrite(path, extra, lambda m: m.update({"detector/more.npy": b"x"}))
    with pytest.raises(B.BundleError, match=r"members \['detector/more.npy'\] are not in"):
        B.Bundle(extra)


def test_an_unknown_version_is_refused(run, tmp_path, capsys):
    path = run / "results" / "tab" / "bundle.zip"

    def bump(members):
        m = json.loads(members[B.MANIFEST])
        m["version"] = 99
        members[B.MANIFEST] = json.dumps(m).encode()

    future = tmp_path / "future.zip"
    _rewrite(path, future, bump)
    with pytest.raises(B.BundleError, match="bundle version 99, which this astroanom does not"):
        B.Bundle(future)
    keep = run / "results" / "tab" / "bundle.keep"
    shutil.copy(path, keep)
    try:
        shutil.copy(future, path)
        assert _score(run, "cat.csv", "--name", "v99") == 1
        assert "bundle version 99" in capsys.readouterr().err
        assert not (run / "results" / "tab" / "scored" / "v99").exists()
    finally:
        shutil.copy(keep, path)


def test_a_batch_with_other_features_is_refused(run, capsys):
    full = pd.read_csv(run / "cat.csv", dtype={"id": str})
    full[["id", "b", "a", "c", "class"]].to_csv(run / "swapped.csv", index=False)
    assert _score(run, "swapped.csv") == 1
    err = capsys.readouterr().err
    assert "another order than the bundle's: position 0 is 'b' in the batch, 'a'" in err
    full[["id", "a", "c", "class"]].to_csv(run / "fewer.csv", index=False)
    assert _score(run, "fewer.csv") == 1
    assert "missing ['b']" in capsys.readouterr().err
    other = json.loads(json.dumps(CONFIG))
    other["datasets"]["tab"]["features"] = {"kind": "columns", "columns": ["a", "b"]}
    other["datasets"]["tab"]["scale"] = "none"
    (run / "other.yaml").write_text(yaml.safe_dump(other), encoding="utf-8")
    assert _score(run, "cat.csv", "--name", "other", config="other.yaml") == 1
    err = capsys.readouterr().err
    assert "columns: bundle None, config ['a', 'b']" in err and "scale: bundle 'standard'" in err
    assert not (run / "results" / "tab" / "scored" / "other").exists()
    b = B.Bundle(run / "results" / "tab" / "bundle.zip")
    with pytest.raises(B.BundleError, match="kind: bundle 'columns', config 'values'"):
        b.check_settings({"kind": "values"}, "standard", None, "table")
    with pytest.raises(B.BundleError, match="object kind: bundle 'table', batch 'image'"):
        b.check_settings(b.manifest["features"]["settings"], "standard", None, "image")


def test_lof_scores_new_objects_in_novelty_mode():
    from sklearn.neighbors import LocalOutlierFactor as SkLOF

    from astroanom.detect.detectors import anomaly_scores, make_detector

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    Q = rng.normal(scale=2.0, size=(30, 3)).astype(np.float32)
    det = make_detector("lof", n_neighbors=10)
    raw, _ = anomaly_scores(det, X)
    entry, members = B.detector_part(det, X, raw)
    assert entry["format"] == "lof" and entry["k"] == 10
    fitted = B.FittedDetector(entry, members)
    sk = SkLOF(n_neighbors=10, novelty=True).fit(X.astype(np.float64))
    np.testing.assert_allclose(fitted.raw(Q), sk.score_samples(Q), rtol=1e-6, atol=0)
    # an object of the run is its own neighbour as a query: novelty scores are less extreme
    again = fitted.raw(X)
    np.testing.assert_allclose(again, sk.score_samples(X), rtol=1e-6, atol=0)
    assert not np.allclose(again, raw)


def test_detectors_without_a_safe_format_are_recorded_as_such():
    from astroanom.detect.detectors import anomaly_scores, make_detector

    X = np.random.default_rng(1).normal(size=(120, 2)).astype(np.float32)
    for name, why in [
        ("pyod.models.knn.KNN", "not a scikit-learn class"),
        ("sklearn.neighbors.LocalOutlierFactor", "scores only its training set"),
    ]:
        det = make_detector(name)
        raw, _ = anomaly_scores(det, X)
        entry, members = B.detector_part(det, X, raw)
        assert entry["format"] == "unsupported" and why in entry["reason"] and not members
    det = make_detector("sklearn.svm.OneClassSVM", params={"nu": 0.1})
    raw, _ = anomaly_scores(det, X)
    entry, members = B.detector_part(det, X, raw)
    assert entry["format"] == "skops" and entry["method"] == "score_samples"
    assert np.array_equal(B.FittedDetector(entry, members).raw(X), raw)


def test_skops_members_needing_untrusted_types_are_refused():
    from sklearn.neighbors import KDTree

    data = B.skops_dump(KDTree(np.zeros((4, 2))))
    with pytest.raises(B.BundleError, match="not on astroanom's trusted list"):
        B.skops_load(data, "detector")


def test_the_same_archive_written_at_two_moments_has_the_same_bytes(tmp_path, monkeypatch):
    members = {"b.npy": b"\x00\x01" * 500, "a.json": b'{"x": 1}'}
    B.write_archive(tmp_path / "one.zip", {"k": 1}, members)
    # a later wall clock: zipfile would stamp every entry with it if the entries had no own time
    later = __import__("time").localtime(2_000_000_000)
    monkeypatch.setattr(zipfile.time, "localtime", lambda *a: later)
    B.write_archive(tmp_path / "two.zip", {"k": 1}, members)
    one, two = (tmp_path / "one.zip").read_bytes(), (tmp_path / "two.zip").read_bytes()
    assert one == two
    with zipfile.ZipFile(tmp_path / "one.zip") as z:
        assert {i.date_time for i in z.infolist()} == {B.ENTRY_TIME}
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    meta, back = B.read_archive(tmp_path / "two.zip")
    assert back == members and meta["k"] == 1


def test_equal_models_dumped_at_two_moments_have_the_same_bytes(monkeypatch):
    """skops names each array by its object's memory address and stamps the clock: the
    canonical dump renumbers the ids 1, 2, ... and fixes the times, and loads back the same
    model (the detector's and the relevance model's parts, and so the bundle, repeat)."""
    from sklearn.ensemble import IsolationForest, RandomForestRegressor

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(150, 4)), rng.integers(0, 6, 150).astype(float)
    for make in (
        lambda: RandomForestRegressor(n_estimators=8, random_state=2).fit(X, y),
        lambda: IsolationForest(n_estimators=8, random_state=2).fit(X),
    ):
        first = B.skops_dump(make())
        held = [make() for _ in range(3)]  # other live objects: other addresses for the next
        later = __import__("time").localtime(2_000_000_000)
        monkeypatch.setattr(zipfile.time, "localtime", lambda *a, t=later: t)
        second = B.skops_dump(make())
        monkeypatch.undo()
        assert first == second and held
        with zipfile.ZipFile(__import__("io").BytesIO(first)) as z:
            names = sorted(z.namelist())
            assert {i.date_time for i in z.infolist()} == {B.ENTRY_TIME}
        arrays = [n for n in names if n != "schema.json"]
        assert len(arrays) == len(names) - 1 and all(n.endswith(".npy") for n in arrays)
        assert {int(n.split(".")[0]) for n in arrays} <= set(range(1, 100_000))
        model = B.skops_load(second, "test")
        pred = model.predict(X) if hasattr(model, "predict") else None
        assert pred is not None and np.array_equal(pred, make().predict(X))
