"""Generated volumes shared by the standardize tests (small, built in memory)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from vesalius.core import Volume


def sphere_volume(
    shape: Sequence[int] = (24, 40, 40),
    *,
    spacing: Sequence[float] = (2.5, 0.8, 0.8),
    radius_mm: float = 11.0,
    direction: npt.ArrayLike | None = None,
) -> Volume:
    """A CT-like volume: air (-1000 HU) around a soft-tissue sphere (+40 HU) at its centre."""
    vol = Volume.from_spacing(
        np.zeros(tuple(shape), np.int16),
        spacing=spacing,
        origin=(-15.0, 20.0, -30.0),
        direction=direction,
        modality="CT",
    )
    centre = vol.index_to_lps([[(n - 1) / 2 for n in shape]])[0]
    dist = np.linalg.norm(lps_of_every_voxel(vol) - centre, axis=-1)
    array = np.where(dist <= radius_mm, 40, -1000).astype(np.int16)
    return Volume(array, vol.affine, modality="CT")


def lps_of_every_voxel(vol: Volume) -> npt.NDArray[np.float64]:
    """LPS position of every voxel centre, shape ``vol.shape + (3,)``."""
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in vol.shape], indexing="ij"), axis=-1)
    return vol.index_to_lps(idx.reshape(-1, 3)).reshape(*vol.shape, 3)


def dice(a: npt.NDArray[np.bool_], b: npt.NDArray[np.bool_]) -> float:
    """Dice overlap of two masks."""
    return float(2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b)))
