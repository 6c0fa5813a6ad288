"""The standardize steps on a real CT: IBSI lung phantom PAT1 (60 slices, 0.977 x 0.977 x 3 mm).

Data: ``../shared/data/lung_ct_pat1`` (CC BY-NC 3.0, theibsi/data_sets). Read here with
SimpleITK and pydicom only, since the project's reader is built elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk  # noqa: N813 - the name every SimpleITK user knows
from pydicom import dcmread

from vesalius.core import Volume
from vesalius.standardize import (
    CTToHU,
    Reorient,
    Resample,
    check_quality,
    orientation_code,
    to_original_grid,
)
from vesalius.standardize.gridmap import grid_from_sitk

from .phantoms import dice

CT_DIR = Path(__file__).parents[2] / ".." / "shared" / "data" / "lung_ct_pat1" / "dicom" / "image"


@pytest.fixture(scope="module")
def real_ct() -> Volume:
    if not CT_DIR.is_dir():
        pytest.skip(f"the IBSI lung CT is not at {CT_DIR}")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(CT_DIR)))
    image = reader.Execute()
    return Volume(sitk.GetArrayFromImage(image), grid_from_sitk(image).affine, modality="CT")


def test_real_ct_geometry_matches_its_dicom_headers(real_ct: Volume) -> None:
    """The Volume built through SimpleITK sits where the DICOM headers say."""
    headers = [dcmread(p, stop_before_pixels=True) for p in sorted(CT_DIR.glob("*.dcm"))]
    positions = sorted(
        (tuple(float(v) for v in h.ImagePositionPatient) for h in headers), key=lambda p: p[2]
    )
    assert real_ct.shape[0] == len(headers) == 60
    assert real_ct.shape[1:] == (int(headers[0].Rows), int(headers[0].Columns))
    np.testing.assert_allclose(real_ct.origin, positions[0], atol=1e-3)
    np.testing.assert_allclose(real_ct.index_to_lps([[59, 0, 0]])[0], positions[-1], atol=1e-3)
    assert real_ct.spacing == pytest.approx((3.0, 0.977, 0.977), abs=1e-3)
    assert orientation_code(real_ct.grid) == "LPS"


def test_real_ct_passes_the_quality_checks(real_ct: Volume) -> None:
    """A correctly rescaled clinical CT raises no quality issue."""
    assert check_quality(real_ct) == []


def test_lung_mask_on_1mm_ras_grid_maps_back_onto_the_scanner_grid(real_ct: Volume) -> None:
    """Segment the lungs at 1 mm RAS, map back: same voxels as segmenting the original."""
    std = Resample(1.0)(CTToHU()(Reorient("RAS")(real_ct)))
    assert std.spacing == pytest.approx((1.0, 1.0, 1.0))
    assert std.shape[0] == 180
    lungs = (std.array < -400).astype(np.uint8)
    back = to_original_grid(lungs, std, interpolation="nearest")
    assert back.grid.same_as(real_ct.grid)
    assert dice(back.array.astype(bool), real_ct.array < -400) > 0.95
