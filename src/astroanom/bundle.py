"""The model bundle of a run: what it fitted, kept so new objects are scored without refitting.

``results/<run>/bundle.zip`` is a zip archive, written atomically, that loads without running
code from the file:

- ``manifest.json``: ``format`` (``"astroanom-bundle"``), ``version`` (:data:`VERSION`), what
  the run fitted (the feature extractor's config and names, the scaling, the detector, the
  relevance model) and the SHA-256 of every other member;
- arrays as ``.npy`` members (read with ``allow_pickle=False``), settings as JSON;
- scikit-learn estimators (isolation forest, the random-forest relevance regressor, any
  scikit-learn outlier class) as ``.skops`` members, loaded by :func:`skops.io.loads` with
  ``trusted`` = the explicit list :data:`TRUSTED_TYPES` beyond skops' own defaults; a member
  needing any other type is refused.

Loading checks the format, the version (an unknown one is refused), that the members are
exactly those of the manifest and that each one's SHA-256 matches, so a file changed after it
was written (a byte flipped, a member swapped) is refused with the member's name. The hashes
catch changes, not a forger who rewrites the manifest too; safety against code comes from the
formats themselves (no pickle anywhere).

What each detector keeps and how it scores a new object x:

- isolation forest (scikit-learn): the fitted forest; ``score_samples(x)`` is per row, so an
  object of the run gets exactly its score in the run;
- ``lof`` (astroanom's exact k-NN LOF): the run's scaled features, each one's k-distance and
  local reachability density (lrd). A new object is scored in *novelty* mode: its k nearest
  run objects o, reach(x, o) = max(d(x, o), k-dist(o)), lrd(x) = 1 / (mean reach + 1e-10),
  raw = -mean(lrd(o)) / lrd(x), as scikit-learn's ``LocalOutlierFactor(novelty=True)``. An object
  of the run is its own nearest neighbour at distance 0 here, while the run left it out, so its
  novelty score differs from its run score (it looks a little more normal); the bundle gives
  new objects the novelty score and does not pretend otherwise;
- any scikit-learn outlier class with ``score_samples``/``decision_function`` (e.g.
  OneClassSVM): the fitted estimator, skops-saved;
- coniferest's forest, pyod classes and plug-in detectors with only ``fit_score`` cannot be
  saved without pickle or without trusting their classes: the bundle records why, and scoring
  refuses them with that reason.

The native score maps onto S with the run's range: S = 5 (hi - raw) / (hi - lo) (lower is
weirder; mirrored otherwise), hi and lo the run's extremes, so S of a run object is its S in the
run bit for bit; a new object weirder than any in the run gets S > 5 (not clipped).

The relevance model (the ``paper`` strategy's S^): the random forest fitted on the labels (or
the one label value when all agree), the labelled objects' ids, scaled features and labels,
the run's d0 (mean distance to the nearest labelled object over the run) and alpha. For a new
object U is the forest's prediction clipped to 0..5 and d its distance to the nearest labelled
object; an object with the id *and* the exact features of a labelled one is that object: U is
its label and d = 0, as in the run. Then S^ = S tanh(exp(alpha d / d0) - 1 + arctanh(U~)) with
the run's d0, so the run's objects get their run S^ exactly. Strategy ``none`` and a run with no
labels yet rank by S (S^ = S, U and d empty); other strategies are refused by scoring.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from astroanom.errors import AstroanomError

log = logging.getLogger("astroanom.bundle")

PathLike = str | os.PathLike[str]

FORMAT = "astroanom-bundle"
VERSION = 1
MANIFEST = "manifest.json"
#: Types beyond skops' defaults that a bundle's estimators may contain: scikit-learn's tree
#: structure (arrays of nodes and values, rebuilt by its own ``__setstate__``; no code).
TRUSTED_TYPES = ("sklearn.tree._tree.Tree",)
#: Largest member read (bytes, uncompressed): a zip bomb stops here, not in memory.
MAX_MEMBER_BYTES = 8 << 30


class BundleError(AstroanomError):
    """A bundle that cannot be used: unknown version, changed bytes, a detector that cannot be
    saved safely, or a batch whose features differ from the bundle's."""


# ---------------------------------------------------------------------------------------------
# The archive: members + manifest with SHA-256
# ---------------------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: PathLike, block: int = 1 << 20) -> str:
    """SHA-256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def write_archive(path: PathLike, meta: Mapping[str, Any], members: Mapping[str, bytes]) -> None:
    """Write ``members`` (name -> bytes) and a manifest (``meta`` + format, version and each
    member's SHA-256) as one zip, atomically."""
    from astroanom.store.io import atomic_path

    if MANIFEST in members:
        raise ValueError(f"{MANIFEST} is the manifest's own name")
    manifest = {
        **meta,
        "format": FORMAT,
        "version": VERSION,
        "members": {name: sha256(data) for name, data in sorted(members.items())},
    }
    with (
        atomic_path(path) as tmp,
        zipfile.ZipFile(tmp, "w") as z,
    ):
        z.writestr(
            _entry(MANIFEST),
            json.dumps(manifest, indent=1, sort_keys=True, default=float),
            compresslevel=1,
        )
        for name, data in sorted(members.items()):
            z.writestr(_entry(name), data, compresslevel=1)


#: Every member's time stamp in the zip (the earliest a zip holds): the same inputs give the
#: same bytes whenever they are written (the wall clock would otherwise enter each entry).
ENTRY_TIME = (1980, 1, 1, 0, 0, 0)


def _entry(name: str) -> zipfile.ZipInfo:
    """A member's zip entry: fixed time stamp, deflated, mode rw-r--r--."""
    info = zipfile.ZipInfo(name, date_time=ENTRY_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def read_archive(path: PathLike) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and members of an archive, every check passed (see the module docstring);
    :class:`BundleError` naming the file and what is wrong otherwise."""
    p = Path(path)
    if not p.is_file():
        raise BundleError(f"{p} not found: run snakemake for this dataset first (it writes it)")
    try:
        with zipfile.ZipFile(p) as z:
            infos = {i.filename: i for i in z.infolist()}
            big = [n for n, i in infos.items() if i.file_size > MAX_MEMBER_BYTES]
            if big:
                raise BundleError(f"{p}: member {big[0]} is larger than {MAX_MEMBER_BYTES} bytes")
            if MANIFEST not in infos:
                raise BundleError(f"{p} has no {MANIFEST}: it is not an astroanom bundle")
            manifest = json.loads(z.read(MANIFEST).decode("utf-8"))
            data = {n: z.read(n) for n in infos if n != MANIFEST}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise BundleError(f"{p} is damaged or not a bundle ({exc}); rerun snakemake") from exc
    except zlib_error() as exc:
        raise BundleError(f"{p} is damaged ({exc}); its bytes changed: rerun snakemake") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{p}: its {MANIFEST} is not JSON ({exc}); rerun snakemake") from exc
    check_manifest(p, manifest, data)
    return manifest, data


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


def check_manifest(p: Path, manifest: Any, data: Mapping[str, bytes]) -> None:
    """Format, version, member list and SHA-256 of each member (see :func:`read_archive`)."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{p} is not an astroanom bundle (format {FORMAT!r} expected)")
    version = manifest.get("version")
    if version != VERSION:
        raise BundleError(
            f"{p} has bundle version {version!r}, which this astroanom does not know (it reads "
            f"version {VERSION}); rerun snakemake with this astroanom to rewrite the bundle"
        )
    listed = manifest.get("members")
    if not isinstance(listed, dict):
        raise BundleError(f"{p}: its manifest lists no members")
    extra = sorted(set(data) - set(listed))
    missing = sorted(set(listed) - set(data))
    if extra or missing:
        raise BundleError(
            f"{p} was changed after it was written: members {extra} are not in its manifest, "
            f"{missing} are missing; rerun snakemake to rewrite it"
        )
    for name, want in listed.items():
        if sha256(data[name]) != want:
            raise BundleError(
                f"{p} was changed after it was written: the SHA-256 of member {name!r} does not "
                "match its manifest; refusing to load it (rerun snakemake to rewrite it)"
            )


def npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(a), allow_pickle=False)
    return buf.getvalue()


def from_npy(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


def skops_dump(obj: object) -> bytes:
    """``obj`` in skops' format, the same bytes for an equal object (:func:`canonical_skops`)."""
    import skops.io as sio

    return canonical_skops(sio.dumps(obj))


def canonical_skops(data: bytes) -> bytes:
    """A skops file (a zip: ``schema.json`` and one member per array) with what differs
    between dumps of equal objects taken out: the members' times (the clock) and the object
    ids (memory addresses) that name the array members and link repeated objects, renumbered
    1, 2, ... in the order the schema first shows them. Same content for skops' loader.
    A file whose members are not all named by the schema's ids is returned as it is."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = {name: z.read(name) for name in z.namelist()}
    schema = json.loads(members.pop("schema.json"))
    ids: dict[int, int] = {}

    def renumber(node: Any) -> Any:
        if isinstance(node, list):
            return [renumber(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "__id__" and isinstance(value, int) and not isinstance(value, bool):
                out[key] = ids.setdefault(value, len(ids) + 1)
            elif key == "file" and isinstance(value, str) and value.split(".")[0].isdigit():
                stem, _, ext = value.partition(".")
                out[key] = f"{ids.setdefault(int(stem), len(ids) + 1)}.{ext}"
            else:
                out[key] = renumber(value)
        return out

    canonical = renumber(schema)
    renamed = {}
    for name, blob in members.items():
        stem, _, ext = name.partition(".")
        if not stem.isdigit() or int(stem) not in ids:
            return data  # not the layout described above: left as skops wrote it
        renamed[f"{ids[int(stem)]}.{ext}"] = blob
    renamed["schema.json"] = json.dumps(canonical, indent=1).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, blob in sorted(renamed.items()):
            info = zipfile.ZipInfo(name, date_time=ENTRY_TIME)
            info.external_attr = 0o644 << 16
            z.writestr(info, blob)  # stored, as skops does: the bundle's zip deflates it
    return buf.getvalue()


def skops_load(data: bytes, what: str) -> Any:
    """Load a skops member, trusting skops' defaults and :data:`TRUSTED_TYPES` only."""
    import skops.io as sio

    untrusted = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
    if untrusted:
        raise BundleError(
            f"the bundle's {what} needs the types {untrusted}, which are not on astroanom's "
            f"trusted list {list(TRUSTED_TYPES)}; refusing to load it"
        )
    return sio.loads(data, trusted=list(TRUSTED_TYPES))


# ---------------------------------------------------------------------------------------------
# The detector's part
# ---------------------------------------------------------------------------------------------

DETECTOR = "detector"
RELEVANCE = "relevance"


def lof_state(X: np.ndarray, k: int, block_rows: int, n_jobs: int) -> dict[str, np.ndarray]:
    """What novelty scoring needs of an LOF fitted on ``X`` (n, m): the points (float32), the
    k-distance (n,) and the lrd (n,) of each, with the run's neighbours (self left out)."""
    from astroanom.detect.knn import kneighbors

    dist, idx = kneighbors(X, k, block_rows=block_rows, n_jobs=n_jobs)
    kd = dist[:, -1]
    reach = np.maximum(dist, kd[idx])
    lrd = 1.0 / (reach.mean(axis=1) + 1e-10)
    return {"X": np.asarray(X, dtype=np.float32), "k_distance": kd, "lrd": lrd}


def detector_part(det: object, X: np.ndarray, raw: np.ndarray) -> tuple[dict, dict[str, bytes]]:
    """The manifest entry and members of a fitted detector ``det`` (after ``fit_score(X)``,
    which returned ``raw`` (n,)). A detector that cannot be saved safely gets
    ``format: unsupported`` and the reason (scoring refuses it, the run goes on)."""
    from astroanom.detect.detectors import (
        SCORE_METHODS,
        EstimatorDetector,
        IsolationForestDetector,
        LocalOutlierFactor,
    )

    raw = np.asarray(raw, dtype=np.float64)
    meta: dict[str, Any] = {
        "name": str(getattr(det, "name", type(det).__name__)),
        "class": f"{type(det).__module__}.{type(det).__qualname__}",
        "lower_is_weirder": bool(det.lower_is_weirder),  # type: ignore[attr-defined]
        "raw_min": float(raw.min()),
        "raw_max": float(raw.max()),
        "n_fit": int(X.shape[0]),
        "n_features": int(X.shape[1]),
    }
    members: dict[str, bytes] = {}

    def unsupported(reason: str) -> tuple[dict, dict[str, bytes]]:
        return {**meta, "format": "unsupported", "reason": reason}, {}

    if isinstance(det, LocalOutlierFactor):
        if det.approximate_above is not None and X.shape[0] > det.approximate_above:
            return unsupported(
                "lof with approximate neighbours: its run scores are not exact k-NN scores; "
                "set approximate_above: null to bundle it"
            )
        k = min(det.n_neighbors, X.shape[0] - 1)
        state = lof_state(X, k, det.block_rows, det.n_jobs)
        members = {f"{DETECTOR}/{n}.npy": npy(a) for n, a in state.items()}
        return {**meta, "format": "lof", "k": int(k)}, members
    if isinstance(det, IsolationForestDetector):
        if det.backend != "sklearn":
            return unsupported(
                "the coniferest isolation forest (backend: coniferest) has no safe file format "
                "(only pickle); use backend: sklearn to score new objects with a bundle"
            )
        est, method = det.model, "score_samples"
    elif isinstance(det, EstimatorDetector):
        est = det.estimator
        module = type(est).__module__
        if not module.startswith("sklearn."):
            return unsupported(
                f"{meta['class'].replace('astroanom.detect.detectors.EstimatorDetector', '')}"
                f"{module}.{type(est).__qualname__} is not a scikit-learn class: saving it "
                "would need pickle or trusting its code; only scikit-learn detectors are bundled"
            )
        names = (det.score_method,) if det.score_method else SCORE_METHODS
        method = next((m for m in names if hasattr(est, m)), None)
        if method is None:
            return unsupported(
                f"{module}.{type(est).__qualname__} scores only its training set (no "
                "score_samples/decision_function on new objects); for LOF use name: lof"
            )
    else:
        return unsupported(
            f"{meta['class']} is a plug-in detector with only fit_score: it cannot score new "
            "objects without refitting"
        )
    try:
        data = skops_dump(est)
        skops_load(data, "detector")  # refuse now what could not be loaded later
    except (BundleError, Exception) as exc:  # noqa: BLE001 - any failure: not bundleable
        return unsupported(f"{type(est).__qualname__} cannot be saved with skops: {exc}")
    members[f"{DETECTOR}/model.skops"] = data
    return {**meta, "format": "skops", "method": method}, members


def to_s(raw: np.ndarray, lo: float, hi: float, lower_is_weirder: bool) -> np.ndarray:
    """S from native scores with the run's range (as :func:`detect.detectors.to_anomaly_score`)."""
    from astroanom.detect.detectors import S_MAX

    raw = np.asarray(raw, dtype=np.float64)
    weird = (hi - raw) if lower_is_weirder else (raw - lo)
    return S_MAX * weird / (hi - lo)


# ---------------------------------------------------------------------------------------------
# The relevance model's part
# ---------------------------------------------------------------------------------------------


def relevance_part(
    strategy: Mapping[str, Any],
    fitted: object | None,
    ids: np.ndarray,
    X: np.ndarray,
    labelled: np.ndarray,
    labels: np.ndarray,
) -> tuple[dict, dict[str, bytes]]:
    """The manifest entry and members of a retrain: ``strategy`` its config entry, ``fitted``
    the refitted strategy (None when there were no labels), ``X`` (n, m) the run's scaled
    features, ``labelled`` (k,) rows with ``labels`` (k,)."""
    name = str(strategy["name"])
    meta: dict[str, Any] = {"strategy": name, "n_labels": int(np.size(labelled))}
    if name == "none" or fitted is None or np.size(labelled) == 0:
        return {**meta, "format": "detector_only"}, {}
    model = getattr(getattr(fitted, "learner", None), "model_", None)
    res = getattr(fitted, "result", None)
    if name != "paper" or model is None or res is None:
        return {
            **meta,
            "format": "unsupported",
            "reason": f"strategy {name!r} has no saved form: only 'paper' (S^) and 'none' "
            "score new objects",
        }, {}
    rows = np.asarray(labelled, dtype=np.int64)
    members = {
        f"{RELEVANCE}/labelled_X.npy": npy(np.asarray(X[rows], dtype=np.float32)),
        f"{RELEVANCE}/labels.npy": npy(np.asarray(labels, dtype=np.float64)),
        f"{RELEVANCE}/labelled_ids.json": json.dumps([str(i) for i in ids[rows]]).encode(),
    }
    if model.forest is not None:
        members[f"{RELEVANCE}/forest.skops"] = skops_dump(model.forest)
    meta.update(
        format="paper",
        alpha=float(fitted.alpha),  # type: ignore[attr-defined]
        d0=float(res.d0),
        u_max=float(model.u_max),
        constant_U=None if model.forest is not None else float(model.labels[0]),
    )
    return meta, members


# ---------------------------------------------------------------------------------------------
# The whole bundle
# ---------------------------------------------------------------------------------------------

#: Keys of a ``features`` entry that do not change the features (how the work is split).
NEUTRAL_FEATURE_KEYS = ("shard_size",)


def feature_settings(features: Mapping[str, Any]) -> dict[str, Any]:
    """A features entry as compared between a bundle and a config (without the shard size)."""
    return {k: v for k, v in features.items() if k not in NEUTRAL_FEATURE_KEYS}


def write_bundle(
    path: PathLike,
    *,
    run: str,
    seed: int,
    dataset_json: PathLike,
    scaler_json: PathLike,
    detector: PathLike,
    relevance: PathLike,
    features: Mapping[str, Any],
    scale: str,
    pca: Mapping[str, Any] | None,
    source_kind: str,
    models: Mapping[str, str],
) -> None:
    """Assemble the run's bundle from its parts (each checked), the scaling, the dataset
    description and the feature extractor's config (``features``: with model paths);
    ``models``: part -> model file of trainable extractors (recorded with their SHA-256)."""
    from astroanom import __version__

    det_meta, det_members = read_archive(detector)
    rel_meta, rel_members = read_archive(relevance)
    info = json.loads(Path(dataset_json).read_text(encoding="utf-8"))
    scaler = json.loads(Path(scaler_json).read_text(encoding="utf-8"))
    meta = {
        "astroanom_version": __version__,
        "run": run,
        "seed": int(seed),
        "object_kind": info["kind"],
        "source_kind": source_kind,
        "features": {
            "settings": feature_settings(features),
            "names": list(info["extra"]["feature_names"]),
        },
        "scaling": {"method": scale, "pca": None if pca is None else dict(pca)},
        "detector": part_entry(detector, det_meta, DETECTOR),
        "relevance": part_entry(relevance, rel_meta, RELEVANCE),
        "models": {part: {"path": str(p), "sha256": file_sha256(p)} for part, p in models.items()},
    }
    members = {
        **det_members,
        **rel_members,
        "dataset.json": json.dumps(info, sort_keys=True).encode(),
        "scaler.json": json.dumps(scaler, sort_keys=True).encode(),
    }
    write_archive(path, meta, members)
    log.info("bundle of %s: %s (%d bytes)", run, path, Path(path).stat().st_size)


def write_part(
    path: PathLike, part: str, entry: Mapping[str, Any], members: Mapping[str, bytes]
) -> None:
    """Write one part (``detector`` or ``relevance``) of a bundle: its entry and members."""
    write_archive(path, {"part": part, "entry": dict(entry)}, members)


def part_entry(path: PathLike, meta: Mapping[str, Any], part: str) -> dict[str, Any]:
    if meta.get("part") != part or not isinstance(meta.get("entry"), dict):
        raise BundleError(f"{path} is not the {part} part of a bundle; rerun snakemake")
    return dict(meta["entry"])


def in_row_blocks(fn: Any, X: np.ndarray, n_jobs: int = 1, min_rows: int = 65536) -> np.ndarray:
    """``fn(X)`` (n,) computed on row blocks over ``n_jobs`` threads; equal to one call for a
    per-row ``fn`` (scikit-learn's forests sum their trees in a thread-dependent order when
    they thread over trees, so a bundle threads over rows instead)."""
    n = X.shape[0]
    n_jobs = max(1, min(int(n_jobs), n // max(1, min_rows)))
    if n_jobs == 1:
        return fn(X)
    from concurrent.futures import ThreadPoolExecutor

    bounds = np.linspace(0, n, n_jobs + 1).astype(int)
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        parts = pool.map(lambda ab: fn(X[ab[0] : ab[1]]), zip(bounds[:-1], bounds[1:], strict=True))
        return np.concatenate(list(parts))


class FittedDetector:
    """A bundled detector (its manifest ``entry`` and the bundle's ``members``): native scores
    of new scaled features, nothing refitted."""

    def __init__(self, entry: Mapping[str, Any], members: Mapping[str, bytes]) -> None:
        self.entry, self.members = dict(entry), members
        self._model: Any = None

    def raw(self, Xs: np.ndarray, n_jobs: int = 1) -> np.ndarray:
        """The native score (n,) of scaled features ``Xs`` (n, m)."""
        fmt = self.entry["format"]
        if fmt == "lof":
            return self._lof(Xs, n_jobs)
        if fmt != "skops":
            raise BundleError(f"the bundle's detector cannot score: {self.entry.get('reason')}")
        if self._model is None:
            self._model = skops_load(self.members[f"{DETECTOR}/model.skops"], "detector")
            if "n_jobs" in self._model.get_params():  # threads over rows below, not trees
                self._model.set_params(n_jobs=1)
        method = getattr(self._model, self.entry["method"])
        return in_row_blocks(lambda b: np.asarray(method(b), dtype=np.float64), Xs, n_jobs)

    def _lof(self, Q: np.ndarray, n_jobs: int) -> np.ndarray:
        """Novelty LOF (module docstring) of queries ``Q`` (q, m) against the run's objects."""
        from sklearn.neighbors import NearestNeighbors

        if self._model is None:
            get = self.members
            X = from_npy(get[f"{DETECTOR}/X.npy"]).astype(np.float64)
            self._kd = from_npy(get[f"{DETECTOR}/k_distance.npy"])
            self._lrd = from_npy(get[f"{DETECTOR}/lrd.npy"])
            k = int(self.entry["k"])
            self._model = NearestNeighbors(n_neighbors=k, n_jobs=n_jobs).fit(X)
        dist, idx = self._model.kneighbors(np.asarray(Q, dtype=np.float64))
        reach = np.maximum(dist, self._kd[idx])
        lrd_q = 1.0 / (reach.mean(axis=1) + 1e-10)
        return -(self._lrd[idx].mean(axis=1) / lrd_q)


@dataclass
class Scored:
    """Scores of a batch of n objects: raw (native), S, U, d and S^ (n,) (U, d NaN where the
    bundle ranks by S alone)."""

    raw: np.ndarray
    S: np.ndarray
    U: np.ndarray
    d: np.ndarray
    S_hat: np.ndarray


class Bundle:
    """A loaded bundle: checks a batch against it and scores its features without refitting."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.manifest, self.members = read_archive(self.path)
        self.info = json.loads(self.members["dataset.json"])
        self.scaler = json.loads(self.members["scaler.json"])
        self.detector = self.manifest["detector"]
        self.relevance = self.manifest["relevance"]
        self._det = FittedDetector(self.detector, self.members)
        self._forest: Any = None

    # -- what the batch must match ---------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self.manifest["features"]["names"])

    def check_usable(self) -> None:
        """Refuse a bundle whose detector or strategy has no saved form (the reason)."""
        for what, part in (("detector", self.detector), ("strategy", self.relevance)):
            if part["format"] == "unsupported":
                raise BundleError(
                    f"{self.path}: this run's {what} cannot score new objects: {part['reason']}"
                )
        if self.scaler.get("pca") is not None:
            raise BundleError(
                f"{self.path}: the run reduces its features with pca, which bundles do not "
                "keep yet; set pca: null in the dataset to score new objects"
            )
        for part, rec in self.manifest["models"].items():
            p = Path(rec["path"])
            if not p.is_file():
                raise BundleError(
                    f"the bundle's {part} model {p} is missing: the batch cannot be embedded "
                    "as the run was"
                )
            if file_sha256(p) != rec["sha256"]:
                raise BundleError(
                    f"the {part} model {p} changed since the bundle was written (SHA-256 "
                    "differs): rerun snakemake so the run and its bundle use the same model"
                )

    def check_settings(
        self, features: Mapping[str, Any], scale: str, pca: Mapping[str, Any] | None, kind: str
    ) -> None:
        """Refuse a config whose features (kind, parameters), scaling or object kind differ
        from the bundle's, naming each difference."""
        have = self.manifest["features"]["settings"]
        want = feature_settings(features)
        diffs = [
            f"{k}: bundle {have.get(k)!r}, config {want.get(k)!r}"
            for k in sorted(set(have) | set(want), key=str)
            if have.get(k) != want.get(k)
        ]
        sc = self.manifest["scaling"]
        if sc["method"] != scale:
            diffs.append(f"scale: bundle {sc['method']!r}, config {scale!r}")
        if (sc["pca"] or None) != (dict(pca) if pca else None):
            diffs.append(f"pca: bundle {sc['pca']!r}, config {pca!r}")
        if self.manifest["object_kind"] != kind:
            diffs.append(f"object kind: bundle {self.manifest['object_kind']!r}, batch {kind!r}")
        if diffs:
            raise BundleError(
                f"the batch's features would not be computed as in the bundle {self.path}: "
                + "; ".join(diffs)
                + ". Score with the config the run was made with, or rerun snakemake"
            )

    def check_names(self, names: list[str]) -> None:
        """Refuse feature names that differ from the bundle's (count, names or order)."""
        want = self.names
        names = [str(n) for n in names]
        if names == want:
            return
        if sorted(names) == sorted(want):
            at = next(i for i, (a, b) in enumerate(zip(want, names, strict=True)) if a != b)
            raise BundleError(
                f"the batch's features are in another order than the bundle's: position {at} is "
                f"{names[at]!r} in the batch, {want[at]!r} in the bundle (bundle order: "
                f"{', '.join(want[:20])}); reorder the batch's columns or set features.columns"
            )
        lack = [n for n in want if n not in names]
        more = [n for n in names if n not in want]
        raise BundleError(
            f"the batch's features do not match the bundle's ({len(names)} vs {len(want)}): "
            f"missing {lack[:10]}, not in the bundle {more[:10]}"
        )

    # -- scoring ---------------------------------------------------------------------------

    def scale(self, X: np.ndarray, block_rows: int = 65536) -> np.ndarray:
        """Raw features (n, m) as the detector saw them: float32, then standardised with the
        run's mean and scale as :func:`features.scaling.standardise` did (float32 out)."""
        X = np.asarray(X, dtype=np.float32)
        if self.scaler.get("pca") is not None:
            raise BundleError(f"{self.path}: a run with pca is not bundled yet")
        if self.scaler["method"] == "none":
            return np.ascontiguousarray(X)
        mean = np.asarray(self.scaler["mean"], dtype=np.float64)
        scale = np.asarray(self.scaler["scale"], dtype=np.float64)
        out = np.empty(X.shape, dtype=np.float32)
        for s in range(0, X.shape[0], block_rows):
            b = np.array(X[s : s + block_rows], dtype=np.float64)
            b -= mean
            b /= scale
            out[s : s + b.shape[0]] = b
        return out

    def prepare(self) -> None:
        """Load the saved models now (skops), not at the first score."""
        if self.detector["format"] == "skops" or self.detector["format"] == "lof":
            self._det.raw(np.zeros((1, len(self.names)), dtype=np.float32))
        if self.relevance.get("format") == "paper" and self.relevance["constant_U"] is None:
            self._forest = skops_load(self.members[f"{RELEVANCE}/forest.skops"], "forest")

    def score(self, ids: np.ndarray, Xs: np.ndarray, n_jobs: int = 1) -> Scored:
        """raw, S, U, d, S^ of the objects ``ids`` (n,) with scaled features ``Xs`` (n, m)."""
        from astroanom.active.score import active_score, nearest_distance, predict_in_row_blocks

        det = self.detector
        raw = self._det.raw(Xs, n_jobs)
        S = to_s(raw, det["raw_min"], det["raw_max"], det["lower_is_weirder"])
        rel = self.relevance
        n = S.size
        if rel["format"] == "detector_only":
            nan = np.full(n, np.nan)
            return Scored(raw, S, nan, nan.copy(), S.copy())
        Y = from_npy(self.members[f"{RELEVANCE}/labelled_X.npy"])
        labels = from_npy(self.members[f"{RELEVANCE}/labels.npy"])
        if rel["constant_U"] is not None:
            U = np.full(n, float(rel["constant_U"]))
        else:
            if self._forest is None:
                self._forest = skops_load(self.members[f"{RELEVANCE}/forest.skops"], "forest")
            U = np.clip(predict_in_row_blocks(self._forest, Xs, n_jobs), 0.0, rel["u_max"])
        d = nearest_distance(Xs, Y, n_jobs=n_jobs)
        lab_ids = json.loads(self.members[f"{RELEVANCE}/labelled_ids.json"])
        import pandas as pd

        j = pd.Index(lab_ids).get_indexer(np.asarray(ids).astype(str))
        rows = np.flatnonzero(j >= 0)
        same = rows[(Xs[rows] == Y[j[rows]]).all(axis=1)]  # the labelled objects themselves
        U[same], d[same] = labels[j[same]], 0.0
        S_hat = active_score(S, U, d, rel["alpha"], rel["d0"], rel["u_max"])
        return Scored(raw, S, U, d, S_hat)
