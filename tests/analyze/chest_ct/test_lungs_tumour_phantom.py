"""Tumours against the pleura on the chest CT phantom: inside the lung, heart left out.

A soft-tissue ball (40 HU, 36 mm across) replaces the lung where it overlaps, centred
14 mm inside the lung from its mediastinal or costal surface, so it touches the pleura over
about 20 mm. The lung truth still counts the tumour as lung. The mask closes the tumour's
contact with the pleura by a straight chord, so on a curved pleura a thin sliver of it stays
out (up to about 6 %).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from vesalius.analyze.chest_ct import LungOptions, segment_lungs
from vesalius.core import Volume
from vesalius.simulate.chest_ct import ChestCT, ChestCTSpec, chest_ct
from vesalius.simulate.chest_render import AORTA, HEART, LUNG_LABEL

RADIUS_MM, DEPTH_MM = 18.0, 14.0


@pytest.fixture(scope="module")
def phantom() -> ChestCT:
    return chest_ct(ChestCTSpec(shape=(60, 192, 192), noise_hu=5.0), seed=2)


def _with_tumour(ct: ChestCT, side: str, surface: str) -> tuple[npt.NDArray[np.bool_], Volume]:
    """The tumour mask and the CT with it painted, against ``surface`` of the ``side`` lung."""
    v = ct.volume
    lung = ct.anatomy == LUNG_LABEL[side]
    k = int(np.argmax(lung.sum(axis=(1, 2))))
    j = int(np.argmax(lung[k].sum(axis=1)))
    cols = np.flatnonzero(lung[k, j])
    xs = v.index_to_lps(np.c_[np.full(cols.size, k), np.full(cols.size, j), cols])[:, 0]
    medial_is_high_x = side == "right"
    towards_surface = 1.0 if (surface == "mediastinal") == medial_is_high_x else -1.0
    edge = xs.max() if towards_surface > 0 else xs.min()
    centre = v.index_to_lps(np.array([[k, j, cols[0]]]))[0]
    centre[0] = edge - towards_surface * DEPTH_MM
    idx = np.argwhere(lung)
    near = np.linalg.norm(v.index_to_lps(idx) - centre, axis=-1) < RADIUS_MM
    tumour = np.zeros_like(lung)
    tumour[tuple(idx[near].T)] = True
    hu = np.asarray(v.array).copy()
    noise = np.random.default_rng(1).normal(0.0, 5.0, int(tumour.sum()))
    hu[tumour] = np.round(40.0 + noise).astype(hu.dtype)
    return tumour, v.with_array(hu, v.provenance[0])


@pytest.mark.parametrize(
    ("side", "surface"), [("right", "mediastinal"), ("left", "mediastinal"), ("right", "costal")]
)
def test_a_tumour_against_the_pleura_is_inside_its_lung(
    phantom: ChestCT, side: str, surface: str
) -> None:
    """A user would see the tumour cut out of the lung, and the lung volume short by it."""
    tumour, ct = _with_tumour(phantom, side, surface)
    seg = segment_lungs(ct)
    inside = float((seg.mask(side) & tumour).sum()) / float(tumour.sum())
    assert inside >= 0.90  # the mouth is closed by a chord: the curved pleura's sliver is out
    truth = next(t.volume_ml for t in phantom.truth.lungs if t.side == side)
    assert (seg.left_ml if side == "left" else seg.right_ml) == pytest.approx(truth, rel=0.03)


def test_taking_tumours_in_does_not_take_the_heart_or_the_aorta(phantom: ChestCT) -> None:
    """The pleural-bay step must add the tumour, not the mediastinum next to it."""
    tumour, ct = _with_tumour(phantom, "left", "mediastinal")
    seg = segment_lungs(ct)
    plain = segment_lungs(ct, options=LungOptions(bay_mm=0.0))
    added = seg.mask("both") & ~plain.mask("both")
    assert (added & tumour).sum() > 0
    assert not (added & np.isin(phantom.anatomy, (HEART, AORTA))).any()
    assert (added & ~tumour).sum() < 0.1 * tumour.sum()
