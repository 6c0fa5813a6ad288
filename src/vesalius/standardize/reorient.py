"""Reorient a Volume to an orientation code by permuting and flipping axes, exactly.

Orientation codes follow nibabel and TorchIO: three letters for the voxel axes
``(i, j, k)`` = array axes ``(2, 1, 0)``, each naming where that axis points to
(``L``/``R``, ``P``/``A``, ``S``/``I``). A DICOM axial CT as read is ``"LPS"``: columns run to
the patient's Left, rows to Posterior, slices to Superior. ``"RAS"`` is the NIfTI
canonical orientation.

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Volume
>>> vol = Volume.from_spacing(np.arange(24).reshape(2, 3, 4), spacing=(3.0, 2.0, 1.0))
>>> orientation_code(vol.grid)
'LPS'
>>> ras = Reorient("RAS")(vol)
>>> orientation_code(ras.grid), ras.shape
('RAS', (2, 3, 4))
>>> bool(np.allclose(ras.index_to_lps([[0, 0, 0]]), vol.index_to_lps([[0, 2, 3]])))
True
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vesalius.core import Grid, Volume
from vesalius.standardize.base import GeometricTransform

_POSITIVE = "LPS"
_NEGATIVE = "RAI"


def _axis_of(letter: str) -> tuple[int, int]:
    """LPS axis (0, 1, 2) and sign (+1, -1) of an orientation letter."""
    if letter in _POSITIVE:
        return _POSITIVE.index(letter), 1
    if letter in _NEGATIVE:
        return _NEGATIVE.index(letter), -1
    raise ValueError(f"orientation letters are L, R, P, A, S, I; found {letter!r}")


def check_code(code: str) -> str:
    """Validate an orientation code and return it upper-cased.

    Examples
    --------
    >>> check_code("ras")
    'RAS'
    >>> check_code("LLS")
    Traceback (most recent call last):
    ...
    ValueError: orientation code 'LLS' must name each of L/R, P/A, S/I once
    """
    upper = code.upper()
    axes = sorted(_axis_of(c)[0] for c in upper) if len(upper) == 3 else []
    if axes != [0, 1, 2]:
        raise ValueError(f"orientation code {code!r} must name each of L/R, P/A, S/I once")
    return upper


def orientation_code(grid: Grid) -> str:
    """The closest orientation code of a grid, for axes ``(i, j, k)``.

    For oblique grids each voxel axis gets the patient axis it is most aligned with,
    choosing the assignment with the largest total alignment.
    """
    cosines = grid.direction  # columns: k, j, i in LPS
    best = max(
        itertools.permutations(range(3)),
        key=lambda perm: sum(abs(cosines[perm[col], col]) for col in range(3)),
    )
    letters = []
    for col in (2, 1, 0):  # i, j, k
        lps_axis = best[col]
        positive = cosines[lps_axis, col] >= 0
        letters.append(_POSITIVE[lps_axis] if positive else _NEGATIVE[lps_axis])
    return "".join(letters)


def reorient_plan(grid: Grid, code: str) -> tuple[tuple[int, int, int], tuple[bool, ...]]:
    """Array axes to take, and which to flip, to bring ``grid`` to orientation ``code``.

    Returns ``(axes, flips)`` for ``np.transpose(array, axes)`` followed by flipping the
    new axes where ``flips`` is true.
    """
    current = orientation_code(grid)
    target = check_code(code)
    # Array axis of each LPS axis now, with its sign.
    now = {_axis_of(current[2 - ax])[0]: (ax, _axis_of(current[2 - ax])[1]) for ax in range(3)}
    axes: list[int] = []
    flips: list[bool] = []
    for new_ax in range(3):
        lps_axis, sign = _axis_of(target[2 - new_ax])
        old_ax, old_sign = now[lps_axis]
        axes.append(old_ax)
        flips.append(sign != old_sign)
    return (axes[0], axes[1], axes[2]), tuple(flips)


def reoriented_grid(grid: Grid, axes: tuple[int, int, int], flips: tuple[bool, ...]) -> Grid:
    """The grid after ``np.transpose(axes)`` and the flips: same physical voxel positions."""
    shape = tuple(grid.shape[a] for a in axes)
    index_map = np.zeros((4, 4))
    index_map[3, 3] = 1.0
    for new_ax, old_ax in enumerate(axes):
        if flips[new_ax]:
            index_map[old_ax, new_ax] = -1.0
            index_map[old_ax, 3] = shape[new_ax] - 1
        else:
            index_map[old_ax, new_ax] = 1.0
    return Grid((shape[0], shape[1], shape[2]), grid.affine @ index_map)


@dataclass(frozen=True)
class Reorient(GeometricTransform):
    """Permute and flip the array axes to reach an orientation code; no interpolation.

    Parameters
    ----------
    code
        Target orientation for voxel axes ``(i, j, k)``, for example ``"LPS"`` or ``"RAS"``.
    """

    code: str = "LPS"

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", check_code(self.code))

    def apply_grid(self, volume: Volume) -> tuple[npt.NDArray[Any], Grid]:
        """Transpose and flip the array; the affine follows so positions are unchanged."""
        axes, flips = reorient_plan(volume.grid, self.code)
        array = np.transpose(volume.array, axes)
        array = array[tuple(slice(None, None, -1) if f else slice(None) for f in flips)]
        return np.ascontiguousarray(array), reoriented_grid(volume.grid, axes, flips)
