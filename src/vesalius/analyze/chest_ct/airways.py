"""Trachea and main bronchi: found in the upper slices, then grown down with leak control.

Assumptions: the trachea is a round air structure (below -950 HU, 4 to 16 mm in radius)
inside the body near its left-right middle in the most superior slices that hold one. From
it, a region is grown in 3-D on the 3x3x3 mean of the HU (noise averaged out, so that
emphysema near -975 HU is not mistaken voxel by voxel for air near -1000 HU) below a
threshold that rises from the trachea's own median (on those means) in 4 HU steps up to
16 HU above it; it stops before the grown volume jumps by more than half at one step or
passes ``max_ml`` (a leak into the lung parenchyma or into emphysema). Small airways are left to
the lungs: at about 2 mm voxels only the trachea and the main and lobar bronchi are reached.

Examples
--------
>>> import numpy as np
>>> hu = np.full((6, 30, 30), 40.0, np.float32)
>>> hu[:, 12:17, 12:17] = -1000.0
>>> enclosed = np.ones(hu.shape, bool)
>>> seed = find_trachea(hu, enclosed, (2.0, 2.0, 2.0), superior_last=True, lr_axis=2)
>>> int(seed.sum()), int(grow_airways(hu, seed, (2.0, 2.0, 2.0)).sum())
(25, 130)
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from vesalius.analyze.chest_ct.coarse import PLANE, BoolArray, FloatArray, Spacing

log = logging.getLogger(__name__)

LUMEN_HU = -950.0
RADIUS_MM = (4.0, 16.0)
STEPS_HU = (4.0, 8.0, 12.0, 16.0)
JUMP = 1.5


Found = tuple[int, tuple[slice, ...], BoolArray]


def _round_components(air: BoolArray, spacing: Spacing) -> list[Found]:
    """Per slice: (slice index, bounding box, mask in the box) of round trachea-sized air."""
    labels, _ = ndimage.label(air, structure=PLANE)
    pixel_mm2 = spacing[1] * spacing[2]
    lo, hi = (np.pi * r * r / pixel_mm2 for r in RADIUS_MM)
    out = []
    for n, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        comp = labels[box] == n
        area = float(comp.sum())
        fill = area / float(comp.shape[1] * comp.shape[2])
        touches = box[1].start == 0 or box[2].start == 0
        touches |= box[1].stop == air.shape[1] or box[2].stop == air.shape[2]
        if lo <= area <= hi and fill >= 0.6 and not touches:
            out.append((box[0].start, box, comp))
    return out


def find_trachea(
    hu: FloatArray,
    enclosed: BoolArray,
    spacing: Spacing,
    *,
    superior_last: bool,
    lr_axis: int,
    max_offset_mm: float = 40.0,
) -> BoolArray | None:
    """The trachea's cross-section in the most superior slice that has one, or ``None``.

    Only the upper third of the slices that hold enclosed air is searched; a candidate must
    lie within ``max_offset_mm`` of the middle of the body's air along the left-right axis.
    """
    air = (hu < LUMEN_HU) & enclosed
    zs = np.flatnonzero(enclosed.any(axis=(1, 2)))
    if zs.size == 0:
        return None
    third = max(1, (zs[-1] - zs[0] + 1) // 3)
    top = range(zs[-1] - third + 1, zs[-1] + 1) if superior_last else range(zs[0], zs[0] + third)
    band = np.zeros(hu.shape[0], bool)
    band[list(top)] = True
    air &= band[:, None, None]
    cols = np.flatnonzero(enclosed.any(axis=tuple(a for a in range(3) if a != lr_axis)))
    middle = (cols[0] + cols[-1]) / 2.0
    lr_mm = spacing[lr_axis]
    best: Found | None = None
    for k, box, comp in _round_components(air, spacing):
        centre = box[lr_axis].start + float(np.nonzero(comp)[lr_axis].mean())
        if abs(centre - middle) * lr_mm > max_offset_mm:
            continue
        if best is None or (k > best[0] if superior_last else k < best[0]):
            best = (k, box, comp)
    if best is None:
        return None
    seed = np.zeros(hu.shape, bool)
    seed[best[1]] = best[2]
    return seed


def grow_airways(
    hu: FloatArray, seed: BoolArray, spacing: Spacing, *, max_ml: float = 400.0
) -> BoolArray:
    """Region grown from ``seed`` below the highest threshold that does not leak."""
    voxel_ml = float(np.prod(spacing)) / 1000.0
    smooth = ndimage.uniform_filter(hu, size=3)
    lumen = float(np.median(smooth[seed]))
    good, previous = seed.copy(), 0.0
    for threshold in (lumen + step for step in STEPS_HU):
        labels, _ = ndimage.label(smooth < threshold)
        ids = np.unique(labels[seed])
        ids = ids[ids > 0]
        if ids.size == 0:
            continue
        grown = np.isin(labels, ids)
        size = float(grown.sum())
        if size * voxel_ml > max_ml or (previous > 0 and size > JUMP * previous + 10):
            log.debug("airway growing stops before %.0f HU: %.0f voxels", threshold, size)
            break
        good, previous = grown | seed, size
    return good
