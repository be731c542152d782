"""Plug-in sources for tests/test_kinds.py, given by dotted path (``toy_kinds.LightCurveToy``)."""

from __future__ import annotations

import pandas as pd


class NoKindToy:
    """A source that declares no object kind."""

    def __init__(self, n: int = 3) -> None:
        self.n = n

    def manifest(self, workdir, seed):
        objects = pd.DataFrame({"id": [f"o{i}" for i in range(self.n)], "v": range(self.n)})
        return objects, pd.DataFrame(columns=["id", "stage", "reason"])


class SpectrumToy(NoKindToy):
    """Declares spectra, but its manifest has no spectrum_path."""

    object_kind = "spectrum"


class BadKindToy(NoKindToy):
    object_kind = "hologram"
