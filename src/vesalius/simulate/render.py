"""Rendering primitives for phantoms on axis-aligned grids.

A phantom is drawn on a grid whose ``k, j, i`` axes point to Superior, Posterior and Left
(the default of :meth:`vesalius.core.Volume.from_spacing`), so LPS coordinates of the voxel
centres are three 1-D arrays (:class:`Axes`) and shapes are evaluated by broadcasting,
never by looping over voxels. Small objects are drawn in their bounding box only, with
partial volume from supersampling (:func:`box_fraction`) or a one-voxel ramp on a distance
(:func:`capsule_fraction`).

Examples
--------
>>> ax = Axes.centred((4, 4, 4), spacing=(1.0, 1.0, 1.0))
>>> ax.z.tolist()
[-1.5, -0.5, 0.5, 1.5]
>>> ball = ellipsoid((0, 0, 0), (1, 1, 1))
>>> box, frac = box_fraction(ax, Box.around(ax, (0, 0, 0), 1.0), ball, samples=16)
>>> round(float(frac.sum()), 1)  # 4/3 pi = 4.19
4.2
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Inside = Callable[[FloatArray, FloatArray, FloatArray], npt.NDArray[np.bool_]]
"""A shape: given broadcastable z, y, x LPS coordinates, whether each point is inside."""


@dataclass(frozen=True, eq=False)
class Axes:
    """LPS coordinates (mm) of the voxel centres along ``z`` (k), ``y`` (j) and ``x`` (i)."""

    z: FloatArray
    y: FloatArray
    x: FloatArray

    @classmethod
    def centred(
        cls, shape: Sequence[int], *, spacing: Sequence[float], centre: Sequence[float] = (0, 0, 0)
    ) -> Axes:
        """A grid of ``shape`` and ``spacing`` (z, y, x) centred on LPS ``centre`` (x, y, z)."""
        zyx_centre = (centre[2], centre[1], centre[0])
        coords = [
            (np.arange(n, dtype=np.float64) - (n - 1) / 2.0) * s + c
            for n, s, c in zip(shape, spacing, zyx_centre, strict=True)
        ]
        return cls(coords[0], coords[1], coords[2])

    @property
    def shape(self) -> tuple[int, int, int]:
        """Grid shape ``(z, y, x)``."""
        return (self.z.size, self.y.size, self.x.size)

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size ``(z, y, x)`` in mm."""
        return (_step(self.z), _step(self.y), _step(self.x))

    @property
    def affine(self) -> FloatArray:
        """The ``(k, j, i) -> LPS`` affine of the grid."""
        affine = np.zeros((4, 4))
        affine[0, 2], affine[1, 1], affine[2, 0] = self.spacing[2], self.spacing[1], self.spacing[0]
        affine[:3, 3] = (self.x[0], self.y[0], self.z[0])
        affine[3, 3] = 1.0
        return affine

    @property
    def voxel_ml(self) -> float:
        """Volume of one voxel in millilitres."""
        return float(np.prod(self.spacing)) / 1000.0

    def mesh(self, box: Box | None = None) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Broadcastable ``(z, y, x)`` coordinate arrays of the whole grid or of ``box``."""
        b = box if box is not None else Box((0, 0, 0), self.shape)
        return (
            self.z[b.lo[0] : b.hi[0], None, None],
            self.y[None, b.lo[1] : b.hi[1], None],
            self.x[None, None, b.lo[2] : b.hi[2]],
        )


def _step(coords: FloatArray) -> float:
    return float(coords[1] - coords[0]) if coords.size > 1 else 1.0


@dataclass(frozen=True)
class Box:
    """A half-open index box ``[lo, hi)`` along ``(k, j, i)``."""

    lo: tuple[int, int, int]
    hi: tuple[int, int, int]

    @classmethod
    def around(cls, axes: Axes, centre: Sequence[float], radius: float | Sequence[float]) -> Box:
        """The box of voxels within ``radius`` mm (scalar or per x, y, z) of LPS ``centre``."""
        rad = np.broadcast_to(np.asarray(radius, np.float64), (3,))
        lo_mm = np.asarray(centre, np.float64) - rad
        hi_mm = np.asarray(centre, np.float64) + rad
        return cls.spanning(axes, lo_mm, hi_mm)

    @classmethod
    def spanning(cls, axes: Axes, lo_mm: FloatArray, hi_mm: FloatArray) -> Box:
        """The box of voxels whose centres may lie within the LPS range, plus one voxel."""
        lo: list[int] = []
        hi: list[int] = []
        for coords, a, b in zip((axes.z, axes.y, axes.x), lo_mm[::-1], hi_mm[::-1], strict=True):
            step = _step(coords)
            first = int(np.floor((a - coords[0]) / step)) - 1
            last = int(np.ceil((b - coords[0]) / step)) + 2
            lo.append(min(max(first, 0), coords.size))
            hi.append(min(max(last, 0), coords.size))
        return cls((lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2]))

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        """Index slices for numpy."""
        return (
            slice(self.lo[0], self.hi[0]),
            slice(self.lo[1], self.hi[1]),
            slice(self.lo[2], self.hi[2]),
        )

    @property
    def empty(self) -> bool:
        """Whether the box holds no voxel (the object lies outside the grid)."""
        return any(h <= lo for lo, h in zip(self.lo, self.hi, strict=True))


def ellipsoid(centre: Sequence[float], semi_axes: Sequence[float]) -> Inside:
    """An axis-aligned ellipsoid, ``centre`` and ``semi_axes`` in LPS (x, y, z) mm."""
    cx, cy, cz = (float(v) for v in centre)
    ax, ay, az = (float(v) for v in semi_axes)

    def inside(z: FloatArray, y: FloatArray, x: FloatArray) -> npt.NDArray[np.bool_]:
        return np.asarray(((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 + ((z - cz) / az) ** 2 <= 1)

    return inside


def box_fraction(
    axes: Axes, box: Box, inside: Inside, *, samples: int = 4
) -> tuple[Box, FloatArray]:
    """Fraction of each voxel of ``box`` inside a shape, by ``samples**3`` supersampling."""
    offsets = (np.arange(samples) + 0.5) / samples - 0.5
    sub = []
    for coords, lo, hi in zip((axes.z, axes.y, axes.x), box.lo, box.hi, strict=True):
        sub.append((coords[lo:hi, None] + offsets[None, :] * _step(coords)).ravel())
    hit = inside(sub[0][:, None, None], sub[1][None, :, None], sub[2][None, None, :])
    nz, ny, nx = (h - lo for lo, h in zip(box.lo, box.hi, strict=True))
    frac = hit.reshape(nz, samples, ny, samples, nx, samples).mean(axis=(1, 3, 5))
    return box, np.asarray(frac, np.float64)


def segment_distance(
    z: FloatArray, y: FloatArray, x: FloatArray, p0: FloatArray, p1: FloatArray
) -> FloatArray:
    """Distance (mm) from broadcast points to the segment ``p0``-``p1`` (LPS x, y, z)."""
    d = p1 - p0
    length2 = float(d @ d) or 1e-12
    t = ((x - p0[0]) * d[0] + (y - p0[1]) * d[1] + (z - p0[2]) * d[2]) / length2
    t = np.clip(t, 0.0, 1.0)
    return np.asarray(
        np.sqrt(
            (x - p0[0] - t * d[0]) ** 2 + (y - p0[1] - t * d[1]) ** 2 + (z - p0[2] - t * d[2]) ** 2
        ),
        np.float64,
    )


def capsule_fraction(
    axes: Axes, p0: Sequence[float], p1: Sequence[float], radius: float
) -> tuple[Box, FloatArray]:
    """Partial-volume fraction of a capsule (tube with round ends) in its bounding box.

    The fraction ramps linearly over one in-plane voxel across the surface.
    """
    a, b = np.asarray(p0, np.float64), np.asarray(p1, np.float64)
    box = Box.spanning(axes, np.minimum(a, b) - radius, np.maximum(a, b) + radius)
    if box.empty:
        return box, np.zeros((0, 0, 0))
    z, y, x = axes.mesh(box)
    h = min(axes.spacing[1], axes.spacing[2])
    dist = segment_distance(z, y, x, a, b)
    return box, np.clip((radius - dist) / h + 0.5, 0.0, 1.0)


def composite(
    image: npt.NDArray[np.float32],
    box: Box,
    frac: FloatArray,
    value: float,
    where: npt.NDArray[np.bool_] | None = None,
) -> None:
    """Blend ``value`` into ``image`` over ``box``: ``image = image * (1 - f) + value * f``."""
    if box.empty:
        return
    f = frac if where is None else frac * where
    view = image[box.slices]
    view += (value - view) * f.astype(np.float32)
