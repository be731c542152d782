"""Publication-quality figures: ``simulation`` (paper Figs. 1, 6-9), ``galaxies`` (Figs. 4, 5)."""
