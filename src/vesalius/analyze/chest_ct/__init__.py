"""Chest CT analysis: lung segmentation, lung volumes and the emphysema index.

:func:`segment_lungs` finds the left and right lungs (airways removed, vessels and nodules
filled) with a classic threshold-and-morphology pipeline whose parameters are in HU and
millimetres; :func:`emphysema_index` gives %LAA-950 per lung on that segmentation.
"""

from vesalius.analyze.chest_ct.emphysema import emphysema_index
from vesalius.analyze.chest_ct.lungs import LungOptions, segment_lungs
from vesalius.analyze.chest_ct.results import (
    AIRWAY,
    LABELS,
    LEFT,
    RIGHT,
    EmphysemaResult,
    LungEmphysema,
    LungSegmentation,
)

__all__ = [
    "AIRWAY",
    "LABELS",
    "LEFT",
    "RIGHT",
    "EmphysemaResult",
    "LungEmphysema",
    "LungOptions",
    "LungSegmentation",
    "emphysema_index",
    "segment_lungs",
]
