"""Chest CT analysis: lung segmentation, lung volumes, the emphysema index and nodules.

:func:`segment_lungs` finds the left and right lungs (airways removed, vessels and nodules
filled) with a classic threshold-and-morphology pipeline whose parameters are in HU and
millimetres; :func:`emphysema_index` gives %LAA-950 per lung on that segmentation;
:func:`detect_nodules` finds, measures and types the nodules and masses in the lungs;
:func:`lungrads_category` gives the ACR Lung-RADS v2022 category of a nodule table.
"""

from vesalius.analyze.chest_ct.emphysema import emphysema_index
from vesalius.analyze.chest_ct.lungrads import LungRadsNodule, LungRadsResult, lungrads_category
from vesalius.analyze.chest_ct.lungs import LungOptions, segment_lungs
from vesalius.analyze.chest_ct.nodules import Nodule, NoduleResult, detect_nodules
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
    "LungRadsNodule",
    "LungRadsResult",
    "LungSegmentation",
    "Nodule",
    "NoduleResult",
    "detect_nodules",
    "emphysema_index",
    "lungrads_category",
    "segment_lungs",
]
