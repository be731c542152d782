"""Follow-up links: exact URLs for M31's position, encoding, and bad positions."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from astroanom.links import coord_text, follow_up_links, links_for

M31 = (10.684708, 41.268750)


def test_exact_urls_for_m31():
    links = follow_up_links(*M31)
    assert list(links) == ["simbad", "vizier", "aladin", "legacy"]
    assert links["simbad"] == (
        "https://simbad.cds.unistra.fr/simbad/sim-coo?Coord=10.684708+%2B41.268750"
        "&CooFrame=ICRS&CooEpoch=2000&CooEqui=2000&Radius=10&Radius.unit=arcsec"
        "&submit=submit+query"
    )
    assert links["vizier"] == (
        "https://vizier.cds.unistra.fr/viz-bin/VizieR?-c=10.684708+%2B41.268750&-c.rs=10&-c.u=arcsec"
    )
    assert links["aladin"] == (
        "https://aladin.cds.unistra.fr/AladinLite/?target=10.684708+%2B41.268750&fov=0.05"
        "&survey=P%2FDSS2%2Fcolor"
    )
    assert links["legacy"] == (
        "https://www.legacysurvey.org/viewer?ra=10.684708&dec=41.268750&layer=ls-dr10&zoom=16"
        "&mark=10.684708%2C41.268750"
    )


def test_encoding_round_trips_and_southern_negative_ra():
    """The '+' of a northern Dec is %2B (a bare '+' would decode to a space); a negative RA is
    wrapped onto [0, 360); decoding the query gives back the coordinate text."""
    links = follow_up_links(-0.5, -30.1, radius_arcsec=2.5)
    q = parse_qs(urlsplit(links["simbad"]).query)
    assert q["Coord"] == ["359.500000 -30.100000"] and q["Radius"] == ["2.5"]
    assert parse_qs(urlsplit(follow_up_links(*M31)["aladin"]).query)["target"] == [
        "10.684708 +41.268750"
    ]
    assert coord_text(360.0, 0.0) == "0.000000 +0.000000"
    for url in links.values():
        assert " " not in url and url.startswith("https://")


@pytest.mark.parametrize("ra, dec", [(float("nan"), 1.0), (1.0, 91.0), ("x", 0.0), (None, 0.0)])
def test_bad_positions_are_refused(ra, dec):
    with pytest.raises(ValueError, match="RA"):
        follow_up_links(ra, dec)


def test_links_for_a_table_row():
    assert links_for({"ra": M31[0], "dec": M31[1]}) == follow_up_links(*M31)
    assert links_for({"ra": float("nan"), "dec": 1.0}) is None
    assert links_for({"id": "x"}) is None
