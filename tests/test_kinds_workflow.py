"""A minimal dataset of each object kind (``source:`` only, .test/config/minimal_kinds.yaml)
runs green through a tiny real Snakemake run with its kind's default features; the light
curves' bands come from the data's band column and the run says so."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
N = 40  # objects per dataset


def write_data(data: Path) -> None:
    """An image folder, a feature table, a long light-curve table with a band column and a
    spectra table (one column per wavelength), N objects each, seeded."""
    rng = np.random.default_rng(11)
    generate(data / "cutouts", SyntheticGalaxyConfig(n_objects=N, size=64), seed=5)
    pd.DataFrame(
        {"id": [f"row{i:02d}" for i in range(N)], "a": rng.normal(size=N), "b": rng.normal(size=N)}
    ).to_csv(data / "catalogue.csv", index=False)
    rows = []
    for i in range(N):
        for band, base in (("g", 16.0), ("r", 15.5)):
            t = np.sort(rng.uniform(0, 100, 15))
            mag = base + 0.3 * np.sin(t / (3 + i % 5)) + 0.02 * rng.normal(size=t.size)
            rows += [(f"star{i:02d}", band, tt, m, 0.02) for tt, m in zip(t, mag, strict=True)]
    pd.DataFrame(rows, columns=["id", "band", "time", "mag", "err"]).to_csv(
        data / "light_curves.csv", index=False
    )
    wl = np.arange(4000.0, 4100.0, 2.0)
    flux = 1.0 + 0.1 * rng.normal(size=(N, wl.size))
    flux[:, 20] += rng.uniform(0, 2, N)  # a line of varying strength
    spectra = pd.DataFrame(flux, columns=[f"{w:.1f}" for w in wl])
    spectra.insert(0, "id", [f"sp{i:02d}" for i in range(N)])
    spectra.to_csv(data / "spectra.csv", index=False)


@pytest.fixture(scope="module")
def minimal_run(tmp_path_factory) -> Path:
    wd = tmp_path_factory.mktemp("kinds")
    write_data(wd / "data")
    shutil.copy(REPO / ".test" / "config" / "minimal_kinds.yaml", wd / "mine.yaml")
    cmd = [SNAKEMAKE, "-s", str(REPO / "workflow" / "Snakefile"), "--directory", str(wd)]
    cmd += ["--configfile", str(wd / "mine.yaml"), "--cores", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return wd


@pytest.mark.workflow
@pytest.mark.parametrize(
    "name, kind, features, n_features",
    [
        ("cutouts", "image", "ellipse", 21),
        ("catalogue", "table", "columns", 2),
        ("light_curves", "light_curve", "light_curve", 50),  # 25 per band, g and r
        ("spectra", "spectrum", "spectrum", 50),  # 4000..4098 every 2 (the pixel step)
    ],
)
def test_each_kind_runs_green_with_its_default_features(
    minimal_run, name, kind, features, n_features
):
    d = minimal_run / "results" / name
    info = json.loads((d / "dataset.json").read_text())
    assert (info["kind"], info["extra"]["features"]) == (kind, features)
    assert len(info["extra"]["feature_names"]) == n_features
    summary = json.loads((d / "summary.json").read_text())
    assert summary["n_objects"] == N
    # 64-px synthetic cutouts: a few have no central source for the ellipse fit (data, not kind)
    assert summary["n_failed"] <= (4 if kind == "image" else 0)
    n_ok = summary["n_features_ok"]
    assert len(pd.read_csv(d / "ranked.csv")) == n_ok
    assert (d / "figures" / "top.png").is_file()
    html = (d / "export" / "anomalies.html").read_text()
    assert len(re.findall("data:image/(?:png|jpeg);base64,", html)) == n_ok  # top_n 50 >= N


@pytest.mark.workflow
def test_the_run_says_which_bands_it_used(minimal_run):
    d = minimal_run / "results" / "light_curves"
    info = json.loads((d / "dataset.json").read_text())
    assert info["extra"]["feature_choices"] == {"bands": ["g", "r"], "bands_left_out": []}
    assert info["extra"]["feature_names"][:2] == ["g_amplitude", "g_beyond_1_std"]
    logs = list((minimal_run / "results" / "logs" / "light_curves").glob("features_*.log"))
    assert any("using band(s) g, r found in the data" in p.read_text() for p in logs)
    spectra = json.loads((minimal_run / "results" / "spectra" / "dataset.json").read_text())
    assert spectra["extra"]["feature_choices"] == {
        "grid_min": 4000.0,
        "grid_max": 4098.0,
        "grid_step": 2.0,
        "grid_n": None,
    }
