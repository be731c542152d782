# Shared accessors and path helpers. Everything the workflow does, it does to a dataset *run*:
# results/<name>/ (or results/<name>/seed<N>/ for each seed of a dataset with replicate: true).
# Every path comes from astroanom.store.rundir.RunDir (stdlib only, cheap to import):
# RUN.<file> is a run's file as a {run} pattern, DATASET.<file> a dataset's own (results/<name>/),
# logs(step) and benchmarks(step) a step's log and benchmark file.
import os

from astroanom import config as acfg
from astroanom.store.rundir import (
    RESULTS,
    RunDir,
    manifest_rows,
    n_shards,
    run_dirs,
    threads_for_objects,
)

ENV = "../envs/astroanom.yaml"
RUN = RunDir("{run}", RESULTS, config["labels"]["path"])
DATASET = RunDir("{dataset}", RESULTS, config["labels"]["path"])


wildcard_constraints:
    run=r"[A-Za-z0-9][A-Za-z0-9_.-]*(/seed\d+)?",
    dataset=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    shard=r"\d+",
    part=r"[A-Za-z0-9_-]+",


def logs(step, run="{run}"):
    """results/logs/<run>/<step>.log (run: a wildcard pattern or a path below results/)."""
    return RunDir(run, RESULTS).log(step)


def benchmarks(step, run="{run}"):
    """results/benchmarks/<run>/<step>.tsv."""
    return RunDir(run, RESULTS).benchmark(step)


def out(run, name):
    """results/<run>/<name>."""
    return RunDir(run, RESULTS).file(name)


def rundirs(name):
    """The RunDirs of one dataset, first run first."""
    return run_dirs(config, name, RESULTS)


def runs_of(name):
    """Run paths (below results/) of one dataset."""
    return [r.run for r in rundirs(name)]


def rd(wildcards):
    """The RunDir of a {run} wildcard."""
    return RunDir(wildcards.run, RESULTS, config["labels"]["path"])


def run_of(wildcards):
    """The acfg.Run of a {run} wildcard."""
    return acfg.parse_run(config, wildcards.run)


def source_rd(run):
    """The RunDir whose source manifest and feature shards run `run` (a path below results/)
    uses: its own, or its dataset's first run's when the source and features do not depend on
    the seed (acfg.source_run: each source is parsed once per dataset, not once per seed).
    """
    return RunDir(acfg.source_run(config, run).path, RESULTS, config["labels"]["path"])


def ds(wildcards):
    """The validated config entry of the dataset of a {run} or {dataset} wildcard."""
    name = (
        wildcards.dataset if "dataset" in wildcards.keys() else run_of(wildcards).name
    )
    return acfg.dataset(config, name)


def threads_by_objects(key="features"):
    """threads: of a job over a run's objects: one per parallel.objects_per_thread objects
    of its input `key` (a Parquet table, counted from its metadata when the job is about to
    run), at least 1, at most parallel.max_threads (Snakemake also caps it at --cores).
    """
    par = config["parallel"]

    def _threads(wildcards, input):
        path = input.get(key)
        if not path or not os.path.exists(path):
            return par["max_threads"]
        return threads_for_objects(
            manifest_rows(path), par["objects_per_thread"], par["max_threads"]
        )

    return _threads


def run_seed(wildcards):
    return run_of(wildcards).seed


def has_truth(name):
    return "truth" in acfg.dataset(config, name)


def simulated(name):
    return acfg.dataset(config, name)["oracle"]["mode"] == "simulated"


def retrain_label_files(run):
    """The label files the human-oracle retrain of a run reads: every user's
    labels/<run>/<user>.csv, narrowed by labels.users and labels.exclude_users."""
    from astroanom.store.users import select_label_files

    files = RunDir(run, RESULTS, config["labels"]["path"]).label_files()
    lab = config["labels"]
    return [
        str(p) for p in select_label_files(files, lab["users"], lab["exclude_users"])
    ]


def first_run_file(attr):
    """Input function: a file (a RunDir attribute) of the first run of {dataset}."""
    return lambda w: getattr(rundirs(w.dataset)[0], attr)


def seed_files(attr):
    """Input function: a file (a RunDir attribute) of every run of {dataset}."""
    return lambda w: [getattr(r, attr) for r in rundirs(w.dataset)]


def figure(where, stem, caption, category, subcategory="{run}", **labels):
    """PNG (shown in the report) and PDF outputs of figure `stem` of a RunDir pattern."""
    paths = where.figure(stem)
    return {
        "png": report(
            paths["png"],
            caption=f"../report/{caption}.rst",
            category=category,
            subcategory=subcategory,
            labels={"figure": stem, **labels},
        ),
        "pdf": paths["pdf"],
    }
