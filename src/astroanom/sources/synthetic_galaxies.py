"""Synthetic galaxy cutouts for the embedded default run (no network).

Each object is a (size, size, 3) uint8 RGB image: one or two Sérsic components
(``astropy.modeling.models.Sersic2D``, evaluated in float32 on the pixel box where the profile
is visible) on a sky with Gaussian noise, sometimes with faint field objects well away from the
centre. A fixed fraction of the objects (``kind_rates``; docs/galaxies.md says where each rate
comes from) are of a special kind.

Wanted objects (high "odd" vote fraction):

- ``merger``: two galaxies overlapping or in a close pair;
- ``ring``: a galaxy with an elliptical ring; ``tidal``: a galaxy with a curved tidal tail.

Artefacts (``artefact`` = True; low "odd" fraction, so the oracle rates them 0 or 1):

- ``bright_star``: a saturated star near the galaxy with a broad halo and four diffraction
  spikes;
- ``star``: a bright, saturated foreground star overlapping the galaxy;
- ``edge_cut``: the galaxy cut by the edge of the imaged area (a straight boundary beyond
  which there is no data: pixels 0);
- ``satellite_trail``: a straight bright streak through the field near the galaxy;
- ``saturated_block``: a rectangle of saturated pixels over part of the galaxy.

Every object carries a simulated "odd" vote fraction in [0, 1], drawn per kind (config): high
for the morphological anomalies volunteers call odd, low for normal galaxies and for the
artefacts that an anomaly detector finds but a scientist does not want.

Object ``i`` draws from ``numpy.random.default_rng([seed, i])``, so the set is identical however
many worker processes generate it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from astropy.modeling.models import Sersic2D
from scipy.special import gammaincinv

from astroanom.params import UNSET, Param, Params
from astroanom.procs import worker_pool
from astroanom.progress import Progress

log = logging.getLogger("astroanom.sources.synthetic_galaxies")

NORMAL = "normal"
WANTED_KINDS = ("merger", "ring", "tidal")
ARTEFACT_KINDS = ("bright_star", "star", "edge_cut", "satellite_trail", "saturated_block")
ANOMALY_KINDS = (
    "merger",
    "ring",
    "tidal",
    "star",
    "satellite_trail",
    "saturated_block",
    "bright_star",
    "edge_cut",
)
# Fraction of ALL objects of each kind (docs/galaxies.md, "Composition of the synthetic set").
# Wanted kinds total 3 %: with odd ~ U(0.8, 1.0) half of them (1.5 %) have odd > 0.9, the
# Galaxy Zoo's 924 of 61,578; mergers 1.6 % (Darg et al. 2010: 1-3 per cent). Artefacts 2.5 %.
DEFAULT_KIND_RATES: dict[str, float] = {
    "merger": 0.016,
    "ring": 0.007,
    "tidal": 0.007,
    "bright_star": 0.008,
    "star": 0.006,
    "edge_cut": 0.005,
    "satellite_trail": 0.003,
    "saturated_block": 0.003,
}
# The composition before the artefact-aware set (used when ``anomaly_fraction`` is given).
DEFAULT_KIND_WEIGHTS: dict[str, float] = {
    "merger": 0.35,
    "ring": 0.15,
    "tidal": 0.15,
    "star": 0.15,
    "satellite_trail": 0.1,
    "saturated_block": 0.1,
}
# [low, high] of a uniform odd-vote fraction per kind; normal galaxies use a Beta(a, b).
# Artefacts: odd < 0.25, so U = round(5 * odd) is 0 or 1.
DEFAULT_ODD_RANGES: dict[str, tuple[float, float]] = {
    "merger": (0.8, 1.0),
    "ring": (0.8, 1.0),
    "tidal": (0.8, 1.0),
    "star": (0.0, 0.25),
    "satellite_trail": (0.0, 0.25),
    "saturated_block": (0.0, 0.25),
    "bright_star": (0.0, 0.25),
    "edge_cut": (0.0, 0.25),
}
# The odd fractions of the legacy composition (with ``anomaly_fraction``), so that set is
# reproduced exactly, images and votes.
LEGACY_ODD_RANGES: dict[str, tuple[float, float]] = {
    "merger": (0.85, 1.0),
    "ring": (0.85, 1.0),
    "tidal": (0.8, 1.0),
    "star": (0.05, 0.45),
    "satellite_trail": (0.0, 0.35),
    "saturated_block": (0.0, 0.35),
}
DEFAULT_NORMAL_ODD_BETA = (1.2, 12.0)

#: ``source.kind: synthetic_galaxies``: the declaration of :class:`SyntheticGalaxySource` (and
#: the defaults of :class:`SyntheticGalaxyConfig`).
PARAMS = Params(
    n_objects=Param(int, 5000, "objects in the set", minimum=2),
    size=Param(int, 424, "cutout side in pixels", minimum=32),
    kind_rates=Param(
        dict,
        DEFAULT_KIND_RATES,
        "fraction of all objects of each special kind (docs/galaxies.md: where each rate "
        "comes from)",
        extra={"additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}},
    ),
    anomaly_fraction=Param(
        float,
        UNSET,
        "legacy composition (before issue 12): this fraction split by kind_weights; replaces "
        "kind_rates",
        minimum=0,
        maximum=1,
    ),
    kind_weights=Param(
        dict,
        UNSET,
        "legacy composition's weights",
        extra={"additionalProperties": {"type": "number", "minimum": 0}},
    ),
    sky=Param(float, 6.0, "sky level (0..255 counts)", minimum=0),
    noise=Param(float, 4.0, "noise sd (0..255 counts)", minimum=0),
    jpeg_quality=Param(int, 90, "JPEG quality of the written images", minimum=1, maximum=100),
    image_format=Param(str, "jpg", "format of the written images", enum=("jpg", "png")),
    odd_ranges=Param(
        dict,
        UNSET,
        "kind -> [low, high] of its uniform odd-vote fraction",
        extra={
            "additionalProperties": {
                "type": "array",
                "items": {"type": "number", "minimum": 0, "maximum": 1},
                "minItems": 2,
                "maxItems": 2,
            }
        },
    ),
)


@dataclass
class SyntheticGalaxyConfig:
    """Parameters of the synthetic set (sizes and brightnesses in pixels and 0..255 counts);
    the defaults are those of :data:`PARAMS`."""

    n_objects: int = PARAMS.default("n_objects")
    size: int = PARAMS.default("size")
    kind_rates: dict[str, float] = field(default_factory=lambda: PARAMS.default("kind_rates"))
    # legacy composition: if anomaly_fraction is set, kind_rates = fraction * normalised weights
    anomaly_fraction: float | None = None
    kind_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))
    odd_ranges: dict[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_ODD_RANGES)
    )
    normal_odd_beta: tuple[float, float] = DEFAULT_NORMAL_ODD_BETA
    sky: float = PARAMS.default("sky")
    noise: float = PARAMS.default("noise")
    jpeg_quality: int = PARAMS.default("jpeg_quality")
    image_format: str = PARAMS.default("image_format")

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, object]) -> SyntheticGalaxyConfig:
        known = {k: v for k, v in cfg.items() if k in cls.__dataclass_fields__}
        out = cls(**known)  # type: ignore[arg-type]
        if out.anomaly_fraction is not None and "odd_ranges" not in cfg:
            out.odd_ranges = dict(LEGACY_ODD_RANGES)
        out.odd_ranges = {k: tuple(v) for k, v in out.odd_ranges.items()}  # type: ignore[misc]
        if "kind_rates" in cfg and cfg.get("anomaly_fraction") is not None:
            raise ValueError(
                "synthetic galaxies: give either kind_rates (fraction of all objects per kind) "
                "or the legacy anomaly_fraction + kind_weights, not both"
            )
        bad = (set(out.kind_weights) | set(out.kind_rates)) - set(ANOMALY_KINDS)
        if bad:
            raise ValueError(f"unknown anomaly kind(s) {sorted(bad)}; known: {list(ANOMALY_KINDS)}")
        return out

    def rates(self) -> dict[str, float]:
        """Fraction of all objects per special kind (legacy: fraction x normalised weights)."""
        if self.anomaly_fraction is None:
            rates = {k: float(v) for k, v in self.kind_rates.items() if v > 0}
        else:
            w = {k: float(v) for k, v in self.kind_weights.items() if v > 0}
            total = sum(w.values())
            rates = {k: self.anomaly_fraction * v / total for k, v in w.items()}
        if sum(rates.values()) > 1 or min(rates.values(), default=0) < 0:
            raise ValueError(f"kind rates must be >= 0 and sum to <= 1; got {rates}")
        return rates


def assign_kinds(
    n: int, anomaly_fraction: float, weights: Mapping[str, float], seed: int
) -> np.ndarray:
    """Kind of every object (n,): round(n * fraction) anomalies at random positions, their
    kinds in proportion to ``weights``; the rest "normal"."""
    rng = np.random.default_rng([seed, 2**31 - 1])
    n_anom = int(round(n * anomaly_fraction))
    kinds = np.full(n, NORMAL, dtype=object)
    if n_anom == 0:
        return kinds
    names = [k for k in ANOMALY_KINDS if weights.get(k, 0) > 0]
    w = np.array([weights[k] for k in names], dtype=np.float64)
    counts = np.floor(w / w.sum() * n_anom).astype(int)
    counts[np.argsort(-(w / w.sum() * n_anom - counts))[: n_anom - counts.sum()]] += 1
    where = rng.choice(n, size=n_anom, replace=False)
    kinds[where] = np.repeat(names, counts)
    return kinds


def assign_kinds_by_rate(n: int, rates: Mapping[str, float], seed: int) -> np.ndarray:
    """Kind of every object (n,): ``round(n * rate)`` objects of each kind (in the order of
    :data:`ANOMALY_KINDS`) at seeded random positions; the rest "normal"."""
    rng = np.random.default_rng([seed, 2**31 - 1])
    names = [k for k in ANOMALY_KINDS if rates.get(k, 0) > 0]
    counts = [int(round(n * rates[k])) for k in names]
    if sum(counts) > n:
        raise ValueError(f"kind counts {dict(zip(names, counts, strict=True))} exceed n = {n}")
    kinds = np.full(n, NORMAL, dtype=object)
    where = rng.choice(n, size=sum(counts), replace=False)
    kinds[where] = np.repeat(names, counts)
    return kinds


class _Canvas:
    """A float32 (size, size, 3) RGB image being painted, with float32 pixel coordinates."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.rgb = np.zeros((size, size, 3), dtype=np.float32)

    def _box(
        self, x0: float, y0: float, half: float
    ) -> tuple[slice, slice, np.ndarray, np.ndarray] | None:
        xa, xb = max(int(x0 - half), 0), min(int(x0 + half) + 1, self.size)
        ya, yb = max(int(y0 - half), 0), min(int(y0 + half) + 1, self.size)
        if xa >= xb or ya >= yb:
            return None
        yy, xx = np.mgrid[ya:yb, xa:xb].astype(np.float32)
        return slice(ya, yb), slice(xa, xb), xx, yy

    def add(self, sl: tuple[slice, slice], plane: np.ndarray, colour: np.ndarray) -> None:
        self.rgb[sl[0], sl[1], :] += plane[:, :, None] * colour[None, None, :]

    def sersic(
        self,
        amp: float,
        r_eff: float,
        n: float,
        x0: float,
        y0: float,
        ellip: float,
        theta: float,
        colour: np.ndarray,
        floor: float = 0.3,
    ) -> None:
        """Add a Sérsic profile (surface brightness ``amp`` at ``r_eff``) on the pixels where
        it exceeds ``floor`` counts along the major axis."""
        bn = float(gammaincinv(2.0 * n, 0.5))
        # radius (major axis) where amp * exp(-bn((r/re)^(1/n) - 1)) = floor
        ratio = max(np.log(max(amp, floor * 1.0001) / floor) / bn + 1.0, 1.0)
        half = min(r_eff * ratio**n, float(self.size))
        box = self._box(x0, y0, half)
        if box is None:
            return
        ys, xs, xx, yy = box
        f32 = np.float32
        plane = Sersic2D.evaluate(
            xx, yy, f32(amp), f32(r_eff), f32(n), f32(x0), f32(y0), f32(ellip), f32(theta)
        )
        self.add((ys, xs), plane.astype(np.float32, copy=False), colour)

    def gaussian(self, amp: float, sigma: float, x0: float, y0: float, colour: np.ndarray) -> None:
        box = self._box(x0, y0, 5.0 * sigma)
        if box is None:
            return
        ys, xs, xx, yy = box
        plane = amp * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / np.float32(2 * sigma * sigma))
        self.add((ys, xs), plane, colour)

    def ring(
        self,
        amp: float,
        radius: float,
        width: float,
        x0: float,
        y0: float,
        q: float,
        theta: float,
        colour: np.ndarray,
    ) -> None:
        box = self._box(x0, y0, radius + 4 * width)
        if box is None:
            return
        ys, xs, xx, yy = box
        c, s = np.float32(np.cos(theta)), np.float32(np.sin(theta))
        a = (xx - x0) * c + (yy - y0) * s
        b = ((yy - y0) * c - (xx - x0) * s) / np.float32(q)
        r = np.sqrt(a * a + b * b)
        self.add((ys, xs), amp * np.exp(-0.5 * ((r - radius) / np.float32(width)) ** 2), colour)

    def tail(
        self,
        amp: float,
        x0: float,
        y0: float,
        r0: float,
        length: float,
        phi0: float,
        curl: float,
        width: float,
        colour: np.ndarray,
    ) -> None:
        """A curved tidal tail: Gaussian blobs along a spiral arc fading outwards."""
        steps = max(int(length / (0.7 * width)), 2)
        t = np.linspace(0.0, 1.0, steps)
        radius = r0 + length * t
        phi = phi0 + curl * t
        for k in range(steps):
            self.gaussian(
                amp * (1.0 - 0.7 * t[k]),
                width,
                x0 + radius[k] * np.cos(phi[k]),
                y0 + radius[k] * np.sin(phi[k]),
                colour,
            )


BULGE_COLOUR = np.array([1.0, 0.82, 0.62], dtype=np.float32)
DISC_COLOUR = np.array([0.78, 0.85, 1.0], dtype=np.float32)
STAR_COLOUR = np.array([1.0, 1.0, 0.95], dtype=np.float32)


def _galaxy(
    canvas: _Canvas, rng: np.random.Generator, x0: float, y0: float, scale: float = 1.0
) -> float:
    """Paint one normal galaxy (elliptical, or bulge + disc); return its effective radius."""
    theta = rng.uniform(0, np.pi)
    if rng.random() < 0.4:  # elliptical
        r_eff = scale * np.exp(rng.uniform(np.log(12), np.log(40)))
        canvas.sersic(
            rng.uniform(25, 60),
            r_eff,
            rng.uniform(2.5, 4.5),
            x0,
            y0,
            rng.uniform(0.0, 0.45),
            theta,
            BULGE_COLOUR,
        )
    else:  # disc with a small bulge
        r_eff = scale * np.exp(rng.uniform(np.log(15), np.log(45)))
        ellip = rng.uniform(0.0, 0.75)
        canvas.sersic(
            rng.uniform(20, 45), r_eff, rng.uniform(0.7, 1.5), x0, y0, ellip, theta, DISC_COLOUR
        )
        canvas.sersic(
            rng.uniform(40, 90),
            0.25 * r_eff,
            rng.uniform(2.0, 4.0),
            x0,
            y0,
            min(ellip, 0.3),
            theta,
            BULGE_COLOUR,
        )
    return float(r_eff)


def render(i: int, kind: str, seed: int, cfg: SyntheticGalaxyConfig) -> np.ndarray:
    """Image of object ``i`` of the given kind: (size, size, 3) uint8 RGB."""
    rng = np.random.default_rng([seed, i])
    size = cfg.size
    c = size / 2.0
    canvas = _Canvas(size)
    x0, y0 = c + rng.normal(0, 1.0), c + rng.normal(0, 1.0)
    # faint field objects well away from the centre (removed by the central contour)
    for _ in range(rng.poisson(1.0)):
        r, phi = rng.uniform(0.3 * size, 0.48 * size), rng.uniform(0, 2 * np.pi)
        fx, fy = c + r * np.cos(phi), c + r * np.sin(phi)
        if rng.random() < 0.5:
            canvas.gaussian(rng.uniform(15, 80), rng.uniform(1.0, 2.0), fx, fy, STAR_COLOUR)
        else:
            canvas.sersic(
                rng.uniform(5, 15),
                rng.uniform(2, 5),
                rng.uniform(1, 3),
                fx,
                fy,
                rng.uniform(0, 0.5),
                rng.uniform(0, np.pi),
                DISC_COLOUR,
            )
    r_eff = _galaxy(canvas, rng, x0, y0)
    if kind == "merger":
        sep = rng.uniform(0.8, 2.2) * min(max(r_eff, 10.0), 35.0)
        phi = rng.uniform(0, 2 * np.pi)
        _galaxy(
            canvas, rng, x0 + sep * np.cos(phi), y0 + sep * np.sin(phi), scale=rng.uniform(0.5, 1.0)
        )
        if rng.random() < 0.5:
            canvas.tail(
                rng.uniform(10, 20),
                x0,
                y0,
                0.5 * sep,
                rng.uniform(1.0, 2.0) * sep,
                phi + np.pi,
                rng.choice([-1.5, 1.5]),
                rng.uniform(3, 6),
                DISC_COLOUR,
            )
    elif kind == "ring":
        canvas.ring(
            rng.uniform(15, 35),
            rng.uniform(1.8, 3.0) * min(max(r_eff, 8.0), 35.0),
            rng.uniform(2.5, 5.0),
            x0,
            y0,
            rng.uniform(0.5, 1.0),
            rng.uniform(0, np.pi),
            DISC_COLOUR,
        )
    elif kind == "tidal":
        for sign in (1.0, -1.0) if rng.random() < 0.5 else (1.0,):
            phi0 = rng.uniform(0, 2 * np.pi)
            canvas.tail(
                rng.uniform(15, 30),
                x0,
                y0,
                0.7 * min(max(r_eff, 8.0), 35.0),
                rng.uniform(2.5, 4.5) * min(max(r_eff, 8.0), 35.0),
                phi0 if sign > 0 else phi0 + np.pi,
                sign * rng.uniform(1.5, 3.0),
                rng.uniform(3, 6),
                DISC_COLOUR,
            )
    elif kind == "star":
        d, phi = rng.uniform(0.3, 1.5) * min(max(r_eff, 8.0), 35.0), rng.uniform(0, 2 * np.pi)
        sx, sy = x0 + d * np.cos(phi), y0 + d * np.sin(phi)
        canvas.gaussian(rng.uniform(600, 3000), rng.uniform(1.5, 3.0), sx, sy, STAR_COLOUR)
        canvas.gaussian(rng.uniform(20, 60), rng.uniform(6.0, 12.0), sx, sy, STAR_COLOUR)
    elif kind == "bright_star":
        d, phi = rng.uniform(1.0, 3.0) * min(max(r_eff, 10.0), 35.0), rng.uniform(0, 2 * np.pi)
        sx, sy = x0 + d * np.cos(phi), y0 + d * np.sin(phi)
        canvas.gaussian(rng.uniform(3000, 8000), rng.uniform(2.0, 3.5), sx, sy, STAR_COLOUR)
        canvas.gaussian(rng.uniform(40, 120), rng.uniform(15.0, 35.0), sx, sy, STAR_COLOUR)
        _spikes(canvas, rng, sx, sy)
    rgb = canvas.rgb
    rgb += np.float32(cfg.sky)
    rgb += rng.standard_normal(rgb.shape, dtype=np.float32) * np.float32(cfg.noise)
    if kind == "satellite_trail":
        angle = rng.uniform(0, np.pi)
        off = rng.uniform(-0.8, 0.8) * min(max(r_eff, 8.0), 35.0)
        nx, ny = -np.sin(angle), np.cos(angle)
        px, py = x0 + off * nx, y0 + off * ny
        dx, dy = np.cos(angle) * size, np.sin(angle) * size
        trail = np.zeros((size, size), dtype=np.float32)
        cv2.line(
            trail,
            (int(px - dx), int(py - dy)),
            (int(px + dx), int(py + dy)),
            1.0,
            thickness=int(rng.integers(2, 5)),
            lineType=cv2.LINE_AA,
        )
        rgb += trail[:, :, None] * np.float32(rng.uniform(60, 160))
    elif kind == "saturated_block":
        w, h = rng.integers(12, 45, size=2)
        bx = int(x0 + rng.uniform(-0.8, 0.8) * min(max(r_eff, 8.0), 35.0) - w / 2)
        by = int(y0 + rng.uniform(-0.8, 0.8) * min(max(r_eff, 8.0), 35.0) - h / 2)
        rgb[max(by, 0) : by + h, max(bx, 0) : bx + w, :] = 255.0
    elif kind == "edge_cut":
        # no data beyond a straight boundary at 0.3-1.2 effective radii from the galaxy centre
        angle = rng.uniform(0, 2 * np.pi)
        dist = rng.uniform(0.3, 1.2) * min(max(r_eff, 10.0), 60.0)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        beyond = (xx - x0) * np.float32(np.cos(angle)) + (yy - y0) * np.float32(
            np.sin(angle)
        ) > np.float32(dist)
        rgb[beyond] = 0.0
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _spikes(canvas: _Canvas, rng: np.random.Generator, sx: float, sy: float) -> None:
    """Four diffraction spikes (two perpendicular lines through the star), fading outwards."""
    size = canvas.size
    length = rng.uniform(80, 200)
    amp = rng.uniform(80, 200)
    turn = rng.uniform(0, np.pi / 2)
    lines = np.zeros((size, size), dtype=np.float32)
    for a in (turn, turn + np.pi / 2):
        dx, dy = np.cos(a) * 1.5 * length, np.sin(a) * 1.5 * length
        cv2.line(
            lines,
            (int(round(sx - dx)), int(round(sy - dy))),
            (int(round(sx + dx)), int(round(sy + dy))),
            1.0,
            thickness=int(rng.integers(2, 4)),
            lineType=cv2.LINE_AA,
        )
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    fade = np.exp(-np.hypot(xx - np.float32(sx), yy - np.float32(sy)) / np.float32(length / 2))
    canvas.rgb += (np.float32(amp) * lines * fade)[:, :, None] * STAR_COLOUR[None, None, :]


def odd_fractions(kinds: np.ndarray, cfg: SyntheticGalaxyConfig, seed: int) -> np.ndarray:
    """Simulated fraction of volunteers voting "odd" (n,): per-kind uniform, Beta for normal."""
    rng = np.random.default_rng([seed, 2**31 - 2])
    out = rng.beta(*cfg.normal_odd_beta, size=kinds.size)
    for kind, (lo, hi) in cfg.odd_ranges.items():
        sel = kinds == kind
        out[sel] = rng.uniform(lo, hi, size=int(sel.sum()))
    return np.clip(out, 0.0, 1.0)


def object_id(i: int) -> str:
    return f"syn{i:06d}"


def _write_range(args: tuple[int, int, list[str], int, SyntheticGalaxyConfig, str]) -> int:
    start, stop, kinds, seed, cfg, outdir = args
    params = [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality] if cfg.image_format == "jpg" else []
    for i in range(start, stop):
        img = render(i, kinds[i - start], seed, cfg)
        path = os.path.join(outdir, f"{object_id(i)}.{cfg.image_format}")
        if not cv2.imwrite(path, np.ascontiguousarray(img[:, :, ::-1]), params):
            raise OSError(f"cannot write {path}")
    return stop - start


def generate(
    outdir: str | os.PathLike[str],
    cfg: SyntheticGalaxyConfig,
    seed: int,
    workers: int = 1,
    chunk: int = 250,
) -> pd.DataFrame:
    """Write ``cfg.n_objects`` images ``<id>.jpg`` into ``outdir``; return the catalogue:
    id, image_path (absolute), kind, artefact (kind is an artefact), odd_fraction,
    is_anomaly (odd_fraction > 0.9)."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    n = cfg.n_objects
    if cfg.anomaly_fraction is None:
        kinds = assign_kinds_by_rate(n, cfg.rates(), seed)
    else:
        kinds = assign_kinds(n, cfg.anomaly_fraction, cfg.kind_weights, seed)
    odd = odd_fractions(kinds, cfg, seed)
    jobs = [
        (a, min(a + chunk, n), list(kinds[a : a + chunk]), seed, cfg, str(out))
        for a in range(0, n, chunk)
    ]
    bar = Progress("synthetic galaxy images", n, "images", logger=log)  # <= 20 lines
    if workers > 1 and len(jobs) > 1:
        with worker_pool(workers) as pool:  # workers end with this process (issue 9)
            for k in pool.imap(_write_range, jobs):
                bar.advance(k)
    else:
        for job in jobs:
            bar.advance(_write_range(job))
    bar.done()
    ids = [object_id(i) for i in range(n)]
    return pd.DataFrame(
        {
            "id": ids,
            "image_path": [str((out / f"{x}.{cfg.image_format}").resolve()) for x in ids],
            "kind": kinds.astype(str),
            "artefact": np.isin(kinds.astype(str), ARTEFACT_KINDS),
            "odd_fraction": odd,
            "is_anomaly": odd > 0.9,
        }
    )


class SyntheticGalaxySource:
    """``source.kind: synthetic_galaxies``: the embedded galaxy set, generated into
    ``<workdir>/source/images/`` (kind, odd_fraction and is_anomaly are truth)."""

    object_kind = "image"  # astroanom.kinds: what its objects are

    truth_columns = ("kind", "artefact", "odd_fraction", "is_anomaly")
    PARAMS = PARAMS

    def __init__(self, n_jobs: int = 1, **params: object) -> None:
        if params.get("anomaly_fraction") is not None:  # the legacy composition replaces rates
            params.pop("kind_rates", None)
        self.cfg = SyntheticGalaxyConfig.from_mapping(params)
        self.n_jobs = n_jobs

    def manifest(
        self, workdir: str | os.PathLike[str], seed: int
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        cat = generate(
            Path(workdir) / "source" / "images", self.cfg, seed=seed, workers=self.n_jobs
        )
        log.info(
            "%d synthetic images (%d of an anomalous kind, %d with odd > 0.9)",
            len(cat),
            int((cat["kind"] != NORMAL).sum()),
            int(cat["is_anomaly"].sum()),
        )
        return cat, pd.DataFrame(columns=["id", "stage", "reason"])

    def describe(self) -> dict[str, object]:
        return {
            "description": f"{self.cfg.n_objects} synthetic {self.cfg.size}x{self.cfg.size} galaxy cutouts",
        }
