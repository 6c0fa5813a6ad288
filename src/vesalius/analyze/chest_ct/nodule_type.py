"""Nodule type (solid, part-solid, ground-glass) and the solid component, from HU.

Physical cutoffs (HU): aerated lung is about -850; ground glass is hazy attenuation
through which vessels stay visible, between about :data:`GROUND_GLASS_HU` (-750) and
:data:`SOLID_HU` (-300); soft tissue (a solid nodule) is about 0 to 50. So:

- **solid**: the nodule's partial-volume corrected mean HU is at least :data:`SOLID_HU`;
- **part-solid**: its mean is below :data:`SOLID_HU` and it holds voxels at or above
  :data:`SOLID_HU` (a solid core within ground glass);
- **ground-glass**: neither.

The solid component of a part-solid nodule is measured like a nodule (on its Lung-RADS
plane), by the ellipsoid
moments of the excess of its voxels over the ground-glass level (the median HU of the
nodule outside the core); a solid nodule's solid component is the nodule itself.

Examples
--------
>>> nodule_kind(mean_hu=20.0, has_core=True), nodule_kind(-550.0, True), nodule_kind(-600.0, False)
('solid', 'part-solid', 'ground-glass')
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from vesalius.analyze.chest_ct.coarse import BoolArray, Spacing
from vesalius.analyze.chest_ct.nodule_measure import measure_ellipsoid

SOLID_HU = -300.0
"""Solid (soft-tissue) attenuation starts here: the upper limit of ground glass."""
GROUND_GLASS_HU = -750.0
"""Ground glass starts about here (aerated lung is about -850 HU)."""
KINDS = ("solid", "part-solid", "ground-glass")


def nodule_kind(mean_hu: float, has_core: bool) -> str:
    """The type from the corrected mean HU and whether a solid core is present."""
    if mean_hu >= SOLID_HU:
        return "solid"
    return "part-solid" if has_core else "ground-glass"


def solid_core(hu: npt.NDArray[np.floating], body: BoolArray) -> BoolArray:
    """Voxels of ``body`` at or above :data:`SOLID_HU`."""
    return np.asarray(body & (np.asarray(hu) >= SOLID_HU))


def ground_glass_level(hu: npt.NDArray[np.floating], body: BoolArray, core: BoolArray) -> float:
    """Median HU of a part-solid nodule outside its (dilated) core: its ground-glass HU."""
    rim = body & ~ndimage.binary_dilation(core, np.ones((3, 3, 3), bool))
    return float(np.median(np.asarray(hu)[rim])) if rim.any() else GROUND_GLASS_HU


def core_axes(
    hu: npt.NDArray[np.floating],
    body: BoolArray,
    core: BoolArray,
    level: float,
    spacing: Spacing,
) -> tuple[float, float]:
    """Long and short axis (mm) of the solid ``core`` of ``body``, over ``level``.

    Measured on the Lung-RADS plane of the core, like the nodule
    (:func:`~vesalius.analyze.chest_ct.nodule_measure.choose_plane`).

    Only the nodule's voxels count, each by its excess over ``level`` (never negative):
    around the core lies ground glass inside the nodule, and aerated lung outside it.
    """
    excess = np.where(body, np.maximum(np.asarray(hu, np.float64), level), level)
    size = measure_ellipsoid(excess, core, np.zeros_like(core), level, spacing)
    return size.chosen.long_axis_mm, size.chosen.short_axis_mm
