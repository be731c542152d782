"""The local browser labeller: give objects relevance labels 0-5 and retrain on them.

Start it with ``astroanom label results/<dataset>`` (see :mod:`astroanom.cli`).
"""

from astroanom.labeller.app import create_app
from astroanom.labeller.server import RunningLabeller, start
from astroanom.labeller.session import LabellerData, LabellerSettings

__all__ = ["LabellerData", "LabellerSettings", "RunningLabeller", "create_app", "start"]
