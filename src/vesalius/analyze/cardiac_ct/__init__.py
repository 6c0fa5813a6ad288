"""Cardiac CT analysis: coronary artery calcium scoring on non-contrast chest CT.

:func:`score_calcium` finds the heart (:func:`find_heart`), scores the calcium on it by the
Agatston rule and returns a :class:`CalciumScore` with the lesions and the CAC-DRS grade.

Examples
--------
On a chest CT phantom (noise-free here, so the score equals the phantom's truth):

>>> from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct
>>> ct = chest_ct(ChestCTSpec(shape=(60, 128, 128), noise_hu=0.0), seed=3)
>>> score = score_calcium(ct.volume)
>>> round(score.agatston, 1), round(ct.truth.agatston_total_written, 1), score.cac_drs.label
(356.0, 356.0, 'A3/N3')
>>> sorted(lesion.territory for lesion in score.lesions)
['LAD', 'LAD', 'LCX', 'RCA']
>>> score.slice_spacing_mm, score.equivalent_3mm
(5.0, True)
"""

from vesalius.analyze.cardiac_ct.heart import HeartRegion, find_heart
from vesalius.analyze.cardiac_ct.results import CacDrs, CalciumLesion, CalciumScore, cac_drs
from vesalius.analyze.cardiac_ct.score import score_calcium

__all__ = [
    "CacDrs",
    "CalciumLesion",
    "CalciumScore",
    "HeartRegion",
    "cac_drs",
    "find_heart",
    "score_calcium",
]
