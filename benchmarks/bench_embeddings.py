"""Read + join time of ``features.kind: embeddings`` at survey scale: N x D float32 (1M x 128 by
default) in a seeded table, joined to a manifest of N object ids (1 % of them without a row).

    .venv/bin/python benchmarks/bench_embeddings.py [--n 1000000] [--dim 128]
        [--formats parquet fits csv] [--shard 200000] [--dir /tmp/emb]

The table is written once per format (Parquet in row groups of 65536 rows) with its rows in two
orders: the manifest's (``ordered``, e.g. embeddings computed over the same sorted folder) and a
seeded shuffle (``shuffled``). Each case runs in a fresh child process (a clean peak RSS):

- ``one job``: the extractor built and :meth:`extract` over every object (``shard_size`` >= N);
- ``one shard``: the same for one shard of ``--shard`` objects (the middle one), as each job of
  a sharded run does;
- ``gather``: :meth:`join_reports` over the whole manifest (the id column only).

Printed: wall seconds, objects per second, MB/s of feature values delivered (float64), peak RSS.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_in_child  # noqa: E402

ROW_GROUP = 65536


def object_ids(n: int) -> np.ndarray:
    return np.array([f"obj{i:07d}" for i in range(n)], dtype=object)


def write_table(path: Path, n: int, dim: int, shuffled: bool, fmt: str) -> None:
    """Seeded N x dim float32 ``feat_000..`` and ``id``; every 100th object has no row."""
    rng = np.random.default_rng(3)
    ids = object_ids(n)
    keep = np.arange(n) % 100 != 7
    ids = ids[keep]
    X = rng.standard_normal((ids.size, dim), dtype=np.float32)
    if shuffled:
        order = rng.permutation(ids.size)
        ids, X = ids[order], X[order]
    names = [f"feat_{j:03d}" for j in range(dim)]
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = {"id": pa.array(ids.tolist(), pa.string())}
        cols |= {c: pa.array(X[:, j]) for j, c in enumerate(names)}
        pq.write_table(pa.table(cols), path, row_group_size=ROW_GROUP)
    elif fmt == "fits":
        from astropy.table import Table

        t = Table([ids.astype("U10"), *X.T], names=["id", *names])
        t.write(path, overwrite=True)
    else:
        frame = pd.DataFrame(X, columns=names)
        frame.insert(0, "id", ids)
        frame.to_csv(path, index=False, float_format="%.6g")


def job(path: str, n: int, start: int, stop: int) -> dict[str, float]:
    """One feature job: the extractor over manifest rows [start, stop)."""
    import logging

    from astroanom.features.embeddings import EmbeddingsExtractor

    logging.getLogger("astroanom").setLevel(logging.ERROR)  # the 1 % without a row

    ext = EmbeddingsExtractor(
        path=path, id_column="id", columns=None, prefix="feat_", format=None, sep=None, hdu=1
    )
    objects = pd.DataFrame({"id": object_ids(n)[start:stop]})
    X, reasons = ext.extract(objects)
    return {"n": len(objects), "failed": sum(r is not None for r in reasons), "bytes": X.nbytes}


def gather(path: str, n: int) -> dict[str, float]:
    """The gather step's count of table rows matching no object (whole manifest)."""
    from astroanom.features.embeddings import EmbeddingsExtractor

    ext = EmbeddingsExtractor(
        path=path, id_column="id", columns=None, prefix="feat_", format=None, sep=None, hdu=1
    )
    (report,) = ext.join_reports(object_ids(n))
    return {"n": n, "failed": n - report["n_matched"], "bytes": 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--formats", nargs="+", default=["parquet"], choices=["parquet", "fits", "csv"])
    ap.add_argument("--shard", type=int, default=200_000)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="bench_embeddings_"))
    root.mkdir(parents=True, exist_ok=True)
    n, mid = args.n, (args.n // args.shard // 2) * args.shard
    print(f"{n} objects x {args.dim} float32 features; tables in {root}")
    print(f"{'case':38s} {'wall s':>8s} {'obj/s':>10s} {'MB/s':>8s} {'peak RSS MiB':>13s}")
    for fmt in args.formats:
        suffix = {"parquet": "parquet", "fits": "fits", "csv": "csv"}[fmt]
        for order in ("ordered", "shuffled"):
            path = root / f"emb_{order}_{n}x{args.dim}.{suffix}"
            if not path.is_file():
                write_table(path, n, args.dim, order == "shuffled", fmt)
            cases = [
                ("one job", job, {"start": 0, "stop": n}),
                (f"one shard of {args.shard}", job, {"start": mid, "stop": mid + args.shard}),
                ("gather (join report)", gather, {}),
            ]
            for label, fn, extra in cases:
                res = run_in_child(fn, path=str(path), n=n, **extra)
                out, wall = res["out"], res["wall_s"]
                print(
                    f"{fmt + ' ' + order + ': ' + label:38s} {wall:8.2f} {out['n'] / wall:10.0f} "
                    f"{out['bytes'] / 1e6 / wall:8.0f} {res['peak_rss_mib']:13.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
