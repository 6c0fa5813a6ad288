"""Crop or pad a Volume to a shape or to a mask's bounding box; and a random crop.

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Volume
>>> vol = Volume.from_spacing(np.ones((4, 6, 6), np.int16), origin=(0.0, 0.0, 0.0))
>>> out = CropOrPad((4, 8, 4), pad_value=-1)(vol)
>>> out.shape, int(out.array.min()), out.origin
((4, 8, 4), -1, (1.0, -1.0, 0.0))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from vesalius.core import Grid, Volume
from vesalius.errors import InputError
from vesalius.standardize.base import GeometricTransform, describe
from vesalius.standardize.gridmap import map_to_grid


def _three_ints(values: Sequence[int], what: str, *, positive: bool) -> tuple[int, int, int]:
    out = tuple(int(v) for v in values)
    if len(out) != 3 or (positive and min(out) < 1):
        raise ValueError(
            f"{what} must be three {'positive ' if positive else ''}integers, found {tuple(values)}"
        )
    return (out[0], out[1], out[2])


def fits_dtype(value: float, dtype: np.dtype[Any]) -> bool:
    """Whether ``value`` can be stored exactly in ``dtype``.

    Examples
    --------
    >>> fits_dtype(-1024.0, np.dtype(np.int16)), fits_dtype(0.5, np.dtype(np.int16))
    (True, False)
    """
    if dtype == np.bool_:
        return value in (0, 1)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return float(value).is_integer() and info.min <= value <= info.max
    return True


def shifted_grid(grid: Grid, start: Sequence[int], shape: Sequence[int]) -> Grid:
    """The grid of ``shape`` whose voxel ``(0, 0, 0)`` is voxel ``start`` of ``grid``.

    Examples
    --------
    >>> shifted_grid(Grid((4, 4, 4), np.eye(4)), (1, -2, 0), (2, 2, 2)).origin
    (1.0, -2.0, 0.0)
    """
    affine = np.array(grid.affine)
    affine[:3, 3] = grid.affine[:3, :3] @ np.asarray(start, np.float64) + grid.affine[:3, 3]
    return Grid((int(shape[0]), int(shape[1]), int(shape[2])), affine)


@dataclass(frozen=True)
class CropOrPad(GeometricTransform):
    """Crop and/or pad to ``shape``, by whole voxels (exact, no interpolation).

    Parameters
    ----------
    shape
        Output shape ``(z, y, x)``.
    start
        Input index of the output's voxel ``(0, 0, 0)``; negative or past-the-end values
        pad. ``None`` centres the output on the input.
    pad_value
        Value of voxels outside the input.
    """

    shape: tuple[int, int, int]
    start: tuple[int, int, int] | None = None
    pad_value: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", _three_ints(self.shape, "shape", positive=True))
        if self.start is not None:
            object.__setattr__(self, "start", _three_ints(self.start, "start", positive=False))

    @classmethod
    def to_mask(
        cls,
        mask: Volume | npt.NDArray[Any],
        *,
        margin: int | Sequence[int] = 0,
        pad_value: float = 0.0,
    ) -> CropOrPad:
        """The crop to the bounding box of the non-zero voxels of ``mask``, plus ``margin``.

        Raises :class:`~vesalius.errors.InputError` when the mask is empty.

        Examples
        --------
        >>> m = np.zeros((5, 5, 5), bool); m[1:3, 2, 2:4] = True
        >>> CropOrPad.to_mask(m, margin=1)
        CropOrPad(shape=(4, 3, 4), start=(0, 1, 1), pad_value=0.0)
        """
        array = mask.array if isinstance(mask, Volume) else np.asarray(mask)
        where = describe(mask) if isinstance(mask, Volume) else None
        nonzero = np.nonzero(array)
        if nonzero[0].size == 0:
            raise InputError(where, "the mask is empty: there is no bounding box to crop to")
        pad = np.broadcast_to(np.asarray(margin, int), (3,))
        lo = np.array([int(ix.min()) for ix in nonzero]) - pad
        hi = np.array([int(ix.max()) for ix in nonzero]) + pad
        size = hi - lo + 1
        return cls(
            shape=(int(size[0]), int(size[1]), int(size[2])),
            start=(int(lo[0]), int(lo[1]), int(lo[2])),
            pad_value=pad_value,
        )

    def start_for(self, shape: Sequence[int]) -> tuple[int, int, int]:
        """The start index used for an input of ``shape``."""
        if self.start is not None:
            return self.start
        s = tuple((int(n) - m) // 2 for n, m in zip(shape, self.shape, strict=True))
        return (s[0], s[1], s[2])

    def apply_grid(self, volume: Volume) -> tuple[npt.NDArray[Any], Grid]:
        """Copy the overlapping block; the rest is ``pad_value``."""
        target = shifted_grid(volume.grid, self.start_for(volume.shape), self.shape)
        array = volume.array
        if not fits_dtype(self.pad_value, array.dtype):
            array = array.astype(np.result_type(array.dtype, np.float32))
        out = map_to_grid(array, volume.grid, target, fill=self.pad_value)
        return out, target


@dataclass(frozen=True)
class RandomCrop:
    """Crop a random block of ``shape`` that fits inside the input.

    A random transform only samples: :meth:`sample` returns the deterministic
    :class:`CropOrPad` twin, which does the work and is what the provenance records.

    Examples
    --------
    >>> vol = Volume.from_spacing(np.arange(64).reshape(4, 4, 4))
    >>> out = RandomCrop((2, 2, 2), rng=np.random.default_rng(0))(vol)
    >>> out.shape, out.provenance[-1].name
    ((2, 2, 2), 'CropOrPad')
    """

    shape: tuple[int, int, int]
    rng: np.random.Generator = field(default_factory=np.random.default_rng, compare=False)

    def sample(self, volume_shape: Sequence[int]) -> CropOrPad:
        """Draw a start index so that the crop lies inside ``volume_shape``."""
        shape = _three_ints(self.shape, "shape", positive=True)
        room = [int(n) - m for n, m in zip(volume_shape, shape, strict=True)]
        if min(room) < 0:
            raise ValueError(f"crop shape {shape} is larger than the volume {tuple(volume_shape)}")
        start = tuple(int(self.rng.integers(0, r + 1)) for r in room)
        return CropOrPad(shape, start=(start[0], start[1], start[2]))

    def __call__(self, volume: Volume) -> Volume:
        """Sample a crop and apply it."""
        return self.sample(volume.shape)(volume)
