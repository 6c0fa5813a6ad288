"""Pleural bays: tumours against the pleura that the lung wraps around, per slice.

A tumour against the pleura is soft tissue, so a threshold leaves a bay in the lung's
outline where it lies. On the costal side the convex hull of the lung takes it in
(:func:`~vesalius.analyze.chest_ct.fill.costal_hull`); on the mediastinal side the lung is
concave by anatomy (heart, aorta, hilum) and the hull would swallow the mediastinum. This
step takes in a bay on any side when two things hold in the slice:

1. A disk of ``radius_mm`` (20 mm) cannot enter it: the bay's mouth, where the tumour meets
   the pleura between two stretches of lung, is narrower than about ``2 * radius_mm``. A
   per-slice closing by that disk finds those bays; the heart's impression, whose mouth is
   the whole mediastinal surface, is not closed.
2. The lung wraps around it: of the pixels bordering the bay, at least ``min_wrap`` (70 %)
   are lung and the rest (the mouth) are not. A tumour lying mostly in the lung with its
   flat side on the pleura is wrapped by well over 70 %; a half-disc impression of the
   aorta or of a vessel on a flat pleura is wrapped by about 60 %, and a thin sliver along
   a curved wall by about half.

A kept bay is completed across its mouth by its convex hull (the disk leaves an arc there).

Assumptions: tumours up to about 40 mm across their pleural contact, lying mostly within
the lung outline (a hemispherical bulge on a flat mediastinal pleura is not told apart from
the aorta's impression and is left out); bone (above ``max_hu``) is never added.

Examples
--------
>>> import numpy as np
>>> lung = np.zeros((1, 40, 40), bool)
>>> lung[0, 5:35, 5:35] = True
>>> lung[0, 12:28, 20:35] = False  # a tumour, wrapped by lung, its mouth 16 px on the pleura
>>> lung[0, 5:10, 12:28] = False  # a shallow impression: 5 px deep, 16 px wide
>>> hu = np.zeros(lung.shape, np.float32)
>>> bays = pleural_bays(lung, hu, radius_mm=10.0, spacing=(2.0, 1.0, 1.0))
>>> bool(bays[0, 12:28, 20:34].all()), int(bays[0, 5:10, 12:28].sum())  # up to its mouth
(True, 0)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.analyze.chest_ct.coarse import (
    PLANE,
    BoolArray,
    FloatArray,
    Spacing,
    close,
    hull_2d,
)

BONE_HU = 200.0
MIN_WRAP = 0.7


def closed_in_plane(mask: BoolArray, radius_mm: float, spacing: Spacing) -> BoolArray:
    """Per-slice closing by a disk of ``radius_mm``: voxels it adds to ``mask``."""
    # a slice spacing larger than twice the radius makes the ball a disk in each slice
    in_plane = (2.0 * radius_mm + 1.0, spacing[1], spacing[2])
    return np.asarray(close(mask, radius_mm, in_plane) & ~mask)


def wrap_fraction(
    region: BoolArray, lung: BoolArray
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    """In-plane components of ``region`` and, per label, the share of their rim on ``lung``.

    The rim is the pixels 4-adjacent to a component in its slice and outside ``region``;
    the returned array is indexed by label (0, the background, is 0).
    """
    labels, n = ndimage.label(region, structure=PLANE)
    rim = np.where(region, 0, ndimage.grey_dilation(labels, footprint=PLANE))
    total = np.bincount(rim.ravel(), minlength=n + 1)
    on_lung = np.bincount(rim[lung].ravel(), minlength=n + 1)
    frac = np.asarray(on_lung / np.maximum(total, 1), dtype=np.float64)
    frac[0] = 0.0
    return np.asarray(labels, dtype=np.int32), frac


def pleural_bays(
    lung: BoolArray,
    hu: FloatArray,
    *,
    radius_mm: float,
    spacing: Spacing,
    min_wrap: float = MIN_WRAP,
    max_hu: float = BONE_HU,
) -> BoolArray:
    """Voxels of the bays in the lung outline that hold a tumour (see the module doc)."""
    added = closed_in_plane(lung, radius_mm, spacing) & (hu < max_hu)
    if not added.any():
        return added
    labels, frac = wrap_fraction(added, lung)
    out = np.zeros_like(lung)
    for label, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None or frac[label] < min_wrap:
            continue
        # the disk leaves an arc across the bay's mouth: close it with a straight chord
        k, rows, cols = box
        bay = labels[k.start, rows, cols] == label
        out[k.start, rows, cols] |= hull_2d(bay)
    return np.asarray(out & ~lung & (hu < max_hu))
