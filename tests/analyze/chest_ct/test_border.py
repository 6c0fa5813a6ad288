"""Pleural bays on drawn slices: what the lung wraps around is taken in, impressions are not."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from vesalius.analyze.chest_ct.border import pleural_bays

SPACING = (5.0, 1.0, 1.0)  # 1 mm pixels


def _disk(shape: tuple[int, int], centre: tuple[float, float], r: float) -> npt.NDArray[np.bool_]:
    jj, ii = np.mgrid[0 : shape[0], 0 : shape[1]]
    return np.asarray((jj - centre[0]) ** 2 + (ii - centre[1]) ** 2 <= r * r)


def _lung_with(hole: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """A 100 x 60 mm lung whose right edge (column 79) is flat pleura, minus ``hole``."""
    lung = np.zeros((1, 120, 100), bool)
    lung[0, 10:110, 20:80] = True
    lung[0] &= ~hole
    return lung


def test_a_tumour_the_lung_wraps_around_is_taken_in_up_to_the_pleura() -> None:
    tumour = _disk((120, 100), (60.0, 68.0), 14.0)  # 12 mm inside, 14 mm radius: mouth ~14 mm
    lung = _lung_with(tumour)
    hu = np.zeros(lung.shape, np.float32)
    bays = pleural_bays(lung, hu, radius_mm=20.0, spacing=SPACING)
    # all of it but the pleural line itself (column 79), which a disk outside can touch
    inside = tumour[:, :79] & ~lung[0, :, :79]
    assert bays[0, :, :79][inside].all()
    assert not bays[0, :, 80:].any()  # nothing beyond the pleura


def test_a_half_disc_impression_on_a_flat_pleura_is_left_out() -> None:
    """The aorta's impression on the mediastinal surface: about 60 % wrapped by lung."""
    aorta = _disk((120, 100), (60.0, 80.0), 12.0)
    lung = _lung_with(aorta)
    bays = pleural_bays(lung, np.zeros(lung.shape, np.float32), radius_mm=20.0, spacing=SPACING)
    assert not bays.any()


def test_a_wide_shallow_impression_is_left_out_and_bone_never_added() -> None:
    heart = np.zeros((120, 100), bool)
    heart[30:90, 72:80] = True  # 60 mm wide, 8 mm deep
    lung = _lung_with(heart)
    hu = np.zeros(lung.shape, np.float32)
    assert not pleural_bays(lung, hu, radius_mm=20.0, spacing=SPACING).any()
    tumour = _disk((120, 100), (60.0, 68.0), 14.0)
    lung = _lung_with(tumour)
    hu[0][tumour] = 700.0  # bone-dense: a rib, not a tumour
    assert not pleural_bays(lung, hu, radius_mm=20.0, spacing=SPACING).any()
