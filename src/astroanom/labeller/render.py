"""How the labeller shows one object: the object kind's own view (:mod:`astroanom.kinds`; curves
drawn in the page), chosen in one place (:func:`view_for`), and a cached PNG renderer over it.

A view owns everything kind-specific the page needs: whether the object is drawn in the page
from its feature values (curves) or served as a PNG, which display choices a plot request may
carry (images: stretch, band, composite), and the drawing itself (OpenCV for cutouts,
matplotlib for light curves, spectra, table objects and curves). Plain Python, no Flask.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from astroanom import kinds
from astroanom.errors import AstroanomError
from astroanom.kinds.base import ObjectKind, RunObjects, View
from astroanom.kinds.curve import x_values
from astroanom.store import dataset as ds


class BadDisplayError(AstroanomError, ValueError):
    """Display choices that do not fit the object (e.g. band 99 of a 3-band image): a 400."""


class ObjectSource(Protocol):
    """What a view reads of the dataset (:class:`astroanom.labeller.session.LabellerData`)."""

    dir: Path
    info: ds.DatasetInfo
    ids: np.ndarray
    X: np.ndarray
    feature_names: list[str]
    objects: pd.DataFrame

    def row(self, oid: object) -> int:
        """Row of an id (raises for one that is not an object of the dataset)."""
        ...


def object_row(src: ObjectSource, i: int) -> pd.Series:
    """Row ``i`` of the objects table as objects, with its ``id``."""
    row = src.objects.iloc[i].astype(object)
    row["id"] = src.ids[i]
    return row


class ObjectView:
    """The default view: an object drawn from its feature values (subclasses override)."""

    #: the page draws the object itself from ``/api/object``'s ``curve`` values
    draws_in_page = False
    #: the page offers the image display choices (stretch, band, composite)
    display_choices = False
    #: the page offers folding on the period (light curves: ``fold=on|off``)
    foldable = False
    #: drawing uses matplotlib, whose font and text caches are not thread-safe
    serialised = True

    def __init__(self, src: ObjectSource) -> None:
        self.src = src

    def parse_display(self, query: Mapping[str, str]) -> dict[str, Any]:
        """Validated display choices of a plot request (none for this view)."""
        del query
        return {}

    def axis(self) -> dict[str, Any] | None:
        """x values and axis labels for a view drawn in the page (None otherwise)."""
        return None

    def inline(self, i: int) -> list[float | None] | None:
        """The values the page draws for object ``i`` (None when it shows the PNG)."""
        del i
        return None

    def render(self, i: int, display: dict[str, Any]) -> bytes:
        """PNG bytes of object ``i``."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Do the one-time work of drawing now (the server calls it at start), so that the
        first plot request does not pay for it while others wait."""


class KindView(ObjectView):
    """Every other kind: drawn by its object kind's labeller view
    (:meth:`astroanom.kinds.base.ObjectKind.labeller_view`), over the objects already read."""

    def __init__(self, src: ObjectSource, kind: ObjectKind) -> None:
        super().__init__(src)
        self.kind = kind
        self.display_choices = kind.display_options
        self.foldable = kind.fold_option
        self.serialised = not kind.view_thread_safe
        self._view: View | None = None
        self._lock = threading.Lock()

    def parse_display(self, query: Mapping[str, str]) -> dict[str, Any]:
        if not (self.display_choices or self.foldable):
            return {}
        try:
            return self.kind.parse_display(query)
        except ValueError as err:
            raise BadDisplayError(str(err)) from None

    def _kind_view(self) -> View:
        with self._lock:  # built once (a table's population view prepares every object)
            if self._view is None:
                objects = self.src.objects.copy(deep=False)
                objects["id"] = np.asarray(self.src.ids).astype(str)
                objects.index = pd.Index(objects["id"], name=None)
                run = RunObjects(self.src.dir, asdict(self.src.info), objects)
                self._view = self.kind.labeller_view(run)
            return self._view

    def prepare(self) -> None:
        self._kind_view()

    def render(self, i: int, display: dict[str, Any]) -> bytes:
        try:
            return self._kind_view()(str(self.src.ids[i]), display)
        except ValueError as err:  # choices the object cannot take (band 99 of a 3-band image)
            if isinstance(err, AstroanomError):
                raise
            raise BadDisplayError(str(err)) from None


class _RowsById:
    """``table.loc[id]`` over the labeller's (memory-mapped) feature matrix: the one look-up a
    curve's view makes in the feature table, without reading that table into pandas (at 10M
    objects its values, a copy and an index of 10M Python strings: ~3 GB in the server)."""

    def __init__(self, src: ObjectSource) -> None:
        self.src = src

    @property
    def loc(self) -> _RowsById:
        return self

    def __getitem__(self, oid: str) -> pd.Series:
        i = self.src.row(oid)
        return pd.Series(np.asarray(self.src.X[i], dtype=np.float64), index=self.src.feature_names)


class CurveView(KindView):
    """A curve dataset (the simulation): the feature vector against its x values, drawn in the
    page; its PNG (for the map and the export) is the curve kind's view, reading the values the
    labeller holds (:class:`_RowsById`) rather than the feature table again."""

    draws_in_page = True

    def __init__(self, src: ObjectSource, kind: ObjectKind) -> None:
        super().__init__(src, kind)
        self.x = x_values(asdict(src.info), src.X.shape[1])

    def _kind_view(self) -> View:
        with self._lock:
            if self._view is None:
                run = RunObjects(self.src.dir, asdict(self.src.info), pd.DataFrame())
                rows: Any = _RowsById(self.src)
                run._features[False] = (rows, list(self.src.feature_names))
                self._view = self.kind.labeller_view(run)
            return self._view

    def axis(self) -> dict[str, Any]:
        info = self.src.info
        return {"x": self.x.tolist(), "x_label": info.x_label, "y_label": info.y_label}

    def inline(self, i: int) -> list[float | None]:
        return [float(v) if np.isfinite(v) else None for v in self.src.X[i].astype(np.float64)]


def view_for(src: ObjectSource) -> ObjectView:
    """The view of the dataset's objects, from the kind recorded in ``dataset.json`` (the one
    place the labeller dispatches on it; an unregistered kind is shown as table rows)."""
    try:
        kind = kinds.get(src.info.kind)
    except kinds.UnknownKindError:
        kind = kinds.get(kinds.FALLBACK)
    if kind.values_in_page:
        return CurveView(src, kind)
    return KindView(src, kind)


class PngCache:
    """A small thread-safe LRU cache of rendered PNG bytes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[object, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object, make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        png = make()
        with self._lock:
            self._data[key] = png
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return png


class Renderer:
    """PNGs of a view, rendered once per (row, display choices) and cached; matplotlib views
    are drawn one at a time."""

    def __init__(self, view: ObjectView, cache_size: int) -> None:
        self.view = view
        self._cache = PngCache(cache_size)
        self._lock = threading.Lock()

    def png(self, i: int, display: dict[str, Any] | None = None) -> bytes:
        display = display or {}
        key = (i, tuple(sorted(display.items())))
        return self._cache.get(key, lambda: self._draw(i, display))

    def _draw(self, i: int, display: dict[str, Any]) -> bytes:
        if not self.view.serialised:
            return self.view.render(i, display)
        with self._lock:
            return self.view.render(i, display)
