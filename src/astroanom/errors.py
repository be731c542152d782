"""Exceptions raised by astroanom for bad input: each names what is wrong and how to fix it."""


class AstroanomError(Exception):
    """Base class for errors caused by the user's data or configuration."""


class BadFeaturesError(AstroanomError, ValueError):
    """Feature table with NaN/inf values, a wrong shape or no rows."""


class ConfigError(AstroanomError, ValueError):
    """A configuration value that is valid by schema but unusable (e.g. incomplete oracle map)."""


class LabelsError(AstroanomError, ValueError):
    """A malformed labels file or a label outside 0..5."""
