"""The parts of nodule detection on their own: measurement, typing, empty lungs."""

from __future__ import annotations

import numpy as np
import pytest

from vesalius.analyze.chest_ct import LungSegmentation, detect_nodules
from vesalius.analyze.chest_ct.nodule_candidates import candidate_labels
from vesalius.analyze.chest_ct.nodule_features import SHAPE_FEATURES, candidate_features
from vesalius.analyze.chest_ct.nodule_grid import working_grid
from vesalius.analyze.chest_ct.nodule_measure import measure_ellipsoid
from vesalius.analyze.chest_ct.nodule_regions import Region, is_centred
from vesalius.analyze.chest_ct.nodule_type import SOLID_HU, nodule_kind
from vesalius.core import Volume


def _thick_slice_ellipsoid(
    semi: tuple[float, float, float], spacing: tuple[float, float, float], hu: float
) -> np.ndarray:
    """An ellipsoid of ``hu`` in -850 HU lung, each voxel the average of 5x5x5 sub-samples."""
    shape = (9, 24, 24)
    sub = 5
    offsets = (np.arange(sub) + 0.5) / sub - 0.5
    fraction = np.zeros(shape)
    k, j, i = np.meshgrid(*(np.arange(n, dtype=float) for n in shape), indexing="ij")
    centre = np.array([4.3, 11.6, 12.2])
    for dz in offsets:
        for dy in offsets:
            for dx in offsets:
                z = (k + dz - centre[0]) * spacing[0] / semi[2]
                y = (j + dy - centre[1]) * spacing[1] / semi[1]
                x = (i + dx - centre[2]) * spacing[2] / semi[0]
                fraction += (x**2 + y**2 + z**2) <= 1.0
    fraction /= sub**3
    return -850.0 + (hu + 850.0) * fraction


@pytest.mark.parametrize("slice_mm", [3.0, 5.0, 6.25])
def test_ellipsoid_axes_survive_thick_slices(slice_mm: float) -> None:
    """Partial volume on thick slices must not shrink the measured axes of a small nodule."""
    spacing = (slice_mm, 1.875, 1.875)
    hu = _thick_slice_ellipsoid((5.5, 3.5, 4.5), spacing, 30.0)
    body = hu > -700.0
    size = measure_ellipsoid(hu, body, np.zeros_like(body), -850.0, spacing)
    assert size.long_axis_mm == pytest.approx(11.0, abs=0.6)
    assert size.short_axis_mm == pytest.approx(7.0, abs=0.6)
    assert size.mean_hu >= SOLID_HU  # partial-volume corrected: reads as solid


def test_dark_noise_in_the_rim_does_not_shrink_a_small_nodule_to_no_width() -> None:
    """Noise darker than the lung around a small nodule must not zero its short axis.

    The rim's negative excess weighs most far from the centre: measured with signed
    weights, the moment ellipse has no width, and a 6 mm nodule was reported 0 mm wide.
    """
    hu = np.full((7, 9, 9), -850.0)
    hu[2:5, 3:6, 3:6] = -750.0  # a faint 3-voxel cube: excess 100 HU
    body = hu > -800.0
    rim = np.zeros_like(body)
    rim[1:6, 2:7, 2:7] = True
    hu[rim & ~body] = -870.0  # noise 20 HU darker all around it
    size = measure_ellipsoid(hu, body, np.zeros_like(body), -850.0, (1.0, 1.0, 1.0))
    assert 2.0 < size.short_axis_mm <= size.long_axis_mm < 5.0
    assert size.volume_mm3 > 0


def test_blobness_tells_a_nodule_from_a_vessel_of_the_same_calibre() -> None:
    """A user would see vessels reported as nodules, or nodules on vessels scored low."""
    k, j, i = np.mgrid[:24, :40, :40].astype(float)
    ball = (k - 12) ** 2 + (j - 12) ** 2 + (i - 12) ** 2 <= 16  # 8 mm across
    tube = (k - 12) ** 2 + (j - 30) ** 2 <= 16  # an 8 mm vessel across the volume
    labels = np.where(ball, 1, np.where(tube, 2, 0)).astype(np.int32)
    hu = np.where(labels > 0, 30.0, -850.0).astype(np.float32)
    f = candidate_features(labels, 2, hu, (1.0, 1.0, 1.0))
    blob = f[:, SHAPE_FEATURES.index("blobness")]
    assert blob[0] > 10.0 * blob[1]


def _region(body: np.ndarray) -> Region:
    size = measure_ellipsoid(
        np.where(body, 30.0, -850.0), body, np.zeros_like(body), -850.0, (1.0, 1.0, 1.0)
    )
    box = (slice(0, body.shape[0]), slice(0, body.shape[1]), slice(0, body.shape[2]))
    return Region(1, box, body, -850.0, size, "solid", None, None)


def test_a_branching_vessel_is_not_a_blob_but_a_nodule_is() -> None:
    """A vessel tree, its centre in the lung between its arms, must not become a mass."""
    k, j, i = np.mgrid[:9, :40, :40]
    ball = (k - 4) ** 2 + (j - 20) ** 2 + (i - 20) ** 2 <= 16
    r = np.hypot(j - 20, i - 20)
    arc = (abs(k - 4) <= 1) & (r >= 12) & (r <= 15) & (j < 24)  # a curved vessel
    assert is_centred(_region(ball))
    assert not is_centred(_region(arc))


def test_types_follow_the_physical_cutoffs() -> None:
    """Solid from the corrected mean HU; a solid core in ground glass makes part-solid."""
    assert nodule_kind(SOLID_HU, has_core=False) == "solid"
    assert nodule_kind(SOLID_HU - 1.0, has_core=True) == "part-solid"
    assert nodule_kind(-600.0, has_core=False) == "ground-glass"


def test_clean_lungs_give_no_nodules_and_an_empty_label_map() -> None:
    """Aerated lung with nothing in it must not produce findings."""
    hu = np.full((6, 30, 30), -850, np.int16)
    ct = Volume.from_spacing(hu, spacing=(5.0, 2.0, 2.0), modality="CT")
    lungs = np.full(hu.shape, 2, np.uint8)
    seg = LungSegmentation.from_label_map(
        Volume.from_spacing(lungs, spacing=(5.0, 2.0, 2.0)), trachea_found=False
    )
    result = detect_nodules(ct, seg)
    assert result.nodules == ()
    assert not np.asarray(result.label_map.array).any()
    assert result.label_map.shape == ct.shape


def test_a_nodule_touching_a_vessel_as_thick_as_itself_is_a_candidate_of_its_own() -> None:
    """A juxtavascular nodule measured with the vessel would be missed or oversized."""
    k, j, i = np.mgrid[:20, :40, :40].astype(float) * 2.0
    ball = (k - 20) ** 2 + (j - 40) ** 2 + (i - 40) ** 2 <= 6.0**2  # a 12 mm nodule
    tube = (k - 20) ** 2 + (j - 50) ** 2 <= 5.0**2  # a 10 mm vessel, 1 mm into it
    hu = np.where(ball | tube, 30, -850).astype(np.int16)
    ct = Volume.from_spacing(hu, spacing=(2.0, 2.0, 2.0), modality="CT")
    lungs = Volume.from_spacing(np.full(hu.shape, 2, np.uint8), spacing=(2.0, 2.0, 2.0))
    labels, _ = candidate_labels(working_grid(ct, lungs))
    nodule = labels == labels[10, 20, 20]
    assert labels[10, 20, 20] > 0
    assert nodule.sum() <= 1.5 * ball.sum()  # not the vessel's 80 mm as well
    assert not nodule[10, 25, :10].any()  # the vessel's ends are not the nodule
    assert not nodule[10, 25, 30:].any()


def test_a_candidate_enclosed_by_others_has_a_dense_shell_and_no_median() -> None:
    """A candidate with no shell of its own must get defined features, not NaN or noise."""
    labels = np.full((5, 5, 5), 2, np.int32)
    labels[2, 2, 2] = 1
    hu = np.where(labels > 0, 30.0, -850.0).astype(np.float32)
    f = candidate_features(labels, 2, hu, (1.0, 1.0, 1.0))
    assert f[0, SHAPE_FEATURES.index("dense_shell")] == 1.0
    assert f[0, SHAPE_FEATURES.index("contrast_hu")] == 30.0 + 1000.0
