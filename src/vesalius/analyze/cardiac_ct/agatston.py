"""The Agatston rule, applied slice by slice to labelled 3-D calcium lesions.

Agatston et al. 1990: on each axial slice, each 2-D region of at least 130 HU, connected
through its 8 neighbours, with an area (pixel count times the pixel spacing product) of at
least ``min_area_mm2``, scores its area in mm² times a density weight of its highest HU:
130-199 -> 1, 200-299 -> 2, 300-399 -> 3, 400 or more -> 4. The rule was defined on 3 mm
slices; at another slice spacing each slice's score is multiplied by ``spacing / 3``.

Examples
--------
>>> import numpy as np
>>> img = np.full((1, 5, 5), 40.0)
>>> img[0, 1:3, 1:3] = [[150.0, 250.0], [420.0, 180.0]]
>>> lesions = (img >= THRESHOLD_HU).astype(np.int32)
>>> t = tally(img, lesions, 1, pixel_area_mm2=1.0, slice_factor=1.0, min_area_mm2=1.0)
>>> float(t.score[1]), float(t.area_mm2[1]), float(t.max_hu[1]), int(t.voxels[1])
(16.0, 4.0, 420.0, 4)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

THRESHOLD_HU = 130.0
CANONICAL_SLICE_MM = 3.0
EIGHT_NEIGHBOURS = np.ones((3, 3), bool)


def density_weights(max_hu: npt.NDArray[np.floating]) -> npt.NDArray[np.int64]:
    """Agatston density weights of regions' highest HU (0 below 130 HU).

    Examples
    --------
    >>> density_weights(np.array([129.0, 130.0, 199.9, 200.0, 399.5, 400.0, 1200.0])).tolist()
    [0, 1, 1, 2, 3, 4, 4]
    """
    weights = np.clip(np.floor(np.asarray(max_hu, np.float64) / 100.0), 1, 4).astype(np.int64)
    return np.where(np.asarray(max_hu) >= THRESHOLD_HU, weights, 0)


@dataclass(frozen=True, eq=False)
class Tally:
    """Sums per 3-D lesion (array index = lesion label; index 0 is unused).

    ``scored`` marks the voxels of the 2-D regions that met the minimum area.
    """

    score: npt.NDArray[np.float64]
    area_mm2: npt.NDArray[np.float64]
    voxels: npt.NDArray[np.int64]
    max_hu: npt.NDArray[np.float64]
    sum_hu: npt.NDArray[np.float64]
    slices: npt.NDArray[np.int64]
    scored: npt.NDArray[np.bool_]


def tally(
    image: npt.NDArray[np.generic],
    lesions: npt.NDArray[np.integer],
    n_lesions: int,
    *,
    pixel_area_mm2: float,
    slice_factor: float,
    min_area_mm2: float,
) -> Tally:
    """Score the 2-D regions of each slice and add them to the 3-D lesion they belong to.

    Parameters
    ----------
    image
        HU, ``(z, y, x)``.
    lesions
        Same shape: 3-D lesion label of each voxel of at least 130 HU that may score, else 0.
        Each 2-D region must lie in one lesion (true for 26-connected 3-D labels).
    n_lesions
        Largest label in ``lesions``.
    pixel_area_mm2, slice_factor, min_area_mm2
        Pixel area, the per-slice multiplier (``spacing / 3``), the smallest area that scores.
    """
    size = n_lesions + 1
    score, area, total, peak = (np.zeros(size) for _ in range(4))
    voxels, slices = np.zeros(size, np.int64), np.zeros(size, np.int64)
    peak[:] = -np.inf
    scored = np.zeros(lesions.shape, bool)
    for k in np.flatnonzero(lesions.any(axis=(1, 2))):
        regions, n = ndimage.label(lesions[k] > 0, structure=EIGHT_NEIGHBOURS)
        index = np.arange(1, n + 1)
        counts = np.bincount(regions.ravel(), minlength=n + 1)[1:]
        region_area = counts.astype(np.float64) * pixel_area_mm2
        keep = region_area >= min_area_mm2
        if not keep.any():
            continue
        owner = np.asarray(ndimage.maximum(lesions[k], regions, index), np.int64)[keep]
        top = np.asarray(ndimage.maximum(image[k], regions, index), np.float64)[keep]
        sums = np.asarray(ndimage.sum_labels(image[k], regions, index), np.float64)[keep]
        np.add.at(score, owner, region_area[keep] * density_weights(top) * slice_factor)
        np.add.at(area, owner, region_area[keep])
        np.add.at(voxels, owner, counts[keep])
        np.add.at(total, owner, sums)
        np.maximum.at(peak, owner, top)
        slices[np.unique(owner)] += 1
        scored[k] = np.isin(regions, index[keep])
    return Tally(score, area, voxels, np.where(voxels > 0, peak, 0.0), total, slices, scored)
