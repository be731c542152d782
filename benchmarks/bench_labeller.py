"""Labeller latency: moving to the next object (JSON + PNG) and retraining, over real HTTP.

    .venv/bin/python benchmarks/bench_labeller.py                    # 50k simulated curves
    .venv/bin/python benchmarks/bench_labeller.py --dataset results/simulation/paper/seed1
    .venv/bin/python benchmarks/bench_labeller.py --n 1000000 --labels 200 --threads 2 --skip-images

Without --dataset it simulates the default run's 50 000 curves (paper preset) into a temporary
directory and scores them with an isolation forest (the scores' values do not matter for these
timings; LOF on 50k would take minutes). ``--n N`` instead writes a seeded synthetic table of N
objects x 21 float32 features with seeded uniform scores S (issue 13: the labeller at 1M;
issue 22: at 10M, ``--n 10000000 --labels 200 --threads 2 --skip-images``).
Orders are timed as full JSON, as one JSON page (``limit=100``) and as int32 rows
(``format=rows``, what the page uses). After each retrain it does what the page does: the order
with ``partial=1`` (the top certain), the first object, two more while the rest of the order is
ranked in the background, then the complete order (timed from the retrain's start). Targets (issue 4): next object < 100 ms, retrain on
50k objects < 1 s; issue 22 at 10M: first object after a retrain < 1 s, complete order < 10 s,
server memory < 3 GiB. The server runs in its own process (this script with ``--serve``), so
its memory is measured apart from the client's (which holds every id as a Python string): its
RSS after start-up, its peak (VmHWM, start-up included) and the peaks of its private memory
(RssAnon) and mapped files (RssFile) sampled while serving; its log's retrain lines are printed.
Start-up is timed from launching that process (Python's start and imports included). A second
start on the same folder is timed at the end (the labeller's column cache). Prints a table and
the machine's load; --out writes JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]


def make_dataset(directory: Path, seed: int = 1) -> Path:
    """The default config's simulation (``sim_class3_reassigned``) as a dataset directory: curves as
    features, isolation-forest scores, dataset.json (the workflow's own steps and contract)."""
    from astroanom.pipeline.detect import detect_step
    from astroanom.sources.simulation import SimulationSource
    from astroanom.store import dataset as ds
    from astroanom.store.io import write_parquet

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    src = cfg["datasets"]["sim_class3_reassigned"]["source"]
    classes = cfg["simulation_presets"][src["preset"]]["classes"]
    source = SimulationSource(classes, src["counts"], preset=src["preset"])
    objects, _ = source.manifest(directory, seed)
    source.write_values(directory / ds.FEATURES, seed)
    write_parquet(objects[["id"]], directory / ds.OBJECTS)
    info = source.describe()
    ds.DatasetInfo(name="sim_class3_reassigned/seed1", seed=seed, **info).write(directory)
    detect_step(
        directory / ds.FEATURES,
        directory / ds.SCORES,
        {"name": "iforest", "n_estimators": 100},
        seed,
        threads=1,
    )
    return directory


def make_synthetic(directory: Path, n: int, m: int = 21, seed: int = 1) -> Path:
    """A dataset directory of ``n`` objects x ``m`` seeded normal float32 features (with 1 % of
    the rows shifted, as anomalies) and seeded uniform S; kind "curve"."""
    import pandas as pd

    from astroanom.store import dataset as ds
    from astroanom.store.io import feature_frame, write_parquet

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m)).astype(np.float32)
    X[rng.choice(n, n // 100, replace=False)] += np.float32(3.0)
    ids = np.char.add("o", np.arange(n).astype(str))
    write_parquet(feature_frame(ids, X), directory / ds.FEATURES)
    S = rng.uniform(0, 5, n)
    write_parquet(pd.DataFrame({"id": ids, "raw": -S, "S": S}), directory / ds.SCORES)
    ds.DatasetInfo(name=f"synthetic/{n}", kind="curve", seed=seed).write(directory)
    return directory


def make_images(directory: Path, n: int = 300, size: int = 424, seed: int = 2) -> Path:
    """``n`` synthetic 424x424 colour JPEG galaxies (elliptical blobs) as an image dataset."""
    import cv2
    import pandas as pd

    from astroanom.store import dataset as ds
    from astroanom.store.io import feature_frame, write_parquet

    rng = np.random.default_rng(seed)
    (directory / "images").mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[:size, :size] - size / 2
    ids, paths = [], []
    for k in range(n):
        a, b, t = rng.uniform(10, 60), rng.uniform(5, 30), rng.uniform(0, np.pi)
        u, v = xx * np.cos(t) + yy * np.sin(t), -xx * np.sin(t) + yy * np.cos(t)
        img = 230 * np.exp(-((u / a) ** 2) - (v / b) ** 2) + rng.normal(8, 3, (size, size))
        rgb = np.clip(np.dstack([img, 0.9 * img, 0.8 * img]), 0, 255).astype(np.uint8)
        path = directory / "images" / f"g{k:05d}.jpg"
        cv2.imwrite(str(path), rgb)
        ids.append(f"g{k:05d}")
        paths.append(str(path.resolve()))
    write_parquet(
        feature_frame(np.array(ids), rng.normal(size=(n, 21)).astype(np.float32)),
        directory / ds.FEATURES,
    )
    write_parquet(pd.DataFrame({"id": ids, "image_path": paths}), directory / ds.OBJECTS)
    S = rng.uniform(0, 5, n)
    write_parquet(pd.DataFrame({"id": ids, "raw": -S, "S": S}), directory / ds.SCORES)
    ds.DatasetInfo(name="galaxies/bench", kind="image").write(directory)
    return directory


def image_walk(directory: Path, work: Path, objects: int) -> dict[str, dict[str, float]]:
    """First view (JSON + PNG rendered from the JPEG) of ``objects`` images, over HTTP."""
    from astroanom.labeller import LabellerSettings, start

    running = start(
        directory,
        work / "labels" / "img.csv",
        "bench",
        settings=LabellerSettings(alpha=1.0, n_estimators=100, seed=0, strategy={"name": "paper"}),
        background=True,
    )
    base = running.url.rstrip("/")
    try:
        _, raw = get(base + "/api/order?by=score")
        walk = json.loads(raw)["ids"][20 : 20 + objects]
        first, cached = [], []
        for rounds in (first, cached):
            for oid in walk:
                t_obj, _ = get(f"{base}/api/object?id={oid}")
                t_png, png = get(f"{base}/api/plot?id={oid}")
                assert png.startswith(b"\x89PNG")
                rounds.append(t_obj + t_png)
    finally:
        running.stop()
    return {"image_first_view": summary(first), "image_cached": summary(cached)}


def rss_mib(pid: int | str = "self") -> dict[str, float]:
    """A process's resident memory (MiB; this one by default): now (VmRSS), at its peak
    (VmHWM), and now split into private memory (RssAnon) and mapped files (RssFile: the
    memory-mapped columns, page cache the kernel can reclaim). Empty once it has ended."""
    out: dict[str, float] = {}
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


class RssSampler:
    """The largest RssAnon and RssFile of process ``pid`` seen, sampled every ``every``
    seconds in a thread."""

    def __init__(self, pid: int | str = "self", every: float = 0.05) -> None:
        import threading

        self.pid = pid
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            for k, v in rss_mib(self.pid).items():
                self.peak[k] = max(v, self.peak.get(k, 0.0))
            self._stop.wait(every)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return self.peak


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, every thread) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak_rss() -> bool:
    """Start counting VmHWM afresh (Linux: ``5`` into ``/proc/self/clear_refs``), so the peak
    is the labeller's, not the data generation's before it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def get(url: str) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as resp:
        body = resp.read()
    return time.perf_counter() - t0, body


def _origin(url: str) -> str:
    """``scheme://host:port`` of ``url``: what a browser sends as Origin on a fetch POST."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def post(url: str, token: str, body: dict) -> tuple[float, dict]:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-CSRF-Token": token, "Origin": _origin(url)},
    )
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as resp:
        out = json.loads(resp.read())
    return time.perf_counter() - t0, out


def summary(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1),
        "max_ms": round(ms[-1], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--dataset", type=Path, help="a dataset directory (default: simulate 50k curves)"
    )
    ap.add_argument("--n", type=int, help="a synthetic table of N objects x 21 features instead")
    ap.add_argument("--skip-images", action="store_true", help="no image walk")
    ap.add_argument("--objects", type=int, default=40, help="objects to step through")
    ap.add_argument("--labels", type=int, default=100, help="labels before retraining")
    ap.add_argument("--repeats", type=int, default=3, help="retrains to time")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--images", type=Path, help="an image dataset directory (default: 300 synthetic JPEGs)"
    )
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the server process
    ap.add_argument("--labels-file", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args)
        return

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    work = Path(tempfile.mkdtemp(prefix="bench_labeller_"))
    try:
        _measure(args, work)
    finally:  # the generated data: 117 MB at 1M objects
        shutil.rmtree(work, ignore_errors=True)


def serve(args: argparse.Namespace) -> None:
    """The server process (``--serve DIR``): start the labeller, print its URL, serve until
    standard input closes, stop. Its log (INFO: the server-side retrain times) goes to stderr."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from astroanom.labeller import LabellerSettings, start

    running = start(
        args.serve,
        args.labels_file,
        "bench",
        settings=LabellerSettings(
            alpha=1.0, n_estimators=100, seed=0, strategy={"name": "paper"}, threads=args.threads
        ),
        background=True,
    )
    print(running.url, flush=True)
    sys.stdin.read()
    running.stop()


class ServerProcess:
    """The labeller in its own process (this script with ``--serve``), so its memory is
    measured apart from the client's (which holds every id as a Python string)."""

    def __init__(self, data_dir: Path, labels: Path, threads: int, log_path: Path) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", str(data_dir)]
        cmd += ["--labels-file", str(labels), "--threads", str(threads)]
        self.log_path = log_path
        with open(log_path, "ab") as log_file:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http"):
            self.proc.kill()
            raise RuntimeError(f"the labeller did not start; its log: {log_path}")
        self.url = line
        self.pid = self.proc.pid

    def stop(self) -> None:
        """Close its standard input (it stops serving and exits) and wait for it."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=300)


def _measure(args: argparse.Namespace, work: Path) -> None:
    t0 = time.perf_counter()
    if args.dataset:
        data_dir = args.dataset
    elif args.n:
        data_dir = make_synthetic(work / "dataset", args.n)
    else:
        data_dir = make_dataset(work / "dataset")
    prep = time.perf_counter() - t0
    import gc

    gc.collect()
    labels_file = work / "labels" / "bench.csv"
    server_log = work / "server.log"
    t_start = time.perf_counter()
    running = ServerProcess(data_dir, labels_file, args.threads, server_log)
    start_s = time.perf_counter() - t_start
    peak_reset = reset_peak_rss()  # the client's peak from here on
    rss_before = rss_mib(running.pid)
    sampler = RssSampler(running.pid)
    client_sampler = RssSampler()
    base = running.url.rstrip("/")
    try:
        _, page = get(base + "/")
        t_ids_text, ids_text_mb = float("nan"), float("nan")
        try:
            t_ids_text, raw_text = get(base + "/api/ids?format=text")
            if raw_text.startswith(b'{"ids"'):  # an older labeller ignores format=text
                raise urllib.error.HTTPError(base, 400, "no text ids", None, None)  # type: ignore[arg-type]
            all_ids = raw_text.decode().split("\n")
            ids_text_mb = len(raw_text) / 1e6
            del raw_text
            t_ids, compact = t_ids_text, True
        except urllib.error.HTTPError:
            t_ids_text = float("nan")
            try:
                t_ids, raw_ids = get(base + "/api/ids")
                all_ids = json.loads(raw_ids)["ids"]
                compact = True
            except urllib.error.HTTPError:  # an older labeller: whole orders as JSON only
                t_ids, compact = float("nan"), False
        token = page.decode().split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        _, raw = get(base + "/api/order?by=score&offset=0&limit=100000")
        ids = json.loads(raw)["ids"]
        walk = ids[20 : 20 + args.objects]  # beyond the objects rendered at start-up
        curve_next, curve_png = [], []
        for oid in walk:  # the page draws a curve from the object's JSON: this is "next"
            t_obj, body = get(f"{base}/api/object?id={oid}")
            assert json.loads(body)["id"] == oid
            curve_next.append(t_obj)
        for oid in walk:  # the curve as a PNG (map preview), rendered on demand with matplotlib
            t_png, png = get(f"{base}/api/plot?id={oid}")
            assert png.startswith(b"\x89PNG")
            curve_png.append(t_png)

        rng = np.random.default_rng(0)
        label_times = []
        for oid in ids[: args.labels]:
            dt, _ = post(base + "/api/label", token, {"id": oid, "label": int(rng.integers(0, 6))})
            label_times.append(dt)
        # labels come faster here than a person gives them: the server's distances to the
        # labelled objects (one pass over every row per label change) and its forest fitted in
        # the background catch up first, as they would between a person's labels; the wait is
        # reported on its own
        t_catch = time.perf_counter()
        while not json.loads(get(base + "/api/info")[1]).get("retrain_ready", True):
            time.sleep(0.05)
        catch_up = time.perf_counter() - t_catch
        phases = {"labels": dict(sampler.peak)}  # the server's sampled peaks after each phase
        retrain_wall, retrain_server = [], []
        order_rows, order_page, order_json, order_rows_page = [], [], [], []
        partial, first_object, during, complete, exact_top = [], [], [], [], []
        cpu_answer, cpu_complete = [], []  # the server's CPU-s (all threads) from the retrain POST
        for _ in range(args.repeats):
            t_retrain, cpu_retrain = time.perf_counter(), cpu_s(running.pid)
            dt, out = post(base + "/api/retrain", token, {})
            cpu_answer.append(cpu_s(running.pid) - cpu_retrain)
            retrain_wall.append(dt)
            retrain_server.append(out["seconds"])
            if not compact:
                dt, body = get(base + "/api/order?by=retrained")
                order_json.append(dt)
                continue
            if "exact" in out:  # what the page does: the certain top now, the rest when ready
                dt, body = get(base + "/api/order?by=retrained&format=rows&partial=1")
                partial.append(dt)
                exact_top.append(out["exact"])
                top = np.frombuffer(body, dtype="<i4")[:3]
                dt, _ = get(f"{base}/api/object?id={urllib.parse.quote(all_ids[top[0]])}")
                first_object.append(time.perf_counter() - t_retrain)
                for r in top[1:]:  # moving on while the rest is ranked
                    dt, _ = get(f"{base}/api/object?id={urllib.parse.quote(all_ids[r])}")
                    during.append(dt)
                get(base + "/api/order?by=retrained&format=rows")  # waits for the rest
                complete.append(time.perf_counter() - t_retrain)
                cpu_complete.append(cpu_s(running.pid) - cpu_retrain)
            dt, body = get(base + "/api/order?by=retrained&format=rows")
            order_rows.append(dt)
            rows = np.frombuffer(body, dtype="<i4")
            assert rows.size == len(all_ids)
            dt, _ = get(base + "/api/order?by=retrained&unlabelled_first=1&format=rows")
            order_rows.append(dt)
            dt, body = get(base + "/api/order?by=retrained&offset=0&limit=100")
            assert json.loads(body)["ids"] == [all_ids[r] for r in rows[:100]]
            order_page.append(dt)
            dt, body = get(base + "/api/order?by=retrained&format=rows&offset=0&limit=1000")
            # (an older labeller ignores offset/limit and sends the whole order)
            assert np.array_equal(np.frombuffer(body, dtype="<i4")[:1000], rows[:1000])
            order_rows_page.append(dt)
        phases["retrains"] = dict(sampler.peak)
        for _ in range(2):
            dt, body = get(base + "/api/order?by=retrained")
            order_json.append(dt)
        order_json_mb = len(body) / 1e6
        del body
        order_rows_mb = 4 * len(all_ids) / 1e6 if compact else float("nan")
        t_order = order_json[-1]
        phases["json_orders"] = dict(sampler.peak)
        t_map, _ = get(base + "/api/map")  # the first request builds the map
        t_map2, _ = get(base + "/api/map")
        phases["map"] = dict(sampler.peak)
        _, raw_info = get(base + "/api/info")
        info = json.loads(raw_info)
        rss_server = rss_mib(running.pid)
    finally:
        rss_peaks = sampler.stop()
        running.stop()
    rss_client = rss_mib()
    client_peaks = client_sampler.stop()
    server_lines = [
        line.split(" astroanom.labeller ", 1)[-1]
        for line in server_log.read_text(errors="replace").splitlines()
        if "retrained on" in line or "full S^ order" in line
    ]
    t_restart = time.perf_counter()  # a second start on the same folder (the columns' cache)
    again = ServerProcess(data_dir, labels_file, args.threads, server_log)
    restart_s = time.perf_counter() - t_restart
    again.stop()

    load = os.getloadavg()  # measured before the image walk

    result = {
        "dataset": str(data_dir),
        "objects": info["total"],
        "features": info["n_features"],
        "kind": info["kind"],
        "cpus": os.cpu_count(),
        "load_average_1m": round(load[0], 2),
        "prepare_s": round(prep, 1),
        "next_curve_object": summary(curve_next),
        "curve_png_first_render": summary(curve_png),
        "label_post": summary(label_times),
        "distances_catch_up_s": round(catch_up, 2),
        "retrain_http": summary(retrain_wall),
        "retrain_server_s": [round(s, 3) for s in retrain_server],
        "retrain_answer_cpu_s": [round(s, 2) for s in cpu_answer],
        "retrain_to_complete_cpu_s": [round(s, 2) for s in cpu_complete],
        **({"retrain_exact_top": exact_top} if exact_top else {}),
        **({"order_partial_after_retrain": summary(partial)} if partial else {}),
        **({"retrain_to_first_object": summary(first_object)} if first_object else {}),
        **({"next_object_while_ranking": summary(during)} if during else {}),
        **({"retrain_to_complete_order": summary(complete)} if complete else {}),
        "order_after_retrain_ms": round(t_order * 1000, 1),
        **({"order_rows_int32": summary(order_rows)} if order_rows else {}),
        **({"order_page_100": summary(order_page)} if order_page else {}),
        "order_full_json": summary(order_json),
        "order_json_mb": round(order_json_mb, 2),
        "order_rows_mb": round(order_rows_mb, 2),
        "ids_once_ms": round(t_ids * 1000, 1),
        "ids_text_ms": round(t_ids_text * 1000, 1),
        "ids_text_mb": round(ids_text_mb, 2),
        **({"order_rows_page_1000": summary(order_rows_page)} if order_rows_page else {}),
        "map_first_ms": round(t_map * 1000, 1),
        "map_again_ms": round(t_map2 * 1000, 1),
        "server_start_s": round(start_s, 2),
        "server_restart_s": round(restart_s, 2),
        "server_rss_after_start_mib": rss_before.get("VmRSS"),
        "server_rss_peak_mib": rss_server.get("VmHWM"),
        "server_rss_end_mib": rss_server.get("VmRSS"),
        "server_anon_peak_mib": rss_peaks.get("RssAnon"),
        "server_file_peak_mib": rss_peaks.get("RssFile"),
        "client_rss_peak_mib": rss_client.get("VmHWM") if peak_reset else None,
        "client_anon_peak_mib": client_peaks.get("RssAnon"),
        "server_anon_peak_after_mib": {k: v.get("RssAnon") for k, v in phases.items()},
        "server_log": server_lines,
        "n_labels": args.labels,
    }
    print(
        f"labeller benchmark: {result['objects']} {result['kind']}s x {result['features']} features, "
        f"{result['cpus']} CPUs, load average {result['load_average_1m']}"
    )
    if not args.skip_images:
        result.update(image_walk(args.images or make_images(work / "images"), work, args.objects))
    print(
        f"  start-up {result['server_start_s']} s (again: {result['server_restart_s']} s); "
        f"/api/ids once {result['ids_once_ms']} ms ({result['ids_text_mb']} MB as text); "
        f"order as JSON {result['order_json_mb']} MB, as rows {result['order_rows_mb']} MB; "
        f"map {result['map_first_ms']} ms first, {result['map_again_ms']} ms again"
    )
    print(
        f"  server process RSS: {result['server_rss_after_start_mib']} MiB after start-up, peak "
        f"{result['server_rss_peak_mib']} MiB (VmHWM, start-up included), "
        f"{result['server_rss_end_mib']} MiB at the end; sampled peaks while serving: private "
        f"(RssAnon) {result['server_anon_peak_mib']} MiB, mapped files (RssFile) "
        f"{result['server_file_peak_mib']} MiB; the client apart: peak "
        f"{result['client_rss_peak_mib']} MiB (RssAnon {result['client_anon_peak_mib']} MiB)"
    )
    for key in (
        "order_rows_int32",
        "order_rows_page_1000",
        "order_page_100",
        "order_full_json",
        "next_curve_object",
        "curve_png_first_render",
        "image_first_view",
        "image_cached",
        "label_post",
        "retrain_http",
        "order_partial_after_retrain",
        "retrain_to_first_object",
        "next_object_while_ranking",
        "retrain_to_complete_order",
    ):
        if key not in result:
            continue
        s = result[key]
        print(
            f"  {key:24s} median {s['median_ms']:8.1f} ms   p95 {s['p95_ms']:8.1f} ms   max {s['max_ms']:8.1f} ms   (n={s['n']})"
        )
    print(
        f"  distances and forest (background) caught up {result['distances_catch_up_s']} s after "
        f"the last of {args.labels} labels (posted in a burst)"
    )
    print(f"  retrain (server side, {args.labels} labels): {result['retrain_server_s']} s")
    print(
        f"  server CPU-s from the retrain POST: to its answer {result['retrain_answer_cpu_s']}, "
        f"to the complete order {result['retrain_to_complete_cpu_s']}"
    )
    if "retrain_exact_top" in result:
        print(
            f"  objects ranked for certain when the retrain answered: {result['retrain_exact_top']}"
        )
    print(
        "  server private memory (RssAnon) peak so far, after: "
        + ", ".join(f"{k} {v} MiB" for k, v in result["server_anon_peak_after_mib"].items())
    )
    for line in result["server_log"]:
        print(f"  server: {line}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
