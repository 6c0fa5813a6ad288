"""The Agatston rule, CAC-DRS grades and territories on small hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from vesalius.analyze.cardiac_ct import CacDrs, cac_drs
from vesalius.analyze.cardiac_ct.agatston import density_weights, tally
from vesalius.analyze.cardiac_ct.territory import territory


def _tally(img: np.ndarray, *, pixel: float = 1.0, factor: float = 1.0, min_area: float = 1.0):
    lesions = (img >= 130).astype(np.int32)
    return tally(img, lesions, 1, pixel_area_mm2=pixel, slice_factor=factor, min_area_mm2=min_area)


@pytest.mark.parametrize(
    ("peak", "weight"),
    [(129.9, 0), (130.0, 1), (199.0, 1), (200.0, 2), (299.9, 2), (300.0, 3), (400.0, 4), (2000, 4)],
)
def test_density_weight_bands_follow_agatston(peak: float, weight: int) -> None:
    """An off-by-one band edge would score a 200 HU plaque as 1 instead of 2."""
    assert density_weights(np.array([peak])).tolist() == [weight]


def test_region_weight_comes_from_its_highest_voxel() -> None:
    """A region's weight is set by its peak HU, applied to its whole area."""
    img = np.full((1, 6, 6), 40.0)
    img[0, 1:3, 1:4] = [[150, 160, 140], [135, 450, 131]]
    t = _tally(img)
    assert t.score[1] == pytest.approx(6 * 4)
    assert t.area_mm2[1] == pytest.approx(6.0)
    assert t.max_hu[1] == 450.0


def test_diagonal_pixels_form_one_region_by_8_connectivity() -> None:
    """With 4-connectivity, a diagonal chain would split and fall under the minimum area."""
    img = np.full((1, 5, 5), 40.0)
    for d in range(3):
        img[0, d, d] = 250.0
    t = _tally(img, pixel=0.5, min_area=1.5)
    assert t.area_mm2[1] == pytest.approx(1.5)
    assert t.score[1] == pytest.approx(3.0)


def test_regions_under_the_minimum_area_do_not_score() -> None:
    """Single noisy pixels (0.49 mm² here) must not count as calcium."""
    img = np.full((1, 6, 6), 40.0)
    img[0, 1, 1] = 500.0
    img[0, 3:5, 3:5] = 500.0
    t = _tally(img, pixel=0.49, min_area=1.0)
    assert t.voxels[1] == 4
    assert t.score[1] == pytest.approx(4 * 0.49 * 4)
    assert t.scored[0, 1, 1] == np.False_
    assert t.scored[0, 3:5, 3:5].all()


def test_slice_factor_scales_every_slice_score() -> None:
    """At 1.5 mm slices each slice counts half of a 3 mm slice."""
    img = np.full((2, 4, 4), 40.0)
    img[:, 1:3, 1:3] = 320.0
    t = _tally(img, factor=0.5)
    assert t.score[1] == pytest.approx(2 * 4 * 3 * 0.5)
    assert t.slices[1] == 2


def test_scores_add_up_per_3d_lesion() -> None:
    """Two lesions on the same slice keep separate scores."""
    img = np.full((1, 8, 8), 40.0)
    img[0, 1:3, 1:3], img[0, 5:7, 5:7] = 180.0, 420.0
    lesions = np.zeros(img.shape, np.int32)
    lesions[0, 1:3, 1:3], lesions[0, 5:7, 5:7] = 1, 2
    t = tally(img, lesions, 2, pixel_area_mm2=1.0, slice_factor=1.0, min_area_mm2=1.0)
    assert t.score[1:].tolist() == [4.0, 16.0]


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0.0, "A0"),
        (0.4, "A1/N1"),
        (99.9, "A1/N1"),
        (100.0, "A2/N1"),
        (299.9, "A2/N1"),
        (300, "A3/N1"),
    ],
)
def test_cac_drs_categories_have_the_published_cut_points(score: float, label: str) -> None:
    """A score of 100 is A2 and 300 is A3; any calcium at all is at least A1."""
    assert cac_drs(score, vessels=1).label == label


def test_cac_drs_refuses_impossible_values() -> None:
    """Negative scores or five vessels are bugs, not grades."""
    with pytest.raises(ValueError, match="negative"):
        cac_drs(-1.0)
    with pytest.raises(ValueError, match="vessels"):
        CacDrs(1, vessels=5)


def test_territory_sectors_around_the_heart_centre() -> None:
    """Anterior is LAD, left lateral and posterior LCX, right RCA (LPS: +x left, +y posterior)."""
    centre = (25.0, -25.0, -60.0)
    assert territory((30.0, -80.0, -40.0), centre) == "LAD"
    assert territory((85.0, -20.0, -40.0), centre) == "LCX"
    assert territory((40.0, 25.0, -70.0), centre) == "LCX"
    assert territory((-30.0, -45.0, -45.0), centre) == "RCA"
    assert territory((-30.0, -20.0, -80.0), centre) == "RCA"
