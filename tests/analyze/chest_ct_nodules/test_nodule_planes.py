"""Lung-RADS v2022 multi-planar diameters: a nodule elongated cranio-caudally.

Lung-RADS measures the long axis on the axial, coronal or sagittal image showing the
largest dimension. A nodule 6 mm across and 14 mm tall looks 6 mm on every axial slice:
an axial-only measurement under-calls it (Lung-RADS 2 instead of 4A by the mean diameter),
the multi-planar one must measure 14 x 6 mm within 1 mm, on a coronal or sagittal plane.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.analyze.chest_ct_nodules.matching import match
from vesalius.analyze.chest_ct import detect_nodules, segment_lungs
from vesalius.analyze.chest_ct.nodule_measure import (
    REFORMAT_SLICES,
    measure_ellipsoid,
    measure_outline,
)
from vesalius.simulate import chest_layout
from vesalius.simulate.chest_ct import ChestCTSpec, chest_ct

LUNG_HU, NODULE_HU = -850.0, 30.0
SEMI_ZYX = (7.0, 3.0, 3.0)


def _nodule(spacing: tuple[float, float, float], noise: float, seed: int) -> np.ndarray:
    """A partial-volume sampled ellipsoid nodule (4x4x4 sub-samples per voxel) in lung."""
    shape = tuple(int(np.ceil(2.0 * (s + 4.0) / d)) for s, d in zip(SEMI_ZYX, spacing, strict=True))
    sub = 4
    axes = [
        (np.arange(n * sub) + 0.5) / sub * d - n * d / 2.0
        for n, d in zip(shape, spacing, strict=True)
    ]
    z, y, x = np.meshgrid(*axes, indexing="ij")
    inside = (z / SEMI_ZYX[0]) ** 2 + (y / SEMI_ZYX[1]) ** 2 + (x / SEMI_ZYX[2]) ** 2 <= 1.0
    frac = inside.reshape(shape[0], sub, shape[1], sub, shape[2], sub).mean(axis=(1, 3, 5))
    hu = LUNG_HU + frac * (NODULE_HU - LUNG_HU)
    return hu + np.random.default_rng(seed).normal(0.0, noise, hu.shape)


@pytest.mark.parametrize(("slice_mm", "noise"), [(1.25, 0.0), (2.5, 12.0), (2.5, 25.0)])
def test_tall_nodule_is_measured_on_a_reformat(slice_mm: float, noise: float) -> None:
    """Axial-only gives 6 mm; the Lung-RADS plane gives 14 x 6 mm within 1 mm."""
    spacing = (slice_mm, 0.7, 0.7)
    hu = _nodule(spacing, noise, seed=int(slice_mm * 10 + noise))
    body = hu > 0.5 * (LUNG_HU + NODULE_HU)
    size = measure_ellipsoid(hu, body, np.zeros_like(body), LUNG_HU, spacing)
    assert size.long_axis_mm < 2.0 * SEMI_ZYX[0] - 5.0  # axial-only under-measures
    assert size.chosen.plane in ("coronal", "sagittal")
    assert abs(size.chosen.long_axis_mm - 2.0 * SEMI_ZYX[0]) <= 1.0
    assert abs(size.chosen.short_axis_mm - 2.0 * SEMI_ZYX[1]) <= 1.0
    (k0, _, _), (k1, _, _) = size.chosen.long_ends
    assert abs(abs(k1 - k0) * slice_mm - 2.0 * SEMI_ZYX[0]) <= 1.0  # end points along z


def test_thick_slices_keep_the_axial_plane() -> None:
    """On slices too thick to resolve the nodule's height, reformats are not used."""
    spacing = (2.0 * SEMI_ZYX[0] / REFORMAT_SLICES + 1.0, 0.7, 0.7)
    hu = _nodule(spacing, 0.0, seed=1)
    body = hu > LUNG_HU + 50.0
    size = measure_ellipsoid(hu, body, np.zeros_like(body), LUNG_HU, spacing)
    assert size.chosen.plane == "axial"
    assert size.chosen == size.axial


def test_outline_measures_a_well_sampled_tall_nodule_on_a_reformat() -> None:
    """The outline estimator (thin slices) also picks the plane of the largest dimension."""
    spacing = (0.7, 0.7, 0.7)
    hu = _nodule(spacing, 0.0, seed=2)
    body = hu > LUNG_HU + 50.0
    size = measure_outline(hu, body, LUNG_HU, spacing)
    assert size.long_axis_mm < 8.0
    assert size.chosen.plane in ("coronal", "sagittal")
    assert abs(size.chosen.long_axis_mm - 2.0 * SEMI_ZYX[0]) <= 1.0
    assert abs(size.chosen.short_axis_mm - 2.0 * SEMI_ZYX[1]) <= 1.0


@pytest.mark.slow
def test_phantom_with_a_cranio_caudal_nodule(monkeypatch: pytest.MonkeyPatch) -> None:
    """A phantom with a nodule 6 mm across and 14 mm tall on 2.5 mm slices."""
    kinds = ((*chest_layout.NODULE_KINDS[0][:1], (3.0, 3.0, 7.0), 6.0),)
    monkeypatch.setattr(chest_layout, "NODULE_KINDS", kinds + chest_layout.NODULE_KINDS[2:3])
    ct = chest_ct(ChestCTSpec(shape=(120, 192, 192), noise_hu=12.0), seed=5)
    result = detect_nodules(ct.volume, segment_lungs(ct.volume))
    pairs = [(t, n) for t, n in match(ct, result.nodules).pairs if t.semi_axes_xyz_mm[2] == 7.0]
    assert pairs, "the tall nodule was not found"
    truth, nodule = pairs[0]
    assert truth.long_axis_mm == 6.0  # the phantom's truth is axial
    assert nodule.axes is not None
    assert nodule.axes_axial is not None
    assert nodule.axes_axial.long_axis_mm < 8.0
    assert nodule.axes.plane in ("coronal", "sagittal")
    assert abs(nodule.long_axis_mm - 14.0) <= 1.0
    assert abs(nodule.short_axis_mm - 6.0) <= 1.0
    assert abs(nodule.mean_diameter_mm - 10.0) <= 1.0
    (_, _, z0), (_, _, z1) = nodule.axes.long_ends
    assert abs(abs(z1 - z0) - 14.0) <= 1.0
    z = {p[2] for p in nodule.axes_axial.long_ends}
    assert len(z) == 1  # axial end points on one acquired slice


def test_end_points_span_the_reported_axes() -> None:
    """An SR draws the axes from their end points: they must match the numbers reported."""
    ct = chest_ct(ChestCTSpec(shape=(60, 192, 192), noise_hu=0.0), seed=3)
    result = detect_nodules(ct.volume, segment_lungs(ct.volume))
    assert result.nodules
    z_of_slices = {
        round(float(p[2]), 3)
        for p in ct.volume.index_to_lps(
            np.column_stack([np.arange(ct.volume.shape[0]), np.zeros((ct.volume.shape[0], 2))])
        )
    }
    for n in result.nodules:
        assert n.axes is not None
        assert n.axes_axial is not None
        for axes in (n.axes, n.axes_axial):
            for (a, b), length in zip(
                (axes.long_ends, axes.short_ends),
                (axes.long_axis_mm, axes.short_axis_mm),
                strict=True,
            ):
                assert abs(float(np.linalg.norm(np.subtract(b, a))) - length) <= 0.05
        assert n.axes.long_axis_mm == n.long_axis_mm
        assert {round(p[2], 3) for p in n.axes_axial.long_ends} <= z_of_slices
