"""Filling a lung: vessels, nodules and tumours against the pleura, on the coarse grid.

Three steps, each stated as an assumption about lung shape:

1. A closing with a ball of ``closing_mm`` (a rolling ball): bays in the lung surface
   narrower than the ball are filled (vessels entering at the hilum, small juxtapleural
   nodules). The heart's wide impression on the mediastinal surface is not.
2. A convex hull per slice on the *costal* side: the lung's outer (lateral) surface
   follows the convex rib cage, so on the lateral half of the lung (beyond its centre along
   the left-right axis) whatever lies inside the slice's convex hull of the lung and is not
   bone (below ``max_hu``, 200 HU) is lung or a tumour against the pleura. The medial half
   is left alone: there the heart and hilum make the lung concave by anatomy.
3. Holes filled slice by slice (vessels and nodules inside the lung).
4. Pleural bays (:mod:`~vesalius.analyze.chest_ct.border`), when ``bay_mm`` is set: a
   per-slice closing by a disk of ``bay_mm`` whose additions are kept only where the lung
   wraps around them, which takes in tumours against the mediastinal pleura (the medial
   side that step 2 leaves alone) without the heart's or the aorta's impressions.

Examples
--------
>>> import numpy as np
>>> lung = np.zeros((1, 12, 12), bool)
>>> lung[0, 2:10, 2:10] = True
>>> lung[0, 4:8, 2:5] = False  # a tumour bay against the lateral (low-x) wall
>>> hu = np.zeros(lung.shape, np.float32)
>>> x = 11.0 - np.arange(12)  # LPS x of each column: low columns are towards +x
>>> int(costal_hull(lung, hu, x, lr_axis=2, lateral_sign=1.0).sum())  # left lung: bay filled
12
>>> int(costal_hull(lung, hu, x, lr_axis=2, lateral_sign=-1.0).sum())  # right: medial, kept
0
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from vesalius.analyze.chest_ct.border import BONE_HU, MIN_WRAP, pleural_bays
from vesalius.analyze.chest_ct.coarse import (
    BoolArray,
    FloatArray,
    Spacing,
    close,
    fill_holes_2d,
    hull_2d,
)


def costal_hull(
    lung: BoolArray,
    hu: FloatArray,
    x_mm: npt.NDArray[np.float64],
    *,
    lr_axis: int,
    lateral_sign: float,
    max_hu: float = BONE_HU,
) -> BoolArray:
    """Voxels the per-slice convex hull adds on the lung's lateral half (bone excluded).

    ``lateral_sign`` is +1 for the left lung (lateral is +x) and -1 for the right lung.
    """
    added = np.zeros_like(lung)
    shape = [1, 1]
    shape[lr_axis - 1] = x_mm.size
    x2d = np.broadcast_to(x_mm.reshape(shape), lung.shape[1:])
    for k in np.flatnonzero(lung.any(axis=(1, 2))):
        m = lung[k]
        lateral = (x2d - float(x2d[m].mean())) * lateral_sign > 0
        added[k] = hull_2d(m) & ~m & lateral & (hu[k] < max_hu)
    return added


def fill_lung(
    lung: BoolArray,
    hu: FloatArray,
    x_mm: npt.NDArray[np.float64],
    *,
    spacing: Spacing,
    lr_axis: int,
    lateral_sign: float,
    closing_mm: float,
    bay_mm: float = 0.0,
    bay_wrap: float = MIN_WRAP,
) -> BoolArray:
    """The lung with its vessels, nodules and juxtapleural tumours (see the module doc)."""
    closed = close(lung, closing_mm, spacing)
    closed |= costal_hull(closed, hu, x_mm, lr_axis=lr_axis, lateral_sign=lateral_sign)
    filled = fill_holes_2d(closed)
    if bay_mm > 0:
        bays = pleural_bays(
            filled, hu, radius_mm=bay_mm, spacing=spacing, min_wrap=bay_wrap, max_hu=BONE_HU
        )
        if bays.any():
            filled = fill_holes_2d(filled | bays)
    return filled
