"""Measuring a nodule: long and short axis, volume and mean attenuation, partial volume aware.

Two estimators, chosen by how well the nodule is sampled:

- **Ellipsoid moments** (a nodule spanning fewer than :data:`OUTLINE_VOXELS` voxels along
  some axis, the usual case on 3-6 mm slices). Each voxel's excess over the local lung
  background, ``hu - background``, is its partial-volume share of the nodule, so the
  excess-weighted second moments of the voxel positions are those of the nodule itself,
  plus ``spacing**2 / 12`` per axis for the voxel's own extent (subtracted). A uniform
  ellipsoid of semi-axes ``a >= b`` has in-plane variances ``a**2 / 5`` and ``b**2 / 5``,
  which give the axial long and short axes. Assumptions: the nodule is roughly a uniform
  ellipsoid; when it spans fewer than three slices its extent along z is not resolved and
  is taken as the mean of its in-plane semi-axes (for the volume and the mean HU only).
  The mean HU is partial-volume corrected: ``background + excess / volume``.
- **Outline** (a lesion at least :data:`OUTLINE_VOXELS` voxels across on every axis, such
  as a mass, or a nodule on thin slices): the sub-voxel outline at half-way between the
  background and the lesion's median HU on each axial slice (marching squares,
  ``skimage.measure.find_contours``); the long axis is the longest caliper diameter over
  the slices and the short axis the lesion's width perpendicular to it on that slice; the
  volume counts the voxels above the half-way level.

Lung-RADS v2022 asks for the long axis in the plane showing the largest diameter; this
measures axial planes only (coronal and sagittal reformats of slices thicker than the
voxels are not reliable), and rounds nothing: rounding is for reports.

Examples
--------
>>> import numpy as np
>>> zz, yy, xx = np.mgrid[:40, :40, :40] * 0.5
>>> inside = ((xx - 10) / 5) ** 2 + ((yy - 10) / 3) ** 2 + ((zz - 10) / 4) ** 2 <= 1
>>> hu = np.where(inside, 30.0, -850.0)
>>> m = measure_ellipsoid(hu, inside, np.zeros_like(inside), -850.0, (0.5, 0.5, 0.5))
>>> round(m.long_axis_mm, 1), round(m.short_axis_mm, 1), round(m.volume_mm3, -1)
(10.0, 5.9, 250.0)
>>> o = measure_outline(hu, inside, -850.0, (0.5, 0.5, 0.5))
>>> round(o.long_axis_mm, 1), round(o.short_axis_mm, 1)  # binary: half a voxel out per side
(10.5, 6.5)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from skimage.measure import find_contours

from vesalius.analyze.chest_ct.coarse import BoolArray, Spacing

OUTLINE_VOXELS = 5
"""A lesion this many voxels across on every axis is measured on its outline."""
ELLIPSOID_VARIANCE = 5.0
"""A uniform ellipsoid's variance along a semi-axis ``a`` is ``a**2 / 5``."""


@dataclass(frozen=True)
class Size:
    """Axial long and short axis (mm), volume (mm³), mean HU and the centroid (voxels)."""

    long_axis_mm: float
    short_axis_mm: float
    volume_mm3: float
    mean_hu: float
    centroid: tuple[float, float, float]
    method: str


def _moments(
    weights: npt.NDArray[np.float64], where: BoolArray, spacing: Spacing
) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Total weight, centroid (voxel index) and covariance (mm², voxel extent removed)."""
    idx = np.argwhere(where).astype(np.float64)
    w = weights[where]
    total = float(w.sum())
    if total <= 0:
        return 0.0, idx.mean(axis=0) if len(idx) else np.zeros(3), np.zeros((3, 3))
    centre = (idx * w[:, None]).sum(axis=0) / total
    mm = (idx - centre) * np.asarray(spacing)
    cov = (mm * w[:, None]).T @ mm / total
    cov -= np.diag(np.asarray(spacing) ** 2 / 12.0)
    return total, centre, cov


def measure_ellipsoid(
    hu: npt.NDArray[np.floating],
    body: BoolArray,
    others: BoolArray,
    background: float,
    spacing: Spacing,
    *,
    ceiling_hu: float | None = None,
    floor_hu: float | None = None,
) -> Size:
    """Ellipsoid-moment size of the nodule ``body`` (see the module doc).

    ``others`` marks dense voxels of other structures, kept out of the partial-volume rim.
    ``ceiling_hu`` caps the HU used for the axes: a part-solid nodule's extent is that of
    its ground glass, and its denser core would otherwise pull the moments inwards (the
    mean HU still uses every voxel's own HU). Rim voxels below ``floor_hu`` (emphysema,
    air: darker than the background's noise explains) are left out.
    """
    region = ndimage.binary_dilation(body, np.ones((3, 3, 3), bool)) & ~(others & ~body)
    values = np.asarray(hu, np.float64)
    if floor_hu is not None:
        region &= body | (values >= floor_hu)
    capped = values if ceiling_hu is None else np.minimum(values, ceiling_hu)
    _, centre, cov = _moments(capped - background, region, spacing)
    total = float((values - background)[region].sum())
    plane = np.linalg.eigvalsh(cov[1:, 1:])
    b, a = (float(np.sqrt(ELLIPSOID_VARIANCE * max(v, 0.0))) for v in plane)
    var_z = float(cov[0, 0])
    c = float(np.sqrt(ELLIPSOID_VARIANCE * max(var_z, 0.0)))
    if 2.0 * c < 3.0 * spacing[0]:
        c = (a + b) / 2.0
    volume = 4.0 / 3.0 * np.pi * a * b * c
    excess = total * float(np.prod(spacing))
    mean_hu = background + excess / volume if volume > 0 else background
    return Size(
        long_axis_mm=2.0 * a,
        short_axis_mm=2.0 * b,
        volume_mm3=float(volume),
        mean_hu=float(mean_hu),
        centroid=(float(centre[0]), float(centre[1]), float(centre[2])),
        method="ellipsoid moments of the partial-volume excess over the lung background",
    )


def _calipers(points: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Longest diameter of a 2-D point set and its width perpendicular to that diameter."""
    if len(points) < 2:
        return 0.0, 0.0
    try:
        hull = points[ConvexHull(points).vertices]
    except QhullError:
        hull = points
    d = hull[:, None, :] - hull[None, :, :]
    dist = np.hypot(d[..., 0], d[..., 1])
    i, j = np.unravel_index(int(np.argmax(dist)), dist.shape)
    long_axis = float(dist[i, j])
    if long_axis == 0:
        return 0.0, 0.0
    u = (hull[j] - hull[i]) / long_axis
    across = hull @ np.array([-u[1], u[0]])
    return long_axis, float(across.max() - across.min())


def measure_outline(
    hu: npt.NDArray[np.floating], body: BoolArray, background: float, spacing: Spacing
) -> Size:
    """Outline size of the lesion ``body`` (see the module doc)."""
    inside = np.asarray(hu[body], np.float64)
    level = 0.5 * (background + float(np.median(inside)))
    near = ndimage.binary_dilation(body, np.ones((1, 3, 3), bool))
    best = (0.0, 0.0)
    for k in np.flatnonzero(body.any(axis=(1, 2))):
        image = np.where(near[k], np.asarray(hu[k], np.float64), background)
        contours = find_contours(np.pad(image, 1, constant_values=background), level)  # type: ignore[no-untyped-call]
        if not contours:
            continue
        points = (np.concatenate(contours) - 1.0) * np.asarray(spacing[1:])
        found = _calipers(points)
        if found[0] > best[0]:
            best = found
    solid = body & (np.asarray(hu) >= level)
    count = int(solid.sum())
    centre = np.argwhere(solid).mean(axis=0) if count else np.argwhere(body).mean(axis=0)
    return Size(
        long_axis_mm=best[0],
        short_axis_mm=best[1],
        volume_mm3=count * float(np.prod(spacing)),
        mean_hu=float(np.asarray(hu)[solid].mean()) if count else float(inside.mean()),
        centroid=(float(centre[0]), float(centre[1]), float(centre[2])),
        method="axial outlines at half-way between lung and lesion HU: calipers",
    )


def well_sampled(body: BoolArray) -> bool:
    """Whether ``body`` spans at least :data:`OUTLINE_VOXELS` voxels on every axis."""
    extent = (
        [
            int(np.ptp(np.flatnonzero(body.any(axis=tuple(a for a in range(3) if a != ax))))) + 1
            for ax in range(3)
        ]
        if body.any()
        else [0, 0, 0]
    )
    return min(extent) >= OUTLINE_VOXELS
