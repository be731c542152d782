"""Feature extraction: preprocessing, extractors (ellipse, ...), scaling."""
