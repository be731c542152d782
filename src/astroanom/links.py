"""Follow-up links for a sky position: Simbad and VizieR (CDS) cone searches, Aladin Lite and the
Legacy Surveys viewer. Only URLs are built (no request is made); every query value is
percent-encoded, so the links are safe to put in an HTML ``href``.

Coordinates are ICRS degrees, written with 6 decimals (0.0036 arcsec).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from urllib.parse import urlencode

SIMBAD = "https://simbad.cds.unistra.fr/simbad/sim-coo"
VIZIER = "https://vizier.cds.unistra.fr/viz-bin/VizieR"
ALADIN = "https://aladin.cds.unistra.fr/AladinLite/"
LEGACY = "https://www.legacysurvey.org/viewer"


def check_position(ra: float, dec: float) -> tuple[float, float]:
    """(ra, dec) as floats with ra in [0, 360); :class:`ValueError` naming the bad value."""
    try:
        r, d = float(ra), float(dec)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"RA/Dec must be numbers in degrees, got {ra!r}, {dec!r}") from exc
    if not (math.isfinite(r) and math.isfinite(d)) or not -90.0 <= d <= 90.0:
        raise ValueError(f"no valid sky position: RA {ra!r}, Dec {dec!r} (degrees)")
    return r % 360.0, d


def coord_text(ra: float, dec: float) -> str:
    """``"10.684708 +41.268750"``: decimal degrees, Dec with its sign."""
    r, d = check_position(ra, dec)
    return f"{r:.6f} {d:+.6f}"


def follow_up_links(
    ra: float,
    dec: float,
    radius_arcsec: float = 10.0,
    fov_deg: float = 0.05,
    zoom: int = 16,
    aladin_survey: str = "P/DSS2/color",
    legacy_layer: str = "ls-dr10",
) -> dict[str, str]:
    """Links for (``ra``, ``dec``) in degrees, in display order:

    - ``simbad``: Simbad objects within ``radius_arcsec``;
    - ``vizier``: VizieR catalogue entries within ``radius_arcsec``;
    - ``aladin``: Aladin Lite centred there, field of view ``fov_deg``, HiPS ``aladin_survey``;
    - ``legacy``: the Legacy Surveys viewer at ``zoom`` with layer ``legacy_layer`` and the
      position marked.
    """
    r, d = check_position(ra, dec)
    pos = coord_text(r, d)
    rad = f"{float(radius_arcsec):g}"
    simbad = {
        "Coord": pos,
        "CooFrame": "ICRS",
        "CooEpoch": "2000",
        "CooEqui": "2000",
        "Radius": rad,
        "Radius.unit": "arcsec",
        "submit": "submit query",
    }
    vizier = {"-c": pos, "-c.rs": rad, "-c.u": "arcsec"}
    aladin = {"target": pos, "fov": f"{float(fov_deg):g}", "survey": aladin_survey}
    legacy = {
        "ra": f"{r:.6f}",
        "dec": f"{d:.6f}",
        "layer": legacy_layer,
        "zoom": str(int(zoom)),
        "mark": f"{r:.6f},{d:.6f}",
    }
    return {
        "simbad": f"{SIMBAD}?{urlencode(simbad)}",
        "vizier": f"{VIZIER}?{urlencode(vizier)}",
        "aladin": f"{ALADIN}?{urlencode(aladin)}",
        "legacy": f"{LEGACY}?{urlencode(legacy)}",
    }


def links_for(row: Mapping[str, object], **options: object) -> dict[str, str] | None:
    """:func:`follow_up_links` for an objects-table row with finite ``ra``/``dec``, else None
    (no coordinates: nothing to link)."""
    try:
        return follow_up_links(row["ra"], row["dec"], **options)  # type: ignore[arg-type]
    except (KeyError, ValueError):
        return None


LINK_TITLES = {
    "simbad": "Simbad (CDS)",
    "vizier": "VizieR (CDS)",
    "aladin": "Aladin Lite",
    "legacy": "Legacy Surveys viewer",
}
