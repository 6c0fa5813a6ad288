"""The :class:`Volume`: voxels, their place in the patient, and where they came from.

Conventions, stated once for all of Vesalius:

- ``array`` is indexed ``[k, j, i]`` = ``[slice, row, column]`` (numpy order, as SimpleITK's
  ``GetArrayFromImage`` gives it). Shapes and spacings are written ``(z, y, x)`` in that order.
- ``affine`` is a 4x4 matrix mapping an index column vector ``(k, j, i, 1)`` in that same
  order to patient coordinates in millimetres in the **DICOM LPS** system (x towards the
  patient's Left, y towards Posterior, z towards Superior). So ``affine[:3, 2]`` is the
  DICOM row direction times the column spacing, ``affine[:3, 1]`` the column direction
  times the row spacing, and ``affine[:3, 0]`` the slice normal times the slice spacing.

Examples
--------
>>> import numpy as np
>>> vol = Volume.from_spacing(np.zeros((3, 4, 5), np.int16), spacing=(2.5, 0.8, 0.8),
...                           origin=(-100.0, -120.0, 30.0), modality="CT")
>>> vol.shape, vol.spacing
((3, 4, 5), (2.5, 0.8, 0.8))
>>> vol.index_to_lps([[1, 0, 0]]).tolist()
[[-100.0, -120.0, 32.5]]
>>> vol.lps_to_index([[-99.2, -120.0, 30.0]]).round(6).tolist()
[[0.0, 0.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from vesalius.core.provenance import ProvenanceStep
from vesalius.core.refs import SeriesRef

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


def _checked_affine(affine: ArrayLike) -> FloatArray:
    matrix = np.array(affine, dtype=np.float64)
    if matrix.shape != (4, 4):
        raise ValueError(f"affine must be 4x4, found shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("affine has non-finite values")
    if not np.allclose(matrix[3], [0.0, 0.0, 0.0, 1.0]):
        raise ValueError(f"affine's last row must be [0, 0, 0, 1], found {matrix[3].tolist()}")
    if abs(np.linalg.det(matrix[:3, :3])) < 1e-12:
        raise ValueError("affine is singular: its axes are not independent")
    matrix.setflags(write=False)
    return matrix


@dataclass(frozen=True, eq=False)
class Grid:
    """A voxel grid: a 3-D shape ``(z, y, x)`` and its index-to-LPS affine.

    Examples
    --------
    >>> g = Grid((2, 2, 2), np.diag([3.0, 1.0, 1.0, 1.0]))
    >>> g.spacing
    (3.0, 1.0, 1.0)
    """

    shape: tuple[int, int, int]
    affine: FloatArray

    def __post_init__(self) -> None:
        shape = tuple(int(n) for n in self.shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"grid shape must be three positive sizes, found {self.shape}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "affine", _checked_affine(self.affine))

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm along ``(z, y, x)``."""
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(norms[0]), float(norms[1]), float(norms[2]))

    @property
    def origin(self) -> tuple[float, float, float]:
        """LPS position in mm of the centre of voxel ``(0, 0, 0)``."""
        x, y, z = self.affine[:3, 3]
        return (float(x), float(y), float(z))

    @property
    def direction(self) -> FloatArray:
        """3x3 matrix whose columns are the unit LPS directions of the ``k, j, i`` axes."""
        return np.asarray(self.affine[:3, :3] / np.array(self.spacing), dtype=np.float64)

    def index_to_lps(self, indices: ArrayLike) -> FloatArray:
        """Map ``(n, 3)`` indices ``(k, j, i)`` to ``(n, 3)`` LPS points in mm."""
        idx = np.atleast_2d(np.asarray(indices, dtype=np.float64))
        return np.asarray(idx @ self.affine[:3, :3].T + self.affine[:3, 3], dtype=np.float64)

    def lps_to_index(self, points: ArrayLike) -> FloatArray:
        """Map ``(n, 3)`` LPS points in mm to fractional indices ``(k, j, i)``."""
        pts = np.atleast_2d(np.asarray(points, dtype=np.float64)) - self.affine[:3, 3]
        return np.asarray(np.linalg.solve(self.affine[:3, :3], pts.T).T, dtype=np.float64)

    def same_as(self, other: Grid, *, tol_mm: float = 1e-4) -> bool:
        """Whether ``other`` has the same shape and an affine equal within ``tol_mm``."""
        return self.shape == other.shape and bool(
            np.allclose(self.affine, other.affine, atol=tol_mm, rtol=0.0)
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"shape": list(self.shape), "affine": self.affine.tolist()}


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3-D image with its geometry, frame of reference, modality and provenance.

    Parameters
    ----------
    array
        Voxel values, indexed ``[slice, row, column]``.
    affine
        4x4 index-to-LPS matrix (see the module docstring).
    frame_of_reference_uid
        DICOM Frame of Reference UID, or ``None`` when unknown (for example from NIfTI).
    modality
        DICOM modality code: ``"CT"``, ``"MR"``, ``"PT"``, or ``"OT"`` when unknown.
    provenance
        Steps that produced this volume, oldest first.
    source
        The DICOM study, series and instances it was read from, when known.
    """

    array: npt.NDArray[Any]
    affine: FloatArray
    frame_of_reference_uid: str | None = None
    modality: str = "OT"
    provenance: tuple[ProvenanceStep, ...] = field(default=())
    source: SeriesRef | None = None

    def __post_init__(self) -> None:
        array = np.asarray(self.array)
        if array.ndim != 3:
            raise ValueError(f"a Volume needs a 3-D array, found {array.ndim}-D {array.shape}")
        if 0 in array.shape:
            raise ValueError(f"a Volume cannot be empty, found shape {array.shape}")
        object.__setattr__(self, "array", array)
        object.__setattr__(self, "affine", _checked_affine(self.affine))
        object.__setattr__(self, "provenance", tuple(self.provenance))

    @classmethod
    def from_spacing(
        cls,
        array: npt.NDArray[Any],
        *,
        spacing: Sequence[float] = (1.0, 1.0, 1.0),
        origin: Sequence[float] = (0.0, 0.0, 0.0),
        direction: ArrayLike | None = None,
        **kwargs: Any,
    ) -> Volume:
        """Build from spacing ``(z, y, x)``, LPS origin and a 3x3 direction (columns k, j, i).

        The default direction is axial: k towards Superior, j Posterior, i Left.
        """
        dirs = np.eye(3)[:, ::-1] if direction is None else np.asarray(direction, np.float64)
        affine = np.eye(4)
        affine[:3, :3] = dirs * np.asarray(spacing, dtype=np.float64)
        affine[:3, 3] = origin
        return cls(array, affine, **kwargs)

    @property
    def grid(self) -> Grid:
        """The voxel grid (shape and affine)."""
        shape = self.array.shape
        return Grid((shape[0], shape[1], shape[2]), self.affine)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape ``(z, y, x)``."""
        return self.grid.shape

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm along ``(z, y, x)``."""
        return self.grid.spacing

    @property
    def origin(self) -> tuple[float, float, float]:
        """LPS position of voxel ``(0, 0, 0)``."""
        return self.grid.origin

    @property
    def direction(self) -> FloatArray:
        """Unit LPS direction of the ``k, j, i`` axes, as columns."""
        return self.grid.direction

    def index_to_lps(self, indices: ArrayLike) -> FloatArray:
        """Map ``(n, 3)`` indices ``(k, j, i)`` to LPS points in mm."""
        return self.grid.index_to_lps(indices)

    def lps_to_index(self, points: ArrayLike) -> FloatArray:
        """Map LPS points in mm to fractional indices ``(k, j, i)``."""
        return self.grid.lps_to_index(points)

    def with_array(self, array: npt.NDArray[Any], step: ProvenanceStep) -> Volume:
        """A new Volume on the same grid with new voxels, recording ``step``."""
        if array.shape != self.array.shape:
            raise ValueError(
                f"with_array keeps the grid: expected {self.array.shape}, found {array.shape}"
            )
        return replace(self, array=array, provenance=(*self.provenance, step))

    def with_grid(self, array: npt.NDArray[Any], affine: ArrayLike, step: ProvenanceStep) -> Volume:
        """A new Volume on a new grid, recording ``step`` (which should hold grid_before)."""
        return replace(
            self,
            array=array,
            affine=np.asarray(affine, np.float64),
            provenance=(*self.provenance, step),
        )
