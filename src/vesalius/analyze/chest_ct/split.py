"""Left and right lungs from the lung air, on the coarse grid.

Each connected air component is given to the side of the mid-line its centre lies on;
left is the patient's left, +x in LPS. The mid-line is half-way between the two largest
components when they lie on either side of the body's centre, else the body's centre.
When one component straddles the mid-line (lungs touching at the anterior or posterior
junction), it is eroded by growing radii until it falls into two large parts, and each of
its voxels goes to the part nearest to it (a Voronoi split along the narrowest junction).

Examples
--------
>>> import numpy as np
>>> air = np.zeros((6, 20, 27), bool)
>>> air[:, 2:18, 1:12] = air[:, 2:18, 15:26] = True
>>> air[:, 9:11, 12:15] = True  # a thin bridge: the lungs touch
>>> x = np.arange(27, dtype=float)  # x in mm of each column (LPS: left is +x)
>>> left, right = split_sides(air, x, body_centre_x=13.0, spacing=(2.0, 1.0, 1.0), lr_axis=2)
>>> int(left[2, 9, 20]), int(right[2, 9, 5]), int((left & right).sum()), int(left.sum())
(1, 1, 0, 1068)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.analyze.chest_ct.coarse import BoolArray, Spacing, bbox

ERODE_MM = (2.0, 4.0, 6.0, 8.0, 12.0, 16.0)


def _centres(
    labels: npt.NDArray[np.int32], n: int, x: npt.NDArray[np.float64], lr_axis: int
) -> npt.NDArray[np.float64]:
    shape = [1, 1, 1]
    shape[lr_axis] = x.size
    xs = np.broadcast_to(x.reshape(shape), labels.shape)
    return np.asarray(ndimage.mean(xs, labels, np.arange(1, n + 1)), dtype=np.float64)


def _two_parts(mask: BoolArray, spacing: Spacing) -> npt.NDArray[np.int32] | None:
    """Labels 1 and 2 of the two largest parts left by the first erosion that splits."""
    total = float(mask.sum())
    depth = ndimage.distance_transform_edt(np.pad(mask, 1), sampling=spacing)[1:-1, 1:-1, 1:-1]
    for radius in ERODE_MM:
        labels, n = ndimage.label(depth > radius)
        if n < 2:
            continue
        sizes = np.bincount(labels.ravel())[1:]
        order = np.argsort(sizes)[::-1]
        if sizes[order[1]] >= 0.1 * total:
            seeds = np.zeros(labels.shape, np.int32)
            seeds[labels == order[0] + 1], seeds[labels == order[1] + 1] = 1, 2
            return seeds
    return None


def _voronoi(
    mask: BoolArray, seeds: npt.NDArray[np.int32], spacing: Spacing
) -> npt.NDArray[np.int32]:
    idx = ndimage.distance_transform_edt(seeds == 0, sampling=spacing, return_indices=True)[1]
    nearest = seeds[idx[0], idx[1], idx[2]]
    return np.asarray(np.where(mask, nearest, 0), dtype=np.int32)


def _straddles(mask: BoolArray, x: npt.NDArray[np.float64], mid: float, lr_axis: int) -> bool:
    counts = mask.sum(axis=tuple(a for a in range(3) if a != lr_axis))
    left, total = float(counts[x > mid].sum()), float(counts.sum())
    return total > 0 and min(left, total - left) >= 0.2 * total


def split_sides(
    air: BoolArray,
    x_mm: npt.NDArray[np.float64],
    *,
    body_centre_x: float,
    spacing: Spacing,
    lr_axis: int,
) -> tuple[BoolArray, BoolArray]:
    """Masks of the left and right lungs; ``x_mm`` is the LPS x of each index on ``lr_axis``."""
    labels, n = ndimage.label(air)
    if n == 0:
        return air.copy(), air.copy()
    if n == 1 and _straddles(air, x_mm, body_centre_x, lr_axis):
        box = bbox(air, margin=1)
        seeds = _two_parts(air[box], spacing)
        if seeds is not None:
            labels[box], n = _voronoi(air[box], seeds, spacing), 2
    centres = _centres(labels, n, x_mm, lr_axis)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    mid = body_centre_x
    if n >= 2:
        a, b = np.argsort(sizes)[::-1][:2]
        if (centres[a] - body_centre_x) * (centres[b] - body_centre_x) < 0:
            mid = float(centres[a] + centres[b]) / 2.0
    is_left = np.concatenate([[False], centres > mid])
    is_right = np.concatenate([[False], centres <= mid])
    return np.asarray(is_left[labels]), np.asarray(is_right[labels])
