"""Renderers of objects for the labeller and the export: plain functions returning PNG bytes."""
