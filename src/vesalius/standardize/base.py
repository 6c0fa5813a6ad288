"""The :class:`Transform` base: apply one step to a Volume and record it.

Every standardization step derives from :class:`IntensityTransform` (same grid, new voxels)
or :class:`GeometricTransform` (new grid). Calling a transform returns a new
:class:`~vesalius.core.Volume` whose provenance ends with a
:class:`~vesalius.core.ProvenanceStep` naming the step and its parameters; a geometric step
also records ``grid_before``, so that anything computed on the new grid can be mapped back
(see :func:`vesalius.standardize.to_original_grid`).

Deterministic transforms are frozen dataclasses holding their parameters. A random
transform only samples parameters and delegates to its deterministic twin, so what is
recorded is always a deterministic, invertible step.

Examples
--------
>>> import numpy as np
>>> from dataclasses import dataclass
>>> from vesalius.core import Volume
>>> @dataclass(frozen=True)
... class AddOne(IntensityTransform):
...     def apply_array(self, volume: Volume) -> np.ndarray:
...         return volume.array + 1
>>> out = AddOne()(Volume.from_spacing(np.zeros((1, 2, 2))))
>>> float(out.array.max()), out.provenance[-1].name
(1.0, 'AddOne')
"""

from __future__ import annotations

import dataclasses
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from vesalius.core import Grid, ProvenanceStep, Volume

logger = logging.getLogger(__name__)


def plain_value(value: object) -> object:
    """Turn a parameter into a plain, JSON-ready value for the provenance record.

    Examples
    --------
    >>> plain_value((np.float64(1.5), 2))
    (1.5, 2)
    >>> plain_value(np.ones((2, 2), bool))
    {'array_shape': [2, 2], 'nonzero': 4}
    """
    if isinstance(value, Grid):
        return value.to_json()
    if isinstance(value, np.ndarray):
        return {"array_shape": list(value.shape), "nonzero": int(np.count_nonzero(value))}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return tuple(plain_value(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


class Transform(ABC):
    """Base of every recorded standardization step.

    Subclasses are frozen dataclasses; their fields are the parameters recorded in the
    provenance. Override :meth:`params` to record something else.
    """

    @property
    def name(self) -> str:
        """The name recorded in the provenance (the class name)."""
        return type(self).__name__

    def params(self) -> Mapping[str, object]:
        """The parameters recorded in the provenance, as plain values."""
        if not dataclasses.is_dataclass(self):
            return {}
        return {f.name: plain_value(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @abstractmethod
    def __call__(self, volume: Volume) -> Volume:
        """Apply the step and return a new Volume that records it."""


class IntensityTransform(Transform):
    """A step that changes voxel values but keeps the grid."""

    @abstractmethod
    def apply_array(self, volume: Volume) -> npt.NDArray[Any]:
        """The new voxel array, same shape as ``volume.array``."""

    def __call__(self, volume: Volume) -> Volume:
        """Apply the step and record it (no ``grid_before``: the grid is unchanged)."""
        array = self.apply_array(volume)
        step = ProvenanceStep(self.name, self.params(), operator=self)
        logger.debug("%s applied to a %s volume", self.name, volume.shape)
        return volume.with_array(array, step)


class GeometricTransform(Transform):
    """A step that moves the voxels to a new grid.

    Contract: physical positions are preserved, i.e. the value at an LPS point after the
    step is (up to interpolation) the value at that point before it. This is what lets a
    result on the new grid be mapped back with ``grid_before``.
    """

    @abstractmethod
    def apply_grid(self, volume: Volume) -> tuple[npt.NDArray[Any], Grid]:
        """The new voxel array and the grid it lives on."""

    def __call__(self, volume: Volume) -> Volume:
        """Apply the step and record it with the grid the volume had before."""
        array, grid = self.apply_grid(volume)
        if array.shape != grid.shape:
            raise RuntimeError(f"{self.name} produced shape {array.shape} for grid {grid.shape}")
        step = ProvenanceStep(self.name, self.params(), grid_before=volume.grid, operator=self)
        logger.debug("%s: %s -> %s", self.name, volume.shape, grid.shape)
        return volume.with_grid(array, grid.affine, step)


def describe(volume: Volume) -> str | None:
    """Name a volume's source for error messages: its series UID, or ``None``.

    Examples
    --------
    >>> describe(Volume.from_spacing(np.zeros((1, 1, 1)))) is None
    True
    """
    if volume.source is None:
        return None
    return f"series {volume.source.series_uid}"
