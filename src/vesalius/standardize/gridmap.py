"""Move an array from one voxel grid to another: SimpleITK for interpolation, exact otherwise.

SimpleITK arrays are ``(z, y, x)`` like ours, but an ``sitk.Image``'s spacing, origin and
direction are given for its index order ``(x, y, z)`` = our ``(i, j, k)``: its spacing is
our spacing reversed and its direction columns are our affine's direction columns reversed.
Both use DICOM LPS, so no sign flips are needed.

When the two grids differ only by a signed axis permutation and an integer shift (reorient,
crop, pad), :func:`map_to_grid` copies voxels exactly, with no interpolation at all.

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Grid
>>> src = Grid((2, 2, 2), np.diag([2.0, 1.0, 1.0, 1.0]))
>>> dst = Grid((3, 2, 2), np.diag([1.0, 1.0, 1.0, 1.0]))
>>> arr = np.array([[[0, 0], [0, 0]], [[10, 10], [10, 10]]], np.float32)
>>> map_to_grid(arr, src, dst, interpolation="linear")[:, 0, 0].tolist()
[0.0, 5.0, 10.0]
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from vesalius.core import Grid

logger = logging.getLogger(__name__)

Interpolation = Literal["nearest", "linear", "bspline"]
INTERPOLATIONS: tuple[Interpolation, ...] = ("nearest", "linear", "bspline")


def sitk() -> Any:
    """The SimpleITK module, imported on first use (it is untyped: treated as ``Any``)."""
    return importlib.import_module("SimpleITK")


def grid_to_sitk_geometry(grid: Grid) -> tuple[tuple[float, ...], ...]:
    """SimpleITK ``(spacing, origin, direction)`` of a grid, in SimpleITK's ``(x, y, z)`` order.

    Examples
    --------
    >>> g = Grid((3, 4, 5), np.diag([2.5, 0.8, 0.7, 1.0]))
    >>> grid_to_sitk_geometry(g)[0]
    (0.7, 0.8, 2.5)
    """
    spacing = tuple(float(s) for s in grid.spacing[::-1])
    direction = tuple(float(v) for v in grid.direction[:, ::-1].ravel())
    return spacing, grid.origin, direction


def to_sitk(array: npt.NDArray[Any], grid: Grid) -> Any:
    """A SimpleITK image of ``array`` (``(z, y, x)``) placed on ``grid`` (one copy)."""
    if array.dtype == np.bool_:
        array = array.view(np.uint8)
    image = sitk().GetImageFromArray(array)
    spacing, origin, direction = grid_to_sitk_geometry(grid)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    image.SetDirection(direction)
    return image


def grid_from_sitk(image: Any) -> Grid:
    """The :class:`Grid` of a 3-D SimpleITK image.

    Examples
    --------
    >>> lib = sitk()
    >>> img = lib.Image(5, 4, 3, lib.sitkInt16)
    >>> img.SetSpacing((0.7, 0.8, 2.5))
    >>> grid_from_sitk(img).shape, grid_from_sitk(img).spacing
    ((3, 4, 5), (2.5, 0.8, 0.7))
    """
    size = image.GetSize()
    direction = np.asarray(image.GetDirection(), np.float64).reshape(3, 3)[:, ::-1]
    affine = np.eye(4)
    affine[:3, :3] = direction * np.asarray(image.GetSpacing(), np.float64)[::-1]
    affine[:3, 3] = image.GetOrigin()
    return Grid((size[2], size[1], size[0]), affine)


def exact_index_map(
    source: Grid, target: Grid, *, tol: float = 1e-4
) -> tuple[tuple[int, int, int], tuple[bool, bool, bool], tuple[int, int, int]] | None:
    """Whether ``target`` indices map onto ``source`` indices by permutation, flip and shift.

    Returns ``(axes, flipped, offsets)`` such that target axis ``a`` runs along source axis
    ``axes[a]`` (reversed if ``flipped[a]``) starting at source index ``offsets[axes[a]]``,
    or ``None`` when the map needs interpolation.
    """
    m = np.linalg.solve(source.affine, target.affine)
    rot, shift = m[:3, :3], m[:3, 3]
    rounded = np.round(rot)
    if not np.allclose(rot, rounded, atol=tol) or not np.allclose(shift, np.round(shift), atol=tol):
        return None
    if not np.array_equal(np.abs(rounded).sum(axis=0), np.ones(3)):
        return None
    if not np.array_equal(np.abs(rounded).sum(axis=1), np.ones(3)):
        return None
    axes = tuple(int(np.argmax(np.abs(rounded[:, a]))) for a in range(3))
    flipped = tuple(bool(rounded[axes[a], a] < 0) for a in range(3))
    offsets = tuple(int(v) for v in np.round(shift))
    return (
        (axes[0], axes[1], axes[2]),
        (flipped[0], flipped[1], flipped[2]),
        (
            offsets[0],
            offsets[1],
            offsets[2],
        ),
    )


def _exact_copy(
    array: npt.NDArray[Any],
    target: Grid,
    index_map: tuple[tuple[int, int, int], tuple[bool, bool, bool], tuple[int, int, int]],
    fill: float,
) -> npt.NDArray[Any]:
    axes, flipped, offsets = index_map
    # Source index along source axis axes[a] for target index t: offsets + (+-1) * t.
    steps = [-1 if flipped[a] else 1 for a in range(3)]
    out = np.full(target.shape, fill, dtype=array.dtype)
    src_slices: list[slice] = [slice(0, 0)] * 3
    dst_slices: list[slice] = []
    for a in range(3):
        s_ax, n_src, n_dst = axes[a], array.shape[axes[a]], target.shape[a]
        t = np.arange(n_dst)
        s = offsets[s_ax] + steps[a] * t
        valid = np.flatnonzero((s >= 0) & (s < n_src))
        if valid.size == 0:
            return out
        t0, t1 = int(valid[0]), int(valid[-1])
        dst_slices.append(slice(t0, t1 + 1))
        first, last = int(s[t0]), int(s[t1])
        lo, hi = min(first, last), max(first, last)
        src_slices[s_ax] = slice(lo, hi + 1)
    block = np.transpose(array[tuple(src_slices)], axes)
    block = block[tuple(slice(None, None, -1) if f else slice(None) for f in flipped)]
    out[tuple(dst_slices)] = block
    return out


def _sitk_interpolator(interpolation: Interpolation) -> int:
    lib = sitk()
    table: dict[str, int] = {
        "nearest": lib.sitkNearestNeighbor,
        "linear": lib.sitkLinear,
        "bspline": lib.sitkBSpline,
    }
    return table[interpolation]


def output_dtype(dtype: np.dtype[Any], interpolation: Interpolation) -> np.dtype[Any]:
    """The dtype a resampled array gets: kept for nearest, else float32 (float64 kept).

    Examples
    --------
    >>> output_dtype(np.dtype(np.int16), "linear"), output_dtype(np.dtype(np.int16), "nearest")
    (dtype('float32'), dtype('int16'))
    """
    if interpolation == "nearest" or dtype == np.float64:
        return dtype
    return np.dtype(np.float32)


def _sitk_pixel_type(dtype: np.dtype[Any]) -> int:
    if dtype == np.bool_:
        dtype = np.dtype(np.uint8)
    return int(sitk().GetImageFromArray(np.zeros((1, 1, 1), dtype)).GetPixelID())


def map_to_grid(
    array: npt.NDArray[Any],
    source: Grid,
    target: Grid,
    *,
    interpolation: Interpolation = "linear",
    fill: float = 0.0,
) -> npt.NDArray[Any]:
    """Resample ``array`` (on ``source``) onto ``target`` by physical position.

    Exact copy when the grids are related by a signed permutation and integer shift;
    otherwise SimpleITK's multi-threaded ``ResampleImageFilter``. Points outside ``source``
    get ``fill``. The result dtype follows :func:`output_dtype`.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, found {interpolation!r}")
    if array.shape != source.shape:
        raise ValueError(f"array shape {array.shape} does not match its grid {source.shape}")
    index_map = exact_index_map(source, target)
    if index_map is not None:
        return _exact_copy(array, target, index_map, fill)
    lib = sitk()
    dtype = output_dtype(array.dtype, interpolation)
    spacing, origin, direction = grid_to_sitk_geometry(target)
    resampler = lib.ResampleImageFilter()
    resampler.SetSize([int(n) for n in target.shape[::-1]])
    resampler.SetOutputSpacing(spacing)
    resampler.SetOutputOrigin(origin)
    resampler.SetOutputDirection(direction)
    resampler.SetInterpolator(_sitk_interpolator(interpolation))
    resampler.SetDefaultPixelValue(float(fill))
    resampler.SetOutputPixelType(_sitk_pixel_type(dtype))
    result = resampler.Execute(to_sitk(array, source))
    out: npt.NDArray[Any] = lib.GetArrayFromImage(result)
    return out.view(np.bool_) if dtype == np.bool_ else out
