"""Resample a Volume to a voxel spacing or onto another grid (SimpleITK does the work).

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Volume
>>> vol = Volume.from_spacing(np.zeros((10, 20, 20), np.int16), spacing=(3.0, 0.5, 0.5))
>>> out = Resample((1.0, 1.0, 1.0))(vol)
>>> out.shape, out.spacing, out.array.dtype
((30, 10, 10), (1.0, 1.0, 1.0), dtype('float32'))
>>> out.provenance[-1].grid_before.shape
(10, 20, 20)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vesalius.core import Grid, Volume
from vesalius.standardize.base import GeometricTransform
from vesalius.standardize.gridmap import INTERPOLATIONS, Interpolation, map_to_grid


def _spacing3(spacing: float | Sequence[float]) -> tuple[float, float, float]:
    values = [float(spacing)] * 3 if isinstance(spacing, int | float) else list(spacing)
    if len(values) != 3 or not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"spacing must be one or three positive sizes in mm, found {spacing}")
    return (float(values[0]), float(values[1]), float(values[2]))


def spacing_grid(grid: Grid, spacing: float | Sequence[float]) -> Grid:
    """The grid covering the same physical extent as ``grid`` at a new ``spacing``.

    The new size along each axis is ``round(size * old / new)`` (at least 1) and the new grid
    is centred on the old one, so the field of view is kept to within half a voxel; the axis
    directions are kept.

    Examples
    --------
    >>> g = Grid((10, 4, 4), np.diag([3.0, 0.5, 0.5, 1.0]))
    >>> new = spacing_grid(g, 1.0)
    >>> new.shape, new.origin
    ((30, 2, 2), (-1.0, 0.25, 0.25))
    """
    new_spacing = np.asarray(_spacing3(spacing))
    old_spacing = np.asarray(grid.spacing)
    old_size = np.asarray(grid.shape, np.float64)
    new_size = np.maximum(1, np.round(old_size * old_spacing / new_spacing)).astype(int)
    centre_index = (old_size - 1) / 2
    centre = grid.affine[:3, :3] @ centre_index + grid.affine[:3, 3]
    cosines = grid.direction
    affine = np.eye(4)
    affine[:3, :3] = cosines * new_spacing
    affine[:3, 3] = centre - affine[:3, :3] @ ((new_size - 1) / 2)
    return Grid((int(new_size[0]), int(new_size[1]), int(new_size[2])), affine)


def _fill_value(volume: Volume, fill: float | None) -> float:
    if fill is not None:
        return float(fill)
    return float(np.min(volume.array))


def _check_interpolation(interpolation: str) -> None:
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, found {interpolation!r}")


@dataclass(frozen=True)
class Resample(GeometricTransform):
    """Resample to a voxel spacing, keeping the physical extent (see :func:`spacing_grid`).

    Parameters
    ----------
    spacing
        Target spacing in mm, ``(z, y, x)`` or one number for isotropic voxels.
    interpolation
        ``"linear"`` or ``"bspline"`` for images, ``"nearest"`` for label maps. Linear and
        B-spline give float32 (float64 stays float64); nearest keeps the dtype.
    fill
        Value for output voxels outside the input; ``None`` uses the image minimum (air
        for CT, background for MR and PET).
    """

    spacing: float | tuple[float, float, float] = 1.0
    interpolation: Interpolation = "linear"
    fill: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "spacing", _spacing3(self.spacing))
        _check_interpolation(self.interpolation)

    def apply_grid(self, volume: Volume) -> tuple[npt.NDArray[Any], Grid]:
        """Resample with SimpleITK onto the new-spacing grid."""
        target = spacing_grid(volume.grid, self.spacing)
        fill = _fill_value(volume, self.fill)
        out = map_to_grid(
            volume.array, volume.grid, target, interpolation=self.interpolation, fill=fill
        )
        return out, target


@dataclass(frozen=True)
class ResampleToGrid(GeometricTransform):
    """Resample onto a given grid, for example another Volume's (``ResampleToGrid(ct.grid)``).

    Parameters
    ----------
    grid
        The target grid.
    interpolation, fill
        As for :class:`Resample`.

    Examples
    --------
    >>> import numpy as np
    >>> from vesalius.core import Volume
    >>> pet = Volume.from_spacing(np.ones((4, 4, 4), np.float32), spacing=(4.0, 4.0, 4.0))
    >>> ct = Volume.from_spacing(np.zeros((8, 8, 8), np.int16), spacing=(2.0, 2.0, 2.0))
    >>> ResampleToGrid(ct.grid)(pet).grid.same_as(ct.grid)
    True
    """

    grid: Grid
    interpolation: Interpolation = "linear"
    fill: float | None = None

    def __post_init__(self) -> None:
        _check_interpolation(self.interpolation)

    def apply_grid(self, volume: Volume) -> tuple[npt.NDArray[Any], Grid]:
        """Resample with SimpleITK onto :attr:`grid`."""
        fill = _fill_value(volume, self.fill)
        out = map_to_grid(
            volume.array, volume.grid, self.grid, interpolation=self.interpolation, fill=fill
        )
        return out, self.grid
