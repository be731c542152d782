"""Compare two ``results/`` trees file by file (sha256), e.g. the default run before and after a
change that must not alter behaviour:

    .venv/bin/python benchmarks/compare_runs.py /path/to/old/results results

Reads every CSV, Parquet, JSON and Markdown file outside ``logs/`` and ``benchmarks/``; prints
how many are identical, which differ, which exist on one side only, and the verdict for the
tables that must be byte-identical (``metrics.csv``, ``rounds.csv``, ``anomalies_first_n.csv``).
Exit status 1 when one of those differs or is missing on one side.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

SUFFIXES = (".csv", ".parquet", ".json", ".md")
SKIP = {"logs", "benchmarks"}
KEY_TABLES = ("metrics.csv", "rounds.csv", "anomalies_first_n.csv")


def digests(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every compared file under ``root``."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and p.suffix in SUFFIXES and not SKIP & set(rel.parts):
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    args = ap.parse_args()
    a, b = digests(args.before), digests(args.after)
    both = sorted(a.keys() & b.keys())
    differ = [k for k in both if a[k] != b[k]]
    print(f"in both: {len(both)}, identical: {len(both) - len(differ)}, differ: {len(differ)}")
    for k in differ:
        print(f"  differs: {k}")
    for side, only in (("before", a.keys() - b.keys()), ("after", b.keys() - a.keys())):
        for k in sorted(only):
            print(f"  only {side}: {k}")
    key = [k for k in a.keys() | b.keys() if k.endswith(KEY_TABLES)]
    bad = sorted(k for k in key if a.get(k) is None or a.get(k) != b.get(k))
    print(f"key tables: {len(key)}, byte-identical: {len(key) - len(bad)}")
    for k in bad:
        print(f"  NOT identical: {k}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
