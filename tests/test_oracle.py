"""Simulated oracles (the labelling loop itself: tests/test_loop.py)."""

from __future__ import annotations

import numpy as np
import pytest

from astroanom.active.oracle import ClassOracle, FractionOracle
from astroanom.errors import ConfigError

RELEVANCE = {0: 0, 1: 0, 2: 3, 3: 0, 4: 5}


def test_class_oracle_maps_and_refuses_missing_class():
    o = ClassOracle(np.array([0, 4, 2, 3]), RELEVANCE)
    np.testing.assert_array_equal(o(np.array([1, 2, 3, 0])), [5, 3, 0, 0])
    with pytest.raises(ConfigError, match=r"no entry for class\(es\) \[4\]"):
        ClassOracle(np.array([0, 4]), {0: 0, 1: 0})
    with pytest.raises(ConfigError, match="0..5"):
        ClassOracle(np.array([0]), {0: 7})


def test_fraction_oracle_rounds_5f():
    o = FractionOracle(np.array([0.0, 0.09, 0.11, 0.5, 0.95, 1.0]))
    np.testing.assert_array_equal(o(np.arange(6)), [0, 0, 1, 2, 5, 5])
    with pytest.raises(ConfigError):
        FractionOracle(np.array([1.5]))
