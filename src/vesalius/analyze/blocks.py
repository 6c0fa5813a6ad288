"""Block means: the coarse working grids the analyses search on.

Several steps of the chest and cardiac analyses run on a grid of about 2 to 2.5 mm voxels
made of block means of the original voxels; averaging blocks also averages out noise.

Examples
--------
>>> import numpy as np
>>> block_factors((1.0, 0.7, 0.7), target_mm=2.5)
(2, 4, 4)
>>> block_mean(np.arange(16, dtype=np.int16).reshape(1, 4, 4), (1, 2, 2)).tolist()
[[[2.5, 4.5], [10.5, 12.5]]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Factors = tuple[int, int, int]


def block_factors(spacing: Sequence[float], *, target_mm: float) -> Factors:
    """Whole numbers of voxels per block so that a block is about ``target_mm`` wide."""
    f = [max(1, round(target_mm / s)) for s in spacing]
    return (f[0], f[1], f[2])


def block_mean(array: npt.NDArray[np.generic], factors: Factors) -> npt.NDArray[np.float32]:
    """Mean of each ``factors`` block of ``array`` (float32); edge blocks repeat the edge.

    Works one block of slices at a time, so memory stays about one output array.
    """
    fz, fy, fx = factors
    nz, ny, nx = (-(-n // f) for n, f in zip(array.shape, factors, strict=True))
    out = np.empty((nz, ny, nx), np.float32)
    for kc in range(nz):
        slab = np.asarray(array[kc * fz : (kc + 1) * fz], dtype=np.float32)
        pad = ((0, fz - slab.shape[0]), (0, ny * fy - slab.shape[1]), (0, nx * fx - slab.shape[2]))
        if any(p[1] for p in pad):
            slab = np.pad(slab, pad, mode="edge")
        out[kc] = slab.reshape(fz, ny, fy, nx, fx).mean(axis=(0, 2, 4))
    return out
