"""Finding the heart, and refusing CTs the calcium score cannot be trusted on."""

from __future__ import annotations

import numpy as np
import pytest

from vesalius.analyze.blocks import block_mean
from vesalius.analyze.cardiac_ct import find_heart, score_calcium
from vesalius.analyze.cardiac_ct.coarse import coarse_grid, fine_to_coarse
from vesalius.core import Volume
from vesalius.errors import InputError, UnsupportedError
from vesalius.simulate.chest_render import AORTA, BONE, HEART

from .phantoms import CASES, case


def test_heart_region_overlaps_the_phantom_heart() -> None:
    """A heart region that misses the heart would drop coronary calcium from the score."""
    c = case(*CASES[1])
    heart = find_heart(c.ct.volume)
    truth = c.ct.anatomy == HEART
    inside = heart.distance_at(np.argwhere(truth)) <= 0.0
    assert inside.mean() > 0.9
    voxel_ml = float(np.prod(c.ct.volume.spacing)) / 1000.0
    assert heart.volume_ml == pytest.approx(truth.sum() * voxel_ml, rel=0.1)
    assert heart.mean_hu == pytest.approx(40.0, abs=15.0)


def test_heart_region_keeps_away_from_bone_and_descending_aorta() -> None:
    """Bone and the descending aorta must lie beyond the scoring margin of the heart."""
    c = case(*CASES[2])
    heart = find_heart(c.ct.volume)
    bone = heart.distance_at(np.argwhere(c.ct.anatomy == BONE))
    assert bone.min() > 8.0
    aorta = np.argwhere(c.ct.anatomy == AORTA)
    below_arch = aorta[c.ct.volume.index_to_lps(aorta)[:, 1] > 35.0]  # posterior: descending
    assert heart.distance_at(below_arch).min() > 8.0
    assert (
        heart.bone[
            tuple(
                np.rint(fine_to_coarse(np.argwhere(c.ct.anatomy == BONE), heart.factors))
                .astype(int)
                .T
            )
        ].mean()
        > 0.95
    )


def test_block_mean_and_coarse_grid_agree_on_voxel_centres() -> None:
    """A coarse grid shifted by half a block would misplace the heart by a millimetre or more."""
    arr = np.arange(5 * 6 * 7, dtype=np.int16).reshape(5, 6, 7)
    vol = Volume.from_spacing(arr, spacing=(2.0, 0.5, 0.5), origin=(-10.0, 4.0, 7.0))
    coarse = block_mean(arr, (2, 3, 3))
    grid = coarse_grid(vol.grid, (2, 3, 3))
    assert coarse.shape == grid.shape == (3, 2, 3)
    assert coarse[0, 0, 0] == pytest.approx(arr[:2, :3, :3].mean())
    assert coarse[2, 1, 2] == pytest.approx(arr[4, 3:6, 6].mean())  # edge blocks repeat edges
    fine_centre = vol.index_to_lps([[0.5, 1.0, 1.0]])
    assert np.allclose(grid.index_to_lps([[0, 0, 0]]), fine_centre)
    assert np.allclose(fine_to_coarse(np.array([[0, 1, 1]]), (2, 3, 3)), [[-0.25, 0.0, 0.0]])


def test_ct_without_lungs_is_refused_with_a_reason() -> None:
    """A head or phantom cylinder must not get a calcium score; the user is told why."""
    arr = np.full((30, 64, 64), -1000, np.int16)
    yy, xx = np.mgrid[:64, :64]
    arr[:, (yy - 32) ** 2 + (xx - 32) ** 2 < 28**2] = 40
    vol = Volume.from_spacing(arr, spacing=(3.0, 2.0, 2.0), modality="CT")
    with pytest.raises(UnsupportedError, match="no lungs found"):
        score_calcium(vol)


def test_mr_or_oblique_series_is_refused() -> None:
    """Agatston needs HU on axial slices: an MR or a sagittal series must be refused."""
    c = case(*CASES[1])
    mr = Volume(c.ct.volume.array, c.ct.volume.affine, modality="MR")
    with pytest.raises(UnsupportedError, match="modality MR"):
        score_calcium(mr)
    sagittal = Volume.from_spacing(
        c.ct.volume.array, direction=np.eye(3), spacing=(1.0, 1.0, 1.0), modality="CT"
    )
    with pytest.raises(UnsupportedError, match="not axial"):
        score_calcium(sagittal)


def test_contrast_enhanced_ct_is_refused() -> None:
    """With iodine in the blood pool, everything in the heart is above 130 HU: no score."""
    c = case(*CASES[1])
    arr = c.ct.volume.array.copy()
    arr[c.ct.anatomy == HEART] += 300
    with pytest.raises(UnsupportedError, match="contrast"):
        score_calcium(Volume(arr, c.ct.volume.affine, modality="CT"))


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"margin_mm": 0.0}, "margin"), ({"min_area_mm2": -1.0}, "area")]
)
def test_out_of_range_options_are_input_errors(kwargs: dict[str, float], match: str) -> None:
    """A zero margin or negative area is the user's mistake and says which option is wrong."""
    c = case(*CASES[1])
    with pytest.raises(InputError, match=match):
        score_calcium(c.ct.volume, **kwargs)
