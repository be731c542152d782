"""The artefact-aware synthetic galaxy set: counts per kind from the stated rates, the
artefact flag, odd fractions the oracle rates 0..1 for artefacts, what each artefact paints."""

import numpy as np
import pytest

from astroanom.active.oracle import FractionOracle
from astroanom.sources.synthetic_galaxies import (
    ARTEFACT_KINDS,
    DEFAULT_KIND_RATES,
    WANTED_KINDS,
    SyntheticGalaxyConfig,
    assign_kinds_by_rate,
    generate,
    render,
)


def test_default_rates_give_rounded_counts():
    kinds = assign_kinds_by_rate(5000, DEFAULT_KIND_RATES, seed=3)
    for kind, rate in DEFAULT_KIND_RATES.items():
        assert (kinds == kind).sum() == round(5000 * rate)
    assert (kinds != "normal").sum() == 80 + 35 + 35 + 40 + 30 + 25 + 15 + 15
    wanted = sum(DEFAULT_KIND_RATES[k] for k in WANTED_KINDS)
    assert wanted == pytest.approx(0.03)  # half of it above odd 0.9: 1.5 % (GZ: 924/61578)
    assert set(DEFAULT_KIND_RATES) == set(WANTED_KINDS) | set(ARTEFACT_KINDS)


def test_catalogue_flags_artefacts_and_oracle_rates_them_low(tmp_path):
    rates = {k: 1 / 8 for k in DEFAULT_KIND_RATES}  # one of each kind in 8 objects
    cfg = SyntheticGalaxyConfig(n_objects=16, size=96, kind_rates=rates)
    cat = generate(tmp_path, cfg, seed=2, workers=1, chunk=8)
    assert sorted(cat["kind"].value_counts().to_dict().items()) == sorted(
        {k: 2 for k in rates}.items()
    )
    assert (cat["artefact"] == cat["kind"].isin(ARTEFACT_KINDS)).all()
    u = FractionOracle(cat["odd_fraction"].to_numpy())(np.arange(len(cat)))
    assert set(u[cat["artefact"].to_numpy()]) <= {0, 1}
    assert set(u[cat["kind"].isin(WANTED_KINDS).to_numpy()]) <= {4, 5}


def test_both_compositions_rejected():
    with pytest.raises(ValueError, match="either kind_rates"):
        SyntheticGalaxyConfig.from_mapping({"kind_rates": {"merger": 0.1}, "anomaly_fraction": 0.1})
    with pytest.raises(ValueError, match="unknown anomaly kind"):
        SyntheticGalaxyConfig.from_mapping({"kind_rates": {"ufo": 0.1}})


def test_edge_cut_and_bright_star_paint_what_they_say():
    cfg = SyntheticGalaxyConfig()
    normal = render(5, "normal", 1, cfg)
    cut = render(5, "edge_cut", 1, cfg)
    # no data beyond the boundary: a large region of exact zeros (the sky is ~6 +- 4 elsewhere)
    assert (cut == 0).all(axis=2).mean() > 0.1 and (normal == 0).all(axis=2).mean() < 0.01
    star = render(5, "bright_star", 1, cfg)
    sat = (star == 255).all(axis=2)
    assert sat.sum() > 5  # a saturated core
    ys, xs = np.nonzero(sat)
    assert np.hypot(xs.mean() - 212, ys.mean() - 212) > 8  # beside, not on, the galaxy centre
    # diffraction spikes: many pixels > 20 counts brighter than without the star, 40+ px from it
    diff = (star.astype(int) - normal.astype(int))[:, :, 0]
    yy, xx = np.mgrid[0:424, 0:424]
    far = np.hypot(xx - xs.mean(), yy - ys.mean()) > 40
    assert (diff[far] > 20).sum() > 100
