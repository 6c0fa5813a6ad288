"""The coarse working grid of the lung segmentation, and mask tools sized in millimetres.

Most steps of the lung segmentation (body, airways, left/right split, closing) run on a grid
of about 2 mm voxels: block means of the original voxels. Block means also average out
noise. Masks are grown or shrunk by a distance in millimetres with the exact Euclidean
distance transform, so the cost does not depend on the radius. Results go back to the
original grid by nearest neighbour (each original voxel takes the value of its block).

Examples
--------
>>> import numpy as np
>>> upsample(np.array([[[True, False]]]), (1, 2, 2), (1, 2, 3)).astype(int).tolist()
[[[1, 1, 0], [1, 1, 0]]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float32]
Factors = tuple[int, int, int]
Spacing = tuple[float, float, float]

PLANE = np.array(
    [np.zeros((3, 3)), [[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.zeros((3, 3))], dtype=bool
)
"""4-connectivity within a slice and none across slices: labels slices independently."""


def upsample(
    coarse: npt.NDArray[np.generic],
    factors: Factors,
    shape: Sequence[int],
    *,
    offset: Sequence[int] = (0, 0, 0),
) -> npt.NDArray[np.generic]:
    """Nearest-neighbour copy of ``coarse`` onto the fine grid region at ``offset``."""
    idx = [
        np.minimum((np.arange(n) + o) // f, c - 1)
        for n, o, f, c in zip(shape, offset, factors, coarse.shape, strict=True)
    ]
    return np.asarray(coarse[np.ix_(idx[0], idx[1], idx[2])])


def _margin_box(mask: BoolArray, margin: Sequence[int]) -> tuple[slice, slice, slice]:
    box = []
    for axis, m in enumerate(margin):
        other = tuple(a for a in range(3) if a != axis)
        hit = np.flatnonzero(mask.any(axis=other))
        box.append(slice(max(0, int(hit[0]) - m), min(mask.shape[axis], int(hit[-1]) + 1 + m)))
    return (box[0], box[1], box[2])


def grow(mask: BoolArray, radius_mm: float, spacing: Spacing) -> BoolArray:
    """Voxels within ``radius_mm`` of ``mask`` (a dilation by a ball)."""
    if radius_mm <= 0 or not mask.any():
        return mask.copy()
    box = _margin_box(mask, [int(np.ceil(radius_mm / s)) + 1 for s in spacing])
    out = np.zeros_like(mask)
    dist = ndimage.distance_transform_edt(~mask[box], sampling=spacing)
    out[box] = dist <= radius_mm
    return out


def shrink(mask: BoolArray, radius_mm: float, spacing: Spacing) -> BoolArray:
    """Voxels of ``mask`` farther than ``radius_mm`` from its outside (an erosion by a ball)."""
    if radius_mm <= 0 or not mask.any():
        return mask.copy()
    box = _margin_box(mask, (1, 1, 1))
    out = np.zeros_like(mask)
    dist = ndimage.distance_transform_edt(np.pad(mask[box], 1), sampling=spacing)
    out[box] = dist[1:-1, 1:-1, 1:-1] > radius_mm
    return out


def close(mask: BoolArray, radius_mm: float, spacing: Spacing) -> BoolArray:
    """Morphological closing by a ball of ``radius_mm`` (the border does not erode it)."""
    if radius_mm <= 0 or not mask.any():
        return mask.copy()
    pad = [int(np.ceil(radius_mm / s)) + 1 for s in spacing]
    box = _margin_box(mask, (0, 0, 0))
    padded = np.pad(mask[box], [(p, p) for p in pad])
    closed = shrink(grow(padded, radius_mm, spacing), radius_mm, spacing)
    out = mask.copy()
    out[box] |= closed[pad[0] : -pad[0], pad[1] : -pad[1], pad[2] : -pad[2]]
    return out


def fill_holes_2d(mask: BoolArray) -> BoolArray:
    """Fill, slice by slice, the background regions that do not reach the slice border."""
    labels, n = ndimage.label(~mask, structure=PLANE)
    if n == 0:
        return mask.copy()
    border = np.zeros(n + 1, bool)
    for edge in (labels[:, 0, :], labels[:, -1, :], labels[:, :, 0], labels[:, :, -1]):
        border[np.unique(edge)] = True
    border[0] = True
    return np.asarray(mask | ~border[labels])


def largest_components(mask: BoolArray, *, keep: int = 1) -> BoolArray:
    """The ``keep`` largest 3-D connected components (6-connectivity) of ``mask``."""
    labels, n = ndimage.label(mask)
    if n <= keep:
        return mask.copy()
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    chosen = np.argsort(sizes)[::-1][:keep]
    return np.asarray(np.isin(labels, chosen))


def bbox(mask: BoolArray, *, margin: int = 0) -> tuple[slice, slice, slice]:
    """Slices of the bounding box of ``mask`` grown by ``margin`` voxels (clipped)."""
    out = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hit = np.flatnonzero(mask.any(axis=other))
        lo, hi = (int(hit[0]), int(hit[-1]) + 1) if hit.size else (0, 0)
        out.append(slice(max(0, lo - margin), min(mask.shape[axis], hi + margin)))
    return (out[0], out[1], out[2])


def hull_2d(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Pixels whose centres lie in the convex hull of the pixel centres of ``mask``."""
    edge = mask & ~ndimage.binary_erosion(mask)
    pts = np.argwhere(edge).astype(np.float64)
    if len(pts) < 3:
        return mask.copy()
    try:
        eq = ConvexHull(pts).equations
    except QhullError:
        return mask.copy()
    (j0, i0), (j1, i1) = pts.min(axis=0).astype(int), pts.max(axis=0).astype(int) + 1
    jj, ii = np.mgrid[j0:j1, i0:i1]
    inside = (jj[..., None] * eq[:, 0] + ii[..., None] * eq[:, 1] + eq[:, 2] <= 1e-6).all(-1)
    out = np.zeros_like(mask)
    out[j0:j1, i0:i1] = inside
    return out | mask
