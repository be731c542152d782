"""The SLURM profile against a real scheduler: the tiny galaxy chain (60 images, 3 shards)
submitted through ``workflow/profiles/slurm`` to a running Slurm cluster, every job checked in
``sacct``, the ranking equal to a local run's.

Runs only where a cluster answers (``sinfo`` lists an idle/mixed node and ``sacct`` works), e.g.
after ``sudo workflow/profiles/slurm/local_cluster.sh start``; elsewhere (CI) it is skipped, with
the reason. Set ASTROANOM_SLURM_ACCOUNT / ASTROANOM_SLURM_PARTITION for another cluster
(default: the local cluster's ``astroanom`` / ``local``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
ACCOUNT = os.environ.get("ASTROANOM_SLURM_ACCOUNT", "astroanom")
PARTITION = os.environ.get("ASTROANOM_SLURM_PARTITION", "local")


def _cluster_up() -> str | None:
    """None when a cluster can take jobs, else why not."""
    for tool in ("sinfo", "sbatch", "sacct"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    try:
        states = subprocess.run(
            ["sinfo", "-h", "-p", PARTITION, "-o", "%T"], capture_output=True, text=True, timeout=10
        )
        acct = subprocess.run(["sacct", "-X", "-n", "-S", "now"], capture_output=True, timeout=10)
    except (subprocess.TimeoutExpired, OSError) as exc:
        return f"slurm does not answer: {exc}"
    if states.returncode or not any(
        s in ("idle", "mixed", "allocated") for s in states.stdout.split()
    ):
        return f"no usable node in partition {PARTITION!r}"
    if acct.returncode:
        return "sacct does not work (no accounting)"
    return None


WHY = _cluster_up()


def _run(wd: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        str(SNAKEMAKE),
        "-s",
        str(ROOT / "workflow" / "Snakefile"),
        "--directory",
        str(wd),
        "--configfile",
        str(ROOT / ".test" / "config" / "galaxies.yaml"),
        *extra,
    ]
    return subprocess.run(cmd, cwd=wd, capture_output=True, text=True, timeout=1800)


@pytest.mark.workflow
@pytest.mark.skipif(WHY is not None, reason=f"no Slurm cluster: {WHY}")
def test_profile_runs_shards_as_slurm_jobs(tmp_path):
    slurm, local = tmp_path / "slurm", tmp_path / "local"
    slurm.mkdir()
    local.mkdir()
    proc = _run(
        slurm,
        "--profile",
        str(ROOT / "workflow" / "profiles" / "slurm"),
        "--default-resources",
        f"slurm_account={ACCOUNT}",
        f"slurm_partition={PARTITION}",
        "runtime=30",
        "mem_mb=2000",
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout + proc.stderr
    ids = [
        int(line.split("SLURM jobid ")[1].split()[0])
        for line in out.splitlines()
        if "SLURM jobid" in line
    ]
    shard_jobs = [line for line in out.splitlines() if "rule_features_shard" in line]
    assert len(shard_jobs) == 3  # one Slurm job per shard of 25 of the 60 images
    acct = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-o", "JobID,State,ExitCode", "-j", ",".join(map(str, ids))],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [r.split("|") for r in acct.stdout.split()]
    assert len(rows) == len(ids) and all(r[1:] == ["COMPLETED", "0:0"] for r in rows), rows
    assert _run(local, "--cores", "2", "--quiet").returncode == 0
    a = pd.read_csv(slurm / "results" / "gal_tiny" / "ranked.csv")
    b = pd.read_csv(local / "results" / "gal_tiny" / "ranked.csv")
    paths = [c for c in a.columns if c.endswith("_path")]  # absolute, so they differ by folder
    pd.testing.assert_frame_equal(a.drop(columns=paths), b.drop(columns=paths))
