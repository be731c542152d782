"""The interface every object kind implements, and the run directory's objects as kinds read
them (:class:`RunObjects`). Light to import: numpy, pandas and matplotlib load inside functions."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from astroanom.errors import AstroanomError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure

PathLike = str | os.PathLike[str]
#: id -> PNG bytes; the labeller's views also take the display choices.
Renderer = Callable[[str], bytes]
View = Callable[[str, Mapping[str, Any]], bytes]


@dataclass
class RunObjects:
    """One run directory's objects: ``dataset.json`` (as a dict), ``objects.parquet`` indexed by
    id (str), and, read on first use, the feature tables (``features.parquet`` as the detector
    saw them, ``features_raw.parquet`` as extracted)."""

    directory: Path
    info: dict[str, Any]
    objects: pd.DataFrame
    _features: dict[bool, tuple[pd.DataFrame, list[str]]] = field(default_factory=dict)

    @classmethod
    def open(cls, directory: PathLike, info: Mapping[str, Any] | None = None) -> RunObjects:
        """Read a run directory (``info``: its ``dataset.json``, read if not given)."""
        import json

        import pandas as pd

        from astroanom.store import dataset as ds

        d = Path(directory)
        if info is None:
            path = d / ds.DATASET_JSON
            if not path.is_file():
                raise AstroanomError(
                    f"{path} not found: {d} is not a run directory written by the workflow "
                    "(it records the kind of its objects there; run snakemake first)"
                )
            info = json.loads(path.read_text(encoding="utf-8"))
        objects = pd.read_parquet(d / ds.OBJECTS)
        objects["id"] = objects["id"].astype(str)
        return cls(d, dict(info), objects.set_index("id", drop=False))

    @property
    def extra(self) -> dict[str, Any]:
        extra = self.info.get("extra")
        return extra if isinstance(extra, dict) else {}

    def row(self, oid: str) -> pd.Series:
        """The object's manifest row (with ``id``); a clear error for an unknown id."""
        try:
            return self.objects.loc[str(oid)]
        except KeyError:
            raise AstroanomError(f"object {oid!r} is not in {self.directory}") from None

    def file(self, oid: str, column: str) -> Path:
        """The object's file named in ``column``, relative paths against the run directory,
        then the working directory."""
        if column not in self.objects.columns:
            raise AstroanomError(
                f"{self.directory}/objects.parquet has no {column} column, which objects of kind "
                f"{self.info.get('kind')!r} need"
            )
        p = Path(str(self.row(oid)[column]))
        if p.is_absolute():
            return p
        for base in (self.directory, Path.cwd()):
            if (base / p).is_file():
                return base / p
        return self.directory / p

    def features(self, raw: bool = False) -> tuple[pd.DataFrame, list[str]]:
        """(feature table indexed by id, feature names): ``raw`` the values as extracted
        (``features_raw.parquet``, if the run has it), else as the detector saw them."""
        if raw not in self._features:
            import pandas as pd

            from astroanom.store import dataset as ds
            from astroanom.store.io import feature_columns

            path = self.directory / "features_raw.parquet"
            if not raw or not path.is_file():
                path = self.directory / ds.FEATURES
            if not path.is_file():
                raise AstroanomError(f"{path} not found: run the workflow for this dataset first")
            df = pd.read_parquet(path)
            df["id"] = df["id"].astype(str)
            cols = feature_columns(df)
            names = self.extra.get("feature_names")
            names = [str(n) for n in names] if isinstance(names, list) else list(cols)
            if len(names) != len(cols):
                names = list(cols)
            df = df.set_index("id")[cols]
            df.columns = names
            self._features[raw] = (df, names)
        return self._features[raw]


@dataclass
class TopObjects:
    """What the top-objects figure shows: ``rows`` (rank order) of the run's objects, their
    ids, S^ and the figure's title; ``objects`` and ``X`` (n, m) are aligned row for row with
    the whole run, ``names`` the m feature names, ``info`` its ``dataset.json``."""

    objects: pd.DataFrame
    X: Callable[[], np.ndarray]
    names: Callable[[], Sequence[str]]
    rows: np.ndarray
    ids: np.ndarray
    scores: np.ndarray
    title: str
    info: dict[str, Any]


class ObjectKind:
    """What an object kind owns (subclass per kind; one instance ``KIND`` per module).

    - ``name``, ``plural`` (for people: "images"), ``columns``: the manifest columns its loader
      needs (:meth:`check_manifest`);
    - ``default_features``: the ``features:`` mapping used when a dataset gives none;
    - :meth:`load`: one object's data for display;
    - :meth:`labeller_view`: a renderer (id, display choices) -> PNG for the labeller;
    - :meth:`thumbnail`: the export's small PNG of one object;
    - :meth:`top_figure`: the top-objects overview figure;
    - ``values_in_page``: the labeller draws the feature values itself (curves), and
      ``display_options``: the object has display choices (:meth:`parse_display`, images);
      ``view_thread_safe``: its labeller view needs no lock (it draws without matplotlib).
    """

    name: ClassVar[str] = ""
    plural: ClassVar[str] = "objects"
    columns: ClassVar[tuple[str, ...]] = ()
    default_features: ClassVar[Mapping[str, Any]] = {}
    values_in_page: ClassVar[bool] = False
    display_options: ClassVar[bool] = False
    #: the labeller view may draw several objects at once (no matplotlib)
    view_thread_safe: ClassVar[bool] = False
    #: the labeller may draw the object folded on a period or not (``fold=on|off``)
    fold_option: ClassVar[bool] = False

    def __repr__(self) -> str:
        return f"<object kind {self.name}>"

    def check_manifest(self, columns: Sequence[str], source: str) -> None:
        """Raise naming the source if its manifest lacks a column this kind reads."""
        missing = [c for c in self.columns if c not in set(columns)]
        if missing:
            raise AstroanomError(
                f"source {source!r} declares objects of kind {self.name!r} but its manifest has "
                f"no column(s) {missing} (columns: {list(columns)[:20]})"
            )

    def parse_display(self, query: Mapping[str, str]) -> dict[str, Any]:
        """Validated display choices from request parameters (none for most kinds)."""
        return {}

    def load(self, run: RunObjects, oid: str) -> Any:
        """One object's data for display (default: its feature values as extracted)."""
        feats, _ = run.features(raw=True)
        return feats.loc[str(oid)]

    def labeller_view(self, run: RunObjects) -> View:
        """(id, display choices) -> PNG bytes for the labeller (default: the thumbnail)."""
        return lambda oid, display: self.thumbnail(run, oid, display)

    def thumbnail(self, run: RunObjects, oid: str, display: Mapping[str, Any]) -> bytes:
        """A small PNG of one object for the export page: :meth:`draw` on a 4 x 2.6 inch
        figure (a kind drawn otherwise, e.g. images, overrides this)."""
        fig, ax = small_axes(str(oid), height=self.thumbnail_height(run))
        self.draw(ax, run, oid)
        fig.tight_layout()
        return png_of(fig)

    def thumbnail_height(self, run: RunObjects) -> float:
        """Height of the thumbnail in inches."""
        return 2.6

    def draw(self, ax: Any, run: RunObjects, oid: str) -> Any:
        """Draw one object on the matplotlib axes ``ax`` (for the thumbnail); returns ``ax``."""
        raise NotImplementedError(f"object kind {self.name!r} does not draw on axes")

    def top_figure(self, top: TopObjects) -> Figure:
        """The top objects (default: their features as z-scores against the whole run)."""
        from astroanom.plots import overview

        return overview.top_features(top.X(), top.rows, top.ids, top.names(), top.title)


# -- small drawing helpers shared by the kinds ---------------------------------------------------


def new_figure(width: float, height: float, dpi: int = 80) -> Figure:
    """A figure on its own Agg canvas (never registered with pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def png_of(fig: Figure) -> bytes:
    """PNG bytes of ``fig`` at its own size and dpi, whatever the global matplotlib settings."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"savefig.bbox": "standard", "savefig.dpi": "figure"}):
        fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
    fig.clear()
    return buf.getvalue()


def small_axes(title: str, width: float = 4.0, height: float = 2.6) -> tuple[Figure, Any]:
    """A thumbnail figure and its axes (the export's 4 x 2.6 inch, 80 dpi cards)."""
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    return fig, ax
