"""Seeded image noise: in-plane correlated Gaussian noise, drawn slab by slab.

Examples
--------
>>> from collections.abc import Iterator

import numpy as np
>>> img = np.zeros((4, 32, 32), np.float32)
>>> add_correlated_noise(img, sigma=10.0, blur_px=0.8, rng=np.random.default_rng(1))
>>> 8.0 < float(img.std()) < 12.0
True
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from scipy import ndimage

SLAB = 16


def blur_gain(blur_px: float) -> float:
    """The factor by which an in-plane Gaussian blur of ``blur_px`` shrinks white noise std.

    Examples
    --------
    >>> blur_gain(0.0)
    1.0
    """
    if blur_px <= 0:
        return 1.0
    delta = np.zeros((1, 33, 33))
    delta[0, 16, 16] = 1.0
    kernel = ndimage.gaussian_filter(delta, sigma=(0.0, blur_px, blur_px))
    return float(np.sqrt(np.sum(kernel**2)))


def noise_slabs(
    shape: tuple[int, int, int], *, sigma: float, blur_px: float, rng: np.random.Generator
) -> Iterator[tuple[int, npt.NDArray[np.float32]]]:
    """Yield ``(first slice, slab)`` of Gaussian noise of std ``sigma``, blurred in-plane.

    The noise is drawn ``SLAB`` slices at a time, so memory stays bounded and the result
    depends only on the seed and the shape.
    """
    scale = np.float32(sigma / blur_gain(blur_px))
    for k0 in range(0, shape[0], SLAB):
        slab = rng.standard_normal((min(SLAB, shape[0] - k0), shape[1], shape[2]), dtype=np.float32)
        if blur_px > 0:
            slab = ndimage.gaussian_filter(slab, sigma=(0.0, blur_px, blur_px))
        slab *= scale
        yield k0, slab


def add_correlated_noise(
    image: npt.NDArray[np.float32], *, sigma: float, blur_px: float, rng: np.random.Generator
) -> None:
    """Add in place the noise of :func:`noise_slabs` (nothing when ``sigma`` is 0)."""
    if sigma <= 0:
        return
    shape = (image.shape[0], image.shape[1], image.shape[2])
    for k0, slab in noise_slabs(shape, sigma=sigma, blur_px=blur_px, rng=rng):
        image[k0 : k0 + slab.shape[0]] += slab
