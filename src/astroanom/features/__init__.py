"""Feature extractors: ``ellipse`` (ellipse-fitting morphology features, paper Appendix B)."""

from astroanom.features.ellipse import (
    ASTRONOMALY_FEATURE_NAMES,
    ELLIPSE_FEATURE_NAMES,
    PERCENTILES,
    PRESETS,
    EllipseFailure,
    astronomaly_features,
    ellipse_features,
    feature_names,
    image_features,
)

__all__ = [
    "ASTRONOMALY_FEATURE_NAMES",
    "ELLIPSE_FEATURE_NAMES",
    "PRESETS",
    "astronomaly_features",
    "feature_names",
    "PERCENTILES",
    "EllipseFailure",
    "ellipse_features",
    "image_features",
]
