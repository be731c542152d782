"""Per-job start-up: wall time of a fresh process doing a workflow script's imports and
``runtime.configure`` (no work), median of 5, for one or more library source directories.

    .venv/bin/python benchmarks/bench_startup.py src /tmp/old/src     # columns in that order

A job that then uses scikit-learn, matplotlib, ... pays for that import when it uses it.

``--scripts`` measures every adapter of ``workflow/scripts/`` instead: a fresh process doing
what a Snakemake ``script:`` job does before its work (``from snakemake import script``, the
adapter's own imports, ``runtime.configure``), as CPU seconds (user + sys of the child: less
sensitive to the machine's load than wall time), median of ``--repeats``:

    .venv/bin/python benchmarks/bench_startup.py --scripts [--repeats 3]

``--against RESULTS`` (with ``--scripts``) sets each script's start-up against the work of a
finished run: per rule, its jobs (the benchmark files under ``RESULTS/benchmarks/``) times the
start-up, against the jobs' summed wall time, and the share over all jobs (issue 22: <= 10 %):

    .venv/bin/python benchmarks/bench_startup.py --scripts --against results
"""

from __future__ import annotations

import ast
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAD = "from astroanom.runtime import configure\n"
SCRIPTS = {
    "detect": HEAD + "from astroanom.pipeline.detect import detect_step",
    "source_manifest": HEAD + "from astroanom.pipeline.features import manifest_step",
    "active_simulated": HEAD
    + "from astroanom.evaluate.timing import timed_step\n"
    + "from astroanom.pipeline.active import incremental_step, retrain_step\n"
    + "from astroanom.pipeline.evaluate import classes_step, first_n_step",
    "features_gather": HEAD + "from astroanom.pipeline.features import gather_step, scale_step",
    "benchmark_cell": HEAD + "from astroanom.pipeline.benchmark import cell_step",
}


SCRIPTS_DIR = Path(__file__).resolve().parents[1] / "workflow" / "scripts"


def script_imports(path: Path) -> str:
    """The top-level import statements of a workflow script (the lines a job runs first)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    out = []
    for node in ast.parse(text).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append("\n".join(lines[node.lineno - 1 : node.end_lineno]))
    return "\n".join(out)


def child_cpu(code: str, src: str) -> float:
    """CPU seconds (user + sys) of a fresh interpreter running ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, PYTHONPATH=os.path.abspath(src), OMP_NUM_THREADS="1"),
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def step_scripts() -> dict[str, str]:
    """Benchmark step name (as the rule files write it, wildcards in braces) -> its rule's
    ``script:`` adapter stem, read from ``workflow/rules/*.smk``."""
    out: dict[str, str] = {}
    for smk in sorted((SCRIPTS_DIR.parent / "rules").glob("*.smk")):
        step = script = None
        for line in smk.read_text(encoding="utf-8").splitlines():
            if re.match(r"(?:rule|checkpoint) \w+", line):
                step = script = None
            found = re.search(r'benchmarks\(\s*f?"([^"]+)"', line)
            step = found.group(1) if found else step
            found = re.search(r'"\.\./scripts/(\w+)\.py"', line)
            script = found.group(1) if found else script
            if step and script:
                out[step] = script
    return out


def against_table(cpu: dict[str, float], results: Path) -> None:
    """Per benchmark step of a finished run (its files under ``results/benchmarks/``): jobs x
    the adapter's start-up against the jobs' summed wall time, and over all steps."""
    steps = {
        re.compile(".+".join(map(re.escape, re.split(r"\{[^}]*\}", step)))): (step, script)
        for step, script in step_scripts().items()
        if script in cpu
    }
    jobs: dict[str, list[float]] = {}
    for f in (results / "benchmarks").rglob("*.tsv"):
        if f.parent.name == "steps":  # a step within a job (RunDir.step_benchmark), not a job
            continue
        match = next((v for k, v in steps.items() if k.fullmatch(f.stem)), None)
        if match is not None:
            wall = float(f.read_text().splitlines()[-1].split("\t")[0])
            jobs.setdefault(match[0], []).append(wall)
    script_of = dict(steps.values())
    rows = [(cpu[script_of[step]] * len(w), step, len(w), sum(w)) for step, w in jobs.items()]
    print(f"\n{'step':24s} {'jobs':>5s} {'job wall s':>11s} {'start-up s':>11s} {'share':>7s}")
    for up, step, n, wall in sorted(rows, reverse=True):
        print(f"{step:24s} {n:5d} {wall:11.1f} {up:11.1f} {100 * up / wall:6.1f}%")
    all_up, all_work = sum(r[0] for r in rows), sum(r[3] for r in rows)
    print(f"{'all':24s} {'':5s} {all_work:11.1f} {all_up:11.1f} {100 * all_up / all_work:6.1f}%")


def scripts_table(src: str, repeats: int, against: Path | None = None) -> None:
    """Start-up CPU seconds of every workflow script, slowest first (and, with ``against``,
    set against a finished run's job times)."""
    rows = []
    base = statistics.median(child_cpu("from snakemake import script", src) for _ in range(repeats))
    for path in sorted(SCRIPTS_DIR.glob("*.py")):
        code = (
            "from snakemake import script\n"
            + script_imports(path)
            + "\nfrom astroanom.runtime import configure\nconfigure(None, 1)"
        )
        rows.append((statistics.median(child_cpu(code, src) for _ in range(repeats)), path.stem))
    print(f"snakemake's script preamble alone: {base:.2f} CPU-s (load {os.getloadavg()[0]:.1f})")
    print(f"{'script':24s} {'start-up CPU-s':>15s}")
    for cpu, name in sorted(rows, reverse=True):
        print(f"{name:24s} {cpu:15.2f}")
    if against is not None:
        against_table({name: cpu for cpu, name in rows}, against)


def main() -> None:
    if "--scripts" in sys.argv:
        args = sys.argv[1:]
        repeats = int(args[args.index("--repeats") + 1]) if "--repeats" in args else 3
        against = Path(args[args.index("--against") + 1]) if "--against" in args else None
        scripts_table("src", repeats, against)
        return
    sources = sys.argv[1:] or ["src"]
    print(f"{'script':22s} " + "  ".join(f"{s[-24:]:>24s}" for s in sources) + "   (s)")
    for name, code in SCRIPTS.items():
        row = []
        for src in sources:
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-c", code + "\nconfigure(None, 1)"],
                    env=dict(os.environ, PYTHONPATH=os.path.abspath(src)),
                    check=True,
                )
                times.append(time.perf_counter() - t0)
            row.append(f"{statistics.median(times):24.2f}")
        print(f"{name:22s} " + "  ".join(row) + f"   (load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
