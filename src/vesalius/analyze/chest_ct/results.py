"""Typed results of the chest CT lung analysis: the segmentation and the emphysema index.

Examples
--------
>>> import numpy as np
>>> from vesalius.core import Volume
>>> labels = np.zeros((2, 3, 3), np.uint8)
>>> labels[0, 1, 1], labels[1, 1, 1] = LEFT, RIGHT
>>> seg = LungSegmentation.from_label_map(
...     Volume.from_spacing(labels, spacing=(10.0, 10.0, 10.0)), trachea_found=False
... )
>>> round(seg.left_ml, 6), round(seg.right_ml, 6), round(seg.total_ml, 6)
(1.0, 1.0, 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vesalius.core import Volume

LEFT, RIGHT, AIRWAY = 1, 2, 3
"""Values of the lung label map (0 is everything else)."""
LABELS = {LEFT: "lung_left", RIGHT: "lung_right", AIRWAY: "airway"}
SIDES = {"left": LEFT, "right": RIGHT}


@dataclass(frozen=True, eq=False)
class LungSegmentation:
    """Left and right lungs (airways excluded) and the airways, on the CT's own grid.

    Attributes
    ----------
    label_map
        uint8 Volume on the CT's grid: :data:`LEFT` (1), :data:`RIGHT` (2), :data:`AIRWAY`
        (3: trachea and main bronchi with their walls), 0 elsewhere. Left is the patient's
        left (+x in LPS).
    left_ml, right_ml
        Lung volumes in millilitres (voxel count times voxel volume).
    airway_ml
        Volume of the airway label in millilitres.
    trachea_found
        Whether the trachea was found; when not, no airway was removed.
    stage_seconds
        Wall-clock seconds of each stage, in order (for benchmarks and logs).
    """

    label_map: Volume
    left_ml: float
    right_ml: float
    airway_ml: float
    trachea_found: bool
    stage_seconds: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_label_map(
        cls,
        label_map: Volume,
        *,
        trachea_found: bool,
        stage_seconds: tuple[tuple[str, float], ...] = (),
    ) -> LungSegmentation:
        """Build from a label map, counting the volumes."""
        voxel_ml = float(abs(np.linalg.det(label_map.affine[:3, :3]))) / 1000.0
        counts = np.bincount(np.asarray(label_map.array).ravel(), minlength=AIRWAY + 1)
        return cls(
            label_map,
            left_ml=float(counts[LEFT]) * voxel_ml,
            right_ml=float(counts[RIGHT]) * voxel_ml,
            airway_ml=float(counts[AIRWAY]) * voxel_ml,
            trachea_found=trachea_found,
            stage_seconds=stage_seconds,
        )

    @property
    def total_ml(self) -> float:
        """Both lungs, in millilitres."""
        return self.left_ml + self.right_ml

    def mask(self, side: str) -> npt.NDArray[np.bool_]:
        """Boolean mask of ``"left"``, ``"right"``, ``"both"`` lungs or ``"airway"``."""
        labels = np.asarray(self.label_map.array)
        if side == "both":
            return np.asarray((labels == LEFT) | (labels == RIGHT))
        if side == "airway":
            return np.asarray(labels == AIRWAY)
        if side not in SIDES:
            raise ValueError(f"side must be left, right, both or airway, found {side!r}")
        return np.asarray(labels == SIDES[side])


@dataclass(frozen=True)
class LungEmphysema:
    """%LAA of one lung: the share of its voxels below the threshold."""

    side: str
    laa_percent: float
    laa_ml: float
    lung_ml: float


@dataclass(frozen=True)
class EmphysemaResult:
    """The emphysema index (%LAA-950 by default) per lung and for both lungs.

    Attributes
    ----------
    left, right
        Per-lung results.
    threshold_hu
        Voxels strictly below this HU count as low-attenuation areas.
    prefilter
        ``"none"`` or ``"median3"`` (3x3x3 median of the HU before thresholding).
    method
        The definition, in words.
    """

    left: LungEmphysema
    right: LungEmphysema
    threshold_hu: float
    prefilter: str
    method: str

    @property
    def total_percent(self) -> float:
        """%LAA over both lungs together (0 when there is no lung)."""
        lung = self.left.lung_ml + self.right.lung_ml
        return 0.0 if lung <= 0 else 100.0 * (self.left.laa_ml + self.right.laa_ml) / lung
