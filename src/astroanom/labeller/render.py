"""How the labeller shows one object: the object kind's own view (:mod:`astroanom.kinds`; curves
drawn in the page), chosen in one place (:func:`view_for`), and a cached PNG renderer over it.

A view owns everything kind-specific the page needs: whether the object is drawn in the page
from its feature values (curves) or served as a PNG, which display choices a plot request may
carry (images: stretch, band, composite), and the drawing itself (OpenCV for cutouts,
matplotlib for light curves, spectra, table objects and curves). Plain Python, no Flask.
"""

from __future__ import annotations

import io
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


class CurveView(ObjectView):
    """A curve dataset (the simulation): the feature vector against its x values, drawn in the
    page; the PNG (for the map and the export) on one reused figure."""

    draws_in_page = True

    def __init__(self, src: ObjectSource) -> None:
        super().__init__(src)
        m = src.X.shape[1]
        x = src.info.extra.get("x") if isinstance(src.info.extra, dict) else None
        self.x = np.asarray(x, np.float64) if isinstance(x, list) and len(x) == m else np.arange(m)
        self.x = self.x.astype(np.float64)
        self._figure: tuple[Any, Any, Any] | None = None

    def axis(self) -> dict[str, Any]:
        info = self.src.info
        return {"x": self.x.tolist(), "x_label": info.x_label, "y_label": info.y_label}

    def inline(self, i: int) -> list[float | None]:
        return [float(v) if np.isfinite(v) else None for v in self.src.X[i].astype(np.float64)]

    def render(self, i: int, display: dict[str, Any]) -> bytes:
        if self._figure is None:
            from astroanom.labeller.views import new_figure

            fig = new_figure(9, 5)
            ax = fig.add_subplot()
            fig.subplots_adjust(left=0.09, right=0.98, top=0.93, bottom=0.11)
            (line,) = ax.plot(self.x, self.src.X[i], color="#1f4e8c", lw=1.6)
            ax.set_xlabel(self.src.info.x_label)
            ax.set_ylabel(self.src.info.y_label)
            ax.grid(alpha=0.3)
            self._figure = (fig, ax, line)
        fig, ax, line = self._figure
        line.set_ydata(self.src.X[i])
        ax.relim()
        ax.autoscale_view()
        ax.set_title(f"object {self.src.ids[i]}")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
        return buf.getvalue()


class KindView(ObjectView):
    """Every other kind: drawn by its object kind's labeller view
    (:meth:`astroanom.kinds.base.ObjectKind.labeller_view`), over the objects already read."""

    def __init__(self, src: ObjectSource, kind: ObjectKind) -> None:
        super().__init__(src)
        self.kind = kind
        self.display_choices = kind.display_options
        self.serialised = not kind.view_thread_safe
        self._view: View | None = None
        self._lock = threading.Lock()

    def parse_display(self, query: Mapping[str, str]) -> dict[str, Any]:
        if not self.display_choices:
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


def view_for(src: ObjectSource) -> ObjectView:
    """The view of the dataset's objects, from the kind recorded in ``dataset.json`` (the one
    place the labeller dispatches on it; an unregistered kind is shown as table rows)."""
    try:
        kind = kinds.get(src.info.kind)
    except kinds.UnknownKindError:
        kind = kinds.get(kinds.FALLBACK)
    if kind.values_in_page:
        return CurveView(src)
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
