"""Intensity steps: CT Hounsfield clamping, MR z-score and percentile scaling.

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Volume
>>> ct = Volume.from_spacing(np.array([[[-3024, 0, 4000]]], np.int16), modality="CT")
>>> CTToHU()(ct).array.tolist()
[[[-1024, 0, 3071]]]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vesalius.core import Volume
from vesalius.errors import InputError, UnsupportedError
from vesalius.standardize.base import IntensityTransform, describe

logger = logging.getLogger(__name__)


def otsu_threshold(values: npt.NDArray[Any], *, bins: int = 256) -> float:
    """Otsu's threshold: the cut that maximizes the between-class variance.

    Examples
    --------
    >>> v = np.concatenate([np.zeros(100), np.full(100, 10.0)])
    >>> 0.0 < otsu_threshold(v) < 10.0
    True
    """
    finite = np.asarray(values, np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0 or finite.min() == finite.max():
        raise ValueError("Otsu's threshold needs at least two distinct finite values")
    counts, edges = np.histogram(finite, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight_lo = np.cumsum(counts)[:-1]
    weight_hi = finite.size - weight_lo
    sum_lo = np.cumsum(counts * centres)[:-1]
    mean_lo = sum_lo / np.maximum(weight_lo, 1)
    mean_hi = (np.sum(counts * centres) - sum_lo) / np.maximum(weight_hi, 1)
    between = weight_lo * weight_hi * (mean_lo - mean_hi) ** 2
    # Between well separated classes the criterion is flat over the empty bins of the gap:
    # take the middle of that plateau rather than its first bin.
    best = np.flatnonzero(between >= between.max() * (1.0 - 1e-9))
    return float(edges[int(best[len(best) // 2]) + 1])


def foreground_mask(volume: Volume) -> npt.NDArray[np.bool_]:
    """Voxels above Otsu's threshold: a rough head/body mask for MR and PET."""
    try:
        threshold = otsu_threshold(volume.array)
    except ValueError:
        raise UnsupportedError(
            describe(volume),
            "cannot find a foreground: the image is constant or has no finite values",
        ) from None
    return np.asarray(volume.array > threshold)


def _float_array(volume: Volume) -> npt.NDArray[np.floating[Any]]:
    dtype = np.float64 if volume.array.dtype == np.float64 else np.float32
    return volume.array.astype(dtype, copy=False)


@dataclass(frozen=True)
class CTToHU(IntensityTransform):
    """Clamp a CT (already rescaled to HU by the reader) to a plausible HU window.

    Refuses any modality but CT with :class:`~vesalius.errors.UnsupportedError`. Integer
    arrays keep their dtype when the window fits it.

    Parameters
    ----------
    low, high
        The window in HU; the default ``[-1024, 3071]`` is the 12-bit CT range.
    """

    low: float = -1024.0
    high: float = 3071.0

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"the HU window needs low < high, found [{self.low}, {self.high}]")

    def apply_array(self, volume: Volume) -> npt.NDArray[Any]:
        """Clip to ``[low, high]``."""
        if volume.modality != "CT":
            raise UnsupportedError(
                describe(volume), f"CTToHU needs a CT, found modality {volume.modality!r}"
            )
        array = volume.array
        if np.issubdtype(array.dtype, np.integer):
            info = np.iinfo(array.dtype)
            if not (info.min <= self.low and self.high <= info.max):
                array = array.astype(np.float32)
        elif array.dtype != np.float64:
            array = array.astype(np.float32, copy=False)
        return np.asarray(np.clip(array, self.low, self.high), dtype=array.dtype)


@dataclass(frozen=True, eq=False)
class ZScoreNormalize(IntensityTransform):
    """Subtract the mean and divide by the standard deviation within a foreground mask.

    Parameters
    ----------
    mask
        Boolean array of the volume's shape; ``None`` computes one with Otsu's threshold.

    Examples
    --------
    >>> vol = Volume.from_spacing(np.array([[[0.0, 0.0, 2.0, 4.0]]]), modality="MR")
    >>> ZScoreNormalize(mask=np.array([[[False, False, True, True]]]))(vol).array.tolist()
    [[[-3.0, -3.0, -1.0, 1.0]]]
    """

    mask: npt.NDArray[np.bool_] | None = None

    def apply_array(self, volume: Volume) -> npt.NDArray[Any]:
        """The z-scored array, float32 (float64 kept)."""
        mask = foreground_mask(volume) if self.mask is None else np.asarray(self.mask, bool)
        if mask.shape != volume.shape:
            raise InputError(
                describe(volume), f"the mask has shape {mask.shape}, the image {volume.shape}"
            )
        values = volume.array[mask]
        if values.size == 0 or not np.isfinite(std := float(np.std(values))) or std == 0.0:
            raise UnsupportedError(
                describe(volume), "cannot z-score: the foreground is empty or constant"
            )
        mean = float(np.mean(values))
        logger.debug("z-score with mean %.4g and std %.4g over %d voxels", mean, std, values.size)
        array = _float_array(volume)
        return ((array - mean) / std).astype(array.dtype, copy=False)


@dataclass(frozen=True)
class PercentileScale(IntensityTransform):
    """Map the ``low`` and ``high`` percentiles to ``out_low`` and ``out_high``, then clip.

    Examples
    --------
    >>> vol = Volume.from_spacing(np.arange(101.0).reshape(1, 1, 101), modality="MR")
    >>> out = PercentileScale(low=10.0, high=90.0)(vol).array
    >>> float(out.min()), float(out[0, 0, 50]), float(out.max())
    (0.0, 0.5, 1.0)
    """

    low: float = 0.5
    high: float = 99.5
    out_low: float = 0.0
    out_high: float = 1.0
    clip: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.low < self.high <= 100.0:
            raise ValueError(
                f"percentiles need 0 <= low < high <= 100, found {self.low}, {self.high}"
            )

    def apply_array(self, volume: Volume) -> npt.NDArray[Any]:
        """The scaled array, float32 (float64 kept)."""
        lo, hi = (float(v) for v in np.percentile(volume.array, [self.low, self.high]))
        if hi <= lo:
            raise UnsupportedError(
                describe(volume),
                f"cannot scale: percentiles {self.low} and {self.high} are both {lo}",
            )
        array = _float_array(volume)
        scale = (self.out_high - self.out_low) / (hi - lo)
        out = (array - lo) * scale + self.out_low
        if self.clip:
            np.clip(out, self.out_low, self.out_high, out=out)
        return out.astype(array.dtype, copy=False)
