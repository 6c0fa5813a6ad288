"""A coarse working grid: block means of the CT, and masks grown or shrunk by distance.

The heart region is found on a grid of about 2.5 mm voxels: block means of the original
voxels (``factors`` along ``z, y, x``). Averaging blocks also averages out noise, and
growing or shrinking masks by a distance in millimetres uses the exact Euclidean distance
transform on that grid, which is fast whatever the radius.

Examples
--------
>>> import numpy as np
>>> m = np.zeros((3, 3, 3), bool); m[1, 1, 1] = True
>>> int(grow(m, 1.0, (1.0, 1.0, 1.0)).sum())
7
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.core import Grid

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float32]


def coarse_grid(fine: Grid, factors: tuple[int, int, int]) -> Grid:
    """The grid of the block means: each coarse voxel sits at the centre of its block.

    Examples
    --------
    >>> g = coarse_grid(Grid((4, 4, 4), np.eye(4)), (2, 2, 2))
    >>> g.shape, g.spacing, g.origin
    ((2, 2, 2), (2.0, 2.0, 2.0), (0.5, 0.5, 0.5))
    """
    shape = tuple(-(-n // f) for n, f in zip(fine.shape, factors, strict=True))
    scale = np.eye(4)
    for axis, f in enumerate(factors):
        scale[axis, axis] = f
        scale[axis, 3] = (f - 1) / 2.0
    return Grid((shape[0], shape[1], shape[2]), fine.affine @ scale)


def fine_to_coarse(indices: npt.NDArray[np.integer], factors: tuple[int, int, int]) -> FloatArray:
    """Fractional coarse indices ``(n, 3)`` of fine voxel indices ``(n, 3)``."""
    f = np.asarray(factors, np.float32)
    return np.asarray((indices.astype(np.float32) - (f - 1) / 2.0) / f, np.float32)


def shrink(mask: BoolArray, radius_mm: float, spacing: Sequence[float]) -> BoolArray:
    """Voxels of ``mask`` farther than ``radius_mm`` from anything outside it (erosion)."""
    return np.asarray(ndimage.distance_transform_edt(mask, sampling=spacing) > radius_mm)


def distance_from(mask: BoolArray, spacing: Sequence[float]) -> FloatArray:
    """Distance in mm from each voxel to the nearest voxel of ``mask`` (0 inside it)."""
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return np.asarray(ndimage.distance_transform_edt(~mask, sampling=spacing), np.float32)


def grow(mask: BoolArray, radius_mm: float, spacing: Sequence[float]) -> BoolArray:
    """Voxels within ``radius_mm`` of ``mask`` (dilation by a ball)."""
    return np.asarray(distance_from(mask, spacing) <= radius_mm)


def components(mask: BoolArray, *, full: bool = False) -> tuple[npt.NDArray[np.int32], int]:
    """Connected components of ``mask``: face neighbours, or all 26 when ``full``."""
    structure = np.ones((3, 3, 3), bool) if full else None
    labels, n = ndimage.label(mask, structure=structure)
    return np.asarray(labels, np.int32), int(n)


def bounds(mask: BoolArray, pad: Sequence[int] = (0, 0, 0)) -> tuple[slice, slice, slice]:
    """The bounding box of ``mask`` widened by ``pad`` voxels per axis, clipped to the array.

    Examples
    --------
    >>> m = np.zeros((5, 5, 5), bool); m[2, 2, 3] = True
    >>> bounds(m, (1, 0, 2))
    (slice(1, 4, None), slice(2, 3, None), slice(1, 5, None))
    """
    idx = np.nonzero(mask)
    out = [
        slice(max(0, int(i.min()) - p), min(n, int(i.max()) + 1 + p))
        for i, p, n in zip(idx, pad, mask.shape, strict=True)
    ]
    return (out[0], out[1], out[2])


def pad_voxels(radius_mm: float, spacing: Sequence[float]) -> tuple[int, int, int]:
    """Voxels per axis that cover ``radius_mm``, plus one."""
    p = [int(np.ceil(radius_mm / s)) + 1 for s in spacing]
    return (p[0], p[1], p[2])


def largest_component(mask: BoolArray) -> BoolArray:
    """The largest face-connected component of ``mask`` (empty when ``mask`` is)."""
    labels, n = components(mask)
    if n == 0:
        return mask.copy()
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return np.asarray(labels == int(np.argmax(sizes)))


def fill_slices(mask: BoolArray) -> BoolArray:
    """Fill the holes of each axial slice of ``mask`` (cavities open in 3-D stay filled)."""
    out = np.empty_like(mask)
    for k in range(mask.shape[0]):
        out[k] = ndimage.binary_fill_holes(mask[k])
    return out
