"""Every path of a dataset *run*, in one object: :class:`RunDir`.

A run is one directory below ``results/`` that a dataset produces: ``results/<name>`` or, for
each seed of a dataset with ``replicate: true``, ``results/<name>/seed<N>``. Its logs are
``results/logs/<run>/<step>.log``, its Snakemake benchmark files
``results/benchmarks/<run>/<step>.tsv``, and its human labels ``labels/<run>/<user>.csv`` (the
``labels.path`` template of the config). The workflow's rules (through the path helpers of
``workflow/rules/common.smk``), the command line, the labeller and the export all ask a
``RunDir``; nobody else spells these names.

A ``RunDir`` also works on wildcard patterns: ``RunDir("{run}").scores`` is
``"results/{run}/scores.parquet"``, what a rule writes.

Standard library only: the Snakefile imports this module while it is parsed.
"""

from __future__ import annotations

import glob
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from astroanom.errors import LabelsError

PathLike = str | os.PathLike[str]

RESULTS = "results"
LOGS = "logs"
BENCHMARKS = "benchmarks"
DEFAULT_TEMPLATE = "labels/{dataset}/{user}.csv"

# File names of a run directory (the contract is described in astroanom.store.dataset).
DATASET_JSON = "dataset.json"
FEATURES = "features.parquet"
FEATURES_RAW = "features_raw.parquet"
SCALER = "scaler.json"
OBJECTS = "objects.parquet"
MANIFEST = "manifest.parquet"
SOURCE_TRUTH = "source/truth.parquet"
SOURCE_FAILURES = "source/failures.csv"
SOURCE_INFO = "source/info.json"
SOURCE_VALUES = "source/values.parquet"  # values a source supplies itself (the simulation's curves)
SCORES = "scores.parquet"
ACTIVE = "active.parquet"
LABELS_USED = "labels_used.json"  # whose labels the retrain used, combined how (store.users)
ROUNDS = "rounds.parquet"
EMBEDDING = "embedding.parquet"
TRUTH = "truth.parquet"
FAILURES = "failures.csv"
SUMMARY = "summary.json"
RANKED = "ranked.csv"
CLASS_METRICS = "class_metrics.csv"
CLASS_ROUNDS = "class_rounds.csv"
CLASS_CURVES = "class_curves.parquet"
RECALL_CURVES = "recall_curves.parquet"
FIRST_N = "anomalies_first_n.csv"
EXPORT_DIR = "export"
MODELS_DIR = "models"  # trained models of trainable extractors (astroanom.features.trainable)
BUNDLE = "bundle.zip"  # what the run fitted, for scoring new objects (astroanom.bundle)
BUNDLE_PARTS = "bundle_parts"  # the detector's and the relevance model's parts of it
SCORED_DIR = "scored"  # new batches scored with the bundle: scored/<batch>/
EXPORT_FILES = ("anomalies.csv", "anomalies.fits", "anomalies.html", "anomalies.vot")
# Files of a dataset (results/<name>/, across its seeds for a replicated one).
METRICS = "metrics.csv"
METRICS_BY_SEED = "metrics_by_seed.csv"
ROUNDS_CSV = "rounds.csv"
CURVES = "curves.parquet"
TIMING_CSV = "timing.csv"
TIMING_MD = "timing.md"
#: Overview figures every dataset's first run has (PNG and PDF each).
OVERVIEW_FIGURES = ("top", "scores", "map")
FIGURE_FORMATS = ("png", "pdf")

#: The one schema of failures.csv (and of every source's and extractor's failure table).
FAILURE_COLUMNS = ["id", "stage", "reason"]

LOG_SUFFIX = ".log"  # ``<user>.log.csv`` is a log: no user name or label file may end like this
_USER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def n_shards(n_objects: int, shard_size: int) -> int:
    """Number of feature shards of at most ``shard_size`` objects (at least 1)."""
    return max(1, math.ceil(n_objects / shard_size))


def threads_for_objects(n_objects: int, objects_per_thread: int, max_threads: int) -> int:
    """Threads of a job over ``n_objects`` objects: one per ``objects_per_thread``, at least 1,
    at most ``max_threads`` (the config's ``parallel``)."""
    return max(1, min(int(max_threads), int(n_objects) // max(1, int(objects_per_thread))))


def manifest_rows(path: PathLike) -> int:
    """Number of objects in a manifest (Parquet metadata only; no table is read)."""
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def check_user(user: str) -> str:
    """Validate a user name (it becomes part of a file name): letters, digits, ``_.-``, <= 64."""
    if not isinstance(user, str) or not _USER_RE.fullmatch(user):
        raise LabelsError(
            f"user name {user!r} is not allowed: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    if user.lower().endswith(LOG_SUFFIX):
        raise LabelsError(
            f"user name {user!r} is not allowed: a name ending in '{LOG_SUFFIX}' would share its "
            f"file with the log of user {user[: -len(LOG_SUFFIX)]!r}; choose another name"
        )
    return user


def labels_path(dataset: str, user: str, template: str = DEFAULT_TEMPLATE) -> Path:
    """The label file of ``user`` for ``dataset`` (a path below results/, e.g. simulation/paper/seed1)."""
    parts = Path(dataset).parts
    if not parts or any(p in ("..", "") or p.startswith("/") for p in parts):
        raise LabelsError(f"dataset name {dataset!r} must be a relative path without '..'")
    return Path(template.format(dataset=dataset, user=check_user(user)))


def log_path_for(path: PathLike) -> Path:
    """The append-only log beside a current-state label file: ``alice.csv`` -> ``alice.log.csv``."""
    p = Path(path)
    return p.with_name(f"{p.stem}.log.csv")


class _File:
    """A file of a run directory: ``RunDir(...).<attribute>`` is its path (a string)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, rd: RunDir | None, owner: type) -> Any:
        return self if rd is None else rd.file(self.name)


@dataclass(frozen=True)
class RunDir:
    """The paths of one run ``results/<run>`` (``run`` = ``name`` or ``name/seedN``, or a
    wildcard pattern such as ``{run}``). Paths are strings relative to the working directory,
    as Snakemake wants them; ``labels`` is the config's ``labels.path`` template."""

    run: str
    results: str = RESULTS
    labels: str = DEFAULT_TEMPLATE

    dataset_json = _File(DATASET_JSON)
    features = _File(FEATURES)
    features_raw = _File(FEATURES_RAW)
    scaler = _File(SCALER)
    objects = _File(OBJECTS)
    manifest = _File(MANIFEST)
    source_truth = _File(SOURCE_TRUTH)
    source_failures = _File(SOURCE_FAILURES)
    source_info = _File(SOURCE_INFO)
    source_values = _File(SOURCE_VALUES)
    scores = _File(SCORES)
    active = _File(ACTIVE)
    labels_used = _File(LABELS_USED)
    rounds = _File(ROUNDS)
    embedding = _File(EMBEDDING)
    truth = _File(TRUTH)
    failures = _File(FAILURES)
    summary = _File(SUMMARY)
    ranked = _File(RANKED)
    class_metrics = _File(CLASS_METRICS)
    class_rounds = _File(CLASS_ROUNDS)
    class_curves = _File(CLASS_CURVES)
    recall_curves = _File(RECALL_CURVES)
    first_n = _File(FIRST_N)
    export_dir = _File(EXPORT_DIR)
    export_csv = _File(f"{EXPORT_DIR}/{EXPORT_FILES[0]}")
    export_fits = _File(f"{EXPORT_DIR}/{EXPORT_FILES[1]}")
    export_html = _File(f"{EXPORT_DIR}/{EXPORT_FILES[2]}")
    export_votable = _File(f"{EXPORT_DIR}/{EXPORT_FILES[3]}")
    metrics = _File(METRICS)
    metrics_by_seed = _File(METRICS_BY_SEED)
    rounds_csv = _File(ROUNDS_CSV)
    curves = _File(CURVES)
    timing_csv = _File(TIMING_CSV)
    timing_md = _File(TIMING_MD)
    bundle = _File(BUNDLE)
    bundle_detector = _File(f"{BUNDLE_PARTS}/detector.zip")
    bundle_relevance = _File(f"{BUNDLE_PARTS}/relevance.zip")

    @property
    def name(self) -> str:
        """The dataset's name (``run`` without its ``/seedN``)."""
        return re.sub(r"/seed\d+$", "", self.run)

    @property
    def root(self) -> str:
        """``results/<run>`` (a string, as the rules want it)."""
        return f"{self.results}/{self.run}"

    @property
    def dir(self) -> Path:
        """``results/<run>`` as a path."""
        return Path(self.results) / self.run

    @property
    def dataset(self) -> RunDir:
        """The dataset's own directory ``results/<name>`` (the run itself unless replicated),
        where the files made across seeds go (metrics.csv, rounds.csv, timing.md, ...)."""
        return RunDir(self.name, self.results, self.labels)

    def file(self, name: str) -> str:
        """``results/<run>/<name>``."""
        return f"{self.results}/{self.run}/{name}"

    def log(self, step: str) -> str:
        """The log of one step (rule) of this run: ``results/logs/<run>/<step>.log``."""
        return f"{self.results}/{LOGS}/{self.run}/{step}.log"

    def benchmark(self, step: str) -> str:
        """Snakemake's benchmark file of one step: ``results/benchmarks/<run>/<step>.tsv``."""
        return f"{self.results}/{BENCHMARKS}/{self.run}/{step}.tsv"

    def step_benchmark(self, step: str) -> str:
        """The benchmark file a step writes itself when one job runs several (same columns,
        ``astroanom.evaluate.timing.timed_step``): ``results/benchmarks/<run>/steps/<step>.tsv``.
        Part of its job's time, not a job of its own."""
        return f"{self.results}/{BENCHMARKS}/{self.run}/steps/{step}.tsv"

    def shard(self, k: int | str) -> str:
        """Feature shard ``k`` (an int, or a wildcard pattern such as ``{shard}``)."""
        key = f"{k:05d}" if isinstance(k, int) else k
        return self.file(f"shards/shard{key}.parquet")

    def model(self, part: str) -> str:
        """The trained model of trainable extractor ``part`` (a name or a wildcard such as
        ``{part}``): ``results/<run>/models/<part>.model``; later runs reuse it."""
        return self.file(f"{MODELS_DIR}/{part}.model")

    def model_info(self, part: str) -> str:
        """What its training did (JSON: loss per epoch, seconds, device, seed, n_train)."""
        return self.file(f"{MODELS_DIR}/{part}.json")

    def scored(self, batch: str) -> str:
        """Where ``astroanom score`` writes new batch ``batch``: ``results/<run>/scored/<batch>``
        (a run directory of its own: objects, scores, active, ranked.csv, export/)."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", batch):
            raise ValueError(
                f"batch name {batch!r}: use 1-100 letters, digits, '_', '.' or '-', starting "
                "with a letter or digit"
            )
        return self.file(f"{SCORED_DIR}/{batch}")

    def shards(self, n_objects: int, shard_size: int) -> list[str]:
        """Every feature shard of a manifest of ``n_objects`` rows."""
        return [self.shard(k) for k in range(n_shards(n_objects, shard_size))]

    def figure(self, stem: str) -> dict[str, str]:
        """PNG and PDF of a figure: ``results/<run>/figures/<stem>.{png,pdf}``."""
        return {x: self.file(f"figures/{stem}.{x}") for x in FIGURE_FORMATS}

    def export_files(self) -> list[str]:
        """The anomaly catalogue: ``export/anomalies.{csv,fits,html,vot}``."""
        return [self.file(f"{EXPORT_DIR}/{f}") for f in EXPORT_FILES]

    # ----------------------------------------------------------------------------------------
    # Labels: labels/<run>/<user>.csv (labels.path)
    # ----------------------------------------------------------------------------------------

    def label_file(self, user: str) -> Path:
        """The label file of ``user`` for this run (a checked user name)."""
        return labels_path(self.run, user, self.labels)

    def label_files(self) -> list[Path]:
        """Every user's current label file of this run (files matching the template with any
        user; not the logs ``<user>.log.csv``, not lock files), sorted."""
        pattern = self.labels.format(dataset=self.run, user="\0")
        if "\0" not in pattern:
            raise LabelsError(
                f"labels.path {self.labels!r} has no {{user}}: users would share a file"
            )
        head, tail = pattern.split("\0", 1)
        rx = re.compile(re.escape(head) + r"(?P<user>[^/]+)" + re.escape(tail))
        hits = glob.glob(glob.escape(head) + "*" + glob.escape(tail))
        out = []
        for hit in hits:
            m = rx.fullmatch(hit)
            if m and Path(hit).is_file() and not _is_log(m["user"]):
                out.append(Path(hit))
        return sorted(out)

    # ----------------------------------------------------------------------------------------
    # What the workflow makes in this run, and how far it got
    # ----------------------------------------------------------------------------------------

    def outputs(self, *, first: bool, truth: bool) -> list[str]:
        """What the workflow's ``all`` makes in this run for every dataset: the summary; in the
        dataset's first run the ranked table, the overview figures and the export; with truth
        the first-N table (and Fig. 5 in the first run)."""
        out = [self.summary]
        if truth:
            out.append(self.first_n)
        if first:
            out.append(self.ranked)
            out += [p for f in OVERVIEW_FIGURES for p in self.figure(f).values()]
            out += self.export_files()
            out.append(self.bundle)
            if truth:
                out += self.figure("fig5_recall_rws").values()
        return out

    def state(self, *, first: bool, truth: bool) -> str:
        """``made``, ``partly made (k of n files)`` or ``not made yet``, from :meth:`outputs`."""
        files = self.outputs(first=first, truth=truth)
        done = sum(Path(f).is_file() for f in files)
        if done == len(files):
            return "made"
        return f"partly made ({done} of {len(files)} files)" if done else "not made yet"


def _is_log(user: str) -> bool:
    return user.lower().endswith(LOG_SUFFIX)


def run_dirs(cfg: Mapping[str, Any], name: str, results: str = RESULTS) -> list[RunDir]:
    """The run directories of dataset ``name`` of a validated config (first run first)."""
    from astroanom import config as acfg

    labels = cfg.get("labels", {}).get("path", DEFAULT_TEMPLATE)
    return [RunDir(r.path, results, labels) for r in acfg.runs(cfg, name)]


def run_dir(cfg: Mapping[str, Any], run: str, results: str = RESULTS) -> RunDir:
    """The run directory of ``run`` (``name`` or ``name/seedN``) of a validated config."""
    from astroanom import config as acfg

    labels = cfg.get("labels", {}).get("path", DEFAULT_TEMPLATE)
    return RunDir(acfg.parse_run(cfg, run).path, results, labels)
