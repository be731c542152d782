"""Feature extractors: ``ellipse`` (ellipse-fitting morphology features, paper Appendix B)."""

from astroanom.features.ellipse import (
    ELLIPSE_FEATURE_NAMES,
    PERCENTILES,
    EllipseFailure,
    ellipse_features,
    image_features,
)

__all__ = [
    "ELLIPSE_FEATURE_NAMES",
    "PERCENTILES",
    "EllipseFailure",
    "ellipse_features",
    "image_features",
]
