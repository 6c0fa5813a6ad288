"""The body and the air inside it, on the coarse grid.

Assumptions (an axial chest CT in HU, patient lying on a table):

- Tissue is above ``body_hu`` (-500 HU). The body is the largest 3-D connected component
  of tissue after a small in-plane opening that detaches thin table shells and blankets.
- Air inside the body is below ``air_hu`` (-400 HU) and *enclosed along the patient's
  left-right axis*: there is body tissue both to its left and to its right in the same image
  row. This holds for the lungs even when a crop cuts them at the image border, and fails
  for the air around the patient and for the table's foam, which have no body on one side.
- Lungs are not pure air: a connected air region whose median is below ``pure_air_hu``
  (-970 HU) is outside air trapped in a fold (or an isolated trachea) and is dropped.

Examples
--------
>>> import numpy as np
>>> hu = np.full((3, 24, 24), -1000.0, np.float32)
>>> hu[:, 2:22, 2:22] = 40.0  # the body
>>> hu[:, 6:16, 6:11] = -850.0  # a lung: 10 x 5 pixels on 3 slices
>>> body = body_mask(hu, (2.0, 2.0, 2.0), lr_axis=2)
>>> int(body.sum()), int(enclosed_air(hu, body, lr_axis=2).sum())
(1050, 150)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from vesalius.analyze.chest_ct.coarse import BoolArray, FloatArray, Spacing, largest_components

BODY_HU, AIR_HU, PURE_AIR_HU = -500.0, -400.0, -970.0


def _disk(radius_px: float) -> BoolArray:
    r = max(1, int(np.floor(radius_px)))
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    return np.asarray((y * y + x * x <= radius_px * radius_px + 1e-9)[None])


def body_mask(
    hu: FloatArray, spacing: Spacing, *, lr_axis: int, body_hu: float = BODY_HU
) -> BoolArray:
    """The largest tissue component after a ~3 mm in-plane opening (table detached)."""
    tissue = hu > body_hu
    radius_px = 3.0 / min(spacing[1], spacing[2])
    opened = (
        ndimage.binary_opening(tissue, structure=_disk(radius_px)) if radius_px >= 1 else tissue
    )
    body = largest_components(opened)
    return np.asarray(body if body.any() else tissue)


def _enclosed(body: BoolArray, axis: int) -> BoolArray:
    before = np.maximum.accumulate(body, axis=axis)
    after = np.flip(np.maximum.accumulate(np.flip(body, axis=axis), axis=axis), axis=axis)
    return np.asarray(before & after)


def enclosed_air(
    hu: FloatArray, body: BoolArray, *, lr_axis: int, air_hu: float = AIR_HU
) -> BoolArray:
    """Air with body tissue on both its left and its right in the same image row."""
    return np.asarray((hu < air_hu) & _enclosed(body, lr_axis))


def lung_candidates(
    hu: FloatArray,
    air: BoolArray,
    *,
    voxel_ml: float,
    min_ml: float = 10.0,
    pure_air_hu: float = PURE_AIR_HU,
) -> BoolArray:
    """Air components big enough to be (part of) a lung and not pure air.

    A component is kept when its median HU is at least ``pure_air_hu`` and its volume is
    at least ``min_ml`` and 5 % of the largest such component.
    """
    labels, n = ndimage.label(air)
    if n == 0:
        return air.copy()
    sizes = np.bincount(labels.ravel(), minlength=n + 1) * voxel_ml
    sizes[0] = 0.0
    big = np.flatnonzero(sizes >= min_ml)
    if big.size == 0:
        return np.zeros_like(air)
    inside = np.isin(labels, big)
    medians = np.asarray(ndimage.median(hu[inside], labels[inside], big), dtype=np.float64)
    lung_like = big[medians >= pure_air_hu]
    if lung_like.size == 0:
        return np.zeros_like(air)
    floor = max(min_ml, 0.05 * float(sizes[lung_like].max()))
    keep = np.zeros(n + 1, bool)
    keep[lung_like[sizes[lung_like] >= floor]] = True
    return np.asarray(keep[labels])
