"""Agatston scoring of a calcified lesion, as the ground truth of a phantom computes it.

The rule (Agatston 1990): on each axial slice, each 2-D connected region of at least
130 HU (8-connectivity) and at least ``min_area_mm2`` scores its area in mm² times a
density weight of its maximum HU: 130-199 -> 1, 200-299 -> 2, 300-399 -> 3, >= 400 -> 4.
Slices are 3 mm in the canonical definition; for other slice spacings each slice's score
is multiplied by ``spacing / 3`` so totals stay comparable.

Examples
--------
>>> import numpy as np
>>> img = np.full((1, 5, 5), 40.0)
>>> img[0, 1:3, 1:3] = [[150.0, 250.0], [420.0, 180.0]]
>>> s = agatston(img, pixel_area_mm2=1.0, slice_spacing_mm=3.0)
>>> s.score, s.area_mm2, s.max_hu
(16.0, 4.0, 420.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

THRESHOLD_HU = 130.0
CANONICAL_SLICE_MM = 3.0
METHOD = (
    "Agatston: per axial slice, 8-connected 2-D regions >= 130 HU with area >= min_area_mm2; "
    "score = area_mm2 * weight(max HU: 130-199:1, 200-299:2, 300-399:3, >=400:4); each slice "
    "multiplied by slice_spacing_mm / 3; computed on the noise-free image"
)


@dataclass(frozen=True)
class AgatstonScore:
    """Score, area summed over slices (mm²), calcium volume (mm³) and peak HU."""

    score: float
    area_mm2: float
    volume_mm3: float
    max_hu: float


def density_weight(max_hu: float) -> int:
    """The Agatston density weight of a region's maximum HU (0 below 130 HU).

    Examples
    --------
    >>> [density_weight(h) for h in (129, 130, 200, 399.5, 400, 1200)]
    [0, 1, 2, 3, 4, 4]
    """
    if max_hu < THRESHOLD_HU:
        return 0
    return min(4, int(max_hu // 100))


def agatston(
    image: npt.NDArray[np.floating],
    *,
    pixel_area_mm2: float,
    slice_spacing_mm: float,
    min_area_mm2: float = 0.0,
) -> AgatstonScore:
    """Agatston score of everything at or above 130 HU in ``image`` (z, y, x), in HU."""
    above = image >= THRESHOLD_HU
    score = area = 0.0
    peak = float("-inf")
    for k in np.flatnonzero(above.any(axis=(1, 2))):
        labels, n = ndimage.label(above[k], structure=np.ones((3, 3), bool))
        if n == 0:
            continue
        index = np.arange(1, n + 1)
        counts = ndimage.sum_labels(np.ones_like(labels), labels, index)
        maxima = ndimage.maximum(image[k], labels, index)
        for count, top in zip(np.atleast_1d(counts), np.atleast_1d(maxima), strict=True):
            region_area = float(count) * pixel_area_mm2
            if region_area < min_area_mm2:
                continue
            score += (
                region_area * density_weight(float(top)) * slice_spacing_mm / CANONICAL_SLICE_MM
            )
            area += region_area
            peak = max(peak, float(top))
    return AgatstonScore(
        float(score), float(area), float(area * slice_spacing_mm), peak if area > 0 else 0.0
    )
