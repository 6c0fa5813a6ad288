"""The real lung CT in ../shared/data agrees with SimpleITK voxel for voxel and in geometry."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk  # noqa: N813

from vesalius.io.dicom_read import read_dicom
from vesalius.io.nifti import read_nifti, write_nifti

_REPO = Path(__file__).resolve().parents[2]
CT_DIR = _REPO / ".." / "shared" / "data" / "lung_ct_pat1" / "dicom" / "image"

pytestmark = pytest.mark.skipif(not CT_DIR.is_dir(), reason=f"real CT not present at {CT_DIR}")


@pytest.fixture(scope="module")
def sitk_image() -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(CT_DIR)))
    return reader.Execute()


def test_real_ct_shape_spacing_orientation() -> None:
    """60 axial slices of 0.977 x 0.977 x 3 mm, as the scanner wrote them."""
    result = read_dicom(CT_DIR)
    volume = result.volume
    assert volume.shape[0] == 60
    assert volume.spacing == pytest.approx((3.0, 0.977, 0.977), abs=1e-3)
    assert abs(volume.direction[2, 0]) == pytest.approx(1.0)
    assert volume.modality == "CT"
    assert not [p for p in result.problems if p.code != "decoder_warning"]


def test_real_ct_matches_simpleitk(sitk_image: sitk.Image) -> None:
    """Same voxels and geometry (origin, direction, spacing to 1e-4) as SimpleITK."""
    volume = read_dicom(CT_DIR).volume
    assert np.array_equal(
        volume.array.astype(np.int32), sitk.GetArrayFromImage(sitk_image).astype(np.int32)
    )
    assert volume.origin == pytest.approx(sitk_image.GetOrigin(), abs=1e-4)
    assert volume.spacing == pytest.approx(sitk_image.GetSpacing()[::-1], abs=1e-4)
    sitk_dir = np.array(sitk_image.GetDirection()).reshape(3, 3)  # columns x, y, z
    assert np.allclose(volume.direction, sitk_dir[:, ::-1], atol=1e-4)


def test_real_ct_shuffled_files_give_the_same_volume() -> None:
    """The order of files on disk or in a list never changes the volume."""
    files = sorted(CT_DIR.iterdir())
    random.Random(7).shuffle(files)
    a, b = read_dicom(CT_DIR).volume, read_dicom(files).volume
    assert np.array_equal(a.array, b.array)
    assert np.allclose(a.affine, b.affine)


def test_real_ct_nifti_round_trip(tmp_path: Path) -> None:
    """DICOM -> NIfTI -> Volume keeps voxels identical and the affine within 1e-4 mm."""
    volume = read_dicom(CT_DIR).volume
    write_nifti(volume, tmp_path / "ct.nii.gz")
    back = read_nifti(tmp_path / "ct.nii.gz")
    assert np.array_equal(back.array, volume.array)
    assert np.allclose(back.affine, volume.affine, atol=1e-4, rtol=0)
    image = sitk.ReadImage(str(tmp_path / "ct.nii.gz"))
    assert image.GetOrigin() == pytest.approx(volume.origin, abs=1e-4)
