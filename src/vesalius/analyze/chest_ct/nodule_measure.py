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
  The mean HU is partial-volume corrected: ``background + excess / volume``. Noise darker
  than the background gives negative weights; when they leave the in-plane moments no
  ellipse (a small, faint nodule in heavy noise), only the positive excess is weighed.
- **Outline** (a lesion at least :data:`OUTLINE_VOXELS` voxels across on every axis, such
  as a mass, or a nodule on thin slices): the sub-voxel outline at half-way between the
  background and the lesion's median HU on each axial slice (marching squares,
  ``skimage.measure.find_contours``); the long axis is the longest caliper diameter over
  the slices and the short axis the lesion's width perpendicular to it on that slice; the
  volume counts the voxels above the half-way level.

Lung-RADS v2022 (ACR) measures the long axis on the image, axial, coronal or sagittal,
that shows the nodule's largest dimension, and the short axis as the longest diameter
perpendicular to it on that image. Both estimators measure all three planes
(:class:`Axes`, end points as voxel indices) and :func:`choose_plane` picks the one used:

- a reformat is used only when the nodule spans at least :data:`REFORMAT_SLICES` slices
  along z (slice spacing at most a third of its z extent). On fewer slices a coronal or
  sagittal reformat is a stack of two or so thick rows: its z extent is the slice
  thickness, not the nodule's, and would inflate or shrink the long axis;
- a reformat replaces the acquired axial plane only when its long axis is longer by more
  than :data:`REFORMAT_MARGIN_MM` (1 mm, about the repeatability of a nodule diameter):
  ties go to the acquired images, on which viewers (OHIF) draw the axes.

``Size.long_axis_mm`` and ``short_axis_mm`` stay the axial ones (the classifier's input);
``Size.chosen`` holds the Lung-RADS measurement. Nothing is rounded: rounding is for
reports. The ellipsoid estimator's planar axes are those of the nodule's projection onto
the plane (the marginal moments), equal to the central section for an ellipsoid aligned
with the axes.

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

Elongated along z (semi-axes x 3, y 3, z 6 mm): axial planes see 6 mm, the coronal 12.

>>> tall = ((xx - 10) / 3) ** 2 + ((yy - 10) / 3) ** 2 + ((zz - 10) / 6) ** 2 <= 1
>>> m = measure_ellipsoid(np.where(tall, 30.0, -850.0), tall, np.zeros_like(tall), -850.0,
...                       (0.5, 0.5, 0.5))
>>> round(m.long_axis_mm, 1), m.chosen.plane, round(m.chosen.long_axis_mm, 1)
(5.9, 'coronal', 12.1)
>>> [round(v, 1) for v in m.chosen.long_ends[0]], [round(v, 1) for v in m.chosen.long_ends[1]]
([7.9, 20.0, 20.0], [32.1, 20.0, 20.0])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from skimage.measure import find_contours

from vesalius.analyze.chest_ct.coarse import BoolArray, Spacing

Triple = tuple[float, float, float]
PLANES = {"axial": (1, 2), "coronal": (0, 2), "sagittal": (0, 1)}
"""The (k, j, i) array axes spanning each plane."""
REFORMAT_SLICES = 3.0
"""Coronal and sagittal planes are used only for a nodule this many slices tall or more."""
REFORMAT_MARGIN_MM = 1.0
"""A reformat replaces the axial plane only when its long axis is longer by more than this."""
OUTLINE_VOXELS = 5
"""A lesion this many voxels across on every axis is measured on its outline."""
ELLIPSOID_VARIANCE = 5.0
"""A uniform ellipsoid's variance along a semi-axis ``a`` is ``a**2 / 5``."""


@dataclass(frozen=True)
class Axes:
    """Long and short axis on one plane and their end points.

    Attributes
    ----------
    plane
        ``"axial"``, ``"coronal"`` or ``"sagittal"``.
    long_axis_mm, short_axis_mm
        The long axis and the longest diameter perpendicular to it on that plane.
    long_ends, short_ends
        End points of each axis: fractional voxel indices ``(k, j, i)`` of the measured
        array, or LPS mm once mapped to the patient (:func:`map_points`).
    """

    plane: str
    long_axis_mm: float
    short_axis_mm: float
    long_ends: tuple[Triple, Triple]
    short_ends: tuple[Triple, Triple]


@dataclass(frozen=True)
class Size:
    """Axial long and short axis (mm), volume (mm³), mean HU and the centroid (voxels).

    ``axial`` and ``chosen`` are the axial and the Lung-RADS plane measurements with end
    points (see the module doc); ``long_axis_mm`` and ``short_axis_mm`` are the axial ones.
    """

    long_axis_mm: float
    short_axis_mm: float
    volume_mm3: float
    mean_hu: float
    centroid: tuple[float, float, float]
    method: str
    axial: Axes
    chosen: Axes


def _triple(v: npt.NDArray[np.float64]) -> Triple:
    return (float(v[0]), float(v[1]), float(v[2]))


def choose_plane(axial: Axes, reformats: list[Axes], z_extent_mm: float, slice_mm: float) -> Axes:
    """The Lung-RADS plane: the axial unless a usable reformat is clearly longer.

    Reformats are usable when ``z_extent_mm >= REFORMAT_SLICES * slice_mm``.

    >>> a = Axes("axial", 6.0, 5.0, ((0, 0, 0), (0, 0, 6)), ((0, 0, 0), (0, 5, 0)))
    >>> c = Axes("coronal", 9.0, 6.0, ((0, 0, 0), (9, 0, 0)), ((0, 0, 0), (0, 0, 6)))
    >>> choose_plane(a, [c], 9.0, 2.5).plane, choose_plane(a, [c], 9.0, 5.0).plane
    ('coronal', 'axial')
    """
    best = axial
    if z_extent_mm >= REFORMAT_SLICES * slice_mm:
        for other in reformats:
            if other.long_axis_mm > max(best.long_axis_mm, axial.long_axis_mm + REFORMAT_MARGIN_MM):
                best = other
    return best


def _ellipse_axes(
    plane: str, cov: npt.NDArray[np.float64], centre: npt.NDArray[np.float64], spacing: Spacing
) -> Axes:
    """Axes of the moment ellipse of ``cov`` (mm²) on ``plane``, ends in voxel indices."""
    dims = list(PLANES[plane])
    values, vectors = np.linalg.eigh(cov[np.ix_(dims, dims)])
    semi = [float(np.sqrt(ELLIPSOID_VARIANCE * max(v, 0.0))) for v in values]
    step = np.asarray(spacing, np.float64)

    def ends(length: float, direction: npt.NDArray[np.float64]) -> tuple[Triple, Triple]:
        offset = np.zeros(3)
        offset[dims] = length * direction
        return _triple(centre - offset / step), _triple(centre + offset / step)

    return Axes(
        plane,
        2.0 * semi[1],
        2.0 * semi[0],
        ends(semi[1], vectors[:, 1]),
        ends(semi[0], vectors[:, 0]),
    )


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
    excess = capped - background
    _, centre, cov = _moments(excess, region, spacing)
    if np.linalg.eigvalsh(cov[1:, 1:]).min() <= 0.0:
        # Noise darker than the background outweighs a faint or small nodule's excess:
        # measure the positive excess alone rather than an ellipse of no width. (Across
        # slices thicker than the nodule a variance of 0 or less is normal: see below.)
        _, centre, cov = _moments(np.maximum(excess, 0.0), region, spacing)
    total = float((values - background)[region].sum())
    planes = {p: _ellipse_axes(p, cov, centre, spacing) for p in PLANES}
    a, b = planes["axial"].long_axis_mm / 2.0, planes["axial"].short_axis_mm / 2.0
    var_z = float(cov[0, 0])
    c = float(np.sqrt(ELLIPSOID_VARIANCE * max(var_z, 0.0)))
    chosen = choose_plane(
        planes["axial"], [planes["coronal"], planes["sagittal"]], 2.0 * c, spacing[0]
    )
    if 2.0 * c < 3.0 * spacing[0]:
        c = (a + b) / 2.0
    volume = 4.0 / 3.0 * np.pi * a * b * c
    excess_hu_mm3 = total * float(np.prod(spacing))
    mean_hu = background + excess_hu_mm3 / volume if volume > 0 else background
    return Size(
        long_axis_mm=2.0 * a,
        short_axis_mm=2.0 * b,
        volume_mm3=float(volume),
        mean_hu=float(mean_hu),
        centroid=(float(centre[0]), float(centre[1]), float(centre[2])),
        method="ellipsoid moments of the partial-volume excess over the lung background",
        axial=planes["axial"],
        chosen=chosen,
    )


Caliper = tuple[float, float, npt.NDArray[np.float64]]


def _calipers(points: npt.NDArray[np.float64]) -> Caliper:
    """Longest diameter of a 2-D point set, its perpendicular width, and the 4 end points.

    The end points (rows: long start, long end, short start, short end, in the points'
    own coordinates) put the short axis across the widest place perpendicular to the long.
    """
    none = (0.0, 0.0, np.zeros((4, 2)))
    if len(points) < 2:
        return none
    try:
        hull = points[ConvexHull(points).vertices]
    except QhullError:
        hull = points
    d = hull[:, None, :] - hull[None, :, :]
    dist = np.hypot(d[..., 0], d[..., 1])
    i, j = np.unravel_index(int(np.argmax(dist)), dist.shape)
    long_axis = float(dist[i, j])
    if long_axis == 0:
        return none
    u = (hull[j] - hull[i]) / long_axis
    n = np.array([-u[1], u[0]])
    across, along = hull @ n, hull @ u
    lo, hi = int(np.argmin(across)), int(np.argmax(across))
    t = 0.5 * (along[lo] + along[hi])
    ends = np.array([hull[i], hull[j], t * u + across[lo] * n, t * u + across[hi] * n])
    return long_axis, float(across[hi] - across[lo]), ends


def _outline_axes(
    plane: str,
    hu: npt.NDArray[np.float64],
    near: BoolArray,
    level: float,
    background: float,
    spacing: Spacing,
) -> Axes:
    """Longest caliper diameter over the slices of ``plane`` through ``near``."""
    dims = PLANES[plane]
    normal = ({0, 1, 2} - set(dims)).pop()
    step = np.asarray(spacing, np.float64)[list(dims)]
    best: tuple[float, float, npt.NDArray[np.float64]] = (0.0, 0.0, np.zeros((4, 3)))
    others = tuple(a for a in range(3) if a != normal)
    for k in np.flatnonzero(near.any(axis=others)):
        sl = np.take(near, k, axis=normal)
        image = np.where(sl, np.take(hu, k, axis=normal), background)
        contours = find_contours(np.pad(image, 1, constant_values=background), level)  # type: ignore[no-untyped-call]
        if not contours:
            continue
        points = (np.concatenate(contours) - 1.0) * step
        long_axis, short_axis, ends = _calipers(points)
        if long_axis > best[0]:
            full = np.full((4, 3), float(k))
            full[:, list(dims)] = ends / step
            best = (long_axis, short_axis, full)
    p = best[2]
    return Axes(
        plane, best[0], best[1], (_triple(p[0]), _triple(p[1])), (_triple(p[2]), _triple(p[3]))
    )


def measure_outline(
    hu: npt.NDArray[np.floating], body: BoolArray, background: float, spacing: Spacing
) -> Size:
    """Outline size of the lesion ``body`` (see the module doc)."""
    inside = np.asarray(hu[body], np.float64)
    level = 0.5 * (background + float(np.median(inside)))
    values = np.asarray(hu, np.float64)
    near = ndimage.binary_dilation(body, np.ones((1, 3, 3), bool))
    axial = _outline_axes("axial", values, near, level, background, spacing)
    near3 = ndimage.binary_dilation(body, np.ones((3, 3, 3), bool))
    reformats = [
        _outline_axes(p, values, near3, level, background, spacing) for p in ("coronal", "sagittal")
    ]
    rows = np.flatnonzero(body.any(axis=(1, 2)))
    z_extent = (int(rows.max() - rows.min()) + 1) * spacing[0] if rows.size else 0.0
    chosen = choose_plane(axial, reformats, z_extent, spacing[0])
    solid = body & (np.asarray(hu) >= level)
    count = int(solid.sum())
    centre = np.argwhere(solid).mean(axis=0) if count else np.argwhere(body).mean(axis=0)
    return Size(
        long_axis_mm=axial.long_axis_mm,
        short_axis_mm=axial.short_axis_mm,
        volume_mm3=count * float(np.prod(spacing)),
        mean_hu=float(np.asarray(hu)[solid].mean()) if count else float(inside.mean()),
        centroid=(float(centre[0]), float(centre[1]), float(centre[2])),
        method="outlines at half-way between lung and lesion HU: calipers, Lung-RADS plane",
        axial=axial,
        chosen=chosen,
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


def map_points(
    axes: Axes, to_lps: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]
) -> Axes:
    """``axes`` with its end points mapped by ``to_lps`` (an ``(n, 3)`` index to LPS map)."""
    pts = to_lps(np.asarray([*axes.long_ends, *axes.short_ends], np.float64))
    return replace(
        axes,
        long_ends=(_triple(pts[0]), _triple(pts[1])),
        short_ends=(_triple(pts[2]), _triple(pts[3])),
    )
