"""How the labeller shows one object: one view class per kind of object, chosen in one place
(:func:`view_for`), and a cached, serialised PNG renderer over it.

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
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from astroanom.errors import AstroanomError
from astroanom.store import dataset as ds

#: longest side (pixels) of a cutout as the labeller serves it; larger images are reduced
#: (area average) before their colours are mapped, so a huge cutout costs no more to send
MAX_DISPLAY_PX = 1024


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


class LightCurveView(ObjectView):
    """A light curve: points with error bars per band (``lc_path`` of the objects table)."""

    def render(self, i: int, display: dict[str, Any]) -> bytes:
        from astroanom.labeller.views.light_curve import light_curve_png

        x_label = self.src.info.x_label
        return light_curve_png(
            object_row(self.src, i), time_label=x_label if x_label != "x" else "time"
        )


class SpectrumView(ObjectView):
    """A spectrum: flux against wavelength (``spectrum_path`` of the objects table)."""

    def render(self, i: int, display: dict[str, Any]) -> bytes:
        from astroanom.labeller.views.spectrum import spectrum_png

        return spectrum_png(object_row(self.src, i))


class TableView(ObjectView):
    """A table row: its values beside the population's distribution, the source's own columns
    when the objects table holds them, else the features (the population is prepared once)."""

    def __init__(self, src: ObjectSource) -> None:
        super().__init__(src)
        self._population: Any = None

    def render(self, i: int, display: dict[str, Any]) -> bytes:
        from astroanom.labeller.views.table import PopulationView, imputed_columns

        src = self.src
        if self._population is None:
            names = [n for n in src.feature_names if n in src.objects.columns]
            if names:
                pop = src.objects[names]
            else:
                pop = pd.DataFrame(src.X, columns=src.feature_names, index=src.objects.index)
            self._population = PopulationView(pop)
        row = object_row(src, i)
        names = list(self._population.columns)
        if set(names) <= set(row.index):
            values = row[names]
        else:
            values = pd.Series(src.X[i], index=src.feature_names)
        return self._population.png(values, str(src.ids[i]), imputed_columns(row))


class ImageView(ObjectView):
    """A cutout, read as the feature pipeline reads it and reduced to :data:`MAX_DISPLAY_PX`
    before display. OpenCV only (thread-safe), so it is not serialised with the plots."""

    display_choices = True
    serialised = False

    def parse_display(self, query: Mapping[str, str]) -> dict[str, Any]:
        from astroanom.labeller.views.image import parse_display

        try:
            return parse_display(query)
        except ValueError as err:
            raise BadDisplayError(str(err)) from None

    def image_file(self, i: int) -> Path:
        """The cutout's file: absolute, or relative to the run directory or the working one."""
        src = self.src
        if "image_path" not in src.objects.columns:
            raise AstroanomError(f"{src.dir / ds.OBJECTS} has no image_path column")
        p = Path(str(src.objects["image_path"].iloc[i]))
        if p.is_absolute():
            return p
        for base in (src.dir, Path.cwd()):
            if (base / p).is_file():
                return base / p
        return src.dir / p

    def render(self, i: int, display: dict[str, Any]) -> bytes:
        """With display choices through :func:`astroanom.labeller.views.image.display_array`;
        without, 8-bit images as they are and other data (FITS, 16-bit PNG) stretched from the
        0.5 to the 99.5 percentile."""
        from astroanom.labeller.views.image import png_bytes, reduce_to, render_image
        from astroanom.sources.imageio import load_image

        path, oid = self.image_file(i), self.src.ids[i]
        try:
            img = reduce_to(load_image(path), MAX_DISPLAY_PX)
        except Exception as err:  # ImageReadError and decoder errors alike
            raise AstroanomError(f"cannot read image {path} of object {oid}: {err}") from err
        if display:
            try:
                return render_image(img, **display)
            except ValueError as err:  # choices the image cannot take (band 99 of 3)
                raise BadDisplayError(f"object {oid}: {err}") from None
        if img.dtype != np.uint8:
            a = np.nan_to_num(np.asarray(img, dtype=np.float64))
            lo, hi = np.percentile(a, [0.5, 99.5])
            img = np.clip((a - lo) / (hi - lo if hi > lo else 1.0) * 255, 0, 255).astype(np.uint8)
        if img.ndim == 3:
            img = img[:, :, :3] if img.shape[2] >= 3 else img[:, :, 0]
        return png_bytes(img)


def view_for(src: ObjectSource) -> ObjectView:
    """The view of the dataset's objects: the one place the labeller dispatches on the kind."""
    kind, columns = src.info.kind, src.objects.columns
    if kind == "image":
        return ImageView(src)
    if "lc_path" in columns:
        return LightCurveView(src)
    if "spectrum_path" in columns:
        return SpectrumView(src)
    if kind == "table":
        return TableView(src)
    return CurveView(src)


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
