"""Former home of the labeller's session; kept so that ``astroanom.labeller.data`` imports go on
working. The session is :mod:`astroanom.labeller.session`, rendering
:mod:`astroanom.labeller.render`, the map :mod:`astroanom.labeller.map`."""

from astroanom.labeller.session import (
    MAX_SHOWN_FEATURES,
    ORDERS,
    LabellerData,
    LabellerSettings,
    PathLike,
    UnknownIdError,
)

__all__ = [
    "MAX_SHOWN_FEATURES",
    "ORDERS",
    "LabellerData",
    "LabellerSettings",
    "PathLike",
    "UnknownIdError",
]
