"""The emphysema index: %LAA-950 per lung on the lung segmentation.

%LAA-950 is 100 times the number of lung voxels strictly below -950 HU divided by the
number of lung voxels, computed on the segmented lungs, which exclude the trachea and the
main bronchi (their air would otherwise count as low attenuation) and include vessels and
nodules. Noise pushes normal lung below the threshold and emphysema above it; the optional
``prefilter="median3"`` takes the 3x3x3 median of the HU first (inside the lungs' bounding
box), which brings %LAA on a noisy image close to its value on the noise-free image.

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Volume
>>> from vesalius.analyze.chest_ct.results import LungSegmentation
>>> hu = np.full((2, 4, 4), -850, np.int16)
>>> hu[:, :, :1] = -980
>>> labels = np.zeros(hu.shape, np.uint8)
>>> labels[:, :, :2], labels[:, :, 2:] = 1, 2
>>> ct = Volume.from_spacing(hu, spacing=(10.0, 10.0, 10.0), modality="CT")
>>> seg = LungSegmentation.from_label_map(ct.with_array(labels, ct.provenance[0])
...     if ct.provenance else Volume.from_spacing(labels, spacing=(10.0, 10.0, 10.0)),
...     trachea_found=False)
>>> result = emphysema_index(ct, seg)
>>> result.left.laa_percent, result.right.laa_percent, result.total_percent
(50.0, 0.0, 25.0)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.analyze.chest_ct.coarse import bbox
from vesalius.analyze.chest_ct.results import (
    LEFT,
    RIGHT,
    EmphysemaResult,
    LungEmphysema,
    LungSegmentation,
)
from vesalius.core import Volume
from vesalius.errors import GeometryError, InputError

PREFILTERS = ("none", "median3")
METHOD = (
    "%LAA = 100 * lung voxels below the threshold / lung voxels, on the segmented lungs "
    "(trachea and main bronchi excluded, vessels and nodules included)"
)


def _values(ct: Volume, lungs: npt.NDArray[np.bool_], prefilter: str) -> npt.NDArray[np.int32]:
    box = bbox(lungs, margin=1)
    hu = np.asarray(ct.array[box], dtype=np.int32)
    if prefilter == "median3":
        hu = np.asarray(ndimage.median_filter(hu, size=3, mode="nearest"), dtype=np.int32)
    out = np.zeros(ct.shape, np.int32)
    out[box] = hu
    return out


def emphysema_index(
    ct: Volume,
    segmentation: LungSegmentation,
    *,
    threshold_hu: float = -950.0,
    prefilter: str = "none",
) -> EmphysemaResult:
    """%LAA below ``threshold_hu`` per lung (see the module docstring for the definition).

    Raises
    ------
    InputError
        When ``prefilter`` is unknown.
    GeometryError
        When the segmentation is not on the CT's grid.
    """
    if prefilter not in PREFILTERS:
        raise InputError(None, f"prefilter must be one of {PREFILTERS}, found {prefilter!r}")
    if not segmentation.label_map.grid.same_as(ct.grid):
        raise GeometryError(None, "the lung segmentation is not on the CT's voxel grid")
    labels = np.asarray(segmentation.label_map.array)
    lungs = (labels == LEFT) | (labels == RIGHT)
    voxel_ml = float(abs(np.linalg.det(ct.affine[:3, :3]))) / 1000.0
    values = _values(ct, lungs, prefilter) if lungs.any() else np.zeros(ct.shape, np.int32)
    low = values < threshold_hu
    per_side = []
    for side, value in (("left", LEFT), ("right", RIGHT)):
        lung = labels == value
        n, n_low = int(lung.sum()), int((low & lung).sum())
        percent = 100.0 * n_low / n if n else 0.0
        per_side.append(LungEmphysema(side, percent, n_low * voxel_ml, n * voxel_ml))
    return EmphysemaResult(per_side[0], per_side[1], threshold_hu, prefilter, METHOD)
