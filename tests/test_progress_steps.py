"""Bounded progress lines of the long steps beyond the image features: light-curve features,
spectra, synthetic images, t-SNE iterations and UMAP's epochs (through ProgressStream)."""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging

import numpy as np
import pandas as pd
import pytest

from astroanom import progress
from astroanom.features import light_curve
from astroanom.progress import Progress, ProgressStream, chunks


def _fake_progress(monkeypatch, module) -> None:
    """``module.Progress`` with a clock that moves 0.01 s per reading and no quiet start: every
    tenth of the work then writes its line (and no quiet spell of 10 s comes)."""
    clock = itertools.count(0.0, 0.01).__next__
    monkeypatch.setattr(module, "Progress", functools.partial(Progress, min_s=0.0, clock=clock))


def _lines(caplog, start: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(start)]


def test_chunks_cover_the_range_in_order():
    assert chunks(10, 4) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert chunks(5000, minimum=2000) == [(0, 2000), (2000, 4000), (4000, 5000)]
    assert chunks(0) == [] and chunks(3, 20) == [(0, 1), (1, 2), (2, 3)]


def test_stream_turns_matching_lines_into_advances_and_keeps_the_rest_at_debug(caplog):
    caplog.set_level(logging.DEBUG, logger="astroanom.progress")
    clock = itertools.count(0.0, 1.0).__next__
    bar = Progress("t-SNE", 1000, "iterations", min_s=0.0, clock=clock)
    stream = ProgressStream(bar, r"\[t-SNE\] Iteration (\d+)")
    with contextlib.redirect_stdout(stream):
        print("[t-SNE] Computing 91 nearest neighbors...")
        for i in range(50, 1001, 50):
            print(
                f"[t-SNE] Iteration {i}: error = 1.0, gradient norm = 0.1 (50 iterations in 0.1s)"
            )
    stream.close()
    bar.done()
    assert bar.count == 1000
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    # tenths 100..900 (9 lines) and the final one; the neighbour line only at debug
    assert len(info) == 10 and info[0].startswith("t-SNE: 100/1000 iterations (10%)")
    assert info[-1].startswith("t-SNE: 1000/1000 iterations done in")
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug == ["t-SNE: [t-SNE] Computing 91 nearest neighbors..."]


def test_a_tqdm_bar_as_umap_draws_it_sets_the_total_and_the_count(caplog):
    tqdm = pytest.importorskip("tqdm").tqdm
    caplog.set_level(logging.INFO, logger="astroanom.progress")
    clock = itertools.count(0.0, 1.0).__next__
    bar = Progress("UMAP map", None, "epochs", min_s=0.0, clock=clock)
    stream = ProgressStream(bar, r"epochs (\d+)/(\d+)")
    for _ in tqdm(range(200), file=stream, bar_format="epochs {n}/{total}", mininterval=0):
        pass
    stream.close()
    bar.done()
    assert (bar.total, bar.count) == (200, 200)
    lines = _lines(caplog, "UMAP map")
    assert 2 <= len(lines) <= progress.MAX_LINES
    assert lines[-1].startswith("UMAP map: 200/200 epochs done in")


def _curves(tmp_path, n: int) -> pd.DataFrame:
    """``n`` light curves of 10 points (value = object number + noise) in one long table."""
    rng = np.random.default_rng(0)
    ids = np.repeat([f"o{i:05d}" for i in range(n)], 10)
    table = pd.DataFrame(
        {
            "id": ids,
            "band": "g",
            "time": np.tile(np.arange(10.0), n),
            "value": np.repeat(np.arange(n, dtype=float), 10) + rng.normal(0, 0.1, 10 * n),
            "err": 0.1,
        }
    )
    path = tmp_path / "lc.parquet"
    table.to_parquet(path, index=False)
    return pd.DataFrame({"id": [f"o{i:05d}" for i in range(n)], "lc_path": str(path)})


def test_light_curve_features_in_chunks_write_a_line_per_chunk_and_equal_one_call(
    tmp_path, monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="astroanom.features.light_curve")
    objects = _curves(tmp_path, 5000)
    _fake_progress(monkeypatch, light_curve)
    X, reasons = light_curve.LightCurveExtractor(bands=["g"], features=["Mean"]).extract(objects)
    lines = _lines(caplog, "light-curve features")
    # chunks of 2000: the 40 % and 80 % lines, then the final one
    assert lines[0].startswith("light-curve features: 2000/5000 curves (40%), 0.0 s, about")
    assert lines[1].startswith("light-curve features: 4000/5000 curves (80%)")
    assert len(lines) == 3 and lines[2].startswith("light-curve features: 5000/5000 curves done")
    assert all(r is None for r in reasons)
    np.testing.assert_allclose(X[:, 0], np.arange(5000.0), atol=0.2)  # mean of 10, sd 0.03
    monkeypatch.setattr(light_curve, "CURVES_PER_CALL", 10**6)  # one call: the same numbers
    Y, _ = light_curve.LightCurveExtractor(bands=["g"], features=["Mean"]).extract(objects)
    np.testing.assert_array_equal(X, Y)


def test_resampled_curves_advance_one_by_one_in_at_most_ten_lines(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="astroanom.features.light_curve")
    objects = _curves(tmp_path, 300)
    _fake_progress(monkeypatch, light_curve)
    light_curve.LightCurveExtractor(bands=["g"], resample=5).extract(objects)
    lines = _lines(caplog, "light-curve features")
    assert len(lines) == 10  # 10 %, ..., 90 % and the final line (not 300)
    assert lines[0].startswith("light-curve features: 30/300 curves (10%)")


def test_spectra_advance_per_spectrum(tmp_path, monkeypatch, caplog):
    from astroanom.features import spectrum

    caplog.set_level(logging.INFO, logger="astroanom.features.spectrum")
    n = 200
    wl = np.linspace(4000.0, 5000.0, 50)
    long = pd.DataFrame(
        {
            "id": np.repeat([f"s{i:03d}" for i in range(n)], wl.size),
            "wavelength": np.tile(wl, n),
            "flux": np.tile(1.0 + wl / 1e4, n),
        }
    )
    path = tmp_path / "spectra.parquet"
    long.to_parquet(path, index=False)
    objects = pd.DataFrame({"id": [f"s{i:03d}" for i in range(n)], "spectrum_path": str(path)})
    _fake_progress(monkeypatch, spectrum)
    ext = spectrum.SpectrumExtractor(grid_min=4100.0, grid_max=4900.0, grid_n=9)
    X, reasons = ext.extract(objects)
    assert all(r is None for r in reasons) and X.shape == (n, 9)
    lines = _lines(caplog, "spectrum features")
    assert len(lines) == 10 and lines[-1].startswith("spectrum features: 200/200 spectra done")


def test_tsne_prints_its_iterations_as_progress_and_maps_as_before(monkeypatch, caplog):
    from sklearn.manifold import TSNE

    from astroanom.evaluate import embedding

    caplog.set_level(logging.INFO, logger="astroanom.embedding")
    X = np.random.default_rng(2).normal(size=(60, 4))
    _fake_progress(monkeypatch, embedding)
    xy = embedding.tsne_map(X, seed=3, perplexity=10.0)
    lines = _lines(caplog, "t-SNE map of 60 objects")
    assert 2 <= len(lines) <= progress.MAX_LINES
    assert lines[0].startswith("t-SNE map of 60 objects: 100/1000 iterations (10%)")
    assert lines[-1].endswith(" s") and "iterations done in" in lines[-1]
    quiet = TSNE(n_components=2, perplexity=10.0, init="pca", random_state=3, n_jobs=1)
    np.testing.assert_array_equal(xy, quiet.fit_transform(X))  # printing changes nothing
