"""Lung segmentation on a real lung-cancer CT (IBSI PAT1, cropped around the tumour).

The crop (60 slices of 3 mm, x from -174 to +25 mm LPS) holds the right lung only and a
large tumour (GTV-1, about 360 mL) that touches the costal and the mediastinal pleura and
rests on collapsed lung and effusion at the lung base.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from scipy import ndimage

from tests.analyze.chest_ct.rtstruct import rasterize_roi
from vesalius.analyze.chest_ct import LungOptions, LungSegmentation, segment_lungs
from vesalius.core import Volume
from vesalius.io.dicom_read import read_dicom

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "lung_ct_pat1" / "dicom"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"real CT not found at {DATA}")


@pytest.fixture(scope="module")
def ct() -> Volume:
    return read_dicom(DATA / "image").volume


@pytest.fixture(scope="module")
def gtv(ct: Volume) -> npt.NDArray[np.bool_]:
    return rasterize_roi(DATA / "mask" / "DCM_RS_00060.dcm", ct, "GTV-1")


@pytest.fixture(scope="module")
def seg(ct: Volume) -> LungSegmentation:
    return segment_lungs(ct)


def test_crop_gives_one_plausible_right_lung(seg: LungSegmentation) -> None:
    """A user would see a lung on the wrong side, split in pieces or of absurd volume."""
    assert seg.left_ml < 1.0
    assert 800.0 < seg.right_ml < 2500.0
    labels, _ = ndimage.label(seg.mask("right"))
    sizes = np.bincount(labels.ravel())[1:]
    assert sizes.max() >= 0.98 * sizes.sum()  # one lung, give or take a few specks
    assert not seg.trachea_found  # the crop stops below the trachea


def test_rtstruct_gtv_rasterizes_to_its_known_size(gtv: npt.NDArray[np.bool_], ct: Volume) -> None:
    """The test's own reference: the GTV must come out at its size (about 360 mL)."""
    ml = float(gtv.sum()) * float(np.prod(ct.spacing)) / 1000.0
    assert 330.0 < ml < 390.0


def test_the_tumour_is_not_air_so_a_threshold_alone_would_miss_it(
    gtv: npt.NDArray[np.bool_], ct: Volume
) -> None:
    """The reason lung masks need filling: most of GTV-1 is soft tissue, not lung air."""
    air = float(((np.asarray(ct.array) < -400) & gtv).sum()) / float(gtv.sum())
    assert air < 0.25


def test_a_tumour_against_the_pleura_lies_inside_the_lung_mask(
    seg: LungSegmentation, gtv: npt.NDArray[np.bool_]
) -> None:
    """A tumour touching the pleura belongs to the lung: at least 90 % of GTV-1 inside.

    Without the pleural-bay step only 62 % was inside. What stays out is the tumour's base,
    lying on collapsed lung and effusion with no aerated lung beneath it, the contour drawn
    a little into the chest wall, and a hilar extension in the mediastinum.
    """
    inside = float((seg.mask("both") & gtv).sum()) / float(gtv.sum())
    assert inside >= 0.90


def test_the_tumour_is_not_cut_in_half_on_any_slice_above_its_base(
    seg: LungSegmentation, gtv: npt.NDArray[np.bool_], ct: Volume
) -> None:
    """A user would see the lung outline run through the tumour (about 60 % per slice before).

    Checked on the slices holding a quarter or more of the tumour's largest section, above
    the lowest 9 mm where it lies on collapsed lung and effusion at the lung base.
    """
    area = gtv.sum(axis=(1, 2))
    inside = (seg.mask("both") & gtv).sum(axis=(1, 2))
    z = ct.index_to_lps(np.c_[np.arange(ct.shape[0]), np.zeros((ct.shape[0], 2))])[:, 2]
    base = z[area > 0].min()
    bulk = (area >= 0.25 * area.max()) & (z >= base + 9.0)
    assert bulk.sum() >= 10
    assert (inside[bulk] >= 0.85 * area[bulk]).all()
    assert inside[bulk].sum() >= 0.95 * area[bulk].sum()


def test_the_pleural_bay_step_does_not_leak_into_the_mediastinum(
    seg: LungSegmentation, gtv: npt.NDArray[np.bool_], ct: Volume
) -> None:
    """What the tumour step adds outside GTV-1 is a thin rim, not the heart (tens of mL)."""
    plain = segment_lungs(ct, options=LungOptions(bay_mm=0.0))
    added = seg.mask("both") & ~plain.mask("both")
    outside = float((added & ~gtv).sum()) / float(gtv.sum())
    assert (added & gtv).sum() > 0.2 * gtv.sum()
    assert outside < 0.10
