"""Anomaly detectors (isolation forest, LOF, plug-ins), exact k-NN and the score -> 0..5 map."""
