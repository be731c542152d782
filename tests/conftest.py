"""Shared fixtures: repository paths and the tiny simulation config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def default_config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.fixture(scope="session")
def paper_preset(default_config: dict) -> dict:
    return default_config["simulation_presets"]["table1-class3-reassigned"]["classes"]
