"""The five-class generator: counts, noise, parameter distributions, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from astroanom.errors import ConfigError
from astroanom.sources.simulation import simulate

COUNTS = {0: 3000, 1: 3000, 2: 400, 3: 400, 4: 400}


@pytest.fixture(scope="module")
def data(paper_preset):
    return simulate(paper_preset, COUNTS, seed=11)


def test_shapes_counts_dtype(data):
    assert data.features.shape == (7200, 100)
    assert data.features.dtype == np.float32
    for c, n in COUNTS.items():
        assert int((data.classes == c).sum()) == n
    np.testing.assert_array_equal(data.ids, np.arange(7200))
    assert (data.params["id"] == data.ids).all()


def test_noise_sd_is_0_1(data):
    # class 1 curves are a x^2 + b x + c + noise: subtract the drawn parabola, the rest is noise
    x = np.linspace(0, 1, 100)
    sel = data.classes == 1
    p = data.params[sel]
    truth = (
        p["a"].to_numpy()[:, None] * x**2
        + p["b"].to_numpy()[:, None] * x
        + p["c"].to_numpy()[:, None]
    )
    resid = data.features[sel] - truth
    assert resid.std() == pytest.approx(0.1, rel=0.01)
    assert abs(resid.mean()) < 0.002


def test_parameter_means_and_sds(data):
    p = data.params
    # Normal(mean, sd) with n draws: the sample mean is within 4 sd/sqrt(n) of the mean
    checks = [
        (0, "omega", 5, 2),
        (1, "a", 0.5, 0.2),
        (2, "h", 1.0, 0.3),
        (2, "x0", 0.5, 0.2),
        (3, "A", 1.0, 0.5),
        (3, "mu", 0.5, 0.2),
        (3, "w", 0.1, 0.05),
        (4, "omega3", 30, 20),
    ]
    for cls, name, mean, sd in checks:
        v = p.loc[p["class"] == cls, name].to_numpy()
        assert abs(v.mean() - mean) < 4 * sd / np.sqrt(v.size), (cls, name)
        assert v.std(ddof=1) == pytest.approx(sd, rel=0.12), (cls, name)


def test_step_function_by_hand():
    spec = {2: {"form": "step", "params": {"h": [2.0, 0.0], "x0": [0.5, 0.0]}}}
    d = simulate(spec, {2: 3}, seed=0, n_x=5, noise_sd=0.0)
    # x = 0, .25, .5, .75, 1 ; h = 2 where x <= 0.5
    np.testing.assert_array_equal(d.features, np.tile([2, 2, 2, 0, 0], (3, 1)).astype(np.float32))


def test_sum_of_sines_by_hand():
    spec = {4: {"form": "sum_of_sines", "params": {"omega": [np.pi, 0.0]}}}
    d = simulate(spec, {4: 1}, seed=0, n_x=3, noise_sd=0.0)
    # 0.2 * 5 * sin(pi x) at x = 0, 0.5, 1 -> 0, 1, 0
    np.testing.assert_allclose(d.features[0], [0, 1, 0], atol=1e-6)


def test_same_seed_same_numbers_other_seed_differs(paper_preset):
    a = simulate(paper_preset, {0: 50, 4: 5}, seed=3)
    b = simulate(paper_preset, {0: 50, 4: 5}, seed=3)
    c = simulate(paper_preset, {0: 50, 4: 5}, seed=4)
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.classes, b.classes)
    assert not np.array_equal(a.features, c.features)


def test_presets_differ_only_in_class_3(default_config):
    presets = default_config["simulation_presets"]
    paper, printed = (
        presets["table1-class3-reassigned"]["classes"],
        presets["table1-as-printed"]["classes"],
    )
    assert {k: v for k, v in paper.items() if k != 3} == {
        k: v for k, v in printed.items() if k != 3
    }
    assert printed[3]["params"] == {"A": [0.5, 0.2], "mu": [0.1, 0.05], "w": [1.0, 0.5]}
    assert paper[3]["params"] == {"A": [1.0, 0.5], "mu": [0.5, 0.2], "w": [0.1, 0.05]}


def test_config_errors(paper_preset):
    with pytest.raises(ConfigError, match=r"class\(es\) \[9\]"):
        simulate(paper_preset, {9: 3}, seed=0)
    bad = {0: {"form": "sine", "params": {"freq": [1, 1]}}}
    with pytest.raises(ConfigError, match="needs parameters"):
        simulate(bad, {0: 3}, seed=0)
