"""Input quality checks: flag obviously bad volumes before anything is computed on them.

Each check returns typed :class:`QualityIssue` records; :func:`check_quality` runs them all.

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Volume
>>> raw = Volume.from_spacing(np.full((3, 8, 8), 1000, np.int16), modality="CT")
>>> [issue.code for issue in check_quality(raw)]
['constant-image', 'too-few-slices', 'ct-no-air']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from vesalius.core import Volume

Severity = Literal["warning", "error"]


@dataclass(frozen=True)
class QualityIssue:
    """One problem found in an input volume.

    Parameters
    ----------
    code
        Stable identifier, e.g. ``"ct-no-air"``.
    severity
        ``"error"``: results would be meaningless; ``"warning"``: look before trusting.
    message
        What is wrong and what it suggests, in words.
    value
        The measured quantity that triggered it, when there is one.
    """

    code: str
    severity: Severity
    message: str
    value: float | None = None


@dataclass(frozen=True)
class QualityLimits:
    """Thresholds of the checks.

    ``ct_air_hu``: the darkest 0.5 % of a CT must reach below this (air is -1000 HU);
    ``ct_min_hu``: no CT voxel below this (physical minimum, with padding values).
    """

    min_slices: int = 8
    max_anisotropy: float = 5.0
    ct_air_hu: float = -900.0
    ct_min_hu: float = -3100.0
    ct_max_hu: float = 31000.0


def _finite(array: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], list[QualityIssue]]:
    if not np.issubdtype(array.dtype, np.floating):
        return array, []
    bad = ~np.isfinite(array)
    count = int(np.count_nonzero(bad))
    if count == 0:
        return array, []
    issue = QualityIssue("non-finite", "error", f"{count} voxels are NaN or infinite", float(count))
    return array[~bad], [issue]


def check_geometry(volume: Volume, limits: QualityLimits) -> list[QualityIssue]:
    """Too few slices, or voxels far longer along one axis than another."""
    issues = []
    if volume.shape[0] < limits.min_slices:
        issues.append(
            QualityIssue(
                "too-few-slices",
                "warning",
                f"only {volume.shape[0]} slices (fewer than {limits.min_slices})",
                float(volume.shape[0]),
            )
        )
    ratio = max(volume.spacing) / min(volume.spacing)
    if ratio > limits.max_anisotropy:
        issues.append(
            QualityIssue(
                "anisotropic-voxels",
                "warning",
                f"voxels are {ratio:.1f}:1 (spacing {volume.spacing} mm)",
                ratio,
            )
        )
    return issues


def check_ct_range(values: npt.NDArray[Any], limits: QualityLimits) -> list[QualityIssue]:
    """CT values that are not Hounsfield units: no air, or values beyond physical limits."""
    issues = []
    low, high = float(np.min(values)), float(np.max(values))
    flat = values.ravel()
    sample = flat[:: max(1, flat.size // 2_000_000)]  # a percentile of 2 M voxels is plenty
    darkest = float(np.percentile(sample, 0.5))
    if darkest > limits.ct_air_hu:
        issues.append(
            QualityIssue(
                "ct-no-air",
                "warning",
                f"the darkest voxels are {darkest:g}"
                " HU, far from air (-1000 HU): rescale missing, or no air "
                "in the field of view?",
                darkest,
            )
        )
    if low < limits.ct_min_hu or high > limits.ct_max_hu:
        issues.append(
            QualityIssue(
                "ct-out-of-range",
                "error",
                f"values span [{low:g}, {high:g}], outside plausible HU",
                low,
            )
        )
    return issues


def check_quality(volume: Volume, *, limits: QualityLimits | None = None) -> list[QualityIssue]:
    """Run every check on ``volume``; an empty list means nothing obvious is wrong."""
    limits = QualityLimits() if limits is None else limits
    values, issues = _finite(volume.array)
    if values.size == 0:
        return issues
    if float(np.min(values)) == float(np.max(values)):
        issues.append(
            QualityIssue(
                "constant-image",
                "error",
                f"every voxel is {float(values.flat[0]):g}",
                float(values.flat[0]),
            )
        )
    issues.extend(check_geometry(volume, limits))
    if volume.modality == "CT":
        issues.extend(check_ct_range(values, limits))
    return issues
