"""Lung segmentation and %LAA-950 against the chest CT phantom's ground truth.

Twenty seeded phantoms with varied slice thickness (3 to 6.25 mm) and noise (0 to 25 HU):
per lung, the volume must be within 3 % of the truth, %LAA-950 within 1 percentage point,
left and right must not be swapped, and the trachea and main bronchi must stay out.
"""

from __future__ import annotations

import numpy as np
import pytest

from vesalius.analyze.chest_ct import LungSegmentation, emphysema_index, segment_lungs
from vesalius.simulate.chest_ct import ChestCT, ChestCTSpec, chest_ct
from vesalius.simulate.chest_render import AIRWAY, LUNG_LABEL

SHAPES = ((60, 192, 192), (100, 192, 192), (48, 176, 176))
NOISES = (12.0, 0.0, 25.0)
CASES = [(seed, SHAPES[seed % 3], NOISES[(seed // 3) % 3]) for seed in range(20)]


def _case(seed: int, shape: tuple[int, int, int], noise: float) -> tuple[ChestCT, LungSegmentation]:
    ct = chest_ct(ChestCTSpec(shape=shape, noise_hu=noise), seed=seed)
    return ct, segment_lungs(ct.volume)


@pytest.mark.parametrize(("seed", "shape", "noise"), CASES)
def test_lung_volumes_laa_and_sides_match_truth(
    seed: int, shape: tuple[int, int, int], noise: float
) -> None:
    """A user would see wrong lung volumes, a wrong emphysema index or swapped lungs."""
    ct, seg = _case(seed, shape, noise)
    laa = emphysema_index(ct.volume, seg)
    for truth in ct.truth.lungs:
        found = seg.left_ml if truth.side == "left" else seg.right_ml
        assert found == pytest.approx(truth.volume_ml, rel=0.03), truth.side
        ours = (laa.left if truth.side == "left" else laa.right).laa_percent
        assert ours == pytest.approx(truth.laa950_percent_noisy, abs=1.0), truth.side
        overlap = seg.mask(truth.side) & (ct.anatomy == LUNG_LABEL[truth.side])
        assert overlap.sum() > 0.95 * seg.mask(truth.side).sum(), f"{truth.side} swapped"
    assert seg.trachea_found
    airway = ct.anatomy == AIRWAY
    overlap = (seg.mask("both") & airway).sum() / airway.sum()
    assert overlap < 0.5


def test_left_lung_is_at_plus_x_in_lps() -> None:
    """A user would see the left and right lungs reported the wrong way round."""
    ct, seg = _case(3, (48, 176, 176), 12.0)
    x = {
        side: ct.volume.index_to_lps(np.argwhere(seg.mask(side)))[:, 0].mean()
        for side in ("left", "right")
    }
    assert x["left"] > 0 > x["right"]


def test_median_prefilter_brings_noisy_laa_to_the_noise_free_truth() -> None:
    """With strong noise, normal lung falls below -950 HU and a user would see %LAA inflated."""
    ct, seg = _case(5, (80, 192, 192), 60.0)
    raw = emphysema_index(ct.volume, seg)
    filtered = emphysema_index(ct.volume, seg, prefilter="median3")
    for truth in ct.truth.lungs:
        r = getattr(raw, truth.side).laa_percent
        f = getattr(filtered, truth.side).laa_percent
        assert r == pytest.approx(truth.laa950_percent_noisy, abs=1.0)
        assert r > truth.laa950_percent_noise_free + 1.0  # noise alone inflates it
        assert f == pytest.approx(truth.laa950_percent_noise_free, abs=1.0)
    assert filtered.prefilter == "median3"
    assert filtered.threshold_hu == -950.0


def test_touching_lungs_are_split_into_left_and_right() -> None:
    """Lungs touching at the anterior junction must not come out as one lung on one side."""
    ct = chest_ct(ChestCTSpec(shape=(60, 192, 192), noise_hu=5.0), seed=2)
    hu = ct.volume.array.copy()
    axes_z = ct.volume.index_to_lps(np.c_[np.arange(60), np.zeros(60), np.zeros(60)])[:, 2]
    rows = ct.volume.index_to_lps(np.c_[np.zeros(192), np.arange(192), np.zeros(192)])[:, 1]
    cols = ct.volume.index_to_lps(np.c_[np.zeros(192), np.zeros(192), np.arange(192)])[:, 0]
    k = (axes_z > 40) & (axes_z < 70)
    j = (rows > -10) & (rows < 0)
    i = (cols > -30) & (cols < 30)
    hu[np.ix_(k, j, i)] = -850  # a bridge of lung between the two lungs
    seg = segment_lungs(ct.volume.with_array(hu, ct.volume.provenance[0]))
    truth = {t.side: t.volume_ml for t in ct.truth.lungs}
    assert seg.left_ml == pytest.approx(truth["left"], rel=0.06)
    assert seg.right_ml == pytest.approx(truth["right"], rel=0.06)
