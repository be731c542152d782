"""Several extractors for one dataset: their features side by side, names prefixed by the part's
name (``ellipse.residual_p90``, ``colour.colour_g_r``, ...).

Config form (the ``features:`` mapping minus ``kind``)::

    features:
      kind: combine
      extractors:
        - {kind: ellipse, channel: 1}
        - {kind: colour, bands: [g, r, z], channel: 1}
        - {kind: power_spectrum, n_bins: 12, name: power_r, channel: 1}   # name = prefix

An object fails (NaN row) if any part fails for it; its reason names every failing part.
The image parts read each image once for all of them. A part that reads objects of any kind
(``embeddings``: precomputed values joined by id) goes beside parts of any one kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from astroanom.errors import ConfigError
from astroanom.features import READS_ANY
from astroanom.features.image_extractor import N_THREADS, ImageExtractor, image_paths, run_rows
from astroanom.params import Param, Params, declared
from astroanom.sources.imageio import ImageReadError, load_image

Factory = Callable[[str, dict[str, Any]], Any]


def registry_factory(kind: str, params: dict[str, Any]) -> Any:
    """Build one part through the plug-in loader (:mod:`astroanom.plugins`): a built-in short
    name, a registered name or a dotted path."""
    from astroanom import plugins

    return plugins.build("extractor", kind, params)


@declared
class CombinedExtractor:
    """Concatenation of ``extractors`` (a list of ``{kind: ..., name: prefix?, **params}``).

    ``factory(kind, params)`` builds one part (default :func:`registry_factory`, the plug-in
    loader). All parts must read the same kind of object, but for parts reading any kind
    (``reads`` :data:`astroanom.features.READS_ANY`).
    """

    name = "combine"

    PARAMS = Params(
        extractors=Param(
            list,
            description="parts: {kind, name (prefix, optional), parameters}; features "
            "concatenated as <name>.<feature>",
            items={"$ref": "#/$defs/extractor_part"},
            extra={"minItems": 1},
        ),
        n_threads=N_THREADS,
    )
    SHARD_SIZE = 2000

    def __init__(
        self,
        extractors: Sequence[Mapping[str, Any]],
        n_threads: int,
        factory: Factory | None = None,
    ) -> None:
        if not extractors:
            raise ConfigError("features.extractors must list at least one extractor")
        make = factory or registry_factory
        self.parts: list[tuple[str, Any]] = []
        for k, entry in enumerate(extractors):
            if not isinstance(entry, Mapping) or "kind" not in entry:
                raise ConfigError(
                    f"features.extractors[{k}] must be a mapping with a 'kind', got {entry!r}"
                )
            params = {key: v for key, v in entry.items() if key not in ("kind", "name")}
            prefix = str(entry.get("name", entry["kind"]).rsplit(".", 1)[-1])
            if prefix in (p for p, _ in self.parts):
                raise ConfigError(
                    f"features.extractors[{k}]: two parts are called {prefix!r}; give each "
                    "a distinct 'name' (the prefix of its feature names)"
                )
            self.parts.append((prefix, make(str(entry["kind"]), params)))
        reads = {getattr(e, "reads", None) for _, e in self.parts} - {READS_ANY}
        if len(reads) > 1:
            raise ConfigError(
                f"features.extractors read different kinds of objects ({sorted(map(str, reads))}); "
                "combine only extractors of one kind"
            )
        self.reads = reads.pop() if reads else READS_ANY
        if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
            raise ConfigError(f"features.n_threads must be an integer >= 1, got {n_threads!r}")
        self.n_threads = n_threads

    def names(self) -> list[str]:
        return [f"{p}.{n}" for p, e in self.parts for n in e.names()]

    def _one_image(self, path: str, parts: Sequence[int]) -> tuple[np.ndarray | None, str | None]:
        """The image at ``path`` read once, the image ``parts`` (indices) computed on it."""
        try:
            image = load_image(path)
        except ImageReadError as exc:
            return None, f"read: {exc}"
        rows, why = [], []
        for k in parts:
            prefix, part = self.parts[k]
            row, reason = part.compute_safe(image)
            if reason is not None:
                why.append(f"{prefix}: {reason}")
            rows.append(row)
        if why:
            return None, "; ".join(why)
        return np.concatenate(rows), None

    def join_reports(self, ids: Any) -> list[dict[str, Any]]:
        """The parts' reports of how their tables match the objects ``ids`` (e.g.
        ``embeddings``), each with ``part``: its prefix."""
        out: list[dict[str, Any]] = []
        for prefix, part in self.parts:
            hook = getattr(part, "join_reports", None)
            if callable(hook):
                out += [{"part": prefix, **r} for r in hook(ids)]
        return out

    def extract(self, objects: pd.DataFrame) -> tuple[np.ndarray, list[str | None]]:
        """(n, len(names())) float64, NaN rows where any part failed; a reason per object.
        The image parts run together (one read per image), the others on the whole shard."""
        reasons: list[list[str]] = [[] for _ in range(len(objects))]
        blocks: dict[int, np.ndarray] = {}
        images = [k for k, (_, e) in enumerate(self.parts) if isinstance(e, ImageExtractor)]
        if images:
            paths = image_paths(objects, "CombinedExtractor")
            ids = objects["id"].astype(str).tolist()
            widths = [len(self.parts[k][1].names()) for k in images]
            X, why = run_rows(
                lambda p: self._one_image(p, images), paths, ids, self.n_threads, sum(widths)
            )
            for k, block in zip(images, np.split(X, np.cumsum(widths)[:-1], axis=1), strict=True):
                blocks[k] = block
            for i, r in enumerate(why):
                if r is not None:
                    reasons[i].append(r)
        for k, (prefix, part) in enumerate(self.parts):
            if k in blocks:
                continue
            X, why = part.extract(objects)
            blocks[k] = np.asarray(X, dtype=np.float64)
            for i, r in enumerate(why):
                if r is not None:
                    reasons[i].append(f"{prefix}: {r}")
        X = np.hstack([blocks[k] for k in range(len(self.parts))])
        failed = np.array([bool(r) for r in reasons], dtype=bool)
        X[failed] = np.nan
        return X, ["; ".join(r) if r else None for r in reasons]
